// The explorer on one kernel thread (a worker): the run token, the decisions at points, the
// deferred ones at checkpoints, and the loop that runs schedule after schedule with no main-thread
// round trip inside a schedule. Exactly one thread runs at a time: the one named in CHK_TOKEN.
// Control passes only at points (inside sections), when a thread finishes, and never to a thread
// that could not go on (runnable = owns a vCPU, or a vCPU is free for it), so no thread ever blocks
// in the scheduler: every vCPU change goes through sched.ts's ordinary acquire/release/migrate.
import type { Abi } from '../abi.js';
import type { SharedView } from '../memory.js';
import type { ExploreSpec, SchedulingPolicy } from '../kernel/policy.js';
import type { ThreadKernel } from '../kernel/thread-kernel.js';
import { ACCESS_LOAD, SectionPhase } from './phase.js';

export interface CheckJob {
  module: number; control: number; threads: number; ops: number; cs: number; base: number;
}

export class ThreadCheck {
  private readonly i32: Int32Array;
  private readonly ctl: number;
  readonly phase: SectionPhase;
  private pending = 0;
  private readonly csAddr: number;
  private readonly dataLo: number;
  private readonly dataHi: number;

  constructor(
    private readonly k: ThreadKernel, private readonly v: SharedView, private readonly abi: Abi,
    private readonly policy: SchedulingPolicy, readonly spec: ExploreSpec, readonly me: number,
  ) {
    this.i32 = v.i32;
    this.ctl = spec.control;
    this.phase = new SectionPhase(abi);
    this.csAddr = v.load(k.rec + abi.T_AREA) + abi.RSEQ_CS;
    this.dataLo = k.plan.poolBase;
    this.dataHi = abi.HOST_REGION_END;
  }

  private w(off: number): number { return this.i32[(this.ctl + off) >> 2]; }
  private set(off: number, x: number): void { this.i32[(this.ctl + off) >> 2] = x; }
  private tw(t: number, f: number): number { return this.ctl + this.abi.CHK_THREADS + t * this.abi.CHK_THREAD_SIZE + f; }
  private done(u: number): boolean { return this.v.load(this.tw(u, this.abi.CHK_T_DONE)) !== 0; }
  private vcpuOf(u: number): number { return this.v.load(this.k.sched.thread(u) + this.abi.T_VCPU); }

  private freeCpu(avoid = -1): number {
    const { v, abi } = this;
    for (let c = 0; c < this.k.plan.cpus; c++) {
      if (c !== avoid && v.load(this.k.sched.cpu(c) + abi.CPU_OWNER) === 0) return c;
    }
    return -1;
  }

  event(kind: number, arg = 0): void {
    if (this.w(this.abi.CHK_TRACING) === 0) return;
    const n = this.w(this.abi.CHK_NEVENT);
    if (n >= this.abi.CHK_MAX_EVENTS) return;
    this.set(this.abi.CHK_NEVENT, n + 1);
    const e = this.ctl + this.abi.CHK_EVENTS + n * this.abi.CHK_EVENT_SIZE;
    this.v.store(e, kind); this.v.store(e + 4, this.me); this.v.store(e + 8, this.k.vcpu); this.v.store(e + 12, arg);
  }

  private give(u: number): void {
    this.event(this.abi.CHK_EV_RUN, u);
    const i = (this.ctl + this.abi.CHK_TOKEN) >> 2;
    Atomics.store(this.i32, i, u);
    Atomics.notify(this.i32, i);
  }

  waitToken(): void {
    const i = (this.ctl + this.abi.CHK_TOKEN) >> 2;
    for (let t = Atomics.load(this.i32, i); t !== this.me; t = Atomics.load(this.i32, i)) {
      if (this.w(this.abi.CHK_QUIT)) throw new Error('check stopped');
      Atomics.wait(this.i32, i, t, 500);
    }
  }

  private request(c: number, bits: number): void {
    this.event(this.abi.CHK_EV_REQUEST, bits | (c << 8));
    this.k.sched.request(c, bits);
  }

  /** Take a vCPU again after giving it up mid-section (one is free: we were handed the token). */
  private ensureCpu(): void {
    const { v, abi } = this;
    if (this.k.vcpu >= 0) return;
    const c = this.k.acquireFor(v.load(this.tw(this.me, abi.CHK_T_PREFER)));
    v.store(this.tw(this.me, abi.CHK_T_WANT), 0);
    this.event(abi.CHK_EV_TAKE, c);
  }

