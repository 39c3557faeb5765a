// The loops of the multi-threaded suites, run on kernel threads through Kernel.runScript: each
// waits at the benchmark's own start barrier (bench/suites.ts runTogether), then runs one wasm
// loop export (or a JS loop) and reports its operations with absolute start and end times, so
// the host can take the wall time from the first start to the last end.
import type { ThreadContext } from '../../host/index.js';

export interface Barrier { arrive: number; go: number }
export interface LoopOutcome { ops: number; start: number; end: number }

/** Absolute high-resolution time in ms, comparable across threads. */
const now = () => performance.timeOrigin + performance.now();

function startTogether(i32: Int32Array, b: Barrier): void {
  Atomics.add(i32, b.arrive >> 2, 1);
  Atomics.notify(i32, b.arrive >> 2);
  while (Atomics.load(i32, b.go >> 2) === 0) Atomics.wait(i32, b.go >> 2, 0, 100);
}

const view = (ctx: ThreadContext) => new Int32Array(ctx.memory.buffer as unknown as SharedArrayBuffer);

/** Export `fn` of module `module`, called once as fn(...args, iters) -> operations done. */
export function wasmLoop(ctx: ThreadContext, o: Barrier & { module: number; fn: string; args: number[]; iters: number }): LoopOutcome {
  const f = ctx.exports(o.module)[o.fn] as (...a: number[]) => number;
  if (typeof f !== 'function') throw new TypeError(`module ${o.module} has no export '${o.fn}'`);
  startTogether(view(ctx), o);
  const start = now();
  const ops = f(...o.args, o.iters);
  return { ops, start, end: now() };
}

/** `iters` JS Atomics.add of 1 on the Int32 word at byte address `word`. */
export function atomicsAddLoop(ctx: ThreadContext, o: Barrier & { word: number; iters: number }): LoopOutcome {
  const i32 = view(ctx);
  const w = o.word >> 2;
  const n = o.iters;
  startTogether(i32, o);
  const start = now();
  for (let i = 0; i < n; i++) Atomics.add(i32, w, 1);
  return { ops: n, start, end: now() };
}
