// vCPU ownership, the FIFO queue of threads waiting for a vCPU, and mm_cid allocation.
// DESIGN §3: owner[c] changes only under SCHED_LOCK, by its owner releasing it (or handing it
// straight to the queue head) or by a thread taking a free vCPU. A free vCPU's sequence word is odd;
// the thread that takes a vCPU moves it to even. Used by workers (slow path) and the main thread
// (reaping dead threads). Every function here is called with the lock NOT held unless it says so.
import type { Abi } from '../abi.js';
import { cpuRec, threadRec, type MemoryPlan, type SharedView } from '../memory.js';
import type { SchedulingPolicy } from './policy.js';

/** After a change the idle supervisor must see (a vCPU taken, a policy posted, close): wake it. */
export function wakeIdle(v: SharedView, abi: Abi): void {
  if (v.load(abi.SCHED_SUP_IDLE) === 0) return;
  v.store(abi.SCHED_SUP_IDLE, 0);
  Atomics.notify(v.i32, abi.SCHED_SUP_IDLE >> 2);
}

export class Sched {
  private readonly lockIdx: number;
  /** `policy` picks the waiter that gets a freed vCPU (FIFO when absent or `policy.fifo`). */
  constructor(readonly v: SharedView, readonly abi: Abi, readonly plan: MemoryPlan, private readonly policy?: SchedulingPolicy) {
    this.lockIdx = abi.SCHED_LOCK >> 2;
  }

  cpu(c: number): number { return cpuRec(this.abi, this.plan, c); }
  thread(t: number): number { return threadRec(this.abi, this.plan, t); }
  seqAddr(c: number): number { return this.cpu(c) + this.abi.CPU_SEQ; }
  waiters(): number { return this.v.load(this.abi.SCHED_WAITERS); }
  tick(): number { return this.v.load(this.abi.SCHED_TICK); }

  /** Futex mutex: 0 free, 1 locked, 2 locked with waiters. */
  lock(): void {
    const a = this.v.i32;
    let c = Atomics.compareExchange(a, this.lockIdx, 0, 1);
    if (c === 0) return;
    for (let spin = 0; spin < 100 && c !== 0; spin++) c = Atomics.compareExchange(a, this.lockIdx, 0, 1);
    if (c === 0) return;
    if (c !== 2) c = Atomics.exchange(a, this.lockIdx, 2);
    while (c !== 0) {
      Atomics.wait(a, this.lockIdx, 2, 50);
      c = Atomics.exchange(a, this.lockIdx, 2);
    }
  }

  /** The same lock for the main thread, which must never block in Atomics.wait. */
  async lockAsync(): Promise<void> {
    const a = this.v.i32;
    let c = Atomics.compareExchange(a, this.lockIdx, 0, 1);
    if (c === 0) return;
    if (c !== 2) c = Atomics.exchange(a, this.lockIdx, 2);
    while (c !== 0) {
      const w = Atomics.waitAsync(a, this.lockIdx, 2, 50);
      if (w.async) await w.value;
      c = Atomics.exchange(a, this.lockIdx, 2);
    }
  }

  unlock(): void {
    if (Atomics.exchange(this.v.i32, this.lockIdx, 0) === 2) Atomics.notify(this.v.i32, this.lockIdx, 1);
  }

  // --- under the lock -------------------------------------------------------------------------

  private enqueue(t: number): void {
    const { v, abi } = this;
    v.store(this.thread(t) + abi.T_NEXT, 0);
    const tail = v.load(abi.SCHED_TAIL);
    if (tail === 0) v.store(abi.SCHED_HEAD, t + 1);
    else v.store(this.thread(tail - 1) + abi.T_NEXT, t + 1);
    v.store(abi.SCHED_TAIL, t + 1);
    v.add(abi.SCHED_WAITERS, 1);
    v.add(this.thread(t) + abi.T_WAITS, 1);
  }

  /** The waiter that gets freed vCPU `cpu`: the queue head, unless the policy picks another. */
  private dequeue(cpu: number): number {
    const { v, abi } = this;
    const head = v.load(abi.SCHED_HEAD);
    if (head === 0) return -1;
    if (this.policy && !this.policy.fifo) {
      const waiting: number[] = [];
      for (let cur = head; cur !== 0; cur = v.load(this.thread(cur - 1) + abi.T_NEXT)) waiting.push(cur - 1);
      const t = waiting[this.policy.pickWaiter(cpu, waiting)] ?? waiting[0];
      this.unqueue(t);
      return t;
    }
    const next = v.load(this.thread(head - 1) + abi.T_NEXT);
    v.store(abi.SCHED_HEAD, next);
    if (next === 0) v.store(abi.SCHED_TAIL, 0);
    v.add(abi.SCHED_WAITERS, -1);
    return head - 1;
  }