  private releaseCpu(prefer: number): void {
    const { v, abi } = this;
    this.event(abi.CHK_EV_RELEASE, this.k.vcpu);
    this.k.park();
    v.store(this.tw(this.me, abi.CHK_T_WANT), 1);
    v.store(this.tw(this.me, abi.CHK_T_PREFER), prefer);
  }

  /** The import wasm-rseq@1.point: before every load and store of an instrumented module. */
  point(ptr: number, meta: number): number {
    const kind = meta & 3;
    const addr = (ptr + (meta >>> 2)) >>> 0;
    const isData = addr >= this.dataLo && addr < this.dataHi && (addr < this.ctl || addr >= this.ctl + this.abi.CHK_SIZE);
    if (!this.phase.step(kind, addr, this.csAddr, this.v.load(this.k.rec + this.abi.T_SEQP), isData)) return ptr;
    if (this.phase.phase === this.abi.CHK_PH_BEGUN && kind !== ACCESS_LOAD && addr === this.csAddr) this.event(this.abi.CHK_EV_BEGIN, 0);
    this.decision();
    if (this.phase.committed(kind)) this.event(this.abi.CHK_EV_COMMIT, 0);
    return ptr;
  }

  private decision(): void {
    const { abi } = this;
    const c = this.k.vcpu;
    if (c < 0) return;
    const checked = this.phase.phase === abi.CHK_PH_CHECKED;
    const free = this.freeCpu() >= 0;
    let mask = 1;
    const n = this.spec.threads;
    for (let u = 0; u < n; u++) {
      if (u === this.me || this.done(u)) continue;
      if (this.vcpuOf(u) >= 0 || free) mask |= 1 << (abi.CHK_C_SWITCH + u);
      mask |= 1 << (abi.CHK_C_PREEMPT + u);
    }
    if (!checked) {
      if (this.k.plan.cpus > 1) mask |= 1 << abi.CHK_C_MIGRATE;
      mask |= 1 << abi.CHK_C_SIGNAL;
    }
    const code = this.policy.decide!(this.me, mask);
    if (code === 0) return;
    if (code < abi.CHK_C_PREEMPT) {
      this.give(code - abi.CHK_C_SWITCH);
      this.waitToken();
      this.ensureCpu();
    } else if (code < abi.CHK_C_MIGRATE) {
      const u = code - abi.CHK_C_PREEMPT;
      // Past the commit check the vCPU stays ours until the next checkpoint: the request makes the
      // next begin enter the slow path, which hands it over then.
      this.request(c, abi.REQ_PREEMPT);
      if (checked) this.pending = abi.CHK_PEND_HANDOFF | (u << 8);
      else this.handoff(u, c);
    } else if (code === abi.CHK_C_MIGRATE) {
      if (this.freeCpu(c) >= 0) this.request(c, abi.REQ_MIGRATE);
      else { this.request(c, abi.REQ_PREEMPT); this.pending = abi.CHK_PEND_MIGRATE; }
    } else if (code === abi.CHK_C_SIGNAL) {
      this.request(c, abi.REQ_SIGNAL);
    }
  }

  /**
   * Preempted: this thread lets its vCPU c go (mid-section, or at its checkpoint) and u runs; if u
   * owns another vCPU it is asked to migrate at its next checkpoint (onto c, now free), as the
   * load balancer would move it. The section here must then abort at its commit check.
   */
  private handoff(u: number, c: number): void {
    if (this.done(u)) return;
    const b = this.vcpuOf(u);
    this.releaseCpu(c);
    if (b >= 0) this.request(b, this.abi.REQ_MIGRATE);
    this.give(u);
    this.waitToken();
    this.ensureCpu();
  }

