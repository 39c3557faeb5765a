// Where a thread is in its critical section, seen from the instrumented accesses alone (no hand-
// placed points): the store to its rseq_cs begins a section; the begin's snapshot is the load of its
// vCPU's sequence word right before that store (the library's order, assembly/rseq.ts rseq_enter)
// or else the next one after it; the following load of that word is the commit check, and the next
// store to data after it is the committing store. Points act only inside a section, and never take
// the vCPU away between the commit check and the commit (DESIGN §3.5: the owner keeps its vCPU
// until its next checkpoint).
import type { Abi } from '../abi.js';

/** The point import's second argument: (static offset << 2) | access kind. */
export const ACCESS_LOAD = 0;
export const ACCESS_STORE = 1;
export const ACCESS_RMW = 2;

export class SectionPhase {
  phase = 0;
  private seqp = 0;
  /** A load of the sequence word while outside a section: the snapshot, if a begin follows. */
  private snap = 0;
  constructor(private readonly abi: Abi) {}

  /**
   * One access of `kind` at `addr`; `csAddr` is the thread's &rseq_cs, `seqNow` its current
   * T_SEQP. Returns true when the access is a decision point (inside a section, to data).
   */
  step(kind: number, addr: number, csAddr: number, seqNow: number, isData: boolean): boolean {
    const { abi } = this;
    if (kind !== ACCESS_LOAD && (addr === csAddr || addr === csAddr + 4)) {
      if (addr === csAddr) {
        // Snapshot first, then the publish: already inside, the next sequence load is the check.
        if (this.snap !== 0 && this.snap === seqNow) { this.phase = abi.CHK_PH_IN; this.seqp = this.snap; }
        else this.phase = abi.CHK_PH_BEGUN;
        this.snap = 0;
      }
      return addr === csAddr;
    }
    const ph = this.phase;
    if (ph === abi.CHK_PH_OUT) {
      if (kind === ACCESS_LOAD && addr === seqNow && seqNow !== 0) this.snap = addr;
      return false;
    }
    if (kind === ACCESS_LOAD && ph === abi.CHK_PH_BEGUN && addr === seqNow && seqNow !== 0) {
      this.phase = abi.CHK_PH_IN;
      this.seqp = addr;
      return false;
    }
    if (kind === ACCESS_LOAD && ph === abi.CHK_PH_IN && addr === this.seqp) {
      this.phase = abi.CHK_PH_CHECKED;
      return false;
    }
    return isData;
  }

  /** After the decision at a data access: a store past the commit check is the commit. */
  committed(kind: number): boolean {
    if (kind !== ACCESS_LOAD && this.phase === this.abi.CHK_PH_CHECKED) {
      this.phase = this.abi.CHK_PH_OUT;
      return true;
    }
    return false;
  }

  reset(): void { this.phase = this.abi.CHK_PH_OUT; this.seqp = 0; this.snap = 0; }
}
