// Number formatting and grouping shared by the table, JSON and HTML reports.
import type { Result } from '../measure.js';
import { IMPLS, JS_API_BASELINE, JS_API_CASES, SUITES, type SuiteName } from '../suites.js';

export const rate = (x: number): string =>
  x >= 1e9 ? `${(x / 1e9).toFixed(2)} G` : x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);

export const nanos = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

export const ratio = (x: number | undefined, isBaseline: boolean): string =>
  isBaseline ? 'baseline' : x === undefined ? '-' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;

export const perOp = (x: number): string => (x === 0 ? '0' : x < 0.01 ? x.toExponential(1) : x.toFixed(3));

export const hz = (x: number): string => (x >= 1000 ? `${x / 1000}k` : String(x));

/** Results grouped by suite, in the suites' canonical order. */
export function bySuite(results: Result[]): [SuiteName, Result[]][] {
  return SUITES.map((s) => [s, results.filter((r) => r.suite === s)] as [SuiteName, Result[]]).filter(([, rs]) => rs.length > 0);
}

export const isBaseline = (r: Result) => r.impl === r.baseline.impl && r.injectHz === r.baseline.injectHz;

/** A suite's baseline and one line per implementation. */
export function describe(suite: SuiteName): { baseline: string; what: [string, string][] } {
  if (suite === 'js-api') return { baseline: JS_API_BASELINE, what: JS_API_CASES.map((c) => [c.id, c.what]) };
  const impls = IMPLS[suite];
  const baselines = [...new Set(impls.map((i) => i.baseline))];
  return {
    baseline: suite === 'injection' ? 'the same implementation at 0 Hz' : baselines.join(' (writes), ') + (baselines.length > 1 ? ' (reads)' : ''),
    what: impls.map((i) => [i.id, i.what]),
  };
}
