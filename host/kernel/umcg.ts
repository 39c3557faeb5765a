// UMCG (User Managed Concurrency Groups) after Zijlstra's RFC v2 (20 Jan 2022) on the vCPU
// scheduler, as one thread's kernel sees it (runs on that thread, like thread-kernel.ts).
//   server: a thread that runs a scheduling policy on a vCPU; in umcg_wait it hands that vCPU to
//           the RUNNABLE worker named in next_tid (Sched.handOff) and sleeps until RUNNING.
//   worker: runs only on a vCPU handed to it. Block detection: any host call that parks it (the
//           kernel's wait, a sleep, the end of a call, an await) makes it BLOCKED, releases its vCPU
//           and wakes its server. Wake detection: the next time it needs a vCPU it becomes RUNNABLE,
//           is pushed on its server's runnable_workers list, wakes the server and waits for RUNNING.
//   preemption: the server sets TF_PREEMPT with a CAS on RUNNING and kicks the worker (a request on
//           its vCPU): at its next checkpoint the worker goes RUNNING -> RUNNABLE, enqueues itself,
//           and its rseq section (if any) aborts.
// The kernel's state changes are CASes on umcg_task::state; RUNNABLE + the push happen under the
// server's list lock (T_UMCG_LOCK), as does the server's RUNNABLE -> RUNNING of next_tid, so a server
// never runs a worker that is half-way enqueued (tests/model/umcg.pml, case umcg-split-enqueue).
import type { Abi } from '../abi.js';
import { Errno } from '../errors.js';
import type { MemoryPlan, SharedView } from '../memory.js';
import type { Sched } from './sched.js';
import { nowMs } from './slice.js';

/** What the UMCG code needs of its thread's kernel. */
export interface UmcgHost {
  readonly slot: number;
  /** Release the vCPU (the usual park, without UMCG's block detection). */
  release(): void;
  /** After the scheduler gave this thread vCPU c. */
  took(c: number): void;
}

const CLOCKS = new Set([0, 1, 7, 11]); // CLOCK_REALTIME, MONOTONIC, BOOTTIME, TAI

export class Umcg {
  constructor(readonly v: SharedView, readonly abi: Abi, readonly plan: MemoryPlan, readonly sched: Sched, readonly host: UmcgHost) {}

  private rec(slot: number): number { return this.sched.thread(slot); }
  get role(): number { return this.v.get(this.rec(this.host.slot) + this.abi.T_UMCG_ROLE); }
  get task(): number { return this.v.get(this.rec(this.host.slot) + this.abi.T_UMCG_TASK); }
  private state(task: number): number { return Atomics.load(this.v.i32, task >> 2); }
  private ts(): bigint { return BigInt(Math.round(nowMs() * 1e6)); }

  /** The registered task of thread id `tid` (slot + 1) and its role, or undefined. */
  private lookup(tid: number): { slot: number; task: number; role: number } | undefined {
    const slot = (tid & this.abi.UMCG_TID_MASK) - 1;
    if (slot < 0 || slot >= this.plan.threads) return undefined;
    const r = this.rec(slot);
    const task = this.v.get(r + this.abi.T_UMCG_TASK);
    return task === 0 ? undefined : { slot, task, role: this.v.get(r + this.abi.T_UMCG_ROLE) };
  }

  private lock(slot: number): void {
    const i = (this.rec(slot) + this.abi.T_UMCG_LOCK) >> 2;
    while (Atomics.compareExchange(this.v.i32, i, 0, 1) !== 0) { /* short sections only */ }
  }
  private unlock(slot: number): void { Atomics.store(this.v.i32, (this.rec(slot) + this.abi.T_UMCG_LOCK) >> 2, 0); }

  /** CAS the state word's UMCG_TASK_MASK part from `from` to `to` (clearing TF_PREEMPT / TF_COND_WAIT). */
  private cas(task: number, from: number, to: number, keep = 0): boolean {
    const { v, abi } = this;
    for (let s = this.state(task); (s & abi.UMCG_TASK_MASK) === from; s = this.state(task)) {
      if (Atomics.compareExchange(v.i32, task >> 2, s, (s & keep) | to) === s) { Atomics.notify(v.i32, task >> 2); return true; }
    }
    return false;
  }

  /** The kernel's umcg_wake_server: RUNNABLE -> RUNNING; failure is fine (already running, timed out). */
  private wakeServer(serverTid: number): void {
    const s = this.lookup(serverTid);
    if (s && s.role === this.abi.UMCG_ROLE_SERVER) this.cas(s.task, this.abi.UMCG_TASK_RUNNABLE, this.abi.UMCG_TASK_RUNNING, this.abi.UMCG_TF_MASK & ~this.abi.UMCG_TF_COND_WAIT);
  }

