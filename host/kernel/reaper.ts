// Reclaiming dead threads, main-thread side: a kernel thread that exited or was killed, or a pool
// worker that died. Under the scheduler lock its queue place, mm_cids (by their owner words), vCPUs
// and stopped vCPUs are given back and its slot reads as dead; a pool worker's slot is then cleared
// for a replacement. A kill holds the lock across the terminate, so no thread dies holding it.
import type { Abi } from '../abi.js';
import { resetThread, type MemoryPlan, type SharedView } from '../memory.js';
import type { Sched } from './sched.js';
import type { ThreadHandle } from './thread-handle.js';
import { TraceWriter } from './trace-ring.js';

export class Reaper {
  /**
   * What reaping found (diagnostics and tests): cids freed by their owner word, and how many of those
   * the dead thread's T_CID did not name (it died inside takeCid or freeCid: the window the owner
   * words close, tests/model lf-die-cid).
   */
  readonly counts = { reaps: 0, cidsFreed: 0, cidsTcidMismatch: 0 };
  /** Slots being killed: their kill reaps them under the lock it already holds. */
  private readonly killing = new Set<number>();
  private kills: Promise<void> = Promise.resolve();

  constructor(
    private readonly v: SharedView, private readonly abi: Abi, private readonly plan: MemoryPlan,
    private readonly sched: Sched, private readonly closed: () => boolean,
  ) {}

  /** Reclaim a thread that exited: its vCPU, mm_cid and queue place; the slot reads as dead. */
  async reap(slot: number): Promise<void> {
    // Once closing, threads are terminated wherever they are (maybe holding the scheduler lock):
    // there is nothing left to reclaim, and taking the lock could wait forever.
    if (this.closed() || this.killing.has(slot)) return;
    await this.sched.lockAsync();
    this.reapLocked(slot);
    this.sched.unlock();
  }

  /** The pool worker with platform thread id `pid` has exited: reap its slot among `slots` and clear it. */
  async reapPoolWorker(pid: number, slots: readonly number[]): Promise<{ slot: number; commits: number } | undefined> {
    const { v, abi } = this;
    for (const slot of slots) {
      const rec = this.sched.thread(slot);
      if (v.load(rec + abi.T_PID) !== pid) continue;
      // Died between claiming the slot (its id) and marking it LIVE: it never ran as a thread.
      if (v.load(rec + abi.T_STATE) === abi.THREAD_FREE) { this.clearSlot(slot); return { slot, commits: 0 }; }
      if (v.load(rec + abi.T_STATE) === abi.THREAD_LIVE) {
        if (this.closed()) return undefined;
        await this.reap(slot);
        const commits = Number(v.load64(rec + abi.T_COMMITS));
        this.clearSlot(slot);
        return { slot, commits };
      }
    }
    return undefined;
  }

  /** Kill thread `t`, whatever it is doing. One kill at a time: each holds the scheduler lock. */
  kill(t: ThreadHandle): Promise<void> {
    const done = this.kills.then(() => this.killNow(t));
    this.kills = done.catch(() => {});
    return done;
  }

  private async killNow(t: ThreadHandle): Promise<void> {
    const slot = t.slot;
    if (t.exited) return;
    // Hold the scheduler lock across the kill so the thread cannot die inside a locked section.
    this.killing.add(slot);
    await this.sched.lockAsync();
    try {
      await t.port.terminate();
      this.reapLocked(slot);
    } finally {
      this.sched.unlock();
      this.killing.delete(slot);
    }
  }

  /** Reset a dead thread's slot so that stats and tests see a clean record. */
  private clearSlot(slot: number): void {
    resetThread(this.v, this.abi, this.sched.thread(slot));
  }

  private reapLocked(slot: number): void {
    const { v, abi } = this;
    const rec = this.sched.thread(slot);
    this.sched.unqueue(slot);
    Atomics.exchange(v.i32, (rec + abi.T_GRANT) >> 2, -1);
    // Its mm_cids by their owner words, not by T_CID (it may have died between the owner-word CAS
    // and the T_CID store, in either direction), and before its vCPUs, whose release may grant
    // them to waiters that need a free cid. Clears T_CID, so releasing its vCPUs frees no cid.
    const tcid = v.load(rec + abi.T_CID);
    const named = tcid >= 0 && tcid < this.plan.cpus && v.load(this.sched.cidOwner(tcid)) === slot + 1 ? 1 : 0;
    const freed = this.sched.freeCidsOfLocked(slot);
    this.counts.reaps++;
    this.counts.cidsFreed += freed;
    if (freed !== named || (tcid >= 0 && named === 0)) this.counts.cidsTcidMismatch++;
    // Every vCPU whose owner word names it (a grant it never saw, or a lock-free take it died in).
    for (let c = 0; c < this.plan.cpus; c++) {
      if (v.load(this.sched.cpu(c) + abi.CPU_OWNER) !== slot + 1) continue;
      if (v.load(rec + abi.T_VCPU) !== c) v.store(rec + abi.T_VCPU, c);
      this.sched.releaseLocked(slot);
    }
    v.store(rec + abi.T_VCPU, -1);
    v.store(rec + abi.T_SEQP, 0);
    v.store(rec + abi.T_STATE, abi.THREAD_DEAD);
    // Its ring's writer is gone: the main thread may append to it now.
    if (this.plan.traceBase) new TraceWriter(v, abi, this.plan, slot).record(abi.TEV_DEATH, -1);
    // vCPUs the dead thread had stopped (stop_cpu) run again.
    for (let c = 0; c < this.plan.cpus; c++) {
      const stop = this.sched.cpu(c) + abi.CPU_STOP;
      if (v.load(stop) !== slot + 1) continue;
      v.store(stop, 0);
      this.sched.handOver(c);
      Atomics.notify(v.i32, stop >> 2);
    }
    // It may have died between a lock-free release and handing that vCPU to a waiter (it saw the
    // waiter and was taking the lock): hand every free vCPU to the queue (tests/model lf-die-reap).
    this.sched.dispatchLocked();
  }
}
