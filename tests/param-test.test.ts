// param-test's matrix (run_param_test.sh, scaled for CI): every test type, cpu_id and mm_cid
// indexing, each kind of injection, at 6x oversubscription of vCPUs. Each run is checked exactly;
// where injection is on, aborts must really have happened.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { DEFAULTS, runParamTest, type ParamTestOptions } from '../host/param-test/run.js';
import type { TestType } from '../host/param-test/tests.js';

const CPUS = 2;
const THREADS = 6 * CPUS;
const INJECTIONS: [string, Partial<ParamTestOptions>][] = [
  ['none', {}],
  // Loops only widen the window: the supervisor's requests are what land in it.
  ['-1 10000 (loop after begin)', { loops: { 1: 10000 }, supervisor: { preemptHz: 2000 } }],
  ['-4 5000 (loop inside)', { loops: { 4: 5000 }, supervisor: { preemptHz: 2000 } }],
  // The window between the commit check and the store is what a fence must wait out (-T r fails
  // here if membarrier returns early).
  ['-6 20000 (loop before the committing store)', { loops: { 6: 20000 }, reps: 300, supervisor: { preemptHz: 2000 } }],
  // A yield only aborts if someone is waiting for the vCPU (as sched_yield only preempts when another
  // task is runnable): enough reps that the threads' runs overlap even when wake-ups are slow.
  ['-7 -1 -m 4 -y (yield)', { loops: { 7: -1 }, modulo: 4, yield: true, reps: 2000 }],
  ['-8 -1 -m 2 -k (signal)', { loops: { 8: -1 }, modulo: 2, signal: true }],
  ['-9 -1 -m 1 -s 1 (sleep)', { loops: { 9: -1 }, modulo: 1, sleepMs: 1, reps: 60 }],
  // A thread that sleeps inside a section has no vCPU when it wakes: it must not make the
  // section's speculative stores (buffer / memcpy slots) into what is now another thread's vCPU.
  ['-8 -1 -m 1 -s 1 (sleep inside the section)', {
    loops: { 8: -1 }, modulo: 1, sleepMs: 1, reps: 200, supervisor: { preemptHz: 1000, signalHz: 500, sliceMs: 0.5 },
  }],
  ['supervisor preempt + migrate', { supervisor: { preemptHz: 5000, migrateHz: 5000 }, reps: 100_000 }],
];

async function run(test: TestType, extra: Partial<ParamTestOptions>) {
  const o: ParamTestOptions = { ...DEFAULTS, test, threads: THREADS, cpus: CPUS, reps: 400, ...extra };
  const r = await runParamTest(o);
  assert.ok(r.ok, `${r.message}\nreplay: ${r.replay}`);
  return r;
}

for (const t of ['s', 'l', 'b', 'm', 'i', 'r'] as TestType[]) {
  for (const mmCid of [false, true]) {
    describe(`-T ${t}${mmCid ? ' --mm-cid' : ''}`, { timeout: 120_000 }, () => {
      for (const [name, inj] of INJECTIONS) {
        test(name, async () => {
          const r = await run(t, { mmCid, ...inj });
          if (name !== 'none') assert.ok(r.stats.aborts > 0, `no abort observed under ${name}`);
        });
      }
    });
  }
}

describe('-T b / -T m with -M (store-release commits)', { timeout: 60_000 }, () => {
  for (const t of ["b", "m"] as TestType[]) {
    test(`-T ${t} -M -7 -1 -m 2 -y`, async () => { await run(t, { release: true, loops: { 7: -1 }, modulo: 2, yield: true }); });
  }
});

describe('unregistered threads', { timeout: 60_000 }, () => {
  for (const t of ['s', 'l', 'b', 'm', 'i', 'r'] as TestType[]) {
    test(`-T ${t} -D 3: every third thread does not register; its sections all abort, the others count exactly`, async () => {
      const r = await run(t, { disableMod: 3, supervisor: { preemptHz: 2000 } });
      assert.equal(r.stats.threads.filter((x) => !x.registered).length, 4);
      assert.ok(r.stats.threads.filter((x) => !x.registered).every((x) => x.commits === 0 && x.aborts > 0));
    });
  }
  test('-d: nobody registers, nothing commits', async () => {
    const r = await run('l', { disableRseq: true });
    assert.equal(r.stats.commits, 0);
  });
});

describe('a broken critical section is caught', { timeout: 60_000 }, () => {
  for (const [name, inj] of [
    ['-7 -1 -m 2 -k', { loops: { 7: -1 }, modulo: 2, signal: true }],
    ['-7 20000', { loops: { 7: 20000 }, reps: 2000 }],
  ] as [string, Partial<ParamTestOptions>][]) {
    test(`two visible stores under ${name}`, async () => {
      const r = await runParamTest({ ...DEFAULTS, test: 'i', threads: THREADS, cpus: CPUS, reps: 400, broken: true, ...inj });
      assert.equal(r.ok, false, 'param-test accepted a section that stores before its commit check');
      assert.match(r.message, /sum to \d+, expected/);
      assert.match(r.replay, /--broken/);
    });
  }
});

describe('the wasm-rseq param-test command', { timeout: 60_000 }, () => {
  const cli = fileURLToPath(new URL('../host/cli/main.js', import.meta.url));
  const sh = (...args: string[]) => spawnSync(process.execPath, [cli, 'param-test', ...args], { encoding: 'utf8' });
  test('exit 0 and the -v summary line', () => {
    const r = sh('-T', 'l', '-t', '12', '--cpus', '2', '-r', '1500', '-7', '-1', '-m', '4', '-y', '-v');
    assert.equal(r.status, 0, r.stderr);
    const last = r.stdout.trim().split('\n').pop()!;
    const m = /^commits=(\d+) aborts=(\d+) migrations=(\d+) preemptions=(\d+)$/.exec(last);
    assert.ok(m, last);
    assert.equal(Number(m[1]), 12 * 1500 * 2);
    assert.ok(Number(m[2]) > 0);
  });
  test('exit 1 with the replay line when inconsistent', () => {
    const r = sh('-T', 'i', '-t', '12', '--cpus', '2', '-r', '300', '-7', '-1', '-m', '2', '-k', '--broken');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /param-test FAILED: increment/);
    assert.match(r.stderr, /replay: wasm-rseq param-test -T i .*--seed 1/);
  });
  test('exit 2 on bad usage', () => {
    for (const args of [['-T', 'x'], ['-t', '0'], ['-r', 'many'], ['-3', '-7'], ['--cpus', '99']]) {
      const r = sh(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  });
});