  /** Remove t from the queue if it is there (a dead waiter). Under the lock. */
  unqueue(t: number): boolean {
    const { v, abi } = this;
    let prev = 0;
    for (let cur = v.load(abi.SCHED_HEAD); cur !== 0; cur = v.load(this.thread(cur - 1) + abi.T_NEXT)) {
      if (cur === t + 1) {
        const next = v.load(this.thread(t) + abi.T_NEXT);
        if (prev === 0) v.store(abi.SCHED_HEAD, next);
        else v.store(this.thread(prev - 1) + abi.T_NEXT, next);
        if (v.load(abi.SCHED_TAIL) === t + 1) v.store(abi.SCHED_TAIL, prev);
        v.add(abi.SCHED_WAITERS, -1);
        return true;
      }
      prev = cur;
    }
    return false;
  }

  private takeCid(t: number): number {
    const { v, abi } = this;
    const map = v.load(abi.SCHED_CID_MAP);
    const last = v.load(this.thread(t) + abi.T_LAST_CID);
    let cid = last >= 0 && last < this.plan.cpus && (map & (1 << last)) === 0 ? last : -1;
    for (let i = 0; cid < 0 && i < this.plan.cpus; i++) if ((map & (1 << i)) === 0) cid = i;
    v.store(abi.SCHED_CID_MAP, map | (1 << cid));
    return cid;
  }

  /** Give free vCPU c (odd sequence) to t: owner, mm_cid. t finishes with `took` outside the lock. */
  private assign(c: number, t: number): void {
    const { v, abi } = this;
    v.store(this.cpu(c) + abi.CPU_OWNER, t + 1);
    wakeIdle(v, abi);
    v.store(this.thread(t) + abi.T_CID, this.takeCid(t));
    v.store(this.thread(t) + abi.T_VCPU, c);
  }

  /**
   * Let go of t's vCPU: sequence odd (so any section begun on it aborts), mm_cid freed, and the
   * vCPU handed straight to the queue head if someone waits. Under the lock.
   */
  releaseLocked(t: number): number {
    const { v, abi } = this;
    const tr = this.thread(t);
    const c = v.load(tr + abi.T_VCPU);
    if (c < 0) return -1;
    const cr = this.cpu(c);
    this.makeOdd(c);
    const cid = v.load(tr + abi.T_CID);
    if (cid >= 0) v.store(abi.SCHED_CID_MAP, v.load(abi.SCHED_CID_MAP) & ~(1 << cid));
    v.store(tr + abi.T_LAST_CID, cid);
    v.store(tr + abi.T_CID, -1);
    v.store(tr + abi.T_VCPU, -1);
    v.store(tr + abi.T_LAST_CPU, c);
    // A stopped vCPU (CPU_STOP, stop_cpu) goes to nobody until start_cpu hands it on (handOver).
    const w = v.load(cr + abi.CPU_STOP) === 0 ? this.dequeue(c) : -1;
    if (w >= 0) {
      this.assign(c, w);
      v.store(this.thread(w) + abi.T_GRANT, c);
      Atomics.notify(v.i32, (this.thread(w) + abi.T_GRANT) >> 2);
    } else {
      v.store(cr + abi.CPU_OWNER, 0);
    }
    Atomics.notify(v.i32, (cr + abi.CPU_SEQ) >> 2);
    return c;
  }

  /** Sequence even -> odd unless a request already made it odd (a CAS: it races the supervisor's). */
  private makeOdd(c: number): void {
    const i = this.seqAddr(c) >> 2;
    for (let s = Atomics.load(this.v.i32, i); (s & 1) === 0; s = Atomics.load(this.v.i32, i)) {
      if (Atomics.compareExchange(this.v.i32, i, s, s + 1) === s) return;
    }
  }

  private freeCpu(prefer: number, avoid: number): number {
    const { v, abi } = this;
    const free = (c: number) => c !== avoid && v.load(this.cpu(c) + abi.CPU_OWNER) === 0 && v.load(this.cpu(c) + abi.CPU_STOP) === 0;
    if (prefer >= 0 && free(prefer)) return prefer;
    for (let c = 0; c < this.plan.cpus; c++) if (free(c)) return c;
    return -1;
  }

