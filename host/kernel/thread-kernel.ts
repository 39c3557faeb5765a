// The emulated kernel as one thread sees it: its slow path (the "return to user" that validates
// and clears rseq_cs, acts on requests, acquires or parks its vCPU and refreshes struct rseq),
// its sys_rseq, and its injection actions. Runs on that thread only (a worker).
import type { Abi } from '../abi.js';
import { RseqFault } from '../errors.js';
import type { MemoryPlan, SharedView } from '../memory.js';
import type { ExploreSpec, InjectionOptions, PolicySpec, SchedulingPolicy } from './policy.js';
import { createPolicy } from './policy.js';
import { ThreadCheck, type CheckJob } from '../check/runtime.js';
import { ACCESS_LOAD, SectionPhase } from '../check/phase.js';
import { Sched } from './sched.js';
import { ThreadSlice, expectedFlags, slicePrctl } from './slice.js';
import { checkDescriptor, registration, sysRseq } from './sys-rseq.js';
import { TraceWriter } from './trace-ring.js';
import { Umcg } from './umcg.js';

const SETTLED = Promise.resolve();
/** BigInt(d) for the commit counts a task usually makes (BigInt(d) allocates a heap BigInt each call). */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 1025 }, (_, i) => BigInt(i));

export class ThreadKernel {
  readonly sched: Sched;
  /** Address of this thread's record. */
  readonly rec: number;
  /** This thread's instance of the kernel's policy: who gets a vCPU it frees, its injection points. */
  private readonly policy: SchedulingPolicy;
  /** T_COMMITS when this thread took its vCPU, as a Number (exact below 2^53 commits). */
  private commitsAtTake = 0;
  private sink = 0;
  /** A park is queued for the end of the current synchronous run (DESIGN §6: awaiting holds no vCPU). */
  private parkQueued = false;
  private readonly parkLater = () => { this.parkQueued = false; this.park(); };
  /** Deterministic exploration (host/check/): set while this thread runs a check loop. */
  private check?: ThreadCheck;
  /** Ordinary runs of instrumented modules: where this thread is in its section (point 10). */
  private readonly phase: SectionPhase;
  /** This thread's trace ring when the kernel traces (Kernel.create({ trace })): every use is one `?.` branch when off. */
  private readonly trace?: TraceWriter;
  /** This thread's time-slice extension grant (slice.ts). */
  private readonly slice: ThreadSlice;
  // Int32 indices of this thread's own words (every per-task path reads them: no address arithmetic,
  // no lookups in the large abi object). T_VCPU, T_REG_LEN, T_EVENTS and T_COMMITS are written by
  // this thread (T_VCPU also by a thread granting it a vCPU, before the T_GRANT store this thread
  // reads atomically), so this thread reads them with plain loads.
  private readonly i32: Int32Array;
  private readonly vcpuIdx: number;
  private readonly regLenIdx: number;
  private readonly seqpIdx: number;
  private readonly commitsIdx: number;
  private readonly eventsIdx: number;
  private readonly slowPathsIdx: number;

  constructor(readonly v: SharedView, readonly abi: Abi, readonly plan: MemoryPlan, readonly slot: number, spec: PolicySpec) {
    this.policy = createPolicy(abi, spec, plan.cpus);
    this.sched = new Sched(v, abi, plan, this.policy);
    this.rec = this.sched.thread(slot);
    this.phase = new SectionPhase(abi);
    if (plan.traceBase) this.trace = new TraceWriter(v, abi, plan, slot);
    this.slice = new ThreadSlice(v, abi, this.rec, this.trace);
    this.i32 = v.i32;
    this.vcpuIdx = (this.rec + abi.T_VCPU) >> 2;
    this.regLenIdx = (this.rec + abi.T_REG_LEN) >> 2;
    this.seqpIdx = (this.rec + abi.T_SEQP) >> 2;
    this.commitsIdx = (this.rec + abi.T_COMMITS) >> 2;
    this.eventsIdx = (this.rec + abi.T_EVENTS) >> 2;
    this.slowPathsIdx = (this.rec + abi.T_SLOWPATHS) >> 2;
    this.umcg = new Umcg(v, abi, plan, this.sched, {
      slot,
      release: () => this.release(),
      took: (c) => { this.take(c); this.refresh(c); },
    });
  }

