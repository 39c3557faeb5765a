// piscina integration: a pool whose workers are emulated threads of a kernel, so tasks can run
// per-vCPU critical sections on the kernel's shared memory. Import from "wasm-rseq/pool".
// Workers hold a vCPU only while they run per-vCPU code synchronously (never across an await).
// However a worker dies (exit, uncaught error, out of memory, terminate), its slot, vCPU and mm_cid
// are reaped once its exit is confirmed, its task rejects with ThreadDiedError, and piscina starts
// a replacement on the freed slot.
// A task run with an AbortSignal that fires while it runs ends its worker (piscina terminates it):
// the pool holds the scheduler lock from before that terminate until the worker has exited, so it
// cannot die inside a locked section of the scheduler (which would wedge the kernel).
import { Piscina } from 'piscina';
import { KernelClosedError, PoolClosedError, ThreadDiedError, UsageError } from './errors.js';
import { engineOf } from './internal.js';
import type { Engine } from './kernel/engine.js';
import type { Kernel } from './kernel/kernel.js';
import { hostFile } from './paths.js';
import { platform } from './platform/index.js';
import type { BroadcastMessage, PoolWorkerData } from './pool-worker.js';

/** What the pool reads of piscina's worker objects (Node's worker_threads Worker). */
interface PiscinaWorker {
  readonly threadId: number;
  on(event: 'error', fn: (e: unknown) => void): unknown;
  once(event: 'exit', fn: () => void): unknown;
}

export type { PoolHandler } from './pool-worker.js';
export type { ThreadContext } from './thread-runtime.js';
export { PoolClosedError, ThreadDiedError } from './errors.js';

type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;
type RunOptions = NonNullable<Parameters<Piscina['run']>[1]>;

/** piscina options RseqPool sets itself: passing them in `piscina` is a UsageError (use the named option). */
export const OWNED_PISCINA_OPTIONS: Readonly<Record<string, string>> = {
  filename: "the pool's worker is wasm-rseq's; give your module as `handler`",
  workerData: 'use the `workerData` option (it reaches the handler as ctx.workerData)',
  minThreads: 'use `threads` (every worker holds a kernel thread slot)',
  maxThreads: 'use `threads` (every worker holds a kernel thread slot)',
  idleTimeout: 'workers stay for the pool\'s life (a slot each); close() or destroy() ends them',
};

export interface RseqPoolOptions<W = unknown> {
  /** ES module exporting `default (ctx: ThreadContext, task) => result` (path or file URL). */
  handler: string | URL;
  /** Workers (default: every pool slot of the kernel, see Kernel.create({ poolSlots })). */
  threads?: number;
  /** Register rseq on each worker (default true). */
  register?: boolean;
  /** Given to every worker's handler as ctx.workerData (structured-cloned; shared memory shared). */
  workerData?: W;
  /** How long a starting worker waits for a free slot (a dead predecessor's being reaped), ms (default 10000). */
  claimTimeoutMs?: number;
  /** Further piscina options, passed through (resourceLimits, concurrentTasksPerWorker, atomics, ...).
   *  Those RseqPool owns (OWNED_PISCINA_OPTIONS) are refused with a UsageError. */
  piscina?: Omit<Partial<PiscinaOptions>, 'filename' | 'workerData' | 'minThreads' | 'maxThreads' | 'idleTimeout'>;
}

/** One worker's answer to broadcast(). */
export interface BroadcastResult<R> { slot: number; value: R }

/** Whether an error from piscina means the task's worker died (not an error the task threw). */
const EXITED = /^worker exited with code/;
/** After how long an abort that waits for its terminated worker's exit warns (it keeps waiting). */
const ABORT_EXIT_WARN_MS = 5_000;

/**
 * A piscina pool of kernel threads. Modules must be loaded on the kernel before the pool is created.
 */
export class RseqPool<W = unknown> {
  readonly piscina: Piscina;
  readonly threads: number;
  private readonly engine: Engine;
  private state: 'open' | 'closing' | 'closed' = 'open';
  /** Tasks (and broadcast shares) submitted and not settled; close() waits for 0. */
  private pending = 0;
  private drained: (() => void) | null = null;
  /** Errors piscina got from a worker's 'error' event (the worker dies next). */
  private readonly deaths = new WeakSet<object>();
  private readonly reaps = new Set<Promise<void>>();
  /** Every worker that left holding a slot: its slot, what it had committed, and the milliseconds
   *  from its exit to the slot being free again. */
  readonly reaped: { slot: number; commits: number; ms: number }[] = [];
  /** Each live worker's exit, by thread id (an abort holds the scheduler lock until it). */
  private readonly exits = new Map<number, Promise<void>>();
  /** Aborts in flight (taking the lock, or holding it until a terminated worker exits). */
  private readonly aborts = new Set<Promise<void>>();
  /** While an abort calls piscina's abort: the thread ids of the workers piscina terminated. */
  private terminated: number[] | null = null;
  /** Aborted tasks: still queued (no worker ended) / running (their worker terminated under the lock). */
  readonly aborted = { queued: 0, running: 0 };

