// The measuring layer: creates the kernels, lays out each implementation's structure, calibrates
// iteration counts, runs the samples (all threads released together from the start barrier) and
// reduces them to results. Prints nothing: formatting lives in bench/report/.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, cpus as osCpus } from 'node:os';
import { Kernel, wasmPath, type KernelStats } from '../host/index.js';
import {
  IMPLS, JS_API_BASELINE, JS_API_CASES, type BenchExports, type Env, type Impl, type Kind, type SuiteName, type Workload,
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
  /** benchmark.js settings of the js-api suite. */
  jsApi: { maxTime: number; minSamples: number };
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
  /** benchmark.js relative margin of error, % (js-api only). */
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
  durationSec?: number;
}

export interface Measurement { meta: Meta; results: Result[] }

/** Where the run is: called before each unit of work (a sample, a calibration, a js-api case). */
export interface ProgressSink {
  start(total: number): void;
  step(label: string, units?: number): void;
  log(line: string): void;
}

interface Job { impl: Impl; threads: number }
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

export function defaultCpus(): number {
  return Math.min(32, availableParallelism());
}

/** How many progress units `o` will take (for a bar's total). */
function plan(o: MeasureOptions): { main: Job[]; injection: Job[]; units: number } {
  const jobs = (impls: Impl[]) => impls.flatMap((impl) => (impl.onlyThreads ?? o.threads).map((threads) => ({ impl, threads })));
  const main = o.suites.filter((s): s is Exclude<SuiteName, 'js-api' | 'injection'> => s !== 'js-api' && s !== 'injection')
    .flatMap((s) => jobs(IMPLS[s]));
  const injection = o.suites.includes('injection') ? jobs(IMPLS.injection) : [];
  const per = o.repeat + 2;
  const units = main.length * per + injection.length * o.injectHz.length * per + (o.suites.includes('js-api') ? JS_API_CASES.length : 0);
  return { main, injection, units };
}

export async function measure(o: MeasureOptions, progress: ProgressSink): Promise<Measurement> {
  const t0 = performance.now();
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

  if (main.length > 0 || o.suites.includes('js-api')) {
    await withKernel(o, maxThreads, 0, async (env) => {
      for (const job of main) results.push(await measureJob(env, job, 0, o, progress));
      if (o.suites.includes('js-api')) results.push(...(await measureJsApi(env, o, progress)));
    });
  }
  for (const hz of o.injectHz) {
    if (injection.length === 0) break;
    await withKernel(o, maxThreads, hz, async (env) => {
      for (const job of injection) results.push(await measureJob(env, job, hz, o, progress));
    });
  }
  meta.durationSec = Math.round((performance.now() - t0) / 100) / 10;
  return { meta, results };
}

/** A kernel with `threads` threads, the supervisor injecting at `hz`, and build/bench.wasm loaded. */
async function withKernel(o: MeasureOptions, threads: number, hz: number, body: (env: Env) => Promise<void>): Promise<void> {
  const k = await Kernel.create({
    cpus: o.cpus, threads, seed: o.seed,
    supervisor: { sliceMs: o.sliceMs, preemptHz: hz / 2, migrateHz: hz / 2, policy: 'periodic' },
  });
  try {
    const m = await k.load(wasmPath('bench'), 'bench');
    await body({ k, m, x: k.host(m) as unknown as BenchExports, maxThreads: threads });
  } finally {
    await k.close();
  }
}

async function measureJob(env: Env, job: Job, hz: number, o: MeasureOptions, progress: ProgressSink): Promise<Result> {
  const { impl, threads } = job;
  const label = `${impl.suite} ${impl.id} x${threads}${hz ? ` @${hz} Hz` : ''}`;
  env.k.resetAllocations();
  const w = impl.prepare(env);
  const slots = Array.from({ length: threads }, (_, i) => i);
  progress.step(`${label} (calibrating)`, 0);
  const iters = await calibrate(env, w, slots, o.sampleMs);
  progress.step(`${label} (calibrating)`, 2);
  const samples: Sample[] = [];
  for (let r = 0; r < o.repeat; r++) {
    progress.step(label, 0);
    samples.push(await sample(env, w, slots, iters));
    progress.step(label, 1);
  }
  const rates = samples.map((s) => s.ops / (s.wallMs / 1000));
  const ops = samples.reduce((a, s) => a + s.ops, 0);
  const secs = samples.reduce((a, s) => a + s.wallMs, 0) / 1000;
  const opsPerSec = median(rates);
  const perOp = (f: (s: Sample) => number) => (ops > 0 ? samples.reduce((a, s) => a + f(s), 0) / ops : 0);
  return {
    suite: impl.suite, impl: impl.id, kind: impl.kind, role: impl.role, threads, vcpus: env.k.cpus, injectHz: hz,
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
    maxTime: o.jsApi.maxTime, minSamples: o.jsApi.minSamples,
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
      baseline: { impl: JS_API_BASELINE, injectHz: 0 }, samples: c.samples, spread: [c.hz, c.hz], itersPerThread: 1, rme: c.rme,
    } satisfies Result;
  });
}
