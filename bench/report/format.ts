// Number formatting, grouping and the columns shared by the table, JSON and HTML reports: every
// column comes from the suite's declared metrics (Suite.columns), none from a suite's name.
import { counterpartRatioOf, ratioOf } from '../analysis.js';
import type { Measurement, Meta, Result } from '../result.js';
import type { Suite } from '../suite.js';

export const rate = (x: number): string =>
  x >= 1e9 ? `${(x / 1e9).toFixed(2)} G` : x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);

export const nanos = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

export const ratio = (x: number | undefined, isBaseline: boolean): string =>
  isBaseline ? 'baseline' : x === undefined ? '-' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;

export const perOp = (x: number): string => (x === 0 ? '0' : x < 0.01 ? x.toExponential(1) : x.toFixed(3));

export const hz = (x: number): string => (x >= 1000 ? `${x / 1000}k` : String(x));

/** Results grouped by suite, in the suites' order. */
export function bySuite(m: Measurement): [Suite, Result[]][] {
  return m.suites.map((s) => [s, m.results.filter((r) => r.suite === s.id)] as [Suite, Result[]]).filter(([, rs]) => rs.length > 0);
}

export const isBaseline = (r: Result) => r.impl === r.baseline.impl && r.injectHz === r.baseline.injectHz;

/** Lines under a suite's table: its own notes, then what its runner recorded in this run. */
export const notesOf = (suite: Suite, meta: Meta): string[] => [...(suite.notes?.(meta) ?? []), ...(meta.notes?.[suite.id] ?? [])];

/** A suite's baseline and one line per implementation. */
export function describe(suite: Suite): { baseline: string; what: [string, string][] } {
  const baselines = [...new Set(suite.impls.map((i) => i.baseline))];
  return {
    baseline: suite.baseline ?? baselines.join(' (writes), ') + (baselines.length > 1 ? ' (reads)' : ''),
    what: suite.impls.map((i) => [i.id, i.native ? `(native) ${i.what}` : i.what]),
  };
}

/** The identity columns every table starts with. */
const IDENTITY: [string, (r: Result) => string][] = [
  ['impl', (r) => r.impl], ['threads', (r) => String(r.threads)], ['vcpus', (r) => String(r.vcpus)], ['inject Hz', (r) => hz(r.injectHz)],
];

/** Column headings of `suite`'s table. */
export function heads(suite: Suite): string[] {
  return [...IDENTITY.map(([h]) => h), ...suite.columns.map((c) => (c === 'ratio' ? 'ratio'
    : c === 'counterpart' ? suite.counterpartLabel ?? 'vs counterpart' : suite.metrics.find((m) => m.key === c)!.label))];
}

/** One row's cells, formatted by each column's metric ('-' where the row has no value). */
export function cells(suite: Suite, r: Result, all: Result[]): string[] {
  return [...IDENTITY.map(([, f]) => f(r)), ...suite.columns.map((c) => {
    if (c === 'ratio') return ratio(ratioOf(r, all), isBaseline(r));
    if (c === 'counterpart') {
      const x = counterpartRatioOf(r, all);
      return x === undefined ? '-' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
    }
    const m = suite.metrics.find((x) => x.key === c)!;
    return typeof r[c] === 'number' ? m.format(r[c] as number) : '-';
  })];
}
