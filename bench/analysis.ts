// Derived figures computed from one run's results: each row's ratio to its suite's baseline at the
// same thread count, and the targets (reported as measured vs target, never asserted).
import type { Result } from './measure.js';

/** The baseline row of `r` (same suite and thread count), if it was measured. */
export function baselineOf(r: Result, all: Result[]): Result | undefined {
  return all.find((b) => b.suite === r.suite && b.impl === r.baseline.impl && b.threads === r.threads && b.injectHz === r.baseline.injectHz);
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
  unit: 'x' | '%';
}

interface TargetDef {
  id: string;
  text: string;
  target: number;
  bound: 'max' | 'min';
  unit: 'x' | '%';
  eval(all: Result[]): { measured: number; detail: string } | string;
}

const find = (all: Result[], suite: string, impl: string, threads: number, injectHz = 0) =>
  all.find((r) => r.suite === suite && r.impl === impl && r.threads === threads && r.injectHz === injectHz);
const ns = (x: number) => `${x.toFixed(2)} ns`;
const mops = (x: number) => `${(x / 1e6).toFixed(1)} M/s`;

/** The targets (issue 3). */
export const TARGETS: TargetDef[] = [
  {
    id: 'counter-1t', text: 'counter, 1 thread: rseq ns/op within 1.25x of plain per-thread add', target: 1.25, bound: 'max', unit: 'x',
    eval(all) {
      const a = find(all, 'counter', 'rseq', 1);
      const b = find(all, 'counter', 'plain-per-thread', 1);
      if (!a || !b) return 'needs counter at 1 thread';
      return { measured: a.nsPerOp / b.nsPerOp, detail: `rseq ${ns(a.nsPerOp)} vs plain ${ns(b.nsPerOp)}` };
    },
  },
  {
    id: 'counter-2t', text: 'counter, 2 threads: rseq aggregate >= 20x shared atomic.add', target: 20, bound: 'min', unit: 'x',
    eval(all) {
      const a = find(all, 'counter', 'rseq', 2);
      const b = find(all, 'counter', 'atomic-shared', 2);
      if (!a || !b) return 'needs counter at 2 threads';
      return { measured: a.opsPerSec / b.opsPerSec, detail: `rseq ${mops(a.opsPerSec)} vs atomic.add ${mops(b.opsPerSec)}` };
    },
  },
  {
    id: 'list-2t', text: 'list, 2 threads: rseq push/pop >= 5x Treiber stack', target: 5, bound: 'min', unit: 'x',
    eval(all) {
      const a = find(all, 'list', 'rseq', 2);
      const b = find(all, 'list', 'treiber', 2);
      if (!a || !b) return 'needs list at 2 threads';
      return { measured: a.opsPerSec / b.opsPerSec, detail: `rseq ${mops(a.opsPerSec)} vs Treiber ${mops(b.opsPerSec)} (pop+push pairs)` };
    },
  },
  {
    id: 'js-api', text: 'js-api, 1 thread: per-vCPU add from JS >= 2x faster than Atomics.add from JS', target: 2, bound: 'min', unit: 'x',
    eval(all) {
      const a = find(all, 'js-api', 'rseq-call', 1);
      const b = find(all, 'js-api', 'js-atomics', 1);
      if (!a || !b) return 'needs the js-api suite';
      return { measured: b.nsPerOp / a.nsPerOp, detail: `counter_inc ${ns(a.nsPerOp)} vs Atomics.add ${ns(b.nsPerOp)} per call` };
    },
  },
  {
    id: 'injection-10k', text: 'injection at 10 kHz costs <= 5% of counter throughput', target: 5, bound: 'max', unit: '%',
    eval(all) {
      const cost = (t: number) => {
        const a = find(all, 'injection', 'counter-rseq', t, 10000);
        const b = find(all, 'injection', 'counter-rseq', t, 0);
        return a && b ? { pct: (1 - a.opsPerSec / b.opsPerSec) * 100, a, b } : undefined;
      };
      // Judged with every vCPU busy (threads = 2, or 1 if that is all that ran); 1 thread shown too.
      const main = cost(2) ?? cost(1);
      if (!main) return 'needs injection at 0 and 10000 Hz';
      const one = main.a.threads !== 1 ? cost(1) : undefined;
      return {
        measured: main.pct,
        detail: `${main.a.threads} threads: ${mops(main.a.opsPerSec)} at 10 kHz vs ${mops(main.b.opsPerSec)} at 0 Hz, `
          + `${main.a.abortsPerOp.toExponential(1)} aborts/op` + (one ? `; 1 thread: ${one.pct.toFixed(1)}%` : ''),
      };
    },
  },
];

export function evaluateTargets(all: Result[]): TargetOutcome[] {
  return TARGETS.map((t) => {
    const base = { id: t.id, text: t.text, target: t.target, bound: t.bound, unit: t.unit };
    const e = t.eval(all);
    if (typeof e === 'string') return { ...base, detail: `not measured (${e})` };
    const pass = t.bound === 'max' ? e.measured <= t.target : e.measured >= t.target;
    return { ...base, measured: e.measured, pass, detail: e.detail };
  });
}