  constructor(readonly kernel: Kernel, o: RseqPoolOptions<W>) {
    const engine = engineOf(kernel, 'createPool');
    this.engine = engine;
    const slots = engine.poolSlots;
    const n = o.threads ?? slots.length;
    if (!Number.isInteger(n) || n < 1 || n > slots.length) {
      throw new UsageError(`pool threads must be an integer in [1, ${slots.length}] (the kernel's poolSlots), got ${n}`);
    }
    for (const key of Object.keys(o.piscina ?? {})) {
      if (key in OWNED_PISCINA_OPTIONS) throw new UsageError(`RseqPool owns piscina's '${key}': ${OWNED_PISCINA_OPTIONS[key]}`);
    }
    const claimMs = o.claimTimeoutMs ?? 10_000;
    if (!(claimMs >= 0)) throw new UsageError(`claimTimeoutMs must be >= 0, got ${claimMs}`);
    this.threads = n;
    const handler = o.handler instanceof URL ? o.handler.href : new URL(o.handler, `file://${process.cwd()}/`).href;
    const workerData: PoolWorkerData = { ...engine.threadData(-1, o.register ?? true), handler, slots, user: o.workerData, claimMs };
    this.piscina = new Piscina({
      ...o.piscina, filename: hostFile('pool-worker.js').href, minThreads: n, maxThreads: n, idleTimeout: Infinity, workerData,
    });
    // piscina reports a dead worker's id as -1 by the time 'workerDestroy' fires: take the Worker's
    // threadId when it is created, and reap on the Worker's own 'exit' (its exit is then confirmed).
    this.piscina.on('workerCreate', (w: { id: number }) => {
      const tid = w.id;
      const worker = (this.piscina.threads as PiscinaWorker[]).find((t) => t.threadId === tid);
      if (!worker) return;
      worker.on('error', (e) => { if (e && typeof e === 'object') this.deaths.add(e); });
      this.exits.set(tid, new Promise<void>((exited) => {
        worker.once('exit', () => { this.exits.delete(tid); this.reap(tid); exited(); });
      }));
    });
    // piscina ends a worker whose task is aborted inside the abort call (WorkerInfo.destroy:
    // terminate(), then 'workerDestroy' synchronously, the thread id still valid until 'exit').
    this.piscina.on('workerDestroy', (w: { id: number }) => { if (this.terminated !== null) this.terminated.push(w.id); });
    // A dead worker's error with no task in flight: piscina re-emits it; it is handled here.
    this.piscina.on('error', () => {});
  }

  private reap(tid: number): void {
    const t0 = performance.now();
    const p = this.engine.reapPoolWorker(tid).then((r) => {
      if (r) this.reaped.push({ ...r, ms: performance.now() - t0 });
    }, () => {});
    this.reaps.add(p);
    void p.finally(() => this.reaps.delete(p));
  }

  private check(call: string): void {
    if (this.state !== 'open') throw new PoolClosedError(call);
    if (this.kernel.closed) throw new KernelClosedError(call);
  }

  private settledOne(): void {
    if (--this.pending === 0 && this.drained !== null) {
      const d = this.drained;
      this.drained = null;
      d();
    }
  }

