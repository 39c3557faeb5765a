// The SPIN model of the emulated kernel's vCPU ownership / sequence protocol (tests/model/rseq.pml):
// every light case of tests/model/cases.txt is model-checked exhaustively. The correct model must
// verify (errors: 0, complete search) and each deliberately broken variant must be rejected.
// Needs `spin` and a C compiler (apt-get install -y spin gcc). Without them the model check is
// skipped (one skipped test saying how to enable it), except under CI (CI=true), where a missing
// tool FAILS the suite: CI (.ci/run) installs spin, so a skip there would hide a broken setup.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to dist/tests/model.test.js: ../../tests/model/ is <repo>/tests/model/. The second
// candidate covers running the .ts file in place.
const MODEL_DIR = [new URL('../../tests/model/', import.meta.url), new URL('./model/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((d) => existsSync(join(d, 'rseq.pml')) && existsSync(join(d, 'cases.txt')));

const SPIN = process.env.SPIN ?? 'spin';
const CC = process.env.CC ?? 'gcc';
const MEMLIM_MB = 1024; // per pan run; the biggest light case needs ~450 MB
const CASE_TIMEOUT_MS = 120_000; // per case: spin -a + gcc + pan (light cases take 1-10 s)
const CONCURRENCY = Math.max(1, Math.min(2, availableParallelism()));

type Expect = 'ok' | 'np' | 'assert' | 'endstate';
interface Case {
  name: string;
  tier: 'light' | 'heavy' | 'hazard';
  expect: Expect;
  flags: string[];
}

function loadCases(dir: string): Case[] {
  const out: Case[] = [];
  for (const raw of readFileSync(join(dir, 'cases.txt'), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [name, tier, expect, ...flags] = line.split(/\s+/);
    assert.ok(name && (tier === 'light' || tier === 'heavy' || tier === 'hazard'), `bad cases.txt line: ${line}`);
    assert.ok(['ok', 'np', 'assert', 'endstate'].includes(expect ?? ''), `bad expectation: ${line}`);
    out.push({ name, tier, expect: expect as Expect, flags });
  }
  return out;
}

/** Is `cmd` runnable? (`spin -V`, `gcc --version`) */
function have(cmd: string, arg: string): boolean {
  const r = spawnSync(cmd, [arg], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

interface Run {
  code: number | null;
  out: string;
}

/** execFile that resolves with the exit code and the combined output instead of throwing. */
function run(cmd: string, args: string[], cwd: string, timeout: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      const why = err !== null && err.killed ? `\n[killed: ${err.signal ?? 'timeout'}]` : '';
      resolve({ code, out: `${stdout}${stderr}${why}` });
    });
  });
}

interface PanResult {
  errors: number;
  states: number;
  depth: number;
  seconds: number;
  first: string;
  out: string;
}

function parsePan(out: string): PanResult {
  const num = (re: RegExp): number => {
    const all = [...out.matchAll(re)];
    const m = all[all.length - 1];
    assert.ok(m?.[1] !== undefined, `could not find ${re} in pan output:\n${out.slice(-3000)}`);
    return Number(m[1]);
  };
  return {
    errors: num(/errors: (\d+)/g),
    states: num(/^\s*([\d.e+]+) states, stored/gm),
    depth: num(/depth reached (\d+)/g),
    seconds: num(/elapsed time ([\d.e+]+) seconds/g),
    first: /^pan:1: .*$/m.exec(out)?.[0] ?? '',
    out,
  };
}

async function check(c: Case, dir: string): Promise<PanResult> {
  const work = mkdtempSync(join(tmpdir(), `rseq-model-${c.name}-`));
  try {
    // A flag ending in .pml names the model file (cases.txt): rseq.pml unless the case says otherwise.
    const model = c.flags.find((f) => f.endsWith('.pml')) ?? 'rseq.pml';
    const flags = c.flags.filter((f) => !f.endsWith('.pml'));
    copyFileSync(join(dir, model), join(work, model));
    const spin = await run(SPIN, ['-a', ...flags, model], work, 60_000);
    assert.equal(spin.code, 0, `spin -a ${flags.join(' ')} ${model} failed:\n${spin.out}`);

    // -O0: the light cases are small enough that gcc -O2's extra seconds per case outweigh the
    // faster search.
    const mode = c.expect === 'np' ? ['-DNP', '-DNFAIR=3'] : ['-DSAFETY'];
    const cc = await run(
      CC,
      ['-O0', '-w', ...mode, '-DCOLLAPSE', '-DVECTORSZ=1024', `-DMEMLIM=${MEMLIM_MB}`, '-o', 'pan', 'pan.c'],
      work,
      60_000,
    );
    assert.equal(cc.code, 0, `${CC} pan.c failed:\n${cc.out}`);

    const pan = await run('./pan', ['-m20000', ...(c.expect === 'np' ? ['-l', '-f'] : [])], work, CASE_TIMEOUT_MS - 10_000);
    assert.doesNotMatch(pan.out, /max search depth too small|out of memory|aborting|\[killed/, `search truncated:\n${pan.out}`);
    return parsePan(pan.out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Run at most `n` jobs at a time, in submission order. */
function pool(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  const next = (): void => {
    if (running >= n) return;
    const start = queue.shift();
    if (start) {
      running++;
      start();
    }
  };
  return <T>(job: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        job().then(resolve, reject).finally(() => {
          running--;
          next();
        });
      });
      next();
    });
}

const cases = MODEL_DIR === undefined ? [] : loadCases(MODEL_DIR).filter((c) => c.tier === 'light');
const CI = process.env.CI === 'true';
/** Why the model check cannot run here (a missing model is always a failure, missing tools only under CI). */
const missingModel = MODEL_DIR === undefined ? 'tests/model/rseq.pml and cases.txt not found next to the package root' : undefined;
const missingTool = !have(SPIN, '-V')
  ? `spin not found${SPIN === 'spin' ? ' on PATH' : ` at SPIN=${SPIN}`} (apt-get install spin, or set SPIN=/path/to/spin)`
  : !have(CC, '--version')
    ? `C compiler not found${CC === 'gcc' ? ' (gcc on PATH)' : ` at CC=${CC}`}, needed to build pan (apt-get install gcc, or set CC=/path/to/cc)`
    : undefined;
const missing = missingModel ?? missingTool;

// The cases run CONCURRENCY at a time, started up front in file order; each test below awaits its
// own case, so the tests report in order and a test's timeout covers little more than its own run.
const results = new Map<string, Promise<PanResult>>();
if (missing === undefined && MODEL_DIR !== undefined) {
  const dir = MODEL_DIR;
  const submit = pool(CONCURRENCY);
  for (const c of cases) {
    const p = submit(() => check(c, dir));
    p.catch(() => {}); // reported by the case's test; never an unhandled rejection
    results.set(c.name, p);
  }
}

if (missingModel === undefined && missingTool !== undefined && !CI) {
  // One skipped test, not one per case: the runner reports the model check as skipped, never passed.
  test('SPIN model check', { skip: `model check skipped: ${missingTool}; CI=true makes this a failure` }, () => {});
} else {
  test('SPIN and a C compiler are available, and the model is found', () => {
    if (missing !== undefined) assert.fail(`model check cannot run: ${missing}${CI && missingTool ? ' (CI=true: a missing tool is a failure)' : ''}`);
    assert.ok(cases.some((c) => c.expect === 'ok') && cases.some((c) => c.expect === 'assert'), 'cases.txt has no cases');
  });
}

for (const c of missing === undefined ? cases : []) {
  test(`SPIN model: ${c.name} [${c.expect}] ${c.flags.join(' ')}`, { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const pending = results.get(c.name);
    assert.ok(pending, `case ${c.name} was not started`);
    const r = await pending;
    const figures = `${r.states} states, depth ${r.depth}, ${r.seconds}s`;
    switch (c.expect) {
      case 'ok':
      case 'np':
        assert.equal(r.errors, 0, `${c.name}: the model must verify, but SPIN found: ${r.first}\n${r.out}`);
        assert.doesNotMatch(r.out, /Search not completed/, `${c.name}: incomplete search`);
        break;
      case 'assert':
        assert.ok(r.errors > 0, `${c.name}: SPIN must reject this broken variant (${figures})`);
        assert.match(r.first, /^pan:1: assertion violated/, `${c.name}: expected an assertion violation:\n${r.out}`);
        break;
      case 'endstate':
        assert.ok(r.errors > 0, `${c.name}: SPIN must reject this broken variant (${figures})`);
        assert.match(r.first, /^pan:1: invalid end state/, `${c.name}: expected an invalid end state:\n${r.out}`);
        break;
    }
    t.diagnostic(`${figures}${r.first ? ` -- ${r.first.slice(0, 120)}` : ''}`);
  });
}