  /** Run the explorer's schedules on this thread (host/check/) with policy `spec`, until it quits. */
  runCheck(spec: ExploreSpec, exports: WebAssembly.Exports, job: CheckJob): number {
    const policy = createPolicy(this.abi, spec, this.plan.cpus, this.v.i32);
    this.check = new ThreadCheck(this, this.v, this.abi, policy, spec, this.slot);
    try {
      return this.check.loop(exports, job);
    } finally {
      this.check = undefined;
    }
  }

  /** Take a vCPU (preferring `prefer`) outside the slow path, and refresh struct rseq. */
  acquireFor(prefer: number): number {
    const c = this.take(this.sched.acquire(this.slot, prefer));
    this.refresh(c);
    return c;
  }

  /**
   * The import "point", before every load and store of an instrumented module: `meta` is
   * (offset << 2) | kind. Acts only inside a section, before its commit check (point 10 of the
   * injection policy), or hands the decision to the explorer.
   */
  point(ptr: number, meta: number): number {
    if (this.check) return this.check.point(ptr, meta);
    const { v, abi, rec } = this;
    if (v.load(rec + abi.T_INJECT) === 0) return ptr;
    const area = v.load(rec + abi.T_AREA);
    const kind = meta & 3;
    const addr = (ptr + (meta >>> 2)) >>> 0;
    const seqNow = v.load(rec + abi.T_SEQP);
    // Outside a section only the sequence word's loads matter (one may be the next begin's snapshot).
    if (kind === ACCESS_LOAD && addr !== seqNow && v.load(area + abi.RSEQ_CS) === 0) return ptr;
    const data = addr >= this.plan.poolBase && addr < abi.HOST_REGION_END;
    if (!this.phase.step(kind, addr, area + abi.RSEQ_CS, seqNow, data)) return ptr;
    if (this.phase.phase !== abi.CHK_PH_CHECKED) {
      this.inject(10);
      // A sleep released the vCPU mid-section: take one again before the next access.
      if (this.vcpu < 0 && this.registered) this.acquireFor(v.load(rec + abi.T_LAST_CPU));
    }
    this.phase.committed(kind);
    return ptr;
  }

  /** This thread's T_COMMITS (a u64 it alone writes) as a Number, from its two i32 halves. */
  private commits(): number {
    const i = this.commitsIdx;
    return this.i32[i + 1] * 4294967296 + (this.i32[i] >>> 0);
  }

  /** This thread's UMCG calls and hooks (umcg.ts). */
  readonly umcg: Umcg;
  private get umcgWorker(): boolean { return this.v.get(this.rec + this.abi.T_UMCG_ROLE) === this.abi.UMCG_ROLE_WORKER; }

  umcgCtl(flags: number, self: number, clock: number): number { this.syscallEntry(); return this.umcg.ctl(flags, self, clock); }
  umcgWait(flags: number, timeout: number): number { this.syscallEntry(); return this.umcg.wait(flags, timeout); }
  umcgKick(flags: number, tid: number): number { this.syscallEntry(); return this.umcg.kick(flags, tid); }

  /** The host imports every module instantiated on this thread gets. */
  imports(): WebAssembly.ModuleImports {
    return {
      thread: new WebAssembly.Global({ value: 'i32', mutable: false }, this.rec),
      slow: (reason: number) => this.slow(reason),
      inject: (point: number) => this.inject(point),
      point: (ptr: number, meta: number) => this.point(ptr, meta),
      yield_now: () => this.yieldNow(),
      stop_cpu: (c: number) => this.stopCpu(c),
      start_cpu: (c: number) => this.startCpu(c),
      prctl: (o: number, a2: number, a3: number, a4: number, a5: number) => this.prctl(o, a2, a3, a4, a5),
      slice_yield: () => this.sliceYield(),
      umcg_ctl: (flags: number, self: number, clock: number) => this.umcgCtl(flags, self, clock),
      umcg_wait: (flags: number, timeout: number) => this.umcgWait(flags, timeout),
      umcg_kick: (flags: number, tid: number) => this.umcgKick(flags, tid),
    };
  }