  // Per task: one derived promise and no closure (the handlers are made once per pool).
  private readonly fulfilled = (v: unknown): unknown => { this.settledOne(); return v; };
  private readonly rejected = (e: unknown): never => {
    this.settledOne();
    if (e && typeof e === 'object' && (this.deaths.has(e) || EXITED.test(String((e as Error).message)))) {
      throw new ThreadDiedError(-1, `pool worker died: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  };

  private track<R>(p: Promise<unknown>): Promise<R> {
    this.pending++;
    return p.then(this.fulfilled, this.rejected) as Promise<R>;
  }

  /**
   * Run `task` on some worker: its handler's result. Rejects with ThreadDiedError if the worker dies.
   * With `options.signal`: an abort rejects the task with piscina's AbortError (name 'AbortError',
   * cause: the signal's reason) unless it has already settled; a running task's worker is ended
   * (its partial effects stay, like any killed thread's) and replaced. Already aborted: rejects at once.
   */
  run<R = unknown>(task: unknown, options?: RunOptions): Promise<R> {
    if (this.state !== 'open' || this.kernel.closed) {
      try { this.check('pool.run'); } catch (e) { return Promise.reject(e); }
    }
    if (options !== undefined) {
      if (options.name !== undefined) {
        return Promise.reject(new UsageError("pool.run: piscina's `name` is RseqPool's (the handler module's default export runs)"));
      }
      if (options.signal != null) return this.runAbortable<R>(task, options, options.signal as AbortSignal);
    }
    return this.track<R>(this.piscina.run(task, options));
  }

  /** A task with the user's signal: piscina gets a signal of ours, aborted under the scheduler lock. */
  private runAbortable<R>(task: unknown, options: RunOptions, signal: AbortSignal): Promise<R> {
    // piscina rejects an already aborted task with its AbortError and does not queue it.
    if (signal.aborted) return this.piscina.run(task, options) as Promise<R>;
    const ours = new AbortController();
    const p = this.track<R>(this.piscina.run(task, { ...options, signal: ours.signal }));
    let settled = false;
    const onAbort = (): void => {
      const a = this.abortTask(ours, signal.reason, () => settled);
      this.aborts.add(a);
      void a.finally(() => this.aborts.delete(a));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => { settled = true; signal.removeEventListener('abort', onAbort); };
    p.then(done, done);
    return p;
  }

  /**
   * Abort our signal with the scheduler lock held. piscina then either drops the queued task, or
   * terminates the worker running it (synchronously, seen as 'workerDestroy'); a terminated worker
   * wanting the lock blocks in lock() and dies there, harmlessly. The lock is held until that
   * worker's 'exit'; then its reap (queued behind the lock) frees its slot, vCPU and mm_cid.
   */
  private async abortTask(ours: AbortController, reason: unknown, settled: () => boolean): Promise<void> {
    if (settled()) return; // finished first: nothing to abort (piscina ignores a late abort too)
    const sched = this.engine.sched;
    // A closed kernel's threads may have been terminated holding the lock: abort without it.
    const held = !this.kernel.closed && await sched.lockAsync(() => this.kernel.closed);
    let tids: number[];
    this.terminated = [];
    try {
      ours.abort(reason);
    } finally {
      tids = this.terminated;
      this.terminated = null;
    }
    if (tids.length === 0) this.aborted.queued++;
    else this.aborted.running++;
    try {
      for (const tid of tids) await this.exitOf(tid);
    } finally {
      if (held) sched.unlock();
    }
  }

  /** The exit of worker `tid` (at once if it has exited). Warns if it is slow, but keeps waiting:
   *  unlocking before the exit could let the dying worker take the lock and die holding it. */
  private async exitOf(tid: number): Promise<void> {
    const exited = this.exits.get(tid);
    if (exited === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<'slow'>((r) => { timer = setTimeout(r, ABORT_EXIT_WARN_MS, 'slow'); });
    try {
      if (await Promise.race([exited, slow]) === 'slow') {
        platform.warn(`wasm-rseq pool: worker ${tid}, terminated for an aborted task, has not exited after ${ABORT_EXIT_WARN_MS} ms; the scheduler lock stays held until it does`);
        await exited;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Run `fn` exported by the ES module at `url` once on every worker, as fn(ctx, ...args); resolves
   * with each worker's result and slot. Needs concurrentTasksPerWorker 1 (the default).
   */
  async broadcast<R = unknown>(url: string | URL, fn: string, ...args: unknown[]): Promise<BroadcastResult<R>[]> {
    this.check('pool.broadcast');
    if ((this.piscina.options.concurrentTasksPerWorker ?? 1) !== 1) throw new UsageError('broadcast needs concurrentTasksPerWorker 1');
    const n = this.threads;
    const href = url instanceof URL ? url.href : new URL(url, `file://${process.cwd()}/`).href;
    const m: BroadcastMessage = { url: href, fn, args, barrier: new SharedArrayBuffer(4), n, timeoutMs: 30_000 };
    return Promise.all(Array.from({ length: n }, () => this.track<BroadcastResult<R>>(this.piscina.run(m, { name: 'broadcast' }))));
  }

  /** Stop taking tasks; submitted tasks finish; then the workers leave and their slots are freed. */
  async close(): Promise<void> {
    await this.end('close');
  }

  /** Like close(): no new tasks (PoolClosedError), submitted ones finish, workers end, slots freed. */
  async destroy(): Promise<void> {
    await this.end('destroy');
  }

  private async end(how: 'close' | 'destroy'): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'closing') { while ((this.state as string) !== 'closed') await new Promise((r) => setTimeout(r, 5)); return; }
    this.state = 'closing';
    if (this.pending > 0) await new Promise<void>((r) => { this.drained = r; });
    // An aborted task has settled, but its worker may still be exiting under the scheduler lock.
    await Promise.allSettled([...this.aborts]);
    // Workers are idle (parked, outside the kernel) now: ending them cannot strand a vCPU or lock.
    if (how === 'close') await this.piscina.close();
    else await this.piscina.destroy();
    await Promise.allSettled([...this.reaps]);
    this.state = 'closed';
  }

  get closed(): boolean { return this.state !== 'open'; }
}

export function createPool<W = unknown>(kernel: Kernel, options: RseqPoolOptions<W>): RseqPool<W> {
  return new RseqPool<W>(kernel, options);
}
