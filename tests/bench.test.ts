// The benchmark CLI end to end, small: it runs, checks its structures, and writes the JSON schema
// the issue specifies and a self-contained HTML report.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('npm run bench -- --quick --suite counter,list --threads 1,2 --repeat 1 writes JSON and HTML', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rseq-bench-'));
  const main = fileURLToPath(new URL('../bench/main.js', import.meta.url));
  const r = spawnSync(process.execPath, [main, '--quick', '--suite', 'counter,list', '--threads', '1,2', '--repeat', '1',
    '--json', join(dir, 'r.json'), '--html', join(dir, 'r.html'), '--no-progress'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /targets/);
  const j = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
  for (const k of ['node', 'cpus', 'vcpus', 'date']) assert.ok(k in j.meta, `meta.${k}`);
  const suites = new Set(j.results.map((x: { suite: string }) => x.suite));
  assert.deepEqual([...suites].sort(), ['counter', 'list']);
  for (const x of j.results) {
    for (const k of ['suite', 'impl', 'threads', 'vcpus', 'injectHz', 'opsPerSec', 'nsPerOp', 'abortsPerOp']) assert.ok(k in x, k);
    assert.ok(x.opsPerSec > 0);
  }
  const html = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts: it opens offline');
  assert.match(html, /new Chart\(|Chart\(/);
});
