// The pool suite's rseq handler (an RseqPool handler module): `ops` adds of 1 to a per-vCPU
// Counter (wasm-rseq JS objects: the protocol in plain JS, no wasm call) on the vCPU this pool
// worker owns. The handle is looked up once per worker, as a real handler would keep it.
import type { Counter, ThreadContext } from '../../host/index.js';

export interface PoolBenchTask { counter: string; ops: number }

let counter: Counter | undefined;

export default function add(ctx: ThreadContext, t: PoolBenchTask): number {
  const c = (counter ??= ctx.objects.counter(t.counter));
  for (let i = 0; i < t.ops; i++) c.add(1);
  return t.ops;
}
