// UMCG on the vCPU scheduler: umcg_ctl's validation, a FIFO server running workers that block and
// wake (block / wake detection, vCPU hand-off), a priority server, preemption by TF_PREEMPT + kick.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kernel } from '../host/index.js';

const SCRIPT = new URL('./fixtures/umcg-script.js', import.meta.url);
let k: Kernel;
before(async () => { k = await Kernel.create({ cpus: 1, threads: 4, supervisor: { sliceMs: 1 } }); });
after(() => k.close());

test('umcg_ctl / umcg_wait / umcg_kick validation errors', async () => {
  const good = k.alloc(64, 64);
  const other = k.alloc(64, 64);
  const { value } = await k.runScript<Record<string, number>>(0, SCRIPT, 'ctlErrors', good, other);
  assert.deepEqual(value, {
    misaligned: -22, outside: -14, badFlags: -22, badClock: -22, nextTidSet: -22, serverNotSelf: -22,
    workerNoServer: -3, workerNotBlocked: -22, unregisterUnregistered: -22, server: 0, again: -22,
    waitFlags: -22, waitNotRunnable: -11, waitNoSuchNext: -3, waitTimeout: -110, kickNobody: -3, unregister: 0,
  });
});

test('a FIFO server runs 3 workers on 1 vCPU; each blocks and wakes 20 times; all unregister', { timeout: 60_000 }, async () => {
  const st = k.alloc(64, 64);
  const tasks = [1, 2, 3].map(() => k.alloc(64, 64));
  const workers = tasks.map((task, i) => ({ tid: i + 2, task }));
  const srv = k.runScript<{ switches: number; eagain: number }>(0, SCRIPT, 'server', st, workers);
  await new Promise((r) => setTimeout(r, 50));
  const ws = workers.map((w) => k.runScript<{ done: number; vcpus: number[]; unregister: number }>(w.tid - 1, SCRIPT, 'worker', w.task, 1, 20, 0.2, 0.5));
  const rs = await Promise.all(ws);
  for (const r of rs) assert.deepEqual(r.value, { done: 20, vcpus: [0], unregister: 0 });
  const s = (await srv).value;
  assert.ok(s.switches >= 60, `the server switched to a worker for each run: ${JSON.stringify(s)}`);
});

test('a priority server preempts batch workers (TF_PREEMPT + kick) for latency-critical ones; every worker completes', { timeout: 60_000 }, async () => {
  const { runUmcgCase } = await import('../bench/suites/umcg.js');
  const r = await runUmcgCase('priority', 300);
  assert.ok(r.preempts > 0, `no preemption: ${JSON.stringify(r)}`);
  assert.ok(r.hiTasks > 10 && r.batchPerSec > 0, JSON.stringify(r));
});

test('a worker running rseq sections, preempted by TF_PREEMPT + kick (a request on its vCPU), loses no increment', { timeout: 60_000 }, async (t) => {
  const st = k.alloc(64, 64);
  const lo = { tid: 2, task: k.alloc(64, 64) };
  const hi = { tid: 3, task: k.alloc(64, 64) };
  const base = k.allocPerCpu(8);
  const before = k.stats();
  const srv = k.runScript<{ preempts: number }>(0, SCRIPT, 'server', st, [lo, hi], { 3: 1 });
  const n = 5_000_000;
  const a = k.runScript<{ failed: number; unregister: number }>(1, SCRIPT, 'adder', lo.task, 1, base, n);
  const h = k.runScript(2, SCRIPT, 'worker', hi.task, 1, 50, 0.1, 1);
  const [ra] = await Promise.all([a, h]);
  const s = (await srv).value;
  assert.equal(ra.value.unregister, 0);
  assert.equal(k.sumPerCpu(base), BigInt(n));
  assert.ok(s.preempts > 0, `the priority server must have preempted the adder: ${JSON.stringify(s)}`);
  // A kick that lands inside a section makes its commit check fail (the sequence word moved): it
  // aborts and restarts on the vCPU the worker runs on next. Most kicks land between sections here.
  t.diagnostic(`preempts=${s.preempts} aborts=${k.stats().aborts - before.aborts}`);
});
