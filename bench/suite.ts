// What a suite is: data. Its implementations (how each lays out its structure and which loop its
// threads run), its metrics and table columns, its baseline, its targets; and the registry of the
// suites `npm run bench` knows, in report order. Measuring (bench/measure.ts, bench/harness.ts) and
// the reports (bench/report/) only read these fields: no suite is special-cased by name.
import type { Kernel, ModuleHandle } from '../host/index.js';
import type { engineOf } from '../host/internal.js';
import type { TargetDef } from './analysis.js';
import type { MeasureOptions, ProgressSink } from './measure.js';
import type { Meta, Result } from './result.js';
import { alloc } from './suites/alloc.js';
import { anatomy } from './suites/anatomy.js';
import { buffer } from './suites/buffer.js';
import { counter } from './suites/counter.js';
import { injection } from './suites/injection.js';
import { jsApi } from './suites/js-api.js';
import { list } from './suites/list.js';
import { memcpy } from './suites/memcpy.js';
import { pool } from './suites/pool.js';
import { service } from './suites/service.js';
import { slice } from './suites/slice.js';
import { umcg } from './suites/umcg.js';
import { spinlock } from './suites/spinlock.js';

/** What an implementation is built from: the axis the report colours by. */
export type Kind = 'rseq' | 'atomic' | 'lock' | 'plain' | 'js';
/** 'read' for the read side of the counter (compared with the atomic read, not the atomic add). */
export type Role = 'write' | 'read';
export type Engine = ReturnType<typeof engineOf>;

/** Everything a workload needs to lay itself out: the kernel, its engine, the bench module. */
export interface Env {
  readonly k: Kernel;
  /** The kernel's internals (view, plan, abi), through host/internal.ts. */
  readonly e: Engine;
  readonly m: ModuleHandle;
  readonly x: BenchExports;
  /** Threads the kernel has (the most any sample uses). */
  readonly maxThreads: number;
}

/** One sample's raw outcome: per participating thread, the operations done and its loop's time
 *  from the common start barrier (ms); `counts` adds a workload's own figures to the sample. */
export interface RunOutcome { ops: number[]; ms: number[]; counts?: Record<string, number> }

/** A laid-out structure ready to be measured. run() also checks the structure afterwards (throws). */
export interface Workload {
  run(slots: number[], iters: number): Promise<RunOutcome>;
}

export interface Impl {
  /** Short stable id, used in tables, JSON and charts. */
  readonly id: string;
  readonly kind: Kind;
  readonly role?: Role;
  /** The implementation of the same suite this one's ratio is computed against. */
  readonly baseline: string;
  /** One line: what one operation is. */
  readonly what: string;
  /** Thread counts this implementation is measured at, whatever --threads says (default: all). */
  readonly onlyThreads?: number[];
  /** Lay out the structure (sampled suites; a suite with its own runner may leave it out). */
  prepare?(env: Env): Workload;
  /** Measured outside the emulation (a native program on the real kernel): `native: true` in its rows. */
  readonly native?: boolean;
  /** Another implementation of the suite this one is compared with in the 'counterpart' column
   *  (the counter: a wasm implementation's native equivalent), at the same threads and rate. */
  readonly counterpart?: string;
}

/** One sample as the metrics see it: kernel statistics deltas and the workload's counts by name. */
export interface Sample { ops: number; wallMs: number; nsPerOpThread: number; counts: Record<string, number> }
/** A row's samples: each one's ops/s, and the operations and wall seconds over all of them. */
export interface SampleSet { samples: Sample[]; rates: number[]; ops: number; secs: number }

export interface Metric {
  /** The row field (JSON) this metric is stored under. */
  readonly key: string;
  /** Column heading. */
  readonly label: string;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  format(x: number): string;
  /** Reduce a row's samples (sampled suites); a suite with its own runner fills the field itself. */
  reduce?(set: SampleSet): number;
}

/** How a suite's rows are produced. The default (bench/harness.ts) samples Impl.prepare workloads. */
export interface Runner {
  /** Progress units this suite takes with options `o`. */
  units(suite: Suite, o: MeasureOptions): number;
  run(ctx: RunContext): Promise<Result[]>;
}

export interface RunContext {
  env: Env;
  suite: Suite;
  o: MeasureOptions;
  progress: ProgressSink;
  /** Rows this runner could not produce here (`what`, e.g. 'native rows') and why: printed once,
   *  recorded in Meta.skipped (targets needing them say why they are n/a). */
  skip(what: string, why: string): void;
  /** A line printed under the suite's table (recorded in Meta.notes). */
  note(line: string): void;
}

export interface Suite {
  readonly id: string;
  /** One line: what the suite compares. */
  readonly title: string;
  readonly impls: readonly Impl[];
  /** Recorded in every row (must include opsPerSec, nsPerOp, abortsPerOp). */
  readonly metrics: readonly Metric[];
  /** Table columns after impl / threads / vcpus / inject Hz: metric keys, 'ratio', or 'counterpart'. */
  readonly columns: readonly string[];
  /** Heading of the 'counterpart' column: the row's ns/op over its Impl.counterpart's (default 'vs counterpart'). */
  readonly counterpartLabel?: string;
  /** What the ratios are against, in words (default: the implementations' baselines). */
  readonly baseline?: string;
  /** Injection rates the suite is measured at, requests/s per vCPU (default [0]). */
  rates?(o: MeasureOptions): number[];
  /** The rate of each row's baseline row (default: the row's own rate). */
  readonly baselineRate?: number;
  /** The targets judged from this suite's rows (reported, never asserted). */
  readonly targets?: readonly TargetDef[];
  /** Lines printed under the suite's table. */
  notes?(meta: Meta): string[];
  /** Default: sample each implementation's workload (bench/harness.ts). */
  readonly runner?: Runner;
}

/** The main-thread exports of build/bench.wasm used for set-up and checks (bench/assembly/workloads.ts). */
export interface BenchExports {
  list_build(head: number, nodes: number, n: number, stride: number, value0: number): void;
  list_count(head: number, limit: number): number;
  list_sum(head: number, limit: number): bigint;
  buffer_build(b: number, cap: number, n: number, value0: number): void;
  buffer_count(b: number): number;
  buffer_sum(b: number): bigint;
  memcpy_build(b: number, cap: number, n: number, value0: number): void;
  memcpy_count(b: number): number;
  memcpy_sum(b: number): bigint;
  mpmc_build(q: number, cap: number, payload: number): void;
  mpmc_fill(q: number, n: number, value0: number): number;
  mpmc_fill_items(q: number, scratch: number, n: number, value0: number): number;
  mpmc_count(q: number): number;
  mpmc_sum(q: number, items: number): bigint;
  counter_sum(base: number): bigint;
  spinlock_sum(lock: number, cpus: number): bigint;
  ITEM_SIZE: WebAssembly.Global;
}

/** Every suite, in the order they run and are reported. */
export const SUITES: readonly Suite[] = [counter, anatomy, spinlock, list, buffer, memcpy, jsApi, injection, service, pool, alloc, slice, umcg];
export const SUITE_IDS: readonly string[] = SUITES.map((s) => s.id);
