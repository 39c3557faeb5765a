// Injection at the critical sections' numbered points (param_test's -1..-9, -m, -y, -k, -s):
// the policy lives here, on the host; the AssemblyScript side only calls in when T_INJECT is set.

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

export interface InjectionActions {
  yield(): void;
  signal(): void;
  sleep(ms: number): void;
}

/**
 * Per-thread injection state; `at(point)` is what the "inject" import calls. An action inside a
 * section forces its abort, so after acting the injector waits for the thread to commit once more
 * before it counts passes again: `-m 1` then disturbs every operation instead of livelocking it.
 */
export class Injector {
  private readonly loops = new Int32Array(10);
  private passes = 0;
  private actedAt = -1n;
  sink = 0;
  constructor(
    private readonly o: InjectionOptions, private readonly act: InjectionActions, private readonly commits: () => bigint,
  ) {
    for (const [k, n] of Object.entries(o.loops ?? {})) this.loops[Number(k)] = n;
  }

  /** Whether any point does anything (if not, the thread leaves T_INJECT at 0). */
  get active(): boolean {
    return this.loops.some((n) => n !== 0);
  }

  at(point: number): void {
    const n = this.loops[point];
    if (n === -1 && this.o.modulo && point >= 7) {
      const committed = this.commits();
      if (committed === this.actedAt) return;
      if (this.passes === this.o.modulo - 1) {
        this.passes = 0;
        this.actedAt = committed;
        if (this.o.sleepMs && this.o.sleepMs > 0) this.act.sleep(this.o.sleepMs);
        if (this.o.yield) this.act.yield();
        if (this.o.signal) this.act.signal();
      } else {
        this.passes++;
      }
    } else {
      for (let i = 0; i < n; i++) this.sink = (this.sink + i) | 0;
    }
  }
}