  get registered(): boolean { return this.i32[this.regLenIdx] !== 0; }
  get vcpu(): number { return this.i32[this.vcpuIdx]; }

  sysRseq(area: number, len: number, flags: number, sig: number): number {
    this.syscallEntry();
    const unregistering = (flags & this.abi.RSEQ_FLAG_UNREGISTER) !== 0;
    const ret = sysRseq(this.v, this.abi, this.plan, this.rec, area, len, flags, sig);
    if (ret === 0 && unregistering) this.park();
    if (ret === 0 && !unregistering) this.refresh(this.vcpu);
    return ret;
  }

  setInjection(o: InjectionOptions | undefined): void {
    this.policy.setInjection(o);
    this.v.store(this.rec + this.abi.T_INJECT, this.policy.injecting ? 1 : 0);
  }

  /** The import "inject" (and the JS objects' point 7): ask the policy what point `point` does, and do it. */
  inject(point: number): void {
    const a = this.policy.atPoint(point, this.v.load64(this.rec + this.abi.T_COMMITS));
    for (let i = 0; i < a.loops; i++) this.sink = (this.sink + i) | 0;
    if (a.sleepMs > 0) this.sleep(a.sleepMs);
    if (a.yield) this.yieldNow();
    if (a.signal) this.signalSelf();
  }

  /** The import "slow": returns 0, or -1 when this thread is not registered. */
  slow(reason: number): number {
    const { v, abi, rec } = this;
    if (reason === abi.SLOW_PARK) { this.clearCs(); this.park(); return 0; }
    const i32 = this.i32;
    if (i32[this.regLenIdx] === 0) return -1;
    this.checkSlice();
    i32[this.slowPathsIdx] = i32[this.slowPathsIdx] + 1;
    this.clearCs();
    this.phase.reset();
    this.check?.checkpoint(reason);
    let c = this.vcpu;
    let events = 0;
    // UMCG: a kicked worker with TF_PREEMPT goes back on its server's list and waits to run again.
    if (c >= 0 && this.umcgWorker && this.umcg.preempted()) { c = this.vcpu; events = abi.REQ_PREEMPT; }
    if (c < 0) {
      // UMCG wake detection: a blocked worker runs again only when its server hands it a vCPU.
      if (this.umcgWorker && this.umcg.woken()) c = this.vcpu;
      else c = this.take(this.sched.acquire(this.slot, v.get(rec + abi.T_LAST_CPU)));
      // Release it as soon as this synchronous run yields (an await, the end of a task or call):
      // a thread holds a vCPU only while it runs per-vCPU code synchronously (the explorer,
      // host/check/, takes and gives vCPUs itself, at its decision points).
      // (A reaction on a settled promise: a microtask without queueMicrotask's per-call AsyncResource.)
      if (!this.parkQueued && !this.check) { this.parkQueued = true; void SETTLED.then(this.parkLater); }
    } else if (v.load(this.sched.seqAddr(c)) & 1) {
      events = this.handleRequest(c);
    }
    if (c >= 0 && v.load(this.sched.cpu(this.vcpu) + abi.CPU_STOP) !== 0) {
      // Our vCPU is stopped (another thread's stop_cpu): leave it; the scheduler gives us a running one.
      events |= abi.REQ_FENCE;
      this.trace?.record(abi.TEV_ACT, this.vcpu, abi.REQ_FENCE);
      v.store(rec + abi.T_SEQP, 0);
      this.releasing();
      this.sched.release(this.slot);
      this.take(this.sched.acquire(this.slot, -1));
    }
    const seen = events | i32[this.eventsIdx];
    if (reason === abi.SLOW_ABORT) {
      this.countAbort(events || seen);
      i32[this.eventsIdx] = 0;
    } else {
      i32[this.eventsIdx] = seen;
    }
    this.refresh(this.vcpu);
    return 0;
  }

