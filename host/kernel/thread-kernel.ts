// The emulated kernel as one thread sees it: its slow path (the "return to user" that validates
// and clears rseq_cs, acts on requests, acquires or parks its vCPU and refreshes struct rseq),
// its sys_rseq, and its injection actions. Runs on that thread only (a worker).
import type { Abi } from '../abi.js';
import { RseqFault } from '../errors.js';
import type { MemoryPlan, SharedView } from '../memory.js';
import type { InjectionOptions, PolicySpec, SchedulingPolicy } from './policy.js';
import { createPolicy } from './policy.js';
import { Sched } from './sched.js';
import { checkDescriptor, registration, sysRseq } from './sys-rseq.js';

export class ThreadKernel {
  readonly sched: Sched;
  /** Address of this thread's record. */
  readonly rec: number;
  /** This thread's instance of the kernel's policy: who gets a vCPU it frees, its injection points. */
  private readonly policy: SchedulingPolicy;
  private commitsAtTake = 0n;
  private sink = 0;

  constructor(readonly v: SharedView, readonly abi: Abi, readonly plan: MemoryPlan, readonly slot: number, spec: PolicySpec) {
    this.policy = createPolicy(abi, spec, plan.cpus);
    this.sched = new Sched(v, abi, plan, this.policy);
    this.rec = this.sched.thread(slot);
  }

  /** The host imports every module instantiated on this thread gets. */
  imports(): WebAssembly.ModuleImports {
    return {
      thread: new WebAssembly.Global({ value: 'i32', mutable: false }, this.rec),
      slow: (reason: number) => this.slow(reason),
      inject: (point: number) => this.inject(point),
      yield_now: () => this.yieldNow(),
      stop_cpu: (c: number) => this.stopCpu(c),
      start_cpu: (c: number) => this.startCpu(c),
    };
  }

  get registered(): boolean { return registration(this.v, this.abi, this.rec) !== undefined; }
  get vcpu(): number { return this.v.load(this.rec + this.abi.T_VCPU); }

