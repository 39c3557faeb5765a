// The piscina worker of an RseqPool: claims a free pool slot of the kernel, becomes an emulated
// thread on it (ThreadRuntime), then runs the user's handler for each task and parks afterwards.
import { UsageError } from './errors.js';
import { threadRec } from './memory.js';
import { platform } from './platform/index.js';
import { ThreadRuntime, type ThreadContext, type ThreadData } from './thread-runtime.js';

export interface PoolWorkerData extends ThreadData { handler: string; slots: number[] }
export type PoolHandler<T = unknown, R = unknown> = (ctx: ThreadContext, task: T) => R | Promise<R>;

const d = platform.threadData<PoolWorkerData>();
const i32 = new Int32Array(d.memory.buffer as unknown as SharedArrayBuffer);
const slot = d.slots.find((s) => {
  const state = (threadRec(d.abi, d.plan, s) + d.abi.T_STATE) >> 2;
  return Atomics.compareExchange(i32, state, d.abi.THREAD_FREE, d.abi.THREAD_LIVE) === d.abi.THREAD_FREE;
});
if (slot === undefined) throw new UsageError(`wasm-rseq pool: no free thread slot among ${d.slots.length} (raise Kernel.create({ poolSlots }))`);

const runtime = new ThreadRuntime(d, slot, platform.threadId());
const mod = (await import(d.handler)) as { default?: PoolHandler; handler?: PoolHandler };
const handler = mod.default ?? mod.handler;
if (typeof handler !== 'function') throw new UsageError(`${d.handler} must export a default function (ctx, task)`);

export default async function task(t: unknown): Promise<unknown> {
  try {
    return await handler!(runtime.context, t);
  } finally {
    runtime.kernel.park();
  }
}