  /**
   * The import "stop_cpu" (tcmalloc's StopCpu + FenceCpu): stop vCPU c so that no thread can begin a
   * section on it, and return once none that began before can commit (nobody owns it). The caller
   * parks first: a stopper holds no vCPU while it waits, so two stoppers never wait on each other.
   * Stops are exclusive (a second stopper waits). Returns 0, -EINVAL (no vCPU c), -EBUSY (already ours).
   * Between stop_cpu and start_cpu the caller may operate on c's data with plain loads and stores;
   * it must not begin a critical section if it stopped every vCPU.
   */
  stopCpu(c: number): number {
    const { v, abi, rec } = this;
    if (!Number.isInteger(c) || c < 0 || c >= this.plan.cpus) return -22;
    const stop = this.sched.cpu(c) + abi.CPU_STOP;
    if (v.load(stop) === this.slot + 1) return -16;
    this.clearCs();
    this.park();
    for (;;) {
      this.sched.lock();
      const holder = v.load(stop);
      if (holder === 0) v.store(stop, this.slot + 1);
      this.sched.unlock();
      if (holder === 0) break;
      Atomics.wait(v.i32, stop >> 2, holder, 5);
    }
    Atomics.add(v.i32, (this.sched.cpu(c) + abi.CPU_FENCES) >> 2, 1);
    this.sched.request(c, abi.REQ_FENCE);
    const seq = this.sched.seqAddr(c);
    while (v.load(this.sched.cpu(c) + abi.CPU_OWNER) !== 0) Atomics.wait(v.i32, seq >> 2, v.load(seq), 1);
    return 0;
  }

  /** The import "start_cpu": undo this thread's stop_cpu(c). Returns 0, -EINVAL, -EPERM (not stopped by us). */
  startCpu(c: number): number {
    const { v, abi } = this;
    if (!Number.isInteger(c) || c < 0 || c >= this.plan.cpus) return -22;
    const stop = this.sched.cpu(c) + abi.CPU_STOP;
    if (v.load(stop) !== this.slot + 1) return -1;
    this.sched.lock();
    v.store(stop, 0);
    this.sched.handOver(c);
    this.sched.unlock();
    Atomics.notify(v.i32, stop >> 2);
    return 0;
  }

  /** Release the vCPU (blocking call, end of a task); the next begin takes one again. */
  park(): void {
    if (this.i32[this.vcpuIdx] < 0) return;
    // UMCG block detection: a parking worker is BLOCKED, its vCPU released, its server woken.
    if (this.umcgWorker && this.umcg.blocked()) return;
    this.release();
  }

  /** Let go of the vCPU (the scheduler's release, with this thread's bookkeeping). */
  private release(): void {
    if (this.i32[this.vcpuIdx] < 0) return;
    if (this.slice.active) this.slice.revoke(this.abi.T_SLICE_REVOKED, this.vcpu);
    this.i32[this.seqpIdx] = 0;
    this.releasing();
    this.sched.release(this.slot);
  }

  /** sched_yield(): let a waiting thread run on our vCPU and queue behind it. */
  yieldNow(): void {
    const { v, abi, rec } = this;
    this.syscallEntry();
    v.add(rec + abi.T_YIELDS, 1);
    v.or(rec + abi.T_EVENTS, abi.REQ_YIELD);
    this.trace?.record(abi.TEV_YIELD, this.vcpu);
    this.relinquish();
  }

  private signalSelf(): void {
    const { v, abi, rec } = this;
    v.or(rec + abi.T_EVENTS, abi.REQ_SIGNAL);
    const c = this.vcpu;
    if (c >= 0) this.sched.request(c, abi.REQ_SIGNAL);
  }

  private sleep(ms: number): void {
    const { v, abi, rec } = this;
    this.syscallEntry();
    v.add(rec + abi.T_SLEEPS, 1);
    v.or(rec + abi.T_EVENTS, abi.REQ_SLEEP);
    this.trace?.record(abi.TEV_SLEEP, this.vcpu, 0, ms);
    this.park();
    Atomics.wait(v.i32, (rec + abi.T_PID) >> 2, v.load(rec + abi.T_PID), ms);
  }

