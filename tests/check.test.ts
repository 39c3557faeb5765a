// wasm-rseq check: the deterministic checker finds each classic rseq bug in a per-vCPU counter and
// a per-vCPU stack within bound 2, on 2 vCPUs and on 1, the correct versions pass the same bound,
// and every failure's schedule replays exactly. Small bounds only: each check takes about a second.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { test } from 'node:test';
import { Kernel, ModuleError, check, decodeSchedule, encodeSchedule, UsageError } from '../host/index.js';
import { ABI } from '../host/abi.js';
import { hostFile } from '../host/paths.js';
import { compileUserFixture } from './fixtures/asc.js';

const cache = new Map<string, Promise<Uint8Array>>();
const compile = (f: string) => { if (!cache.has(f)) cache.set(f, compileUserFixture(f)); return cache.get(f)!; };

const targets = [['counter', 2], ['stack', 3]] as const;
const bugs = ['two-stores', 'stale-cpu', 'no-check'] as const;

for (const [target, ops] of targets) {
  for (const cpus of [2, 1]) {
    test(`check --bound 2: the correct ${target} passes on ${cpus} vCPU(s)`, { timeout: 120_000 }, async () => {
      const r = await check({ module: await compile(`check-${target}-ok.ts`), threads: 2, ops, cpus, bound: 2 });
      assert.equal(r.ok, true, r.failure?.replay);
      assert.ok(r.schedules > 100, `explored ${r.schedules}`);
    });
    for (const bug of bugs) {
      // With one vCPU every index is 0: a stale cpu cannot name another vCPU's data.
      const possible = !(bug === 'stale-cpu' && cpus === 1);
      test(`check --bound 2 ${possible ? 'finds' : 'cannot have'} the ${bug} bug in the ${target} on ${cpus} vCPU(s); its replay reproduces 10 of 10`, { timeout: 120_000 }, async () => {
        const module = await compile(`check-${target}-${bug}.ts`);
        const r = await check({ module, threads: 2, ops, cpus, bound: 2, file: `${target}-${bug}.wasm` });
        assert.equal(r.ok, !possible, r.failure?.replay);
        if (!possible) return;
        const f = r.failure!;
        assert.match(f.replay, new RegExp(`^wasm-rseq check ${target}-${bug}.wasm --threads 2 --ops ${ops} --cpus ${cpus} --replay \\S+$`));
        assert.ok(f.verify !== 0 && !f.error);
        const again = await check({ module, threads: 2, ops, cpus, replay: f.schedule, repeat: 10 });
        assert.equal(again.ok, false);
        assert.equal(again.failure!.schedule, f.schedule);
        assert.equal(again.failure!.verify, f.verify);
        assert.equal(again.identical, 10);
      });
    }
  }
}

test('schedules encode and decode; bad ones are usage errors', () => {
  const s = decodeSchedule(ABI, '3s1.7p0.9m.12k');
  assert.deepEqual(s, [[3, ABI.CHK_C_SWITCH + 1], [7, ABI.CHK_C_PREEMPT], [9, ABI.CHK_C_MIGRATE], [12, ABI.CHK_C_SIGNAL]]);
  assert.equal(encodeSchedule(ABI, s), '3s1.7p0.9m.12k');
  assert.deepEqual(decodeSchedule(ABI, '-'), []);
  assert.throws(() => decodeSchedule(ABI, '3x'), UsageError);
  assert.throws(() => decodeSchedule(ABI, '5k.3k'), UsageError);
  assert.throws(() => decodeSchedule(ABI, '5s'), UsageError);
});

test('check --pct finds the missing commit check with random schedules, replayably', { timeout: 120_000 }, async () => {
  const module = await compile('check-counter-no-check.ts');
  const r = await check({ module, threads: 2, ops: 2, cpus: 1, pct: { runs: 300, seed: 7 } });
  assert.equal(r.ok, false);
  const again = await check({ module, threads: 2, ops: 2, cpus: 1, replay: r.failure!.schedule, repeat: 3 });
  assert.equal(again.ok, false);
  assert.equal(again.identical, 3);
});

