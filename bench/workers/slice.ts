// The slice suite's thread loop (bench/suites/slice.ts): a per-vCPU spinlock taken and held for a
// fixed amount of work, at oversubscription. With `extend`, the holder asks for a time-slice
// extension while it holds the lock (rseq.rst's protocol) and yields after it if it was granted.
import type { ThreadContext } from '../../host/index.js';

export interface SliceBenchOptions {
  /** Address of the lock words: vCPU c's lock at locks + c * stride. */
  locks: number;
  stride: number;
  /** Wall ms of work while holding the lock; wall ms of work outside it. */
  holdMs: number;
  thinkMs: number;
  runMs: number;
  extend: boolean;
}

export interface SliceBenchResult { ops: number; ms: number; holds: number[]; granted: number; yielded: number }

export function spinlockLoop(ctx: ThreadContext, o: SliceBenchOptions): SliceBenchResult {
  const i32 = new Int32Array(ctx.memory.buffer);
  const u8 = new Uint8Array(ctx.memory.buffer);
  const area = ctx.rseqArea;
  if (o.extend && ctx.prctl(79, 2, 1, 0, 0) !== 0) throw new Error('slice extension unavailable');
  const holds: number[] = [];
  let ops = 0, granted = 0, yielded = 0;
  const t0 = performance.now();
  const end = t0 + o.runMs;
  for (let now = t0; now < end; now = performance.now()) {
    ctx.checkpoint();
    const w = (o.locks + ctx.vcpu * o.stride) >> 2;
    if (o.extend) u8[area + 28] = 1;
    // Spin for the lock; every pass is an emulated interrupt return (where preemption lands).
    while (Atomics.compareExchange(i32, w, 0, 1) !== 0) ctx.checkpoint();
    const got = performance.now();
    for (let t = got; t - got < o.holdMs; t = performance.now()) ctx.checkpoint();
    const released = performance.now();
    Atomics.store(i32, w, 0);
    holds.push(released - got);
    ops++;
    if (o.extend) {
      if (u8[area + 28]) u8[area + 28] = 0;
      else if (u8[area + 29]) { granted++; if (ctx.sliceYield()) yielded++; }
    }
    const think = performance.now();
    for (let t = think; t - think < o.thinkMs; t = performance.now()) ctx.checkpoint();
  }
  ctx.park();
  return { ops, ms: performance.now() - t0, holds, granted, yielded };
}
