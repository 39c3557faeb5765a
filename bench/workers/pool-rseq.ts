// The pool suite's rseq handler (an RseqPool handler module): `ops` adds of 1 to a per-vCPU
// Counter (wasm-rseq JS objects: the protocol in plain JS, no wasm call) on the vCPU this pool
// worker owns. The handle is looked up once per worker, as a real handler would keep it.
import type { Counter, ThreadContext } from '../../host/index.js';

/** The same task message as the plain pool's: the counter's name comes with the pool's workerData. */
export interface PoolBenchTask { ops: number }
export interface PoolBenchData { counter: string }

let counter: Counter | undefined;

export default function add(ctx: ThreadContext<WebAssembly.Exports, PoolBenchData>, t: PoolBenchTask): number {
  const c = (counter ??= ctx.objects.counter(ctx.workerData.counter));
  for (let i = 0; i < t.ops; i++) c.add(1);
  return t.ops;
}
