// UMCG from JavaScript: a server loop (Zijlstra's, from the uapi comment) with a pluggable policy,
// and the worker side's registration, for scripts run on kernel threads (Kernel.runScript).
//   server:  umcgServe(ctx, { task, workers, policy })  — returns when every worker unregistered
//   worker:  umcgRegisterWorker(ctx, task, serverTid) ... work, block (any park) ... umcgUnregister(ctx, task)
// tid = thread slot + 1. Task addresses: Kernel.alloc(64, 64) (heap, 64-aligned, zeroed).
import { ABI } from './abi.js';
import type { ThreadContext } from './thread-runtime.js';

/** The user's scheduling decision: the one thing a UMCG server is for. */
export interface UmcgPolicy {
  /** A worker became RUNNABLE (drained from the server's runnable list). */
  enqueue(tid: number): void;
  /** The worker to run next (its tid), or 0 to idle until something happens. */
  pick(): number;
  /** Called when the server wakes while worker `running` runs: true preempts it (TF_PREEMPT + kick). */
  preempt?(running: number): boolean;
}

/** First come, first served. */
export class FifoPolicy implements UmcgPolicy {
  private readonly q: number[] = [];
  enqueue(tid: number): void { this.q.push(tid); }
  pick(): number { return this.q.shift() ?? 0; }
}

/** Strict priorities: the RUNNABLE worker with the highest priority(tid) first, FIFO among equals. */
export class PriorityPolicy implements UmcgPolicy {
  private readonly q: number[] = [];
  constructor(private readonly priority: (tid: number) => number) {}
  enqueue(tid: number): void { this.q.push(tid); }
  pick(): number {
    if (this.q.length === 0) return 0;
    let best = 0;
    for (let i = 1; i < this.q.length; i++) if (this.priority(this.q[i]) > this.priority(this.q[best])) best = i;
    return this.q.splice(best, 1)[0];
  }
  /** Preempt the running worker for a queued one of higher priority. */
  preempt(running: number): boolean {
    const p = this.priority(running);
    return this.q.some((t) => this.priority(t) > p);
  }
}

export interface ServeOptions {
  /** This server's struct umcg_task. */
  task: number;
  /** Its workers: tid and struct umcg_task address. */
  workers: { tid: number; task: number }[];
  policy: UmcgPolicy;
}

export interface ServeStats { switches: number; eagain: number; wakeups: number; preempts: number }

const st = (i32: Int32Array, task: number) => Atomics.load(i32, task >> 2) & ABI.UMCG_TASK_MASK;

/** Register as a server and run the loop until every worker has unregistered. */
export function umcgServe(ctx: ThreadContext, o: ServeOptions): ServeStats {
  const i32 = new Int32Array(ctx.memory.buffer);
  const { task, policy } = o;
  const byTask = new Map(o.workers.map((w) => [w.task, w.tid]));
  const taskOf = new Map(o.workers.map((w) => [w.tid, w.task]));
  Atomics.store(i32, task >> 2, ABI.UMCG_TASK_RUNNING);
  i32[(task + ABI.UMCG_SERVER_TID) >> 2] = ctx.slot + 1;
  const r = ctx.umcg.ctl(ABI.UMCG_CTL_REGISTER, task);
  if (r !== 0) throw new Error(`umcg_ctl(REGISTER) of the server: ${r}`);
  const stats: ServeStats = { switches: 0, eagain: 0, wakeups: 0, preempts: 0 };
  // The worker this server switched to last, while it runs: a server runs one worker at a time
  // (it is a vCPU's scheduler); it switches again once that one blocks, yields or is preempted.
  let current = 0;
  const seen = new Set<number>();
  ctx.checkpoint(); // the server runs its policy on a vCPU
  for (;;) {
    // self->state = RUNNABLE | TF_COND_WAIT first: a wake-up after this point makes the wait -EAGAIN.
    Atomics.store(i32, task >> 2, ABI.UMCG_TASK_RUNNABLE | ABI.UMCG_TF_COND_WAIT);
    for (let p = Atomics.exchange(i32, (task + ABI.UMCG_RUNNABLE_WORKERS_PTR) >> 2, 0); p !== 0;) {
      const next = i32[(p + ABI.UMCG_RUNNABLE_WORKERS_PTR) >> 2];
      i32[(p + ABI.UMCG_RUNNABLE_WORKERS_PTR) >> 2] = 0;
      const tid = byTask.get(p);
      if (tid !== undefined) { seen.add(tid); policy.enqueue(tid); }
      p = next;
    }
    // Done once every worker has registered (its first enqueue) and unregistered again.
    if (seen.size === o.workers.length && o.workers.every((w) => st(i32, w.task) === ABI.UMCG_TASK_NONE)) break;
    if (current && st(i32, taskOf.get(current)!) !== ABI.UMCG_TASK_RUNNING) current = 0;
    let next = 0;
    if (current) {
      if (policy.preempt?.(current) && umcgPreempt(ctx, current, taskOf.get(current)!)) stats.preempts++;
    } else {
      next = policy.pick();
    }
    i32[(task + ABI.UMCG_NEXT_TID) >> 2] = next;
    const ret = ctx.umcg.wait(0, 0);
    if (ret === 0) { stats.wakeups++; if (next) { stats.switches++; current = next; } continue; }
    stats.eagain++;
    // Not switched: a concurrent wake-up (-EAGAIN), or next was not RUNNABLE. Keep it if it still is.
    const t = taskOf.get(next);
    if (next && t !== undefined && st(i32, t) === ABI.UMCG_TASK_RUNNABLE) policy.enqueue(next);
  }
  Atomics.store(i32, task >> 2, ABI.UMCG_TASK_RUNNING);
  ctx.umcg.ctl(ABI.UMCG_CTL_UNREGISTER, task);
  return stats;
}

/** Register this thread as a worker of server `serverTid`; returns once the server runs it (0) or an errno. */
export function umcgRegisterWorker(ctx: ThreadContext, task: number, serverTid: number): number {
  const i32 = new Int32Array(ctx.memory.buffer);
  Atomics.store(i32, task >> 2, ABI.UMCG_TASK_BLOCKED);
  i32[(task + ABI.UMCG_SERVER_TID) >> 2] = serverTid;
  return ctx.umcg.ctl(ABI.UMCG_CTL_REGISTER | ABI.UMCG_CTL_WORKER, task);
}

/** Unregister a worker (it must be running: take the vCPU first). */
export function umcgUnregister(ctx: ThreadContext, task: number): number {
  ctx.checkpoint();
  return ctx.umcg.ctl(ABI.UMCG_CTL_UNREGISTER | ABI.UMCG_CTL_WORKER, task);
}

/** Preempt a running worker: cmpxchg(RUNNING -> RUNNING | TF_PREEMPT), then kick it. False if it lost to a block. */
export function umcgPreempt(ctx: ThreadContext, tid: number, task: number): boolean {
  const i32 = new Int32Array(ctx.memory.buffer);
  const s = Atomics.load(i32, task >> 2);
  if ((s & ABI.UMCG_TASK_MASK) !== ABI.UMCG_TASK_RUNNING) return false;
  if (Atomics.compareExchange(i32, task >> 2, s, s | ABI.UMCG_TF_PREEMPT) !== s) return false;
  ctx.umcg.kick(0, tid);
  return true;
}
