// vCPU ownership, the FIFO queue of threads waiting for a vCPU, and mm_cid allocation.
// DESIGN §3: owner[c] changes only by its owner releasing it (or handing it straight to the queue
// head) or by a thread taking a free vCPU with a CAS on CPU_OWNER. A free vCPU's sequence word is
// odd; the thread that takes a vCPU moves it to even.
// Uncontended (nobody waits) taking and releasing are lock-free and wake no other thread: a CAS on
// the owner word, a CAS on the mm_cid's owner word, no futex wake, no supervisor wake (unless injection
// rates are > 0). SCHED_LOCK guards the wait queue only: queueing, hand-offs to waiters, reaping.
// A releaser that frees a vCPU lock-free stores owner 0 and then reads SCHED_WAITERS; a waiter
// queues (SCHED_WAITERS + 1) and then scans the owner words, both seq-cst: at least one of them sees
// the other and hands the free vCPU to the queue (dispatchLocked), so no wake-up is lost.
// Used by workers (slow path) and the main thread (reaping dead threads). Every function here is
// called with the lock NOT held unless it says so.
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

  /** The same lock for the main thread, which must never block in Atomics.wait. With `giveUp`,
   *  polled while waiting: false once it says so (the lock is then not held), else true. */
  async lockAsync(giveUp?: () => boolean): Promise<boolean> {
    const a = this.v.i32;
    let c = Atomics.compareExchange(a, this.lockIdx, 0, 1);
    if (c === 0) return true;
    if (c !== 2) c = Atomics.exchange(a, this.lockIdx, 2);
    while (c !== 0) {
      if (giveUp !== undefined && giveUp()) return false;
      const w = Atomics.waitAsync(a, this.lockIdx, 2, 50);
      if (w.async) await w.value;
      c = Atomics.exchange(a, this.lockIdx, 2);
    }
    return true;
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

  /** The owner word of mm_cid `cid` (CPU_CID_OWNER in vCPU record `cid`): slot + 1 holding it, 0 = free. */
  cidOwner(cid: number): number { return this.cpu(cid) + this.abi.CPU_CID_OWNER; }

  /**
   * A free mm_cid for t (its last one if free, else the lowest): CAS its owner word 0 -> t + 1, then
   * T_CID. A granter calls this for the waiter it grants to, so the word names t, not the caller.
   * Owners <= vCPUs and every holder of a cid owns a vCPU (a cid is taken after the vCPU and freed
   * before it, and the reaper frees a dead thread's cids before its vCPUs): a free cid always
   * exists, though a scan may miss one that moves, hence the retry.
   * Terminated between the CAS and the T_CID store, t is still named by the owner word: the reaper
   * frees by the owner words (freeCidsOfLocked), never by T_CID.
   */
  private takeCid(t: number): void {
    const { v, abi } = this;
    const tr = this.thread(t);
    const i32 = v.i32;
    const n = this.plan.cpus;
    const last = v.get(tr + abi.T_LAST_CID);
    if (last >= 0 && last < n) {
      const o = this.cidOwner(last) >> 2;
      if (Atomics.load(i32, o) === 0 && Atomics.compareExchange(i32, o, 0, t + 1) === 0) { v.set(tr + abi.T_CID, last); return; }
    }
    for (;;) {
      for (let cid = 0; cid < n; cid++) {
        const o = this.cidOwner(cid) >> 2;
        if (Atomics.load(i32, o) === 0 && Atomics.compareExchange(i32, o, 0, t + 1) === 0) { v.set(tr + abi.T_CID, cid); return; }
      }
    }
  }

  /**
   * t lets go of its mm_cid: owner word t + 1 -> 0 (a CAS: only a word that still names t is
   * cleared, so a stale T_CID can never free another thread's cid), then T_CID = -1.
   */
  private freeCid(t: number): void {
    const { v, abi } = this;
    const tr = this.thread(t);
    const cid = v.get(tr + abi.T_CID);
    if (cid >= 0) Atomics.compareExchange(v.i32, this.cidOwner(cid) >> 2, t + 1, 0);
    v.set(tr + abi.T_LAST_CID, cid);
    v.set(tr + abi.T_CID, -1);
  }

  /**
   * Under the lock, for a dead thread t (reapLocked, before its vCPUs are released): free every
   * mm_cid whose owner word names it, and clear its T_CID. Nobody else writes a word that names t
   * (only t, dead, and lock holders do), so the scan is exact. Returns how many it freed.
   */
  freeCidsOfLocked(t: number): number {
    const { v, abi } = this;
    let freed = 0;
    for (let cid = 0; cid < this.plan.cpus; cid++) {
      const o = this.cidOwner(cid);
      if (v.load(o) === t + 1) { Atomics.store(v.i32, o >> 2, 0); freed++; }
    }
    v.store(this.thread(t) + abi.T_CID, -1);
    return freed;
  }

  /** vCPU c, whose owner word now says t + 1, becomes t's: vCPU, mm_cid. t finishes with `took`. */
  private assign(c: number, t: number): void {
    const { v, abi } = this;
    this.takeCid(t);
    v.set(this.thread(t) + abi.T_VCPU, c);
    // The supervisor sleeps while nobody waits; it needs to tick for owned vCPUs only to inject.
    if (v.load(abi.SCHED_POLICY + abi.POL_ACTIVE) !== 0) wakeIdle(v, abi);
  }

  /** Take a free vCPU for t (preferring `prefer`, never `avoid`) with a CAS on its owner word. */
  private tryTake(t: number, prefer: number, avoid = -1): number {
    const { v, abi } = this;
    const n = this.plan.cpus;
    const first = prefer >= 0 && prefer < n ? prefer : 0;
    for (let k = 0; k < n; k++) {
      const c = (first + k) % n;
      if (c === avoid) continue;
      const o = this.cpu(c) + abi.CPU_OWNER;
      if (v.load(o) === 0 && !this.stopped(c) && Atomics.compareExchange(v.i32, o >> 2, 0, t + 1) === 0) {
        // A stop_cpu may have marked c between the check and the CAS: its stopper waits for the
        // owner word to read 0, so give c back before touching it.
        if (this.stopped(c)) { Atomics.store(v.i32, o >> 2, 0); continue; }
        this.assign(c, t);
        return c;
      }
    }
    return -1;
  }

  /** Under the lock: hand every free vCPU to a waiter (after a lock-free release raced a queueing). */
  dispatchLocked(): void {
    const { v, abi } = this;
    for (let c = 0; c < this.plan.cpus && v.load(abi.SCHED_WAITERS) > 0; c++) {
      const o = this.cpu(c) + abi.CPU_OWNER;
      // Reserve it (-1) so no lock-free taker gets it between the dequeue and the assignment.
      if (v.load(o) !== 0 || this.stopped(c) || Atomics.compareExchange(v.i32, o >> 2, 0, -1) !== 0) continue;
      const w = this.dequeue(c);
      this.grant(c, w);
    }
  }

  /** Under the lock: vCPU c (owned by the caller or reserved) goes to dequeued waiter w. */
  private grant(c: number, w: number): void {
    const { v, abi } = this;
    v.store(this.cpu(c) + abi.CPU_OWNER, w + 1);
    this.assign(c, w);
    v.store(this.thread(w) + abi.T_GRANT, c);
    Atomics.notify(v.i32, (this.thread(w) + abi.T_GRANT) >> 2);
  }

  /** t's half of letting go of vCPU c: sequence odd, mm_cid freed, t's words. True if a request was pending. */
  private drop(t: number, c: number): boolean {
    const { v, abi } = this;
    const tr = this.thread(t);
    const pending = this.makeOdd(c);
    // Not running first, then the cid: an observer that sees T_VCPU >= 0 also sees its T_CID.
    v.set(tr + abi.T_VCPU, -1);
    this.freeCid(t);
    v.set(tr + abi.T_LAST_CPU, c);
    return pending;
  }

  /**
   * Let go of t's vCPU: sequence odd (so any section begun on it aborts), mm_cid freed, and the
   * vCPU handed straight to the queue head if someone waits. Under the lock.
   */
  releaseLocked(t: number): number {
    const { v, abi } = this;
    const c = v.get(this.thread(t) + abi.T_VCPU);
    if (c < 0) return -1;
    const pending = this.drop(t, c);
    // A stopped vCPU goes to nobody until start_cpu hands it on (handOver).
    const w = this.stopped(c) ? -1 : this.dequeue(c);
    if (w >= 0) this.grant(c, w);
    else Atomics.store(v.i32, (this.cpu(c) + abi.CPU_OWNER) >> 2, 0);
    // A fence waits for the sequence word to move on; only a pending request means one may wait.
    if (pending) Atomics.notify(v.i32, this.seqAddr(c) >> 2);
    return c;
  }

  /** Sequence even -> odd unless a request already made it odd (a CAS: it races the supervisor's). True if it was odd. */
  private makeOdd(c: number): boolean {
    const i = this.seqAddr(c) >> 2;
    for (let s = Atomics.load(this.v.i32, i); (s & 1) === 0; s = Atomics.load(this.v.i32, i)) {
      if (Atomics.compareExchange(this.v.i32, i, s, s + 1) === s) return false;
    }
    return true;
  }

  /** start_cpu: vCPU c is no longer stopped; if it is free and someone waits, hand it to the queue head. Under the lock. */
  handOver(c: number): void {
    const { v, abi } = this;
    if (v.load(abi.SCHED_WAITERS) === 0) return;
    const o = this.cpu(c) + abi.CPU_OWNER;
    if (v.load(o) !== 0 || Atomics.compareExchange(v.i32, o >> 2, 0, -1) !== 0) return;
    this.grant(c, this.dequeue(c));
  }

  /** Whether vCPU c is stopped (CPU_STOP, a thread's stop_cpu): the scheduler gives it to nobody. */
  private stopped(c: number): boolean {
    return this.v.load(this.cpu(c) + this.abi.CPU_STOP) !== 0;
  }

  // --- lock taken inside ------------------------------------------------------------------------

  /** Block until t owns a vCPU (preferring `prefer`); FIFO behind earlier waiters. Returns it. */
  acquire(t: number, prefer: number): number {
    const { v, abi } = this;
    // Fast path: nobody waits, a vCPU is free: one CAS, no lock, no wake.
    let c = v.load(abi.SCHED_WAITERS) === 0 ? this.tryTake(t, prefer) : -1;
    if (c < 0) {
      this.lock();
      c = v.load(abi.SCHED_WAITERS) === 0 ? this.tryTake(t, prefer) : -1;
      if (c >= 0) {
        this.unlock();
      } else {
        v.store(this.thread(t) + abi.T_GRANT, -1);
        this.enqueue(t);
        // A vCPU freed lock-free before we queued: hand it to the queue (maybe to us).
        this.dispatchLocked();
        this.unlock();
        // Someone waits: the supervisor time-slices.
        wakeIdle(v, abi);
        c = this.awaitGrant(t);
      }
    }
    this.took(c);
    return c;
  }

  release(t: number): number {
    const { v, abi } = this;
    if (v.load(abi.SCHED_WAITERS) > 0) {
      this.lock();
      const c = this.releaseLocked(t);
      this.unlock();
      return c;
    }
    // Fast path: nobody waits. The owner frees its vCPU; no lock, no wake.
    const c = v.get(this.thread(t) + abi.T_VCPU);
    if (c < 0) return -1;
    const pending = this.drop(t, c);
    Atomics.store(v.i32, (this.cpu(c) + abi.CPU_OWNER) >> 2, 0);
    if (pending) Atomics.notify(v.i32, this.seqAddr(c) >> 2);
    if (v.load(abi.SCHED_WAITERS) > 0) {
      // A thread queued meanwhile and may have missed the free vCPU: hand it over.
      this.lock();
      this.dispatchLocked();
      this.unlock();
    }
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
    // Between the hand-off and the queueing SCHED_WAITERS may have read 0 to a lock-free releaser:
    // its freed vCPU goes to the queue now.
    this.dispatchLocked();
    this.unlock();
    wakeIdle(this.v, this.abi);
    const c = this.awaitGrant(t);
    this.took(c);
    return c;
  }

  /** Move t to another vCPU: a free one if there is one, else swap with another owner, else behind the waiters. */
  migrate(t: number): number {
    const { v, abi } = this;
    const tr = this.thread(t);
    this.lock();
    const from = v.get(tr + abi.T_VCPU);
    // Claim the target first (CAS), then let go of `from` (handed to a waiter or freed).
    const n = this.plan.cpus;
    let to = -1;
    for (let c = 0; c < n && to < 0; c++) {
      const o = this.cpu(c) + abi.CPU_OWNER;
      if (c !== from && v.load(o) === 0 && !this.stopped(c) && Atomics.compareExchange(v.i32, o >> 2, 0, t + 1) === 0) to = c;
    }
    if (to >= 0) {
      this.releaseLocked(t);
      this.assign(to, t);
      this.unlock();
      this.took(to);
      return to;
    }
    const b = v.load(abi.SCHED_WAITERS) === 0 ? this.swapPartner(from) : -1;
    if (b >= 0) {
      // Every vCPU owned, nobody waiting: swap with b's owner, as the load balancer does. Ours goes
      // free, b's owner is asked to migrate at its next checkpoint (onto ours), and b comes to us
      // then, handed to the queue head: both threads act at their next checkpoint.
      this.releaseLocked(t);
      v.store(this.thread(t) + abi.T_GRANT, -1);
      this.enqueue(t);
      this.request(b, abi.REQ_MIGRATE);
      this.unlock();
      const c = this.awaitGrant(t);
      this.took(c);
      return c;
    }
    this.unlock();
    return this.yield(t);
  }

  /** Under the lock: a vCPU other than `from` whose owner could swap with us (-1 none). */
  private swapPartner(from: number): number {
    for (let i = 1; i < this.plan.cpus; i++) {
      const c = (from + i) % this.plan.cpus;
      if (this.v.load(this.cpu(c) + this.abi.CPU_OWNER) !== 0) return c;
    }
    return -1;
  }

  private awaitGrant(t: number): number {
    const i = (this.thread(t) + this.abi.T_GRANT) >> 2;
    const a = this.v.i32;
    while (Atomics.load(a, i) === -1) {
      // A waiter that sees a vCPU free while it waits hands the free vCPUs to the queue itself: a
      // hand-off missed anywhere (a release racing a queueing the handshake does not cover, a thread
      // killed mid-release) costs one time-out here, never a thread waiting forever.
      if (Atomics.wait(a, i, -1, 50) === 'timed-out' && this.freeWhileWaiting()) {
        this.lock();
        this.dispatchLocked();
        this.unlock();
      }
    }
    const c = Atomics.exchange(a, i, -1);
    return c;
  }

  /** A vCPU is free (not stopped) while threads wait for one. */
  private freeWhileWaiting(): boolean {
    const { v, abi } = this;
    if (v.load(abi.SCHED_WAITERS) === 0) return false;
    for (let c = 0; c < this.plan.cpus; c++) if (v.load(this.cpu(c) + abi.CPU_OWNER) === 0 && !this.stopped(c)) return true;
    return false;
  }

  /** The new owner's half of taking vCPU c: drop stale requests, sequence odd -> even. */
  private took(c: number): void {
    const { v, abi } = this;
    const cr = this.cpu(c);
    const stale = Atomics.exchange(v.i32, (cr + abi.CPU_REQUEST) >> 2, 0);
    v.add(cr + abi.CPU_SEQ, 1);
    v.store(cr + abi.CPU_SINCE, this.tick());
    // Only a fence (a request) waits for the sequence word to move on.
    if (stale !== 0) Atomics.notify(v.i32, (cr + abi.CPU_SEQ) >> 2);
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
  // --- UMCG (umcg.ts): a server hands its vCPU to the worker it switches to ---------------------

  /**
   * Hand t's vCPU straight to w (a UMCG server to the worker named in next_tid), or, when t owns
   * none, tell w to take one the usual way (GRANT_ACQUIRE). w waits for it in awaitHandOff. Lock taken inside.
   */
  handOff(t: number, w: number): void {
    const { v, abi } = this;
    this.lock();
    const c = v.get(this.thread(t) + abi.T_VCPU);
    if (c < 0) {
      this.unlock();
      Atomics.store(v.i32, (this.thread(w) + abi.T_GRANT) >> 2, abi.GRANT_ACQUIRE);
      Atomics.notify(v.i32, (this.thread(w) + abi.T_GRANT) >> 2);
      return;
    }
    const pending = this.drop(t, c);
    this.grant(c, w);
    this.unlock();
    if (pending) Atomics.notify(v.i32, this.seqAddr(c) >> 2);
  }

  /** w's half of handOff: the vCPU handed to it, or one acquired the usual way. */
  awaitHandOff(w: number, prefer: number): number {
    const c = this.awaitGrant(w);
    if (c === this.abi.GRANT_ACQUIRE) return this.acquire(w, prefer);
    this.took(c);
    return c;
  }
}