test('the CLI: exit 1 with a replay line, the replay and its trace and timeline, exit 0 when correct, 2 on bad usage', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rseq-check-'));
  const bad = join(dir, 'bad.wasm');
  const good = join(dir, 'good.wasm');
  writeFileSync(bad, await compile('check-stack-no-check.ts'));
  writeFileSync(good, await compile('check-stack-ok.ts'));
  const cli = fileURLToPath(hostFile('cli/main.js'));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'check', ...args], { encoding: 'utf8', timeout: 60_000 });
  const r1 = run(bad, '--threads', '2', '--ops', '3', '--cpus', '2', '--bound', '1');
  assert.equal(r1.status, 1, r1.stderr);
  const line = /replay: (wasm-rseq check .*)/.exec(r1.stderr)?.[1];
  assert.ok(line, r1.stderr);
  assert.match(r1.stderr, /schedules\/s/);
  const trace = join(dir, 't.json');
  const timeline = join(dir, 't.html');
  const r2 = run(...line!.split(' ').slice(2), '--trace', trace, '--timeline', timeline);
  assert.equal(r2.status, 1, r2.stderr);
  assert.ok(readFileSync(timeline, 'utf8').includes(`replay: ${line}`), 'the timeline page names its replay line');
  const json = JSON.parse(readFileSync(trace, 'utf8')) as { traceEvents: { name: string; ph: string; pid: number }[] };
  assert.ok(json.traceEvents.some((e) => e.ph === 'X' && /section/.test(e.name)));
  assert.ok(json.traceEvents.some((e) => e.ph === 'i' && /request/.test(e.name)));
  assert.ok(json.traceEvents.some((e) => e.ph === 'M' && e.pid === 2));
  const r3 = run(good, '--threads', '2', '--ops', '2', '--cpus', '1', '--bound', '1');
  assert.equal(r3.status, 0, r3.stderr);
  assert.match(r3.stdout, /no failure in \d+ schedules/);
  assert.equal(run(good, '--threads', '2').status, 2);
  assert.equal(run(good, '--threads', '2', '--ops', '2', '--bound', '1', '--pct').status, 2);
  assert.equal(run(good, '--threads', '2', '--ops', '2', '--replay', 'zz').status, 2);
});

test('kernel.load({ instrument: true }): every access inside a section is injection point 10, and a correct section stays exact', { timeout: 120_000 }, async () => {
  const bytes = await compileUserFixture('sections.ts');
  const k = await Kernel.create({ cpus: 1, threads: 3, supervisor: false });
  try {
    const m = await k.load(bytes, { name: 'sections', instrument: true });
    const cs = k.defineCriticalSection();
    const base = k.allocPerCpu(8);
    await k.inject({ loops: { 10: -1 }, modulo: 3, yield: true });
    const res = await k.run(m, 'count', () => [cs, base, 2000]);
    assert.ok(res.every((r) => r.value === 2000));
    assert.equal(k.sumPerCpu(base), 6000n);
    const s = k.stats();
    assert.ok(s.aborts > 0, 'the yields at point 10 aborted sections');
  } finally {
    await k.close();
  }
});

test('a migration with every vCPU owned swaps two owners (threads == vCPUs), and sections stay exact', { timeout: 120_000 }, async () => {
  const bytes = await compileUserFixture('sections.ts');
  const k = await Kernel.create({ cpus: 2, threads: 2, supervisor: { migrateHz: 2000 } });
  try {
    const m = await k.load(bytes, 'sections');
    const cs = k.defineCriticalSection();
    const base = k.allocPerCpu(8);
    const res = await k.run(m, 'count', () => [cs, base, 3_000_000]);
    assert.ok(res.every((r) => r.value === 3_000_000));
    assert.equal(k.sumPerCpu(base), 6_000_000n);
    const { migrations } = k.stats();
    assert.ok(migrations > 20, `owners swapped vCPUs (${migrations} migrations)`);
  } finally {
    await k.close();
  }
});

test('check refuses a module with a mutable global: its value would carry over between schedules', { timeout: 60_000 }, async () => {
  const module = await compileUserFixture('globals.ts');
  await assert.rejects(check({ module, threads: 2, ops: 1 }), (e: unknown) => e instanceof ModuleError && /mutable globals/.test((e as Error).message));
});
