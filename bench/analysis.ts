// Derived figures computed from one run's results: each row's ratio to its suite's baseline at the
// same thread count, and the suites' targets (reported as measured vs target, never asserted).
import type { Meta, Result } from './result.js';
import type { Suite } from './suite.js';

/** The baseline row of `r` (same suite, thread count and, for the pool suite, ops per task), if it was measured. */
export function baselineOf(r: Result, all: Result[]): Result | undefined {
  return all.find((b) => b.suite === r.suite && b.impl === r.baseline.impl && b.threads === r.threads && b.injectHz === r.baseline.injectHz
    && b.opsPerTask === r.opsPerTask);
}

/** The row 'counterpart' compares `r` with (same suite, threads and rate). */
export function counterpartOf(r: Result, all: Result[]): Result | undefined {
  if (!r.counterpart) return undefined;
  return all.find((c) => c.suite === r.suite && c.impl === r.counterpart && c.threads === r.threads && c.injectHz === r.injectHz);
}

/** Time per operation relative to the counterpart (> 1: slower than it; the counter: emulated / native). */
export function counterpartRatioOf(r: Result, all: Result[]): number | undefined {
  const c = counterpartOf(r, all);
  return c ? r.nsPerOp / c.nsPerOp : undefined;
}

/** Throughput relative to the baseline (> 1: faster than the baseline). */
export function ratioOf(r: Result, all: Result[]): number | undefined {
  const b = baselineOf(r, all);
  return b ? r.opsPerSec / b.opsPerSec : undefined;
}

export interface TargetOutcome {
  id: string;
  text: string;
  /** The measured figure, in the unit of `target`. */
  measured?: number;
  target: number;
  /** 'max': measured must be <= target; 'min': >= target. */
  bound: 'max' | 'min';
  pass?: boolean;
  /** The numbers the figure comes from. */
  detail: string;
  /** Cannot be measured on this machine (detail says why). */
  na?: boolean;
  unit: 'x' | '%';
}

/** A target judged from one run's rows (declared by the suite it is about: Suite.targets). */
export interface TargetDef {
  id: string;
  text: string;
  target: number;
  bound: 'max' | 'min';
  unit: 'x' | '%';
  /** The figure; a string: not measured in this run (why); { na }: cannot be measured here (why). */
  eval(all: Result[], meta?: Meta): { measured: number; detail: string } | { na: string } | string;
}

/** What targets' eval() use: a row by suite, implementation, threads and rate; number formats. */
export const analysisHelpers = {
  find: (all: Result[], suite: string, impl: string, threads: number, injectHz = 0) =>
    all.find((r) => r.suite === suite && r.impl === impl && r.threads === threads && r.injectHz === injectHz),
  ns: (x: number) => `${x.toFixed(2)} ns`,
  mops: (x: number) => `${(x / 1e6).toFixed(1)} M/s`,
  /** Why `what` rows of `suite` were skipped in this run, if they were. */
  skipped: (meta: Meta | undefined, suite: string, what: string) => meta?.skipped?.find((s) => s.suite === suite && s.what === what)?.why,
};

/** The targets of every suite in `suites`, in suite order, each as measured vs target. */
export function evaluateTargets(all: Result[], suites: readonly Suite[], meta?: Meta): TargetOutcome[] {
  return suites.flatMap((s) => s.targets ?? []).map((t) => {
    const base = { id: t.id, text: t.text, target: t.target, bound: t.bound, unit: t.unit };
    const e = t.eval(all, meta);
    if (typeof e === 'string') return { ...base, detail: `not measured (${e})` };
    if ('na' in e) return { ...base, na: true, detail: `n/a (${e.na})` };
    const pass = t.bound === 'max' ? e.measured <= t.target : e.measured >= t.target;
    return { ...base, measured: e.measured, pass, detail: e.detail };
  });
}