  private handleRequest(c: number): number {
    const { v, abi, rec } = this;
    const bits = v.load(this.sched.cpu(c) + abi.CPU_REQUEST);
    if (bits !== 0) this.trace?.record(abi.TEV_ACT, c, bits);
    if (this.slice.active) {
      // Interrupted again while granted (the grant ran out, a signal, a migration): revoke.
      this.slice.revoke(this.slice.expired ? abi.T_SLICE_EXPIRED : abi.T_SLICE_REVOKED, this.vcpu);
    } else if ((bits & ~abi.REQ_PREEMPT) === 0 && this.slice.wanted() && this.sched.waiters() > 0) {
      // The time-slice extension: this preemption would hand the vCPU over; grant instead.
      this.slice.grant(c);
      // Arm the "hrtimer": the supervisor recomputes its wait to end at the deadline.
      Atomics.notify(v.i32, abi.SCHED_SUPERVISOR >> 2);
      return this.sched.acknowledge(c) | bits;
    }
    if (bits & abi.REQ_MIGRATE) {
      Atomics.and(v.i32, (this.sched.cpu(c) + abi.CPU_REQUEST) >> 2, ~abi.REQ_MIGRATE);
      v.add(rec + abi.T_PREEMPTED, 1);
      v.store(rec + abi.T_SEQP, 0);
      this.releasing();
      const to = this.take(this.sched.migrate(this.slot));
      this.countMigration(c, to);
      this.check?.migrated(c, to);
      return bits;
    }
    if (bits & abi.REQ_PREEMPT) {
      v.add(rec + abi.T_PREEMPTED, 1);
      if (this.sched.waiters() > 0) {
        Atomics.and(v.i32, (this.sched.cpu(c) + abi.CPU_REQUEST) >> 2, ~abi.REQ_PREEMPT);
        v.store(rec + abi.T_SEQP, 0);
        this.releasing();
        this.countMigration(c, this.take(this.sched.yield(this.slot)));
        return bits;
      }
    }
    if (bits & abi.REQ_FENCE) v.add(rec + abi.T_FENCED, 1);
    if (bits & abi.REQ_SIGNAL) v.add(rec + abi.T_SIGNALLED, 1);
    return this.sched.acknowledge(c) | bits;
  }

  /** A request moved this thread from vCPU `from` to `to` (staying put is no migration). */
  private countMigration(from: number, to: number): void {
    if (to === from) return;
    this.v.add(this.rec + this.abi.T_MIGRATED, 1);
    this.trace?.record(this.abi.TEV_MIGRATE, from, 0, to);
  }

  // --- time-slice extension (slice.ts) ---------------------------------------------------------

  /** prctl(option, ...): PR_RSEQ_SLICE_EXTENSION; a negated errno on failure. */
  prctl(option: number, a2: number, a3: number, a4: number, a5: number): number {
    this.syscallEntry();
    const r = slicePrctl(this.v, this.abi, this.rec, option, a2, a3, a4, a5);
    if (r.fault) this.fault(r.fault);
    return r.ret;
  }

  /**
   * rseq_slice_yield(): 1 when this thread yielded inside its grant, 0 when it was never granted
   * or the grant was revoked or ran out. Relinquishes the vCPU (to a waiting thread) if granted.
   */
  sliceYield(): number {
    const { abi } = this;
    if (!this.registered) return 0;
    this.checkSlice();
    if (!this.slice.active) return 0;
    const expired = this.slice.expired;
    this.slice.revoke(expired ? abi.T_SLICE_EXPIRED : abi.T_SLICE_YIELDED, this.vcpu);
    this.relinquish();
    return expired ? 0 : 1;
  }

  /** The emulated interrupt return outside a critical section: act on a pending request (or take a vCPU). */
  checkpoint(): void {
    const sp = this.v.get(this.rec + this.abi.T_SEQP);
    if (sp === 0 || (this.v.load(sp) & 1) !== 0) this.slow(this.abi.SLOW_BEGIN);
  }

  /** `granted` is the kernel's: set while no grant is active, the thread has written it (SIGSEGV). */
  private checkSlice(): void {
    if (this.slice.userGranted()) this.fault('rseq slice_ctrl.granted set by user space (only the kernel may set it)');
  }

  private fault(why: string): never {
    this.v.store(this.rec + this.abi.T_FAULT, 1);
    throw new RseqFault(this.slot, 0, why);
  }