  /** start_cpu: free vCPU c is no longer stopped; hand it to the queue head if someone waits. Under the lock. */
  handOver(c: number): void {
    const { v, abi } = this;
    if (v.load(this.cpu(c) + abi.CPU_OWNER) !== 0) return;
    const w = this.dequeue(c);
    if (w < 0) return;
    this.assign(c, w);
    v.store(this.thread(w) + abi.T_GRANT, c);
    Atomics.notify(v.i32, (this.thread(w) + abi.T_GRANT) >> 2);
  }

  // --- lock taken inside ------------------------------------------------------------------------

  /** Block until t owns a vCPU (preferring `prefer`); FIFO behind earlier waiters. Returns it. */
  acquire(t: number, prefer: number): number {
    this.lock();
    let c = this.v.load(this.abi.SCHED_WAITERS) === 0 ? this.freeCpu(prefer, -1) : -1;
    if (c >= 0) {
      this.assign(c, t);
      this.unlock();
    } else {
      this.v.store(this.thread(t) + this.abi.T_GRANT, -1);
      this.enqueue(t);
      this.unlock();
      c = this.awaitGrant(t);
    }
    this.took(c);
    return c;
  }

  release(t: number): number {
    this.lock();
    const c = this.releaseLocked(t);
    this.unlock();
    return c;
  }

  /**
   * sched_yield / time-slice end: if anyone waits, hand t's vCPU to the queue head and queue t
   * behind the others. Returns the vCPU t owns afterwards (unchanged when nobody waited).
   */
  yield(t: number): number {
    this.lock();
    if (this.v.load(this.abi.SCHED_WAITERS) === 0) {
      this.unlock();
      return this.v.load(this.thread(t) + this.abi.T_VCPU);
    }
    this.releaseLocked(t);
    this.v.store(this.thread(t) + this.abi.T_GRANT, -1);
    this.enqueue(t);
    this.unlock();
    const c = this.awaitGrant(t);
    this.took(c);
    return c;
  }

  /** Move t to another vCPU: a free one if there is one, else behind the waiters, else stay. */
  migrate(t: number): number {
    const { v, abi } = this;
    this.lock();
    const from = v.load(this.thread(t) + abi.T_VCPU);
    const to = this.freeCpu(-1, from);
    if (to >= 0) {
      this.releaseLocked(t);
      this.assign(to, t);
      this.unlock();
      this.took(to);
      return to;
    }
    this.unlock();
    return this.yield(t);
  }

  private awaitGrant(t: number): number {
    const i = (this.thread(t) + this.abi.T_GRANT) >> 2;
    const a = this.v.i32;
    while (Atomics.load(a, i) === -1) Atomics.wait(a, i, -1, 1000);
    const c = Atomics.exchange(a, i, -1);
    return c;
  }

  /** The new owner's half of taking vCPU c: drop stale requests, sequence odd -> even. */
  private took(c: number): void {
    const { v, abi } = this;
    const cr = this.cpu(c);
    Atomics.exchange(v.i32, (cr + abi.CPU_REQUEST) >> 2, 0);
    v.add(cr + abi.CPU_SEQ, 1);
    v.store(cr + abi.CPU_SINCE, this.tick());
    Atomics.notify(v.i32, (cr + abi.CPU_SEQ) >> 2);
    // A request that merged into the odd sequence after the exchange must not be stranded.
    if (v.load(cr + abi.CPU_REQUEST) !== 0) this.request(c, 0);
  }

  /**
   * A request on vCPU c (supervisor, fence, signal to self): record `bits`, then move the sequence
   * word even -> odd. Returns the odd value that marks the request.
   */
  request(c: number, bits: number): number {
    const { v, abi } = this;
    const cr = this.cpu(c);
    Atomics.or(v.i32, (cr + abi.CPU_REQUEST) >> 2, bits);
    for (;;) {
      const s = v.load(cr + abi.CPU_SEQ);
      if (s & 1) return s;
      if (Atomics.compareExchange(v.i32, (cr + abi.CPU_SEQ) >> 2, s, s + 1) === s) return s + 1;
    }
  }

  /**
   * The owner acknowledges the request on its vCPU c: consume the bits, sequence odd -> even, and
   * re-request for anything that arrived meanwhile so no request is lost. Returns the bits.
   */
  acknowledge(c: number): number {
    const { v, abi } = this;
    const cr = this.cpu(c);
    const bits = Atomics.exchange(v.i32, (cr + abi.CPU_REQUEST) >> 2, 0);
    if (v.load(cr + abi.CPU_SEQ) & 1) v.add(cr + abi.CPU_SEQ, 1);
    Atomics.notify(v.i32, (cr + abi.CPU_SEQ) >> 2);
    if (v.load(cr + abi.CPU_REQUEST) !== 0) this.request(c, 0);
    return bits;
  }
}
