// param-test --target and soak --target: a user's check target (the fixtures of `wasm-rseq check`)
// on real parallel threads, 6 or 12 on 2 vCPUs, instrumented. The correct counter and stack pass; each
// broken variant fails with its replay line under the settings that catch it: a yield at every 3rd
// shared access inside a section (two stores, no commit check), or supervisor preemptions and
// migrations over many operations (a stale cpu: only a request acted on at the next begin, after
// the cpu was read, makes it stale, so it needs many operations, not yields).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { UsageError } from '../host/index.js';
import { TARGET_DEFAULTS, runTargetTest, type TargetTestOptions } from '../host/param-test/target.js';
import { soak } from '../host/cli/soak.js';
import { hostFile, wasmPath } from '../host/paths.js';
import { compileUserFixture } from './fixtures/asc.js';

const cache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
const compile = (f: string) => { if (!cache.has(f)) cache.set(f, compileUserFixture(f)); return cache.get(f)!; };

/** A yield at every 3rd point-10 pass (at most one per operation): lands on the access before the early or unchecked store. */
const YIELDS: Partial<TargetTestOptions> = { threads: 12, cpus: 2, instrument: true, modulo: 3, yield: true, ops: 500 };
/** Requests that land between a section's commit and the next begin make the cpu read before that begin stale. */
const MIGRATIONS: Partial<TargetTestOptions> = { threads: 12, cpus: 2, instrument: true, supervisor: { preemptHz: 5000, migrateHz: 5000 }, ops: 30000 };
// The stack keeps a node per thread and op in each vCPU's region: 256 + threads x ops x 8 bytes, at
// most 1 MiB. A stale cpu wants many operations per thread: 6 threads x 20000 caught it 40/40 where
// 12 x 10000 caught it 14/20 on a loaded machine.
const SETTINGS = {
  counter: { yields: YIELDS, migrations: MIGRATIONS },
  stack: { yields: { ...YIELDS, bytes: 65536 }, migrations: { ...MIGRATIONS, threads: 6, ops: 20000, bytes: 1 << 20 } },
} as const;
const CATCHES = { 'two-stores': 'yields', 'no-check': 'yields', 'stale-cpu': 'migrations' } as const;

async function run(target: 'counter' | 'stack', variant: string, by: 'yields' | 'migrations', seed = 1) {
  const file = `${target}-${variant}.wasm`;
  return runTargetTest({ ...TARGET_DEFAULTS, target: await compile(`check-${target}-${variant}.ts`), file, seed, ...SETTINGS[target][by] });
}

for (const target of ['counter', 'stack'] as const) {
  for (const name of ['yields', 'migrations'] as const) {
    test(`param-test --target: the correct ${target} passes ${SETTINGS[target][name].threads} threads on 2 vCPUs under ${name}`, { timeout: 60_000 }, async () => {
      const r = await run(target, 'ok', name);
      assert.ok(r.ok, `${r.message}\nreplay: ${r.replay}`);
      assert.equal(r.stats.commits > 0, true);
      assert.ok(r.stats.aborts > 0, 'the injection made sections abort');
    });
  }
  for (const [bug, by] of Object.entries(CATCHES)) {
    test(`param-test --target: the ${bug} ${target} fails under ${by}, with its replay line`, { timeout: 60_000 }, async () => {
      const r = await run(target, bug, by, 7);
      assert.equal(r.ok, false, `not caught: ${r.message}\nreplay: ${r.replay}`);
      assert.match(r.message, /check_verify returned [1-9]/);
      assert.match(r.replay, new RegExp(`^wasm-rseq param-test --target ${target}-${bug}\\.wasm -t \\d+ -r \\d+ --cpus 2 (--bytes \\d+ )?--instrument .*--seed 7$`));
    });
  }
}

