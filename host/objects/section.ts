// The ownership / sequence protocol (DESIGN §3) in plain JavaScript, for one kernel thread or pool
// worker: no JS -> wasm call, no Atomics, no BigInt on the fast path. A section is
//   const cpu = s.begin();        // own a vCPU with an even sequence snapshot (slow path otherwise)
//   ...plain loads of cpu's copy, speculative stores into it...
//   if (s.check()) { <commit: plain store(s)>; s.committed(); } else retry
// begin() reads T_SEQP (0: owns no vCPU), snapshots the sequence word there with a plain typed-array
// load (even = clean) and reads cpu_id_start from the thread's struct rseq. check() is the injection
// point 7 (only when T_INJECT is set), then re-reads the sequence word: unchanged means this thread
// still owns that vCPU and no checkpoint happened since begin. The commit may be several plain
// stores: with no checkpoint between the check and them, the owner keeps the vCPU (§3.5) and no
// other thread writes that copy. JS sections publish no rseq_cs (they have no instruction pointer).
import type { Abi } from '../abi.js';
import { ObjectError } from '../errors.js';
import type { ThreadKernel } from '../kernel/thread-kernel.js';
import type { SharedView } from '../memory.js';

export class ThreadSection {
  private readonly i32: Int32Array;
  private readonly seqpIdx: number;
  private readonly areaIdx: number;
  private readonly injIdx: number;
  private readonly commitsIdx: number;
  private readonly abortsIdx: number;
  private readonly cpuIdStart: number;
  private readonly cpus: number;
  private readonly slowBegin: number;
  private readonly slowAbort: number;
  /** The constants of this thread's protocol, for fast paths written as closures (Counter.add). */
  readonly fast: {
    readonly seqpIdx: number; readonly areaIdx: number; readonly injIdx: number; readonly commitsIdx: number;
    readonly cpuIdStart: number; readonly cpus: number; readonly kernel: ThreadKernel;
  };
  /** The vCPU sequence word (Int32 index) and its snapshot of the current section. */
  private seqIdx = 0;
  private s0 = 0;

  constructor(view: SharedView, abi: Abi, cpus: number, private readonly kernel: ThreadKernel) {
    this.i32 = view.i32;
    const rec = kernel.rec;
    this.seqpIdx = (rec + abi.T_SEQP) >> 2;
    this.areaIdx = (rec + abi.T_AREA) >> 2;
    this.injIdx = (rec + abi.T_INJECT) >> 2;
    this.commitsIdx = (rec + abi.T_COMMITS) >> 2;
    this.abortsIdx = (rec + abi.T_ABORTS) >> 2;
    this.cpuIdStart = abi.RSEQ_CPU_ID_START;
    this.cpus = cpus;
    this.slowBegin = abi.SLOW_BEGIN;
    this.slowAbort = abi.SLOW_ABORT;
    this.fast = Object.freeze({
      seqpIdx: this.seqpIdx, areaIdx: this.areaIdx, injIdx: this.injIdx, commitsIdx: this.commitsIdx,
      cpuIdStart: this.cpuIdStart, cpus, kernel,
    });
  }

  /** Begin a section: returns the vCPU this thread owns, with an even snapshot of its sequence. */
  begin(): number {
    const i32 = this.i32;
    for (;;) {
      const seqp = i32[this.seqpIdx];
      if (seqp !== 0) {
        const s0 = i32[seqp >> 2];
        if ((s0 & 1) === 0) {
          const cpu = i32[(i32[this.areaIdx] + this.cpuIdStart) >> 2];
          if (cpu >= 0 && cpu < this.cpus) {
            this.seqIdx = seqp >> 2;
            this.s0 = s0;
            return cpu;
          }
        }
      }
      if (this.kernel.slow(this.slowBegin) < 0) {
        throw new ObjectError('ENOTREG', `thread ${this.kernel.slot} is not registered with rseq: per-vCPU objects need a registered thread`);
      }
    }
  }

  /** The commit check: true while nothing happened to the section's vCPU since begin(); else the abort is taken. */
  check(): boolean {
    const i32 = this.i32;
    if (i32[this.injIdx] !== 0) this.kernel.inject(7);
    if (i32[this.seqIdx] === this.s0) return true;
    this.aborted();
    return false;
  }

  /** Account a committed section in T_COMMITS (u64 as two plain i32 words, thread-private). */
  committed(): void {
    const i32 = this.i32;
    const i = this.commitsIdx;
    const lo = (i32[i] + 1) | 0;
    i32[i] = lo;
    if (lo === 0) i32[i + 1] = (i32[i + 1] + 1) | 0;
  }

  /** A failed commit check: count it in T_ABORTS and take the kernel's abort path. */
  aborted(): void {
    const i32 = this.i32;
    const i = this.abortsIdx;
    const lo = (i32[i] + 1) | 0;
    i32[i] = lo;
    if (lo === 0) i32[i + 1] = (i32[i + 1] + 1) | 0;
    this.kernel.slow(this.slowAbort);
  }
}
