// The one decision point. Every choice that makes one run differ from another is asked of a
// SchedulingPolicy: which waiting thread gets a freed vCPU, when the supervisor requests a
// preemption, migration or signal on a vCPU, and what an injection point does (spin, sleep, yield,
// signal). The kernel's machinery (sched.ts, supervisor.ts, thread-kernel.ts) only carries the
// decisions out. A policy is described by a structured-cloneable PolicySpec and instantiated once
// per thread that decides (the supervisor, each emulated thread), so a spec plus its seed replays.
//
// SeededPolicy is the first implementation: FIFO hand-off, Bernoulli-per-tick (or periodic)
// requests at configured rates from a seeded PRNG, and param_test's -1..-9 / -m / -y / -k / -s.
// A deterministic scheduler (one thread at a time, a replayable schedule) or user-managed
// scheduling (UMCG servers) are further implementations of the same interface.
import type { Abi } from '../abi.js';
import { prng } from './prng.js';

export interface SupervisorOptions {
  /** Time slice when threads wait for a vCPU, in ms (default 2). */
  sliceMs?: number;
  /** Injected preemptions per second per vCPU (default 0). */
  preemptHz?: number;
  /** Injected migrations per second per vCPU (default 0). */
  migrateHz?: number;
  /** Injected signals per second per vCPU (default 0). */
  signalHz?: number;
  /** 'random' (Bernoulli per tick, default) or 'periodic'. */
  policy?: 'random' | 'periodic';
}

export interface InjectionOptions {
  /** loops[n] for point n (1..9): busy-wait that many iterations; -1 = act there every `modulo`-th pass. */
  loops?: Record<number, number>;
  /** With loops[n] == -1: act every modulo-th pass (param_test -m). */
  modulo?: number;
  /** Act by yielding the vCPU to a waiting thread (-y). */
  yield?: boolean;
  /** Act by raising a signal on this thread (-k). */
  signal?: boolean;
  /** Act by sleeping this many milliseconds, vCPU released (-s). */
  sleepMs?: number;
}

/** What a policy is made from, on every thread that decides. */
export type PolicySpec = SeededSpec | ExploreSpec;
export interface SeededSpec { kind: 'seeded'; seed: number; supervisor: SupervisorOptions }
/**
 * Deterministic exploration (`wasm-rseq check`, host/check/): one thread runs at a time and every
 * decision at a point is read from the schedule in the control block at `control` (abi CHK_*).
 */
export interface ExploreSpec { kind: 'explore'; control: number; threads: number }

/** One owned vCPU at one supervisor tick. */
export interface TickView {
  readonly cpu: number;
  /** Seconds since the previous tick. */
  readonly dt: number;
  /** Ticks since the owner took the vCPU. */
  readonly held: number;
  /** Threads wait for a vCPU. */
  readonly waiting: boolean;
}

/** What an injection point does: spin `loops` iterations, then the actions, in this order. */
export interface PointAction { loops: number; sleepMs: number; yield: boolean; signal: boolean }
/** onTick's bit for a time-slice end: a preemption request that is not an injected one. */
export const SLICE_END = 1 << 30;

export const NO_ACTION: Readonly<PointAction> = Object.freeze({ loops: 0, sleepMs: 0, yield: false, signal: false });

export interface SchedulingPolicy {
  /** Supervisor: ms between ticks. */
  readonly tickMs: number;
  /** Supervisor: the REQ_* bits (and SLICE_END) to request on an owned vCPU at this tick (0 for none). */
  onTick(t: TickView): number;
  /** Supervisor: new rates while running (Kernel.supervise); the random stream goes on. */
  update(o: SupervisorOptions): void;
  /** Under the scheduler lock: which of `waiting` (thread slots, FIFO order) gets freed vCPU `cpu`. */
  pickWaiter(cpu: number, waiting: readonly number[]): number;
  /** FIFO hand-off (pickWaiter always answers waiting[0]): lets the scheduler skip building the list. */
  readonly fifo: boolean;
  /** A thread: set (or clear) its injection policy. */
  setInjection(o: InjectionOptions | undefined): void;
  /** A thread: whether any injection point does anything. */
  readonly injecting: boolean;
  /** A thread at injection point `point`; `commits` is its commit count (an action waits for a new one). */
  atPoint(point: number, commits: bigint): Readonly<PointAction>;
  /**
   * Deterministic exploration only: thread `thread` is at decision point (inside a section) where
   * the CHK_C_* codes in `mask` (bit 0 = continue) are possible; answers the code to carry out.
   */
  decide?(thread: number, mask: number): number;
}

export class SeededPolicy implements SchedulingPolicy {
  readonly fifo = true;
  tickMs = 1;
  private rates: [number, number][] = [];
  private periodic = false;
  private sliceTicks = 2;
  private readonly random: () => number;
  private readonly phase: Float64Array;
  private loops = new Int32Array(11);
  private inj: InjectionOptions = {};
  private passes = 0;
  private actedAt = -1n;
  private readonly action: PointAction = { ...NO_ACTION };

  constructor(private readonly abi: Abi, spec: SeededSpec, cpus: number) {
    this.random = prng(spec.seed);
    this.phase = new Float64Array(cpus * 3);
    this.update(spec.supervisor);
  }