  /** Syscall entry work: a user-set `granted` faults; an active grant is revoked and the vCPU relinquished. */
  private syscallEntry(): void {
    if (!this.registered) return;
    this.checkSlice();
    if (!this.slice.active) return;
    this.slice.revoke(this.abi.T_SLICE_ABORTED, this.vcpu);
    this.relinquish();
  }

  /** Hand the vCPU to a waiting thread and queue behind it (no-op when nobody waits). */
  private relinquish(): void {
    const { v, abi, rec } = this;
    if (this.vcpu < 0 || this.sched.waiters() === 0) return;
    v.store(rec + abi.T_SEQP, 0);
    this.releasing();
    this.take(this.sched.yield(this.slot));
    this.refresh(this.vcpu);
  }

  /** Bookkeeping after the scheduler gave us vCPU c (the sequence word is even now). */
  private take(c: number): number {
    // A reschedule clears slice_ctrl (and ends a grant) on the way back to user space.
    if (this.registered) this.slice.rescheduled(c);
    this.commitsAtTake = this.commits();
    this.trace?.record(this.abi.TEV_TAKE, c);
    return c;
  }

  /**
   * Bookkeeping just before this thread lets go of its vCPU: the commits made on it since taking it
   * go to its CPU_COMMITS (exact: one 64-bit atomic add) and end its trace span.
   */
  private releasing(): void {
    const c = this.i32[this.vcpuIdx];
    if (c < 0) return;
    const now = this.commits();
    const d = now - this.commitsAtTake;
    this.trace?.record(this.abi.TEV_RELEASE, c, 0, d);
    if (d === 0) return;
    Atomics.add(this.v.i64, (this.sched.cpu(c) + this.abi.CPU_COMMITS) >> 3, d < SMALL_BIGINTS.length ? SMALL_BIGINTS[d] : BigInt(d));
    this.commitsAtTake = now;
  }

  private countAbort(events: number): void {
    const { v, abi, rec } = this;
    const c = this.vcpu;
    if (c >= 0) Atomics.add(v.i64, (this.sched.cpu(c) + abi.CPU_ABORTS) >> 3, 1n);
    // Attribute to the most specific cause seen (bit index into T_ABORT_BY; 7 = unknown).
    const cause = Math.min(events === 0 ? 7 : 31 - Math.clz32(events), 7);
    v.add(rec + abi.T_ABORT_BY + 4 * cause, 1);
    this.trace?.record(abi.TEV_ABORT, c, cause);
  }

  /** Validate and lazily clear rseq_cs; an invalid descriptor stops this thread (SIGSEGV). */
  private clearCs(): void {
    const { v, abi, rec } = this;
    const area = v.get(rec + abi.T_AREA);
    const cs = v.get(area + abi.RSEQ_CS) >>> 0;
    if (cs === 0) return;
    const reg = registration(v, abi, rec);
    const why = checkDescriptor(v, abi, area, cs, reg?.sig ?? 0, expectedFlags(v, abi, rec));
    if (why) {
      v.store(rec + abi.T_FAULT, 1);
      throw new RseqFault(this.slot, cs, why);
    }
    v.store64(area + abi.RSEQ_CS, 0n);
  }

  /** The kernel's ID update on return to user: cpu_id_start, cpu_id, node_id, mm_cid of `c`. */
  private refresh(c: number): void {
    const { v, abi, rec } = this;
    if (this.i32[this.regLenIdx] === 0) return;
    // This thread's own words (its wasm reads them with plain loads): plain stores.
    const area = v.get(rec + abi.T_AREA);
    const cpu = c >= 0 ? c : Math.max(0, v.get(rec + abi.T_LAST_CPU));
    const cid = v.get(rec + abi.T_CID);
    v.set(area + abi.RSEQ_CPU_ID_START, cpu);
    v.set(area + abi.RSEQ_CPU_ID, cpu);
    v.set(area + abi.RSEQ_NODE_ID, v.get(this.sched.cpu(cpu) + abi.CPU_NODE));
    v.set(area + abi.RSEQ_MM_CID, cid >= 0 ? cid : Math.max(0, v.get(rec + abi.T_LAST_CID)));
    const vcpu = this.i32[this.vcpuIdx];
    this.i32[this.seqpIdx] = vcpu >= 0 ? this.sched.seqAddr(vcpu) : 0;
  }
}
