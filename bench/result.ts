// What a run produces: one row per implementation, thread count and injection rate, plus the run's
// context (machine, runtime, settings). The JSON report is these rows as they are.
import type { Kind, Role, Suite } from './suite.js';

/**
 * One row. Every suite declares at least opsPerSec, nsPerOp and abortsPerOp; its other metrics
 * (Suite.metrics) are fields of the row under their key, alongside these.
 */
export interface Result {
  suite: string;
  impl: string;
  kind: Kind;
  role: Role;
  threads: number;
  vcpus: number;
  injectHz: number;
  /** Aggregate throughput: all threads' operations / wall time (median sample). */
  opsPerSec: number;
  /** 1e9 / opsPerSec: wall nanoseconds per operation across all threads. */
  nsPerOp: number;
  /** Aborted critical sections per operation (kernel statistics, all samples). */
  abortsPerOp: number;
  /** The implementation (and injection rate) this row's ratio is computed against. */
  baseline: { impl: string; injectHz: number };
  samples: number;
  /** Slowest and fastest sample, ops/s. */
  spread: [number, number];
  itersPerThread: number;
  /** Measured natively (outside the emulation). */
  native?: boolean;
  /** The implementation the 'counterpart' column compares this row with (same threads and rate). */
  counterpart?: string;
  /** The suite's other metrics, by key. */
  [metric: string]: unknown;
}

/** A row's value of metric `key` (undefined if the row has none). */
export const valueOf = (r: Result, key: string): number | undefined => (typeof r[key] === 'number' ? (r[key] as number) : undefined);

export interface Meta {
  node: string;
  v8: string;
  cpus: number;
  cpuModel: string;
  vcpus: number;
  date: string;
  platform: string;
  arch: string;
  version: string;
  threads: number[];
  repeat: number;
  sampleMs: number;
  sliceMs: number;
  injectHz: number[];
  injection: string;
  suites: string[];
  seed: number;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAvg: number;
  /** Cores' worth of CPU time other processes used during the run (machine busy time minus ours). */
  otherLoad?: number;
  durationSec?: number;
  /** Rows a suite's runner could not produce on this machine, and why. */
  skipped?: { suite: string; what: string; why: string }[];
  /** Lines a suite's runner added under its table (by suite id). */
  notes?: Record<string, string[]>;
}

/** A run: its context, its rows, and the definitions of the suites measured (not serialised). */
export interface Measurement { meta: Meta; results: Result[]; suites: readonly Suite[] }