  /** from -> RUNNABLE and the push on the server's list, as one step under the server's lock; then wake it. */
  private enqueue(from: number): boolean {
    const { v, abi } = this;
    const task = this.task;
    const serverTid = v.get(task + abi.UMCG_SERVER_TID);
    const server = this.lookup(serverTid);
    if (!server) return false;
    Atomics.store(v.i32, (this.rec(this.host.slot) + abi.T_GRANT) >> 2, -1);
    this.lock(server.slot);
    const ok = this.cas(task, from, abi.UMCG_TASK_RUNNABLE);
    if (ok) {
      v.store64(task + abi.UMCG_RUNNABLE_TS, this.ts());
      const head = (server.task + abi.UMCG_RUNNABLE_WORKERS_PTR) >> 2;
      for (;;) {
        const old = Atomics.load(v.i32, head);
        v.store64(task + abi.UMCG_RUNNABLE_WORKERS_PTR, BigInt(old >>> 0));
        if (Atomics.compareExchange(v.i32, head, old, task) === old) break;
      }
    }
    this.unlock(server.slot);
    if (ok) this.wakeServer(serverTid);
    return ok;
  }

  /** Sleep until this thread's task is RUNNING (abs deadline in ms, Infinity for none). False on timeout. */
  private waitRunning(deadline = Infinity): boolean {
    const { v, abi } = this;
    const task = this.task;
    for (let s = this.state(task); (s & abi.UMCG_TASK_MASK) !== abi.UMCG_TASK_RUNNING; s = this.state(task)) {
      const left = deadline - nowMs();
      if (left <= 0) return false;
      Atomics.wait(v.i32, task >> 2, s, Math.min(left, 1000));
    }
    return true;
  }

  /** A worker made RUNNING by its server: take the vCPU the server handed over. */
  private run(): void {
    const r = this.rec(this.host.slot);
    this.host.took(this.sched.awaitHandOff(this.host.slot, this.v.get(r + this.abi.T_LAST_CPU)));
  }

  // --- the calls ------------------------------------------------------------------------------

  /** sys_umcg_ctl(flags, self, which_clock). */
  ctl(flags: number, self: number, clock: number): number {
    const { v, abi, plan } = this;
    const slot = this.host.slot;
    const r = this.rec(slot);
    if (flags & abi.UMCG_CTL_UNREGISTER) {
      if ((flags & ~(abi.UMCG_CTL_UNREGISTER | abi.UMCG_CTL_WORKER)) !== 0 || self !== 0 && self !== this.task) return -Errno.EINVAL;
      const task = this.task;
      if (task === 0) return -Errno.EINVAL;
      const worker = this.role === abi.UMCG_ROLE_WORKER;
      if ((flags & abi.UMCG_CTL_WORKER) !== 0 !== worker) return -Errno.EINVAL;
      if (!this.cas(task, abi.UMCG_TASK_RUNNING, abi.UMCG_TASK_NONE)) return -Errno.EINVAL;
      v.set(r + abi.T_UMCG_TASK, 0);
      v.set(r + abi.T_UMCG_ROLE, abi.UMCG_ROLE_NONE);
      if (worker) { this.host.release(); this.wakeServer(v.get(task + abi.UMCG_SERVER_TID)); }
      return 0;
    }
    if (flags !== abi.UMCG_CTL_REGISTER && flags !== (abi.UMCG_CTL_REGISTER | abi.UMCG_CTL_WORKER)) return -Errno.EINVAL;
    if (this.task !== 0) return -Errno.EINVAL;
    self >>>= 0;
    if (self === 0 || self % abi.UMCG_TASK_ALIGN !== 0) return -Errno.EINVAL;
    if (self < plan.heapBase || self + abi.UMCG_TASK_SIZE > plan.heapBase + plan.heapSize) return -Errno.EFAULT;
    if (!CLOCKS.has(clock)) return -Errno.EINVAL;
    if (v.get(self + abi.UMCG_NEXT_TID) !== 0 || v.get(self + abi.UMCG_HOLE) !== 0) return -Errno.EINVAL;
    for (let o = abi.UMCG_ZERO; o < abi.UMCG_TASK_SIZE; o += 4) if (v.get(self + o) !== 0) return -Errno.EINVAL;
    const state = this.state(self);
    const serverTid = v.get(self + abi.UMCG_SERVER_TID);
    if (flags & abi.UMCG_CTL_WORKER) {
      if (state !== abi.UMCG_TASK_BLOCKED) return -Errno.EINVAL;
      const server = this.lookup(serverTid);
      if (!server || server.role !== abi.UMCG_ROLE_SERVER) return -Errno.ESRCH;
      v.set(r + abi.T_UMCG_TASK, self);
      v.set(r + abi.T_UMCG_ROLE, abi.UMCG_ROLE_WORKER);
      // "Unblock and wait": RUNNABLE on the server's list, and run when the server says so.
      this.host.release();
      this.enqueue(abi.UMCG_TASK_BLOCKED);
      this.waitRunning();
      this.run();
      return 0;
    }
    if (state !== abi.UMCG_TASK_RUNNING || serverTid !== slot + 1) return -Errno.EINVAL;
    v.set(r + abi.T_UMCG_TASK, self);
    v.set(r + abi.T_UMCG_ROLE, abi.UMCG_ROLE_SERVER);
    return 0;
  }

