// The piscina worker of an RseqPool: claims a free pool slot of the kernel, becomes an emulated
// thread on it (ThreadRuntime), then runs the user's handler for each task and parks afterwards
// (a task that awaits has already released its vCPU: ThreadKernel parks at the next microtask).
import { UsageError } from './errors.js';
import { threadRec } from './memory.js';
import { platform } from './platform/index.js';
import { ThreadRuntime, type ThreadContext, type ThreadData } from './thread-runtime.js';

export interface PoolWorkerData extends ThreadData { handler: string; slots: number[]; user: unknown; claimMs: number }
/** A pool task handler: `default (ctx, task) => result` of the handler module. */
export type PoolHandler<T = unknown, R = unknown, E = WebAssembly.Exports, W = unknown> =
  (ctx: ThreadContext<E, W>, task: T) => R | Promise<R>;

/** What RseqPool posts to the export `broadcast` (piscina's `name`): one worker's share of a broadcast.
 *  Tasks go to the default export as they are (no wrapper: one object less to clone per task). */
export interface BroadcastMessage { url: string; fn: string; args: unknown[]; barrier: SharedArrayBuffer; n: number; timeoutMs: number }

const d = platform.threadData<PoolWorkerData>();
const i32 = new Int32Array(d.memory.buffer as unknown as SharedArrayBuffer);
const tid = platform.threadId();

/** Claim a free slot (state FREE, no thread id): CAS its thread id 0 -> ours first, then mark it
 *  LIVE. The id is the claim, so a worker terminated between the two steps still leaves its id for
 *  the main thread's reaper (which reaps a dead worker's slot by that id). A replacement may start
 *  before its dead predecessor's slot is reaped: it waits (bounded) for one. */
function claim(): number {
  const deadline = performance.now() + d.claimMs;
  for (;;) {
    for (const s of d.slots) {
      const rec = threadRec(d.abi, d.plan, s);
      if (Atomics.load(i32, (rec + d.abi.T_STATE) >> 2) !== d.abi.THREAD_FREE) continue;
      if (Atomics.compareExchange(i32, (rec + d.abi.T_PID) >> 2, 0, tid) === 0) {
        Atomics.store(i32, (rec + d.abi.T_STATE) >> 2, d.abi.THREAD_LIVE);
        return s;
      }
    }
    if (performance.now() > deadline) {
      throw new UsageError(`wasm-rseq pool: no free thread slot among ${d.slots.length} after ${d.claimMs} ms (raise Kernel.create({ poolSlots }))`);
    }
    Atomics.wait(i32, 0, i32[0], 2);
  }
}

const slot = claim();
const runtime = new ThreadRuntime(d, slot, tid, d.user);
const mod = (await import(d.handler)) as { default?: PoolHandler; handler?: PoolHandler };
const handler = mod.default ?? mod.handler;
if (typeof handler !== 'function') throw new UsageError(`${d.handler} must export a default function (ctx, task)`);

export async function broadcast(m: BroadcastMessage): Promise<{ slot: number; value: unknown }> {
  try {
    return await broadcastShare(m);
  } finally {
    runtime.kernel.park();
  }
}

async function broadcastShare(m: BroadcastMessage): Promise<{ slot: number; value: unknown }> {
  // Hold this worker until every share has started on a worker of its own, then run.
  const b = new Int32Array(m.barrier);
  Atomics.add(b, 0, 1);
  Atomics.notify(b, 0);
  const deadline = performance.now() + m.timeoutMs;
  for (let seen = Atomics.load(b, 0); seen < m.n; seen = Atomics.load(b, 0)) {
    if (performance.now() > deadline) throw new UsageError(`broadcast: only ${seen} of ${m.n} workers arrived in ${m.timeoutMs} ms`);
    const w = Atomics.waitAsync(b, 0, seen, 20);
    if (w.async) await w.value;
  }
  const fn = ((await import(m.url)) as Record<string, unknown>)[m.fn];
  if (typeof fn !== 'function') throw new UsageError(`${m.url} has no export '${m.fn}'`);
  return { slot, value: await (fn as (...a: unknown[]) => unknown)(runtime.context, ...m.args) };
}

const park = () => runtime.kernel.park();

async function settle(r: PromiseLike<unknown>): Promise<unknown> {
  try {
    return await r;
  } finally {
    park();
  }
}

/** A task: the handler's result. A synchronous handler is parked and answered synchronously (no
 *  promise, no microtask of ours); one that returns a promise is parked when it settles (it has
 *  held no vCPU across its awaits: ThreadKernel parks at the next microtask). */
export default function task(t: unknown): unknown {
  let r: unknown;
  try {
    r = handler!(runtime.context, t);
  } catch (e) {
    park();
    throw e;
  }
  if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof (r as PromiseLike<unknown>).then === 'function') {
    return settle(r as PromiseLike<unknown>);
  }
  park();
  return r;
}
