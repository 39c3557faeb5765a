// The measuring layer: creates the kernels, lays out each implementation's structure, calibrates
// iteration counts, runs the samples (all threads released together from the start barrier) and
// reduces them to results. Prints nothing: formatting lives in bench/report/.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, cpus as osCpus } from 'node:os';
import { Kernel, wasmPath, type KernelStats } from '../host/index.js';
import {
  IMPLS, JS_API_BASELINE, JS_API_CASES, SUITES, type BenchExports, type Env, type Impl, type Kind, type SuiteName, type Workload,
} from './suites.js';
import type { JsApiCaseResult, JsApiOptions } from './workers/js-api.js';

export interface MeasureOptions {
  /** vCPUs of every kernel. */
  cpus: number;
  /** Thread counts measured for every multi-threaded implementation. */
  threads: number[];
  /** Samples per (implementation, thread count); the median is reported. */
  repeat: number;
  /** Target wall time of one sample, ms (iteration counts are calibrated to it). */
  sampleMs: number;
  suites: SuiteName[];
  /** Injection suite: total injected requests per second per vCPU (half preempt, half migrate). */
  injectHz: number[];
  /** Supervisor time slice when threads outnumber vCPUs, ms. */
  sliceMs: number;
  /** benchmark.js settings of the js-api suite: seconds per case per round, samples, rounds. */
  jsApi: { maxTime: number; minSamples: number; rounds: number };
  seed: number;
}

/** One row: an implementation at one thread count (and injection rate). */
export interface Result {
  suite: SuiteName;
  impl: string;
  kind: Kind;
  role: 'write' | 'read';
  threads: number;
  vcpus: number;
  injectHz: number;
  /** Aggregate throughput: all threads' operations / wall time from the first thread's start to
   *  the last thread's end (median sample). */
  opsPerSec: number;
  /** 1e9 / opsPerSec: wall nanoseconds per operation across all threads. */
  nsPerOp: number;
  /** Aborted critical sections per operation (kernel statistics, all samples). */
  abortsPerOp: number;
  /** Per-thread latency: each thread's own ns per operation, averaged (median sample). */
  nsPerOpThread: number;
  /** Committed critical sections per operation (0 without rseq; absent where not counted: js-api). */
  commitsPerOp?: number;
  /** Preemptions and migrations the threads acted on, per second (all threads). */
  preemptionsPerSec: number;
  migrationsPerSec: number;
  /** Preempt / migrate / signal requests the supervisor made, per second (all vCPUs). */
  requestsPerSec: number;
  /** The implementation (and injection rate) this row's ratio is computed against. */
  baseline: { impl: string; injectHz: number };
  samples: number;
  /** Slowest and fastest sample, ops/s. */
  spread: [number, number];
  itersPerThread: number;
  /** benchmark.js relative margin of error of the median round, % (js-api only; samples = rounds). */
  rme?: number;
}

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
  suites: SuiteName[];
  seed: number;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAvg: number;
  /** Cores' worth of CPU time other processes used during the run (machine busy time minus ours). */
  otherLoad?: number;
  durationSec?: number;
}

export interface Measurement { meta: Meta; results: Result[] }

/** Where the run is: called before each unit of work (a sample, a calibration, a js-api case). */
export interface ProgressSink {
  start(total: number): void;
  step(label: string, units?: number): void;
  log(line: string): void;
}

/** One round: every implementation of a suite at one thread count, sampled in turn. */
interface Round { suite: SuiteName; impls: Impl[]; threads: number }
interface Sample { ops: number; wallMs: number; nsPerOpThread: number; aborts: number; commits: number; preemptions: number; migrations: number; requests: number }

