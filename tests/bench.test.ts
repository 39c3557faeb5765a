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

test('a suite with an extra metric appears in the table, JSON and HTML with no special case', { timeout: 120_000 }, async () => {
  const { measure } = await import('../bench/measure.js');
  const { STANDARD, COLUMNS, medianOf } = await import('../bench/metrics.js');
  const { wasmLoop, perThread } = await import('../bench/harness.js');
  const { counterCheck } = await import('../bench/checks.js');
  const { renderTable } = await import('../bench/report/table.js');
  const { toJson } = await import('../bench/report/json.js');
  const { renderHtml } = await import('../bench/report/html.js');
  type Suite = import('../bench/suite.js').Suite;
  const held: import('../bench/suite.js').Metric = {
    key: 'bytesHeld', label: 'bytes held', unit: 'B', better: 'lower', format: (x) => `${x} B`, reduce: medianOf('bytesHeld'),
  };
  const suite: Suite = {
    id: 'extra', title: 'a test suite with a metric of its own', metrics: [...STANDARD, held], columns: [...COLUMNS, 'bytesHeld'],
    impls: [{
      id: 'plain', kind: 'plain', baseline: 'plain', what: 'plain add on the thread\'s own word',
      prepare(env) {
        const word = perThread(env);
        const w = wasmLoop(env, 'plain', { fn: 'counter_plain', args: (s) => [word(s)], exact: true, check: counterCheck('plain', () => env.e.view.load64(word(0))) });
        return { run: async (slots, iters) => ({ ...(await w.run(slots, iters)), counts: { bytesHeld: 4096 } }) };
      },
    }],
  };
  const quiet = { start() {}, step() {}, log() {} };
  const m = await measure({
    cpus: 1, threads: [1], repeat: 1, sampleMs: 5, suites: ['extra'], injectHz: [0], sliceMs: 2,
    jsApi: { maxTime: 0.01, minSamples: 1, rounds: 1 }, seed: 1,
  }, quiet, [suite]);
  assert.equal(m.results.length, 1);
  const table = renderTable(m);
  assert.match(table, /bytes held/);
  assert.match(table, /4096 B/);
  const j = toJson(m);
  assert.equal(j.results[0].bytesHeld, 4096);
  for (const k of ['suite', 'impl', 'threads', 'vcpus', 'injectHz', 'opsPerSec', 'nsPerOp', 'abortsPerOp']) assert.ok(k in j.results[0], k);
  assert.match(await renderHtml(m), /<th>bytes held<\/th>/);
});

test('a missing bench dev dependency is named in one line', async () => {
  const { missingDependency, missingMessage, BENCH_DEPENDENCIES } = await import('../bench/deps.js');
  assert.equal(missingDependency(), undefined, 'the bench\'s dev dependencies are installed in a clone');
  assert.equal(missingDependency([...BENCH_DEPENDENCIES, 'wasm-rseq-no-such-package']), 'wasm-rseq-no-such-package');
  assert.equal(missingMessage('cli-table3'), 'wasm-rseq bench: missing dev dependency cli-table3 — run npm install in a clone of the repository');
});

test('a broken structure fails its sample loudly (CheckError)', { timeout: 120_000 }, async () => {
  const { measure } = await import('../bench/measure.js');
  const { STANDARD, COLUMNS } = await import('../bench/metrics.js');
  const { wasmLoop, perThread } = await import('../bench/harness.js');
  const { CheckError, counterCheck } = await import('../bench/checks.js');
  const suite: import('../bench/suite.js').Suite = {
    id: 'broken', title: 'a counter checked against the wrong word', metrics: STANDARD, columns: COLUMNS,
    impls: [{
      id: 'plain', kind: 'plain', baseline: 'plain', what: 'plain add, checked against a word nobody writes',
      prepare(env) {
        const word = perThread(env);
        return wasmLoop(env, 'plain', { fn: 'counter_plain', args: (s) => [word(s)], exact: true, check: counterCheck('plain', () => env.e.view.load64(word(1))) });
      },
    }],
  };
  const quiet = { start() {}, step() {}, log() {} };
  await assert.rejects(measure({
    cpus: 1, threads: [1], repeat: 1, sampleMs: 5, suites: ['broken'], injectHz: [0], sliceMs: 2,
    jsApi: { maxTime: 0.01, minSamples: 1, rounds: 1 }, seed: 1,
  }, quiet, [suite]), (e: unknown) => e instanceof CheckError && /increments lost or duplicated/.test(e.message));
});

test('with CC naming a missing compiler the native rows are skipped in one line and the bench still succeeds', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rseq-bench-'));
  const main = fileURLToPath(new URL('../bench/main.js', import.meta.url));
  const r = spawnSync(process.execPath, [main, '--quick', '--suite', 'counter', '--threads', '1', '--repeat', '1', '--sample-ms', '5',
    '--json', join(dir, 'r.json'), '--no-progress'], { encoding: 'utf8', env: { ...process.env, CC: join(dir, 'no-such-cc') } });
  assert.equal(r.status, 0, r.stderr);
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^native rows skipped:/.test(l));
  assert.equal(lines.length, 1, `one skip line, got:\n${r.stderr}`);
  assert.match(lines[0], /no C compiler/);
  assert.match(r.stdout, /n\/a \(native rows skipped: no C compiler/);
  const j = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
  assert.ok(j.results.length > 0 && j.results.every((x: { native?: boolean }) => !x.native));
  assert.deepEqual(j.meta.skipped.map((s: { suite: string; what: string }) => [s.suite, s.what]), [['counter', 'native rows']]);
});

test('the native counter program builds, checks itself and prints the expected rows', { timeout: 120_000 }, async (t) => {
  const { build, compiler, platformWhy, runNative } = await import('../bench/native.js');
  const c = compiler();
  const why = platformWhy() ?? ('why' in c ? c.why : undefined);
  if (why) return t.skip(why);
  const b = build('rseq_bench');
  assert.ok('bin' in b, 'why' in b ? b.why : '');
  assert.equal((build('rseq_bench') as { bin: string }).bin, b.bin, 'cached: the same binary for the same source');
  const rep = await runNative(b.bin, ['--sample-ms', '2', '--repeat', '1', '--threads', '1,2']);
  if ('why' in rep) return t.skip(`rseq unavailable here: ${rep.why}`);
  const impls = ['native-rseq', 'native-lock-add-shared', 'native-lock-add-own', 'native-plain'];
  assert.deepEqual(rep.rows.map((r) => `${r.impl} x${r.threads}`).sort(), [1, 2].flatMap((n) => impls.map((i) => `${i} x${n}`)).sort());
  for (const r of rep.rows) assert.ok(r.opsPerSec > 0 && r.nsPerOp > 0, r.impl);
  assert.equal(typeof rep.cpuModel, 'string');
  // glibc registration disabled: the program says why and exits 3 (the bench skips its rows).
  const off = await runNative(b.bin, ['--probe'], { ...process.env, GLIBC_TUNABLES: 'glibc.pthread.rseq=0' });
  assert.ok('why' in off && /__rseq_size is 0/.test(off.why));
});