  /**
   * sys_umcg_wait(flags, abs_timeout ms (0: none)). A server: -EAGAIN unless still RUNNABLE (a
   * concurrent wake-up), switch to next_tid (-EAGAIN if it is not RUNNABLE, -ESRCH if no worker),
   * then sleep until RUNNING (-ETIMEDOUT). A worker: enqueue itself and wait (timeouts: -ERANGE).
   */
  wait(flags: number, timeout: number): number {
    const { v, abi } = this;
    const task = this.task;
    if (flags !== 0 || task === 0) return -Errno.EINVAL;
    // Entering the kernel clears TF_COND_WAIT; then the state must still be RUNNABLE.
    Atomics.and(v.i32, task >> 2, ~abi.UMCG_TF_COND_WAIT);
    if (this.role === abi.UMCG_ROLE_WORKER) {
      if (timeout !== 0) return -Errno.ERANGE;
      if ((this.state(task) & abi.UMCG_TASK_MASK) !== abi.UMCG_TASK_RUNNABLE) return -Errno.EAGAIN;
      // Voluntary switch: back on the list (RUNNABLE -> RUNNABLE + push), vCPU released, wait.
      Atomics.store(v.i32, task >> 2, abi.UMCG_TASK_RUNNING);
      this.host.release();
      this.enqueue(abi.UMCG_TASK_RUNNING);
      this.waitRunning();
      this.run();
      return 0;
    }
    if ((this.state(task) & abi.UMCG_TASK_MASK) !== abi.UMCG_TASK_RUNNABLE) return -Errno.EAGAIN;
    const next = v.get(task + abi.UMCG_NEXT_TID);
    const slot = this.host.slot;
    if (next & abi.UMCG_TID_RUNNING) {
      const t = this.lookup(next);
      if (!t || (this.state(t.task) & abi.UMCG_TASK_MASK) !== abi.UMCG_TASK_RUNNING) return -Errno.EAGAIN;
      this.host.release();
    } else if (next !== 0) {
      const t = this.lookup(next);
      if (!t || t.role !== abi.UMCG_ROLE_WORKER) return -Errno.ESRCH;
      this.lock(slot);
      const ok = this.cas(t.task, abi.UMCG_TASK_RUNNABLE, abi.UMCG_TASK_RUNNING);
      if (ok) {
        v.set(task + abi.UMCG_NEXT_TID, next | abi.UMCG_TID_RUNNING);
        this.sched.handOff(slot, t.slot);
      }
      this.unlock(slot);
      if (!ok) return -Errno.EAGAIN;
    } else {
      this.host.release(); // next_tid 0: idle
    }
    // The server's vCPU went to next_tid (or was released): it sleeps holding none, and runs its
    // policy where it is woken; it takes a vCPU again at its next checkpoint (if it runs one).
    const ok = this.waitRunning(timeout > 0 ? timeout : Infinity);
    if (!ok && !this.cas(task, abi.UMCG_TASK_RUNNABLE, abi.UMCG_TASK_RUNNING)) this.waitRunning();
    return ok ? 0 : -Errno.ETIMEDOUT;
  }

  /** sys_umcg_kick(flags, tid): make the task pass its "return to user" (a request on its vCPU). */
  kick(flags: number, tid: number): number {
    if (flags !== 0) return -Errno.EINVAL;
    const t = this.lookup(tid);
    if (!t) return -Errno.ESRCH;
    const c = this.v.get(this.rec(t.slot) + this.abi.T_VCPU);
    if (c >= 0) this.sched.request(c, this.abi.REQ_PREEMPT);
    return 0;
  }

  // --- the hooks (thread-kernel.ts) -----------------------------------------------------------

  /** Block detection, from park(): a RUNNING worker becomes BLOCKED, and its server is woken. */
  blocked(): boolean {
    const { v, abi } = this;
    const task = this.task;
    if (!this.cas(task, abi.UMCG_TASK_RUNNING, abi.UMCG_TASK_BLOCKED)) return false;
    v.store64(task + abi.UMCG_BLOCKED_TS, this.ts());
    this.host.release();
    this.wakeServer(v.get(task + abi.UMCG_SERVER_TID));
    return true;
  }

  /** Wake detection, when a worker needs a vCPU: BLOCKED -> RUNNABLE, enqueued, run by its server. */
  woken(): boolean {
    if ((this.state(this.task) & this.abi.UMCG_TASK_MASK) !== this.abi.UMCG_TASK_BLOCKED) return false;
    this.enqueue(this.abi.UMCG_TASK_BLOCKED);
    this.waitRunning();
    this.run();
    return true;
  }

  /** At a checkpoint: TF_PREEMPT set -> RUNNING -> RUNNABLE, enqueued, vCPU released, wait to run again. */
  preempted(): boolean {
    const { abi } = this;
    const s = this.state(this.task);
    if ((s & abi.UMCG_TF_PREEMPT) === 0 || (s & abi.UMCG_TASK_MASK) !== abi.UMCG_TASK_RUNNING) return false;
    this.host.release();
    this.enqueue(abi.UMCG_TASK_RUNNING);
    this.waitRunning();
    this.run();
    return true;
  }
}
