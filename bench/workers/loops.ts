// JavaScript loops of the multi-threaded suites, run on kernel threads through Kernel.runScripts:
// every thread is released from the kernel's start barrier, then runs its loop and returns the
// operations done (the kernel times each call).
import type { ThreadContext } from '../../host/index.js';

/** `iters` JS Atomics.add of 1 on the Int32 word at byte address `word`. Returns `iters`. */
export function atomicsAddLoop(ctx: ThreadContext, o: { word: number; iters: number }): number {
  const i32 = new Int32Array(ctx.memory.buffer as unknown as SharedArrayBuffer);
  const w = o.word >> 2;
  const n = o.iters;
  for (let i = 0; i < n; i++) Atomics.add(i32, w, 1);
  return n;
}