test('soak --target: passes for the correct counter, fails for the two stores with a param-test --target replay line', { timeout: 60_000 }, async () => {
  const target = (variant: string) => compile(`check-counter-${variant}.ts`).then((module) => ({ module, file: `counter-${variant}.wasm`, threadsMax: 12, opsMax: 20000, bytes: 4096 }));
  const good: string[] = [];
  assert.ok(await soak({ minutes: 1, runs: 3, seed: 3, cpus: 2, watchdogSeconds: 60, target: await target('ok'), log: (l) => good.push(l) }), good.join('\n'));
  assert.match(good.at(-1)!, /soak PASSED: 3 runs/);
  // Seed 3 draws 12 threads on 2 vCPUs, instrumented, with a yield every 2nd pass first: every abort
  // after the early store counts twice.
  const bad: string[] = [];
  assert.equal(await soak({ minutes: 1, runs: 3, seed: 3, cpus: 2, watchdogSeconds: 60, target: await target('two-stores'), log: (l) => bad.push(l) }), false);
  assert.match(bad.join('\n'), /VIOLATION: counter-two-stores\.wasm: check_verify returned 1\nreplay: wasm-rseq param-test --target counter-two-stores\.wasm -t \d+ -r \d+ --cpus \d .*--seed \d+/);
});

test('runTargetTest rejects a module without the check exports, and bad options, with UsageError', async () => {
  const ok = await compile('check-counter-ok.ts');
  await assert.rejects(runTargetTest({ ...TARGET_DEFAULTS, target: wasmPath('param_test') }), (e: unknown) =>
    e instanceof UsageError && /does not export check_setup, check_op, check_verify \(see README "Checking your critical sections"\)/.test((e as Error).message));
  for (const bad of [{ threads: 0 }, { ops: -1 }, { bytes: 4 }, { modulo: 3, yield: true }, { instrument: true, modulo: 3 }, { instrument: true, yield: true }]) {
    await assert.rejects(runTargetTest({ ...TARGET_DEFAULTS, target: ok, ...bad }), UsageError, JSON.stringify(bad));
  }
});

test('the CLI: param-test --target exits 1 with a replay line that fails again, 0 when correct, 2 on bad usage', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rseq-target-'));
  for (const v of ['ok', 'no-check']) writeFileSync(join(dir, `counter-${v}.wasm`), await compile(`check-counter-${v}.ts`));
  const cli = fileURLToPath(hostFile('cli/main.js'));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000, cwd: dir });
  const flags = ['-t', '12', '-r', '500', '--cpus', '2', '--instrument', '-m', '3', '-y'];
  const bad = run('param-test', '--target', 'counter-no-check.wasm', ...flags, '--seed', '5');
  assert.equal(bad.status, 1, bad.stderr);
  const line = /replay: (wasm-rseq param-test .*)/.exec(bad.stderr)?.[1];
  assert.equal(line, 'wasm-rseq param-test --target counter-no-check.wasm -t 12 -r 500 --cpus 2 --instrument -m 3 -y --seed 5');
  // The replay fails again, and --trace writes the failing run's kernel trace.
  const again = run(...line!.split(' ').slice(1), '--trace', 't.json');
  assert.equal(again.status, 1, again.stderr);
  assert.match(again.stderr, /trace: \d+ events written to t\.json/);
  const trace = JSON.parse(readFileSync(join(dir, 't.json'), 'utf8')) as { traceEvents: { name: string; ph: string }[] };
  assert.ok(trace.traceEvents.some((e) => e.ph === 'X' && /on vCPU/.test(e.name)));
  const good = run('param-test', '--target', 'counter-ok.wasm', ...flags, '-v');
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /counter-ok\.wasm: OK in \d+ ms \(12 threads, 2 vCPUs, instrumented\)\n[^]*commits=6000 aborts=\d+ migrations=\d+ preemptions=\d+\n$/);
  const usage: [string[], RegExp][] = [
    [['param-test', '--target', wasmPath('param_test')], /Checking your critical sections/],
    [['param-test', '--target', 'missing.wasm'], /cannot read missing\.wasm/],
    [['param-test', '--target', 'counter-ok.wasm', '-t', '0'], /-t threads must be an integer >= 1/],
    [['param-test', '--target', 'counter-ok.wasm', '-r', 'x'], /not an integer/],
    [['param-test', '--target', 'counter-ok.wasm', '-m', '3', '-y'], /need --instrument/],
    [['param-test', '--target', 'counter-ok.wasm', '-T', 'i', '-7', '1000'], /-T, -7 do not apply to --target/],
    [['param-test', '-T', 'i', '--instrument'], /apply to --target only/],
    [['soak', '--target', wasmPath('param_test'), '--runs', '1'], /Checking your critical sections/],
    [['soak', '--target', 'counter-ok.wasm', '--threads-max', '0'], /--threads-max must be an integer >= 1/],
  ];
  for (const [args, message] of usage) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});
