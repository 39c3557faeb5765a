// Kernel-run tracing in shared memory (assembly/abi.ts, "Kernel-run tracing"): one bounded ring of
// events per thread slot and one for the supervisor. Each ring has one writer (TraceWriter, on the
// thread it belongs to); the main thread reads every ring (readRings), also a dead or hung thread's,
// because the events live in the shared memory and not in the worker.
import type { Abi } from '../abi.js';
import { traceRingBytes, type MemoryPlan, type SharedView } from '../memory.js';
import { nowMs } from './slice.js';

export interface RingEvent {
  /** µs since the trace's start (the kernel's creation or last reset), on every thread's clock alike. */
  ts: number;
  kind: number;
  /** The vCPU the event is about, -1 for none. */
  cpu: number;
  aux: number;
  arg: number;
}
export interface Ring {
  /** The events still in the ring, oldest first. */
  events: RingEvent[];
  /** Events ever written; `dropped` of them were overwritten by newer ones. */
  written: number;
  dropped: number;
}

// The absolute clock every thread shares (nowMs), at a third less cost per read: the origin read
// once per thread, performance.now bound once (measured: 153 -> 90 ns per read on Node 20).
const origin = performance.timeOrigin;
const now = performance.now.bind(performance);

const ringAddr = (abi: Abi, plan: MemoryPlan, ring: number) =>
  plan.traceBase + abi.TRACE_RING_BASE + ring * traceRingBytes(abi, plan.traceCapacity);

/** The supervisor's ring: the last one, after the thread slots'. */
export const supervisorRing = (plan: MemoryPlan) => plan.threads;

/** Start (or restart) the trace: empty rings, time measured from now. Main thread, no writer running. */
export function resetTrace(v: SharedView, abi: Abi, plan: MemoryPlan): void {
  const b = plan.traceBase;
  v.f64[(b + abi.TRACE_T0) >> 3] = nowMs();
  v.store(b + abi.TRACE_CAPACITY, plan.traceCapacity);
  v.store(b + abi.TRACE_RINGS, plan.threads + 1);
  for (let r = 0; r <= plan.threads; r++) v.store(ringAddr(abi, plan, r) + abi.TRING_COUNT, 0);
}

/** The one writer of ring `ring`. record() costs a clock read, three plain stores and one Atomics.store. */
export class TraceWriter {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly countIdx: number;
  private readonly events: number;
  private readonly capacity: number;
  private readonly t0Idx: number;

  constructor(v: SharedView, private readonly abi: Abi, plan: MemoryPlan, ring: number) {
    this.i32 = v.i32;
    this.f64 = v.f64;
    const r = ringAddr(abi, plan, ring);
    this.countIdx = (r + abi.TRING_COUNT) >> 2;
    this.events = r + abi.TRING_EVENTS;
    this.capacity = plan.traceCapacity;
    this.t0Idx = (plan.traceBase + abi.TRACE_T0) >> 3;
  }

  /** Append an event (`cpu` -1 for none), overwriting the oldest when the ring is full. */
  record(kind: number, cpu: number, aux = 0, arg = 0): void {
    const { abi, i32 } = this;
    // Only this writer changes the count (and the main thread's reset while no writer runs): a plain read.
    const n = i32[this.countIdx] >>> 0;
    const e = this.events + (n % this.capacity) * abi.TEV_SIZE;
    this.f64[(e + abi.TEV_TS) >> 3] = (origin + now() - this.f64[this.t0Idx]) * 1000;
    i32[(e + abi.TEV_WHAT) >> 2] = kind | ((cpu & abi.TEV_NO_CPU) << 8) | (aux << 16);
    i32[(e + abi.TEV_ARG) >> 2] = arg;
    // Publish: a reader that loads the new count sees the fields stored before it.
    Atomics.store(i32, this.countIdx, (n + 1) | 0);
  }
}

/** Every ring's retained events (threads' rings by slot, then the supervisor's). A snapshot: exact once threads are parked. */
export function readRings(v: SharedView, abi: Abi, plan: MemoryPlan): Ring[] {
  const rings: Ring[] = [];
  const cap = plan.traceCapacity;
  for (let r = 0; r <= plan.threads; r++) {
    const base = ringAddr(abi, plan, r);
    const written = v.load(base + abi.TRING_COUNT) >>> 0;
    const first = Math.max(0, written - cap);
    const events: RingEvent[] = [];
    for (let i = first; i < written; i++) {
      const e = base + abi.TRING_EVENTS + (i % cap) * abi.TEV_SIZE;
      const what = v.get(e + abi.TEV_WHAT);
      const cpu = (what >>> 8) & abi.TEV_NO_CPU;
      events.push({
        ts: v.f64[(e + abi.TEV_TS) >> 3], kind: what & 0xff, cpu: cpu === abi.TEV_NO_CPU ? -1 : cpu,
        aux: what >>> 16, arg: v.get(e + abi.TEV_ARG),
      });
    }
    rings.push({ events, written, dropped: first });
  }
  return rings;
}
