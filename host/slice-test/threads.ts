// The two threads of slice_test (tools/testing/selftests/rseq/slice_test.c), run on kernel threads
// by run.ts: the test loop (request an extension, spin, classify) and the noise thread (busy, sleep).
import type { ThreadContext } from '../thread-runtime.js';

export interface SliceLoopOptions {
  /** Wall ms each round spins with the request set. */
  spinMs: number;
  /** Wall ms the whole loop runs. */
  runMs: number;
  /** Call another syscall (prctl GET, for the kernel's getpid()) instead of rseq_slice_yield. */
  noYield: boolean;
}

export interface SliceCounts { total: number; success: number; yielded: number; aborted: number; scheduled: number; raced: number }

const REQUEST = 28;
const GRANTED = 29;

/** The test thread's loop; the counts as slice_test prints them. */
export function sliceLoop(ctx: ThreadContext, o: SliceLoopOptions): SliceCounts {
  const r: SliceCounts = { total: 0, success: 0, yielded: 0, aborted: 0, scheduled: 0, raced: 0 };
  const u8 = new Uint8Array(ctx.memory.buffer);
  const area = ctx.rseqArea;
  if (ctx.prctl(79, 2, 1, 0, 0) !== 0) throw new Error('prctl(PR_RSEQ_SLICE_EXTENSION, SET, ENABLE) failed');
  const end = performance.now() + o.runMs;
  while (performance.now() < end) {
    ctx.checkpoint(); // run: own the vCPU before asking for more of it
    u8[area + REQUEST] = 1;
    const stop = performance.now() + o.spinMs;
    // Every pass is an emulated interrupt return (a checkpoint): where a preemption lands.
    while (performance.now() < stop) ctx.checkpoint();
    r.total++;
    if (u8[area + REQUEST]) {
      u8[area + REQUEST] = 0;
      r.success++;
    } else if (u8[area + GRANTED]) {
      if (o.noYield) {
        ctx.prctl(79, 1, 0, 0, 0);
        r.aborted++;
      } else {
        r.yielded++;
        if (!ctx.sliceYield()) r.raced++;
      }
    } else {
      r.scheduled++;
    }
  }
  ctx.park();
  return r;
}

export interface NoiseOptions { busyMs: number; sleepMs: number; runMs: number }

/** The noise thread: busy for busyMs on the vCPU, then sleep sleepMs with it released; rounds done. */
export function noise(ctx: ThreadContext, o: NoiseOptions): number {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = performance.now() + o.runMs;
  let rounds = 0;
  while (performance.now() < end) {
    ctx.checkpoint(); // wake up: wants the vCPU (queues behind the test thread, which gets preempted)
    const stop = performance.now() + o.busyMs;
    while (performance.now() < stop) ctx.checkpoint();
    ctx.park();
    Atomics.wait(nap, 0, 0, o.sleepMs);
    rounds++;
  }
  return rounds;
}
