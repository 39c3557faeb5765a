// Kernel-run tracing (Kernel.create({ trace }), kernel.trace(), param-test / soak --trace): the trace
// has a track per thread and per vCPU, its events agree exactly with kernel.stats() when no ring
// wrapped, a wrapped ring reports its drops, a dead thread's events stay readable, and a kernel that
// does not trace records nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Kernel, UsageError, type ChromeTrace, type TraceEvent } from '../host/index.js';
import { engineOf } from '../host/internal.js';
import { hostFile } from '../host/paths.js';
import { DEFAULTS, runParamTest, type ParamTestOptions, type TraceSink } from '../host/param-test/run.js';
import { ABORT_CAUSES } from '../host/kernel/stats.js';

const THREADS = 1;
const CPUS = 2;
/** param-test -T i -t 12 --cpus 2 with injected preemptions and migrations (the supervisor's, at random). */
const injected: ParamTestOptions = {
  ...DEFAULTS, test: 'i', threads: 12, cpus: 2, reps: 100_000, seed: 5, supervisor: { preemptHz: 1000, migrateHz: 1000 },
};

const onThreads = (t: ChromeTrace, p: (e: TraceEvent) => boolean) => t.traceEvents.filter((e) => e.pid === THREADS && p(e));
const trackNames = (t: ChromeTrace, pid: number) =>
  t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid).map((e) => (e.args as { name: string }).name);

test('a traced injected param-test: per-thread and per-vCPU tracks; aborts, migrations and commits agree exactly with kernel.stats()', { timeout: 120_000 }, async () => {
  const sink: TraceSink = { eventsPerThread: 32768 };
  // And a signal at point 7 (mid-section) every 50th pass: aborts that enter the kernel for sure.
  const r = await runParamTest({ ...injected, loops: { 7: -1 }, modulo: 50, signal: true }, undefined, sink);
  assert.ok(r.ok, r.message);
  const trace = JSON.parse(JSON.stringify(sink.trace)) as ChromeTrace;
  assert.equal(trace.otherData?.dropped, 0, 'the rings must not wrap for the exact comparison');
  assert.deepEqual(trackNames(trace, THREADS), Array.from({ length: 12 }, (_, i) => `thread ${i}`));
  assert.deepEqual(trackNames(trace, CPUS), ['vCPU 0', 'vCPU 1']);
  assert.ok(trace.traceEvents.some((e) => e.ph === 'X' && e.pid === CPUS && /^t\d+ on vCPU [01]$/.test(e.name)));
  assert.ok(trace.traceEvents.some((e) => e.ph === 'i' && e.pid === CPUS && e.name.startsWith('request ')), 'the supervisor\'s requests');

  const s = r.stats;
  for (const t of s.threads) {
    const mine = onThreads(trace, (e) => e.tid === t.slot);
    // Aborts in the slow path, by cause (the cpu-compare mismatches never enter the kernel).
    for (const cause of ABORT_CAUSES.filter((c) => c !== 'mismatch')) {
      const n = mine.filter((e) => e.ph === 'i' && (e.args as { cause?: string }).cause === cause).length;
      assert.equal(n, t.abortsBy[cause], `thread ${t.slot} aborts by ${cause}`);
    }
    assert.equal(mine.filter((e) => e.ph === 'i' && e.name.startsWith('migrate to vCPU')).length, t.migrations, `thread ${t.slot} migrations`);
    // Every vCPU span ends with the commits made in it: together, all the thread committed.
    const spans = mine.filter((e) => e.ph === 'X');
    assert.equal(spans.reduce((a, e) => a + ((e.args as { commits?: number }).commits ?? 0), 0), t.commits, `thread ${t.slot} commits`);
  }
  // The run exercised what it compares.
  assert.ok(s.migrations > 0, 'no migration happened');
  assert.ok(s.aborts - s.abortsBy.mismatch > 0, 'no abort entered the kernel');
});

