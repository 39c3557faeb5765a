// The rseq time-slice extension (Linux 7.0, Documentation/userspace-api/rseq.rst), as one thread's
// kernel sees it. Everything here runs on the thread itself (its slow path and its kernel calls),
// so, as in the kernel, slice_ctrl needs no atomics: the thread's plain stores and ours are ordered.
//   - A grant is made only where the thread would be preempted: its slow path acting on a
//     preemption request (a time-slice end or an injected preemption) while threads wait for a vCPU,
//     with slice_ctrl.request set, the extension enabled and no other work (migration, signal, fence)
//     pending. Granting = slice_ctrl.all = granted, the request acknowledged, a deadline stored.
//   - The supervisor reads the deadline and requests a preemption once it has passed (the hrtimer).
//   - Any other emulated syscall revokes an active grant and relinquishes the vCPU; every
//     reschedule (the thread takes a vCPU again) clears slice_ctrl.
//   - A thread that sets `granted` itself faults (RseqFault, the kernel's SIGSEGV).
// Emulated time: a grant lasts POL_SLICE_EXT_NSEC emulated ns = NSEC * POL_SLICE_EXT_SCALE real ns.
import type { Abi } from '../abi.js';
import { Errno } from '../errors.js';
import type { SharedView } from '../memory.js';
import type { TraceWriter } from './trace-ring.js';


/** Absolute milliseconds, comparable across threads (each worker has its own timeOrigin). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** Whether the kernel offers the extension at all (not disabled at "boot"). */
export function sliceAvailable(v: SharedView, abi: Abi): boolean {
  return v.load(abi.SCHED_POLICY + abi.POL_SLICE_EXT_OFF) === 0;
}

/** How long a grant lasts, in real ms. */
export function grantMs(v: SharedView, abi: Abi): number {
  const ns = v.load(abi.SCHED_POLICY + abi.POL_SLICE_EXT_NSEC) || abi.SLICE_EXT_NSEC_DEFAULT;
  const scale = v.f64[(abi.SCHED_POLICY + abi.POL_SLICE_EXT_SCALE) >> 3] || 1;
  return (ns * scale) / 1e6;
}

/** The feature bits struct rseq::flags must hold for thread record `rec` (the kernel keeps them). */
export function expectedFlags(v: SharedView, abi: Abi, rec: number): number {
  const len = v.load(rec + abi.T_REG_LEN);
  // Legacy (32-byte) registrations get no time-slice extension (the post-7.0 ABI V2 split).
  if (len === 0 || len === abi.RSEQ_ORIG_SIZE || !sliceAvailable(v, abi)) return 0;
  return abi.RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | (v.load(rec + abi.T_SLICE) & abi.SLICE_ENABLED ? abi.RSEQ_CS_FLAG_SLICE_EXT_ENABLED : 0);
}

export interface PrctlResult { ret: number; fault?: string }

/**
 * prctl(option, arg2, arg3, arg4, arg5) for thread record `rec`, in the kernel's order: an unknown
 * option, or arg4/arg5 != 0: EINVAL; GET with arg3 != 0: EINVAL; SET: unknown arg3 bits EINVAL,
 * disabled ENOTSUPP, no rseq area registered ENXIO (a legacy registration: EINVAL, not available);
 * user space having changed the read-only flag bits: SIGSEGV (fault).
 */