  /** At the slow path's start (a checkpoint): carry out what was deferred to it. */
  checkpoint(reason: number): void {
    const { abi, v } = this;
    this.phase.reset();
    if (reason === abi.SLOW_ABORT) this.event(abi.CHK_EV_ABORT, 0);
    const p = this.pending;
    this.pending = 0;
    const c = this.k.vcpu;
    if (c < 0) return;
    if ((p & 0xff) === abi.CHK_PEND_HANDOFF) {
      this.handoff(p >> 8, c);
    } else if (p === abi.CHK_PEND_MIGRATE) {
      if (this.freeCpu(c) >= 0) { this.request(c, abi.REQ_MIGRATE); return; }
      // Every vCPU owned: swap with another owner (the load balancer's move). We let ours go and ask
      // the owner of b to migrate at its next checkpoint (it then takes ours); we take b once free.
      let b = -1;
      for (let x = 0; x < this.k.plan.cpus && b < 0; x++) if (x !== c && v.load(this.k.sched.cpu(x) + abi.CPU_OWNER) !== 0) b = x;
      if (b < 0) return;
      const u = v.load(this.k.sched.cpu(b) + abi.CPU_OWNER) - 1;
      this.event(abi.CHK_EV_MIGRATE, b);
      this.releaseCpu(b);
      this.request(b, abi.REQ_MIGRATE);
      this.give(u);
      this.waitToken();
      this.ensureCpu();
    }
    // A migration requested on our vCPU with no free one would make sched.migrate wait: stay instead.
    const cr = this.k.vcpu >= 0 ? this.k.sched.cpu(this.k.vcpu) + abi.CPU_REQUEST : 0;
    if (cr && (v.load(cr) & abi.REQ_MIGRATE) && this.freeCpu(this.k.vcpu) < 0) {
      Atomics.and(this.i32, cr >> 2, ~abi.REQ_MIGRATE);
    }
  }

  /** After a migration the kernel carried out (trace only). */
  migrated(from: number, to: number): void {
    if (from !== to) this.event(this.abi.CHK_EV_MIGRATE, to | (from << 8));
  }

  /** Run schedules until told to quit: each starts when the main thread bumps CHK_GEN. */
  loop(exports: WebAssembly.Exports, job: CheckJob): number {
    const { abi, v } = this;
    const setup = exports.check_setup as (cs: number, base: number, n: number, ops: number) => void;
    const op = exports.check_op as (t: number, step: number, cs: number, base: number) => void;
    const verify = exports.check_verify as (cs: number, base: number, n: number, ops: number) => number;
    const gi = (this.ctl + abi.CHK_GEN) >> 2;
    let gen = 0;
    let runs = 0;
    this.k.park();
    for (;;) {
      for (let g = Atomics.load(this.i32, gi); g === gen; g = Atomics.load(this.i32, gi)) Atomics.wait(this.i32, gi, g, 1000);
      gen = Atomics.load(this.i32, gi);
      if (this.w(abi.CHK_QUIT)) return runs;
      runs++;
      this.phase.reset();
      this.pending = 0;
      try {
        this.waitToken();
        if (this.w(abi.CHK_SETUP) === 0) { this.set(abi.CHK_SETUP, 1); setup(job.cs, job.base, job.threads, job.ops); }
        for (let s = 0; s < job.ops; s++) {
          v.store(this.tw(this.me, abi.CHK_T_STEP), s);
          this.event(abi.CHK_EV_OP, s);
          op(this.me, s, job.cs, job.base);
          this.event(abi.CHK_EV_OP_END, s);
        }
        this.k.park();
        this.phase.reset();
        v.store(this.tw(this.me, abi.CHK_T_DONE), 1);
        const done = this.w(abi.CHK_DONE) + 1;
        this.set(abi.CHK_DONE, done);
        if (done === job.threads) {
          const r = verify(job.cs, job.base, job.threads, job.ops);
          this.set(abi.CHK_VERIFY, r);
          if (this.w(abi.CHK_STATUS) === abi.CHK_OK && r !== 0) this.set(abi.CHK_STATUS, abi.CHK_FAILED);
          this.finish(gen);
        } else {
          let u = (this.me + 1) % job.threads;
          while (this.done(u)) u = (u + 1) % job.threads;
          this.give(u);
        }
      } catch (e) {
        if (this.w(abi.CHK_QUIT)) return runs;
        this.set(abi.CHK_STATUS, abi.CHK_ERROR);
        this.finish(gen);
        throw e;
      }
    }
  }

  private finish(gen: number): void {
    const i = (this.ctl + this.abi.CHK_FINISHED) >> 2;
    Atomics.store(this.i32, i, gen);
    Atomics.notify(this.i32, i);
  }
}
