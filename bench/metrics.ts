// The metrics a suite can declare: each names its row field, label, unit, which way is better, how
// it prints, and how it is reduced from a row's samples. Measuring and reports only go through these.
import { nanos, perOp, rate } from './report/format.js';
import type { Metric, SampleSet } from './suite.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const total = (set: SampleSet, count: string) => set.samples.reduce((a, s) => a + (s.counts[count] ?? 0), 0);

/** Per operation, over all samples, of a counted event (kernel statistics or a workload's own count). */
export const perOpOf = (count: string) => (set: SampleSet): number => (set.ops > 0 ? total(set, count) / set.ops : 0);
/** Per second of sampled wall time, over all samples. */
export const perSecOf = (...counts: string[]) => (set: SampleSet): number => counts.reduce((a, c) => a + total(set, c), 0) / set.secs;
/** The median sample's value of a workload's own count (bytes held, a latency percentile, ...). */
export const medianOf = (count: string) => (set: SampleSet): number => median(set.samples.map((s) => s.counts[count] ?? 0));

export const opsPerSec: Metric = {
  key: 'opsPerSec', label: 'ops/s', unit: 'ops/s', better: 'higher', format: rate, reduce: (set) => median(set.rates),
};
export const nsPerOp: Metric = {
  key: 'nsPerOp', label: 'ns/op', unit: 'ns', better: 'lower', format: nanos, reduce: (set) => 1e9 / median(set.rates),
};
export const abortsPerOp: Metric = {
  key: 'abortsPerOp', label: 'aborts/op', unit: '/op', better: 'lower', format: perOp, reduce: perOpOf('aborts'),
};
/** Per-thread latency: each thread's own ns per operation, averaged (median sample). */
export const nsPerOpThread: Metric = {
  key: 'nsPerOpThread', label: 'ns/op/thread', unit: 'ns', better: 'lower', format: nanos,
  reduce: (set) => median(set.samples.map((s) => s.nsPerOpThread)),
};
export const commitsPerOp: Metric = {
  key: 'commitsPerOp', label: 'commits/op', unit: '/op', better: 'higher', format: perOp, reduce: perOpOf('commits'),
};
/** Preemptions and migrations the threads acted on, per second (all threads). */
export const preemptionsPerSec: Metric = {
  key: 'preemptionsPerSec', label: 'preemptions/s', unit: '/s', better: 'lower', format: rate, reduce: perSecOf('preemptions'),
};
export const migrationsPerSec: Metric = {
  key: 'migrationsPerSec', label: 'migrations/s', unit: '/s', better: 'lower', format: rate, reduce: perSecOf('migrations'),
};
/** Preempt / migrate / signal requests the supervisor made, per second (all vCPUs). */
export const requestsPerSec: Metric = {
  key: 'requestsPerSec', label: 'requests/s', unit: '/s', better: 'lower', format: rate, reduce: perSecOf('requests'),
};
/** The injection rate requested (preempt + migrate requests per second per vCPU: the row's rate). */
export const requestedHz: Metric = {
  key: 'requestedHz', label: 'requested Hz/vCPU', unit: 'Hz', better: 'higher', format: rate, reduce: medianOf('requestedHz'),
};
/** The injection rate achieved: preempt + migrate requests the supervisor made per second per vCPU running a thread (kernel statistics). */
export const achievedHz: Metric = {
  key: 'achievedHz', label: 'achieved Hz/vCPU', unit: 'Hz', better: 'higher', format: rate, reduce: perSecOf('injectPerVcpu'),
};
/** Preemptions + migrations the threads acted on, per second. */
export const actedPerSec: Metric = {
  key: 'actedPerSec', label: 'acted/s', unit: '/s', better: 'lower', format: rate, reduce: perSecOf('preemptions', 'migrations'),
};

/** What every sampled suite records (the JSON rows' fields); reports show Suite.columns of them. */
export const STANDARD: Metric[] = [
  opsPerSec, nsPerOp, abortsPerOp, nsPerOpThread, commitsPerOp, preemptionsPerSec, migrationsPerSec, requestsPerSec,
];
/** The metrics every suite must declare (the JSON schema's rows). */
export const REQUIRED = ['opsPerSec', 'nsPerOp', 'abortsPerOp'];
/** The default table columns: metric keys, and 'ratio' (ops/s against the row's baseline). */
export const COLUMNS = ['opsPerSec', 'nsPerOp', 'ratio', 'abortsPerOp'];