export function slicePrctl(v: SharedView, abi: Abi, rec: number, option: number, a2: number, a3: number, a4: number, a5: number): PrctlResult {
  if (option !== abi.PR_RSEQ_SLICE_EXTENSION || a4 !== 0 || a5 !== 0) return { ret: -Errno.EINVAL };
  const state = v.load(rec + abi.T_SLICE);
  if (a2 === abi.PR_RSEQ_SLICE_EXTENSION_GET) {
    if (a3 !== 0) return { ret: -Errno.EINVAL };
    return { ret: state & abi.SLICE_ENABLED ? abi.PR_RSEQ_SLICE_EXT_ENABLE : 0 };
  }
  if (a2 !== abi.PR_RSEQ_SLICE_EXTENSION_SET) return { ret: -Errno.EINVAL };
  if (a3 & ~abi.PR_RSEQ_SLICE_EXT_ENABLE) return { ret: -Errno.EINVAL };
  if (!sliceAvailable(v, abi)) return { ret: -Errno.ENOTSUPP };
  const len = v.load(rec + abi.T_REG_LEN);
  if (len === 0) return { ret: -Errno.ENXIO };
  if (len === abi.RSEQ_ORIG_SIZE) return { ret: -Errno.EINVAL };
  const enable = (a3 & abi.PR_RSEQ_SLICE_EXT_ENABLE) !== 0;
  if (enable === ((state & abi.SLICE_ENABLED) !== 0)) return { ret: 0 };
  const area = v.load(rec + abi.T_AREA);
  const valid = expectedFlags(v, abi, rec);
  const flags = v.load(area + abi.RSEQ_FLAGS);
  if ((flags & valid) !== valid) return { ret: -Errno.EFAULT, fault: `struct rseq::flags 0x${flags.toString(16)}: read-only slice-extension bits changed by user space` };
  v.store(rec + abi.T_SLICE, enable ? state | abi.SLICE_ENABLED : state & ~(abi.SLICE_ENABLED | abi.SLICE_ACTIVE));
  v.store(area + abi.RSEQ_FLAGS, (flags & ~abi.RSEQ_CS_FLAG_SLICE_EXT_ENABLED) | abi.RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE
    | (enable ? abi.RSEQ_CS_FLAG_SLICE_EXT_ENABLED : 0));
  if (!enable) { v.store(area + abi.RSEQ_SLICE_CTRL, 0); v.f64[(rec + abi.T_SLICE_DEADLINE) >> 3] = 0; }
  return { ret: 0 };
}

/**
 * One thread's grant state (its record's T_SLICE / deadline / counters and its struct rseq's
 * slice_ctrl), as its ThreadKernel changes it. Only the thread itself runs these.
 */
export class ThreadSlice {
  constructor(
    private readonly v: SharedView, private readonly abi: Abi, private readonly rec: number,
    private readonly trace: TraceWriter | undefined,
  ) {}

  get active(): boolean { return (this.v.get(this.rec + this.abi.T_SLICE) & this.abi.SLICE_ACTIVE) !== 0; }

  /** The active grant has run out. */
  get expired(): boolean { return nowMs() >= this.v.f64[(this.rec + this.abi.T_SLICE_DEADLINE) >> 3]; }

  /** Enabled, and slice_ctrl.request set with nothing granted: a would-be preemption may grant. */
  wanted(): boolean {
    const { v, abi, rec } = this;
    if ((v.get(rec + abi.T_SLICE) & abi.SLICE_ENABLED) === 0) return false;
    const area = v.get(rec + abi.T_AREA);
    return v.u8[area + abi.RSEQ_SLICE_REQUEST] === 1 && v.u8[area + abi.RSEQ_SLICE_GRANTED] === 0;
  }

  /** `granted` is the kernel's: set while no grant is active, the thread has written it (a SIGSEGV). */
  userGranted(): boolean {
    const { v, abi, rec } = this;
    return v.u8[v.get(rec + abi.T_AREA) + abi.RSEQ_SLICE_GRANTED] !== 0 && !this.active;
  }

  /** Grant on vCPU c: slice_ctrl granted, the deadline stored, counted. */
  grant(c: number): void {
    const { v, abi, rec } = this;
    v.set(v.get(rec + abi.T_AREA) + abi.RSEQ_SLICE_CTRL, abi.RSEQ_SLICE_ALL_GRANTED);
    v.f64[(rec + abi.T_SLICE_DEADLINE) >> 3] = nowMs() + grantMs(v, abi);
    v.set(rec + abi.T_SLICE, v.get(rec + abi.T_SLICE) | abi.SLICE_ACTIVE);
    v.add(rec + abi.T_SLICE_GRANTS, 1);
    this.trace?.record(abi.TEV_SLICE_GRANT, c);
  }

  /** End the active grant (slice_ctrl cleared), counted under `counter`; `c` the vCPU, for the trace. */
  revoke(counter: number, c: number): void {
    const { v, abi, rec } = this;
    v.set(v.get(rec + abi.T_AREA) + abi.RSEQ_SLICE_CTRL, 0);
    v.set(rec + abi.T_SLICE, v.get(rec + abi.T_SLICE) & ~abi.SLICE_ACTIVE);
    v.f64[(rec + abi.T_SLICE_DEADLINE) >> 3] = 0;
    v.add(rec + counter, 1);
    this.trace?.record(abi.TEV_SLICE_END, c, counter);
  }

  /** A reschedule on the way back to user space: an active grant ends, slice_ctrl is cleared. */
  rescheduled(c: number): void {
    if (this.active) this.revoke(this.abi.T_SLICE_REVOKED, c);
    else this.v.set(this.v.get(this.rec + this.abi.T_AREA) + this.abi.RSEQ_SLICE_CTRL, 0);
  }
}