const MAX_ITERS = 2 ** 31 - 1;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** CPU time all cores spent busy since boot, ms. */
function machineBusyMs(): number {
  return osCpus().reduce((a, c) => a + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

export function defaultCpus(): number {
  return Math.min(32, availableParallelism());
}

/** The rounds to run and how many progress units they take (for a bar's total). */
function plan(o: MeasureOptions): { main: Round[]; injection: Round[]; units: number } {
  const rounds = (suite: Exclude<SuiteName, 'js-api'>): Round[] => o.threads.map((threads) => ({
    suite, threads, impls: IMPLS[suite].filter((i) => (i.onlyThreads ?? o.threads).includes(threads)),
  })).filter((r) => r.impls.length > 0);
  const main = o.suites.filter((s): s is Exclude<SuiteName, 'js-api' | 'injection'> => s !== 'js-api' && s !== 'injection').flatMap(rounds);
  const injection = o.suites.includes('injection') ? rounds('injection') : [];
  const per = (rs: Round[]) => rs.reduce((a, r) => a + r.impls.length * (o.repeat + 2), 0);
  const units = per(main) + per(injection) * o.injectHz.length + (o.suites.includes('js-api') ? JS_API_CASES.length : 0);
  return { main, injection, units };
}

/**
 * Measure every suite of `o` on one kernel. Within a round the implementations (and, for the
 * injection suite, the rates) are sampled in turn (sample 1 of each, then sample 2, ...), so load
 * that drifts during the run hits them alike and the ratios stay fair. Throws CheckError as soon
 * as a structure fails its check.
 */
export async function measure(o: MeasureOptions, progress: ProgressSink): Promise<Measurement> {
  const t0 = performance.now();
  const busy0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const meta: Meta = {
    node: process.version, v8: process.versions.v8, cpus: availableParallelism(), cpuModel: osCpus()[0]?.model ?? 'unknown',
    vcpus: o.cpus, date: new Date().toISOString(), platform: process.platform, arch: process.arch, version: packageVersion(),
    threads: o.threads, repeat: o.repeat, sampleMs: o.sampleMs, sliceMs: o.sliceMs, injectHz: o.injectHz,
    injection: 'supervisor policy periodic; injectHz/2 preemptions + injectHz/2 migrations per second per vCPU',
    suites: o.suites, seed: o.seed, loadAvg: Math.round(loadavg()[0] * 100) / 100,
  };
  const { main, injection, units } = plan(o);
  progress.start(units);
  const results: Result[] = [];
  const maxThreads = Math.max(...o.threads);

  if (main.length > 0 || o.suites.includes('js-api') || injection.length > 0) {
    await withKernel(o, maxThreads, async (env) => {
      for (const round of main) results.push(...(await measureRound(env, round, [0], o, progress)));
      if (o.suites.includes('js-api')) results.push(...(await measureJsApi(env, o, progress)));
      // Every rate in turn within each repeat, on one kernel: drifting load hits all rates alike.
      for (const round of injection) results.push(...(await measureRound(env, round, o.injectHz, o, progress)));
    });
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  meta.otherLoad = Math.max(0, Math.round(((machineBusyMs() - busy0 - (cpu.user + cpu.system) / 1000) / wall) * 100) / 100);
  meta.durationSec = Math.round(wall / 100) / 10;
  return { meta, results: order(results) };
}

/** Rows in report order: suite, implementation (as defined), injection rate, threads. */
function order(results: Result[]): Result[] {
  const suiteIdx = (r: Result) => SUITES.indexOf(r.suite);
  const implIdx = (r: Result) => (r.suite === 'js-api' ? JS_API_CASES.findIndex((c) => c.id === r.impl) : IMPLS[r.suite].findIndex((i) => i.id === r.impl));
  return [...results].sort((a, b) => suiteIdx(a) - suiteIdx(b) || a.injectHz - b.injectHz || implIdx(a) - implIdx(b) || a.threads - b.threads);
}

/** The supervisor policy of the injection suite at `hz` requests per second per vCPU. */
const injectAt = (o: MeasureOptions, hz: number) => ({ sliceMs: o.sliceMs, preemptHz: hz / 2, migrateHz: hz / 2, policy: 'periodic' as const });

/** A kernel with `threads` threads, no injection yet, and build/bench.wasm loaded. */
async function withKernel(o: MeasureOptions, threads: number, body: (env: Env) => Promise<void>): Promise<void> {
  const k = await Kernel.create({ cpus: o.cpus, threads, seed: o.seed, supervisor: injectAt(o, 0) });
  try {
    const m = await k.load(wasmPath('bench'), 'bench');
    await body({ k, m, x: k.host(m) as unknown as BenchExports, maxThreads: threads });
  } finally {
    await k.close();
  }
}

async function measureRound(env: Env, round: Round, rates: number[], o: MeasureOptions, progress: ProgressSink): Promise<Result[]> {
  const { threads } = round;
  const label = (impl: Impl, hz: number) => `${impl.suite} ${impl.id} x${threads}${hz ? ` @${hz} Hz` : ''}`;
  env.k.resetAllocations();
  const slots = Array.from({ length: threads }, (_, i) => i);
  const runs = rates.flatMap((hz) => round.impls.map((impl) => ({ impl, hz, w: impl.prepare(env), iters: 0, samples: [] as Sample[] })));
  let rate = 0;
  const at = async (hz: number) => {
    if (hz !== rate) await env.k.supervise(injectAt(o, hz));
    rate = hz;
  };
  for (const run of runs) {
    progress.step(`${label(run.impl, run.hz)} (calibrating)`, 0);
    await at(run.hz);
    run.iters = await calibrate(env, run.w, slots, o.sampleMs);
    progress.step(`${label(run.impl, run.hz)} (calibrating)`, 2);
  }
  for (let r = 0; r < o.repeat; r++) {
    for (const run of runs) {
      progress.step(label(run.impl, run.hz), 0);
      await at(run.hz);
      run.samples.push(await sample(env, run.w, slots, run.iters));
      progress.step(label(run.impl, run.hz), 1);
    }
  }
  await at(0);
  return runs.map(({ impl, hz, iters, samples }) => reduce(impl, threads, env.k.cpus, hz, iters, samples));
}

/** One row from an implementation's samples: the median throughput, statistics over all samples. */
function reduce(impl: Impl, threads: number, vcpus: number, hz: number, iters: number, samples: Sample[]): Result {
  const rates = samples.map((s) => s.ops / (s.wallMs / 1000));
  const ops = samples.reduce((a, s) => a + s.ops, 0);
  const secs = samples.reduce((a, s) => a + s.wallMs, 0) / 1000;
  const opsPerSec = median(rates);
  const perOp = (f: (s: Sample) => number) => (ops > 0 ? samples.reduce((a, s) => a + f(s), 0) / ops : 0);
  return {
    suite: impl.suite, impl: impl.id, kind: impl.kind, role: impl.role, threads, vcpus, injectHz: hz,
    opsPerSec, nsPerOp: 1e9 / opsPerSec, abortsPerOp: perOp((s) => s.aborts),
    nsPerOpThread: median(samples.map((s) => s.nsPerOpThread)), commitsPerOp: perOp((s) => s.commits),
    preemptionsPerSec: samples.reduce((a, s) => a + s.preemptions, 0) / secs,
    migrationsPerSec: samples.reduce((a, s) => a + s.migrations, 0) / secs,
    requestsPerSec: samples.reduce((a, s) => a + s.requests, 0) / secs,
    baseline: { impl: impl.baseline, injectHz: impl.suite === 'injection' ? 0 : hz },
    samples: samples.length, spread: [Math.min(...rates), Math.max(...rates)], itersPerThread: iters,
  };
}

/** One sample: kernel statistics around one barrier-started run. */
async function sample(env: Env, w: Workload, slots: number[], iters: number): Promise<Sample> {
  const before = env.k.stats();
  const out = await w.run(slots, iters);
  const after = env.k.stats();
  const delta = (f: (s: KernelStats) => number) => f(after) - f(before);
  const perThread = out.ops.map((n, i) => (n > 0 ? ((out.end[i] - out.start[i]) * 1e6) / n : 0));
  return {
    ops: out.ops.reduce((a, b) => a + b, 0), wallMs: Math.max(Math.max(...out.end) - Math.min(...out.start), 1e-3),
    nsPerOpThread: perThread.reduce((a, b) => a + b, 0) / perThread.length,
    aborts: delta((s) => s.aborts), commits: delta((s) => s.commits),
    preemptions: delta((s) => s.preemptions), migrations: delta((s) => s.migrations),
    requests: delta((s) => s.cpus.reduce((a, c) => a + c.requested.preempt + c.requested.migrate + c.requested.signal, 0)),
  };
}

/**
 * Iterations per thread for a sample of about `targetMs`: grow from a small run until one takes a
 * fifth of the target, then run once more at the scaled size (which also finishes the JIT tier-up)
 * and scale again. The runs are checked like samples but not reported.
 */
async function calibrate(env: Env, w: Workload, slots: number[], targetMs: number): Promise<number> {
  let iters = 512;
  for (let round = 0; round < 16; round++) {
    const s = await sample(env, w, slots, iters);
    if (s.wallMs >= targetMs / 5) break;
    iters = Math.min(MAX_ITERS, Math.ceil(iters * Math.min(64, Math.max(2, targetMs / 2 / s.wallMs))));
  }
  const s = await sample(env, w, slots, iters);
  return Math.max(1, Math.min(MAX_ITERS, Math.round((iters * targetMs) / s.wallMs)));
}

/** The js-api suite: one thread, benchmark.js inside the worker, one op per JS call. */
async function measureJsApi(env: Env, o: MeasureOptions, progress: ProgressSink): Promise<Result[]> {
  const { k } = env;
  k.resetAllocations();
  const words = k.alloc(3 * 128, 128);
  const opts: JsApiOptions = {
    bench: env.m.id, base: k.allocPerCpu(8), atomicWord: words, jsWord: words + 128, plainWord: words + 256,
    maxTime: o.jsApi.maxTime, minSamples: o.jsApi.minSamples, rounds: o.jsApi.rounds,
  };
  progress.step('js-api (benchmark.js, 1 thread)', 0);
  const before = k.stats();
  const { value } = await k.runScript<JsApiCaseResult[]>(0, new URL('./workers/js-api.js', import.meta.url), 'jsApi', opts);
  const after = k.stats();
  progress.step('js-api (benchmark.js, 1 thread)', JS_API_CASES.length);
  const commits = after.commits - before.commits;
  const abortsPerOp = commits > 0 ? (after.aborts - before.aborts) / commits : 0;
  return value.map((c) => {
    const def = JS_API_CASES.find((d) => d.id === c.id)!;
    return {
      suite: 'js-api', impl: c.id, kind: def.kind, role: 'write', threads: 1, vcpus: k.cpus, injectHz: 0,
      opsPerSec: c.hz, nsPerOp: 1e9 / c.hz, abortsPerOp: def.kind === 'rseq' ? abortsPerOp : 0, nsPerOpThread: 1e9 / c.hz,
      preemptionsPerSec: 0, migrationsPerSec: 0, requestsPerSec: 0,
      baseline: { impl: JS_API_BASELINE, injectHz: 0 }, samples: c.rounds.length, spread: [Math.min(...c.rounds), Math.max(...c.rounds)],
      itersPerThread: 1, rme: c.rme,
    } satisfies Result;
  });
}