  sysRseq(area: number, len: number, flags: number, sig: number): number {
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
    if (!this.registered) return -1;
    v.add(rec + abi.T_SLOWPATHS, 1);
    this.clearCs();
    let c = this.vcpu;
    let events = 0;
    if (c < 0) {
      c = this.take(this.sched.acquire(this.slot, v.load(rec + abi.T_LAST_CPU)));
    } else if (v.load(this.sched.seqAddr(c)) & 1) {
      events = this.handleRequest(c);
    }
    if (c >= 0 && v.load(this.sched.cpu(this.vcpu) + abi.CPU_STOP) !== 0) {
      // Our vCPU is stopped (another thread's stop_cpu): leave it; the scheduler gives us a running one.
      events |= abi.REQ_FENCE;
      v.store(rec + abi.T_SEQP, 0);
      this.accountCommits();
      this.sched.release(this.slot);
      this.take(this.sched.acquire(this.slot, -1));
    }
    const seen = events | v.load(rec + abi.T_EVENTS);
    if (reason === abi.SLOW_ABORT) {
      this.countAbort(events || seen);
      v.store(rec + abi.T_EVENTS, 0);
    } else {
      v.store(rec + abi.T_EVENTS, seen);
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
    if (this.vcpu < 0) return;
    this.v.store(this.rec + this.abi.T_SEQP, 0);
    this.accountCommits();
    this.sched.release(this.slot);
  }

  /** sched_yield(): let a waiting thread run on our vCPU and queue behind it. */
  yieldNow(): void {
    const { v, abi, rec } = this;
    v.add(rec + abi.T_YIELDS, 1);
    v.or(rec + abi.T_EVENTS, abi.REQ_YIELD);
    if (this.vcpu < 0 || this.sched.waiters() === 0) return;
    v.store(rec + abi.T_SEQP, 0);
    this.accountCommits();
    this.take(this.sched.yield(this.slot));
    this.refresh(this.vcpu);
  }

  private signalSelf(): void {
    const { v, abi, rec } = this;
    v.or(rec + abi.T_EVENTS, abi.REQ_SIGNAL);
    const c = this.vcpu;
    if (c >= 0) this.sched.request(c, abi.REQ_SIGNAL);
  }

  private sleep(ms: number): void {
    const { v, abi, rec } = this;
    v.add(rec + abi.T_SLEEPS, 1);
    v.or(rec + abi.T_EVENTS, abi.REQ_SLEEP);
    this.park();
    Atomics.wait(v.i32, (rec + abi.T_PID) >> 2, v.load(rec + abi.T_PID), ms);
  }

  private handleRequest(c: number): number {
    const { v, abi, rec } = this;
    const bits = v.load(this.sched.cpu(c) + abi.CPU_REQUEST);
    if (bits & abi.REQ_MIGRATE) {
      Atomics.and(v.i32, (this.sched.cpu(c) + abi.CPU_REQUEST) >> 2, ~abi.REQ_MIGRATE);
      v.add(rec + abi.T_PREEMPTED, 1);
      v.store(rec + abi.T_SEQP, 0);
      this.accountCommits();
      const to = this.take(this.sched.migrate(this.slot));
      if (to !== c) v.add(rec + abi.T_MIGRATED, 1);
      return bits;
    }
    if (bits & abi.REQ_PREEMPT) {
      v.add(rec + abi.T_PREEMPTED, 1);
      if (this.sched.waiters() > 0) {
        Atomics.and(v.i32, (this.sched.cpu(c) + abi.CPU_REQUEST) >> 2, ~abi.REQ_PREEMPT);
        v.store(rec + abi.T_SEQP, 0);
        this.accountCommits();
        const to = this.take(this.sched.yield(this.slot));
        if (to !== c) v.add(rec + abi.T_MIGRATED, 1);
        return bits;
      }
    }
    if (bits & abi.REQ_FENCE) v.add(rec + abi.T_FENCED, 1);
    if (bits & abi.REQ_SIGNAL) v.add(rec + abi.T_SIGNALLED, 1);
    return this.sched.acknowledge(c) | bits;
  }

  /** Bookkeeping after the scheduler gave us vCPU c (the sequence word is even now). */
  private take(c: number): number {
    this.commitsAtTake = this.v.load64(this.rec + this.abi.T_COMMITS);
    return c;
  }

  private accountCommits(): void {
    const c = this.vcpu;
    if (c < 0) return;
    const now = this.v.load64(this.rec + this.abi.T_COMMITS);
    Atomics.add(this.v.i64, (this.sched.cpu(c) + this.abi.CPU_COMMITS) >> 3, now - this.commitsAtTake);
    this.commitsAtTake = now;
  }

  private countAbort(events: number): void {
    const { v, abi, rec } = this;
    const c = this.vcpu;
    if (c >= 0) Atomics.add(v.i64, (this.sched.cpu(c) + abi.CPU_ABORTS) >> 3, 1n);
    // Attribute to the most specific cause seen (bit index into T_ABORT_BY; 7 = unknown).
    const bit = events === 0 ? 7 : 31 - Math.clz32(events);
    v.add(rec + abi.T_ABORT_BY + 4 * Math.min(bit, 7), 1);
  }

  /** Validate and lazily clear rseq_cs; an invalid descriptor stops this thread (SIGSEGV). */
  private clearCs(): void {
    const { v, abi, rec } = this;
    const area = v.load(rec + abi.T_AREA);
    const cs = Number(v.load64(area + abi.RSEQ_CS) & 0xffffffffn);
    if (cs === 0) return;
    const reg = registration(v, abi, rec);
    const why = checkDescriptor(v, abi, area, cs, reg?.sig ?? 0);
    if (why) {
      v.store(rec + abi.T_FAULT, 1);
      throw new RseqFault(this.slot, cs, why);
    }
    v.store64(area + abi.RSEQ_CS, 0n);
  }

  /** The kernel's ID update on return to user: cpu_id_start, cpu_id, node_id, mm_cid of `c`. */
  private refresh(c: number): void {
    const { v, abi, rec } = this;
    const area = v.load(rec + abi.T_AREA);
    if (!this.registered) return;
    const cpu = c >= 0 ? c : Math.max(0, v.load(rec + abi.T_LAST_CPU));
    const cid = v.load(rec + abi.T_CID);
    v.store(area + abi.RSEQ_CPU_ID_START, cpu);
    v.store(area + abi.RSEQ_CPU_ID, cpu);
    v.store(area + abi.RSEQ_NODE_ID, v.load(this.sched.cpu(cpu) + abi.CPU_NODE));
    v.store(area + abi.RSEQ_MM_CID, cid >= 0 ? cid : Math.max(0, v.load(rec + abi.T_LAST_CID)));
    v.store(rec + abi.T_SEQP, this.vcpu >= 0 ? this.sched.seqAddr(this.vcpu) : 0);
  }
}