test('a ring that wraps keeps its newest events and reports how many it dropped', { timeout: 120_000 }, async () => {
  const sink: TraceSink = { eventsPerThread: 16 };
  // A yield at point 7 on every pass: each thread records at least one event per repetition.
  const r = await runParamTest({ ...injected, reps: 500, loops: { 7: -1 }, modulo: 1, yield: true }, undefined, sink);
  assert.ok(r.ok, r.message);
  const o = sink.trace!.otherData as { dropped: number; recorded: number; wrapped: boolean; droppedBy: Record<string, number> };
  assert.equal(o.wrapped, true);
  assert.ok(o.dropped > 0 && o.recorded > o.dropped, JSON.stringify(o));
  assert.equal(Object.values(o.droppedBy).reduce((a, b) => a + b, 0), o.dropped);
  // At most 16 ring events per thread survive; each becomes at most one event on the thread's track.
  for (let t = 0; t < 12; t++) assert.ok(onThreads(sink.trace!, (e) => e.tid === t && e.ph !== 'M').length <= 16);
});

test('a dead thread\'s events stay readable; reset() empties the rings', { timeout: 60_000 }, async () => {
  const k = await Kernel.create({ cpus: 1, threads: 2, supervisor: false, trace: true });
  try {
    const base = k.allocPerCpu(8);
    for (let i = 0; i < 3; i++) await k.runOn(1, k.coreModule, 'counter_add', base, 1n);
    await k.kill(1);
    const t = k.trace();
    const mine = onThreads(t, (e) => e.tid === 1);
    assert.ok(mine.some((e) => e.name === 'thread died'));
    assert.equal(mine.filter((e) => e.ph === 'X').reduce((a, e) => a + ((e.args as { commits: number }).commits ?? 0), 0), 3);
    await k.reset();
    assert.equal(k.trace().traceEvents.filter((e) => e.ph !== 'M').length, 0);
  } finally {
    await k.close();
  }
});

test('a kernel that does not trace lays out no rings and records nothing; bad trace options are usage errors', async () => {
  const k = await Kernel.create({ cpus: 1, threads: 1, supervisor: false });
  try {
    await k.runOn(0, k.coreModule, 'counter_add', k.allocPerCpu(8), 1n);
    const e = engineOf(k);
    assert.equal(e.plan.traceBase, 0);
    assert.equal(e.view.load(e.abi.HEADER_ADDR + e.abi.HDR_TRACE), 0);
    assert.throws(() => k.trace(), UsageError);
  } finally {
    await k.close();
  }
  await assert.rejects(Kernel.create({ cpus: 1, threads: 0, trace: { eventsPerThread: 0 } }), /trace.eventsPerThread/);
  await assert.rejects(Kernel.create({ cpus: 1, threads: 0, trace: 'yes' as never }), UsageError);
});

test('the CLI: param-test --trace and soak --trace write Chrome Trace JSON files', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rseq-trace-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [fileURLToPath(hostFile('cli/main.js')), ...args], { encoding: 'utf8', timeout: 60_000 });
  const p = join(dir, 'param.json');
  const r = cli('param-test', '-T', 'i', '-t', '6', '-r', '2000', '--cpus', '2', '--preempt-hz', '1000', '--trace', p);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /trace: \d+ events written to /);
  const trace = JSON.parse(readFileSync(p, 'utf8')) as ChromeTrace;
  assert.equal(trackNames(trace, THREADS).length, 6);
  assert.ok(trace.traceEvents.some((e) => e.ph === 'X' && e.pid === THREADS));

  const s = join(dir, 'soak.json');
  const r2 = cli('soak', '--minutes', '0.01', '--seed', '3', '--trace', s);
  assert.equal(r2.status, 0, r2.stdout + r2.stderr);
  assert.match(r2.stdout, /trace: \d+ events written to .*: run \d+, the last \(none failed\)/);
  assert.ok(existsSync(s));
  assert.equal((JSON.parse(readFileSync(s, 'utf8')) as ChromeTrace).otherData?.producer, 'wasm-rseq kernel');

  const bad = cli('param-test', '-T', 'i', '--trace');
  assert.equal(bad.status, 2);

  // --trace-events sizes the rings: 8 per thread, a yield on every pass, so they wrap and say so.
  const small = join(dir, 'small.json');
  const r3 = cli('param-test', '-T', 'i', '-t', '4', '-r', '200', '--cpus', '1', '-7', '-1', '-m', '1', '-y', '--trace', small, '--trace-events', '8');
  assert.equal(r3.status, 0, r3.stderr);
  assert.match(r3.stderr, /older events dropped; --trace-events N keeps more/);
  const t3 = JSON.parse(readFileSync(small, 'utf8')) as ChromeTrace;
  assert.equal(t3.otherData?.eventsPerThread, 8);
  assert.equal(cli('param-test', '-T', 'i', '--trace', small, '--trace-events', '0').status, 2);
});
