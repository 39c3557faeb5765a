// The umcg suite's threads (bench/suites/umcg.ts): UMCG servers with a FIFO or a priority policy,
// and workers doing short latency-critical tasks (released periodically) or long batch tasks.
import { FifoPolicy, PriorityPolicy, umcgRegisterWorker, umcgServe, umcgUnregister, type ServeStats, type ThreadContext } from '../../host/index.js';

export function umcgBenchServer(ctx: ThreadContext, task: number, workers: { tid: number; task: number }[], policy: 'fifo' | 'priority', high: number[]): ServeStats {
  const hi = new Set(high);
  return umcgServe(ctx, { task, workers, policy: policy === 'fifo' ? new FifoPolicy() : new PriorityPolicy((tid) => (hi.has(tid) ? 1 : 0)) });
}

export interface UmcgBenchWorker { task: number; serverTid: number; high: boolean; runMs: number; shortMs: number; longMs: number; periodMs: number }
export interface UmcgBenchResult { tasks: number; latencies: number[] }

function spin(ctx: ThreadContext, ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) ctx.checkpoint(); // every pass: where a kick (TF_PREEMPT) lands
}

export function umcgBenchWorker(ctx: ThreadContext, o: UmcgBenchWorker): UmcgBenchResult {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let r = umcgRegisterWorker(ctx, o.task, o.serverTid);
  for (let i = 0; r === -3 && i < 400; i++) { Atomics.wait(nap, 0, 0, 5); r = umcgRegisterWorker(ctx, o.task, o.serverTid); }
  if (r !== 0) throw new Error(`umcg worker registration: ${r}`);
  const latencies: number[] = [];
  let tasks = 0;
  const end = performance.now() + o.runMs;
  let release = performance.now();
  while (performance.now() < end) {
    if (o.high) {
      // Latency-critical: released every periodMs; latency = release to completion.
      release += o.periodMs;
      ctx.park(); // blocks (BLOCKED, server woken)
      const wait = release - performance.now();
      if (wait > 0) Atomics.wait(nap, 0, 0, wait);
      else release = performance.now();
      spin(ctx, o.shortMs); // the first checkpoint is the wake: RUNNABLE until the server runs it
      latencies.push(performance.now() - release);
    } else {
      spin(ctx, o.longMs);
      ctx.park();
      Atomics.wait(nap, 0, 0, 0.05);
    }
    tasks++;
  }
  umcgUnregister(ctx, o.task);
  return { tasks, latencies };
}