  update(o: SupervisorOptions): void {
    const { abi } = this;
    this.rates = [[o.preemptHz ?? 0, abi.REQ_PREEMPT], [o.migrateHz ?? 0, abi.REQ_MIGRATE], [o.signalHz ?? 0, abi.REQ_SIGNAL]];
    const maxHz = Math.max(0, ...this.rates.map(([hz]) => hz));
    // Ticks at twice the highest rate (at most 20 kHz, at least 1 kHz for time slicing).
    this.tickMs = Math.min(1, Math.max(0.05, maxHz > 0 ? 500 / maxHz : 1));
    this.sliceTicks = Math.max(1, Math.round((o.sliceMs ?? 2) / this.tickMs));
    this.periodic = o.policy === 'periodic';
    this.phase.fill(0);
  }

  onTick(t: TickView): number {
    let bits = t.waiting && t.held >= this.sliceTicks ? SLICE_END : 0;
    for (let k = 0; k < this.rates.length; k++) {
      const [hz, bit] = this.rates[k];
      if (hz <= 0) continue;
      const chance = hz * t.dt;
      if (this.periodic) {
        const i = t.cpu * this.rates.length + k;
        this.phase[i] += chance;
        if (this.phase[i] >= 1) { this.phase[i] %= 1; bits |= bit; }
      } else if (this.random() < chance) {
        bits |= bit;
      }
    }
    return bits;
  }

  pickWaiter(): number {
    return 0;
  }

  setInjection(o: InjectionOptions | undefined): void {
    this.inj = o ?? {};
    this.loops = new Int32Array(11);
    for (const [k, n] of Object.entries(this.inj.loops ?? {})) this.loops[Number(k)] = n;
    this.passes = 0;
    this.actedAt = -1n;
  }

  get injecting(): boolean {
    return this.loops.some((n) => n !== 0);
  }

  /**
   * An action inside a section forces its abort, so after acting the policy waits for the thread
   * to commit once more before it counts passes again: `-m 1` then disturbs every operation instead
   * of livelocking it. Actions happen only at points 7..9 (DESIGN §3.7) and at point 10, every
   * shared access inside a section of a module loaded with `instrument: true`.
   */
  atPoint(point: number, commits: bigint): Readonly<PointAction> {
    const n = this.loops[point];
    if (n === 0) return NO_ACTION;
    const o = this.inj;
    const a = this.action;
    a.loops = 0; a.sleepMs = 0; a.yield = false; a.signal = false;
    if (n === -1 && o.modulo && point >= 7) {
      if (commits === this.actedAt) return NO_ACTION;
      if (this.passes !== o.modulo - 1) { this.passes++; return NO_ACTION; }
      this.passes = 0;
      this.actedAt = commits;
      a.sleepMs = o.sleepMs && o.sleepMs > 0 ? o.sleepMs : 0;
      a.yield = !!o.yield;
      a.signal = !!o.signal;
    } else if (n > 0) {
      a.loops = n;
    }
    return a;
  }
}

/**
 * The explorer's decisions: the schedule in the control block lists (decision index, code) pairs;
 * every other decision point continues. Each point's alternatives are recorded (CHK_ALTS) so the
 * checker's main thread can enumerate the schedules that branch there (DFS). A code < 0 is a random
 * choice (PCT mode): the (-code - 1) mod n-th of the n non-continue alternatives at the first point
 * at or after its index that has any; it is rewritten in place to the concrete choice, so the
 * schedule read back replays exactly.
 */
export class ExplorePolicy implements SchedulingPolicy {
  readonly fifo = true;
  readonly tickMs = 1000;
  readonly injecting = false;
  constructor(private readonly abi: Abi, private readonly spec: ExploreSpec, private readonly i32: Int32Array) {}
  onTick(): number { return 0; }
  update(): void {}
  pickWaiter(): number { return 0; }
  setInjection(): void {}
  atPoint(): Readonly<PointAction> { return NO_ACTION; }

  decide(thread: number, mask: number): number {
    const { abi, i32 } = this;
    const base = this.spec.control >> 2;
    const pos = i32[base + (abi.CHK_POS >> 2)];
    i32[base + (abi.CHK_POS >> 2)] = pos + 1;
    if (pos < abi.CHK_MAX_POINTS) i32[base + (abi.CHK_ALTS >> 2) + pos] = mask | (thread << 24);
    const next = i32[base + (abi.CHK_NEXT >> 2)];
    if (next >= i32[base + (abi.CHK_NCHOICE >> 2)]) return 0;
    const e = base + (abi.CHK_CHOICES >> 2) + 2 * next;
    let code = i32[e + 1];
    if (code >= 0 ? i32[e] !== pos : i32[e] > pos) return 0;
    if (code < 0) {
      const alts: number[] = [];
      for (let b = 1; b < 31; b++) if (mask & (1 << b)) alts.push(b);
      if (alts.length === 0) return 0;
      code = alts[(-code - 1) % alts.length];
      i32[e] = pos;
      i32[e + 1] = code;
    }
    i32[base + (abi.CHK_NEXT >> 2)] = next + 1;
    if ((mask & (1 << code)) === 0) {
      i32[base + (abi.CHK_STATUS >> 2)] = abi.CHK_DIVERGED;
      return 0;
    }
    i32[base + (abi.CHK_SWITCHES >> 2)]++;
    return code;
  }
}

/** The policy a spec describes, on the thread that calls this (`i32`: the shared memory, for 'explore'). */
export function createPolicy(abi: Abi, spec: PolicySpec, cpus: number, i32?: Int32Array): SchedulingPolicy {
  switch (spec.kind) {
    case 'seeded': return new SeededPolicy(abi, spec, cpus);
    case 'explore':
      if (!i32) throw new Error('an explore policy needs the shared memory');
      return new ExplorePolicy(abi, spec, i32);
  }
}
