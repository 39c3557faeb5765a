// param-test: the kernel selftest's param_test on the emulated kernel. One run = one test type
// with one set of options, checked exactly; a failure reports the command line that replays it.
import { ABI } from '../abi.js';
import { UsageError } from '../errors.js';
import type { InjectionOptions } from '../kernel/policy.js';
import { Kernel, type ChromeTrace, type TraceOptions } from '../kernel/kernel.js';
import { prng } from '../kernel/prng.js';
import type { KernelStats } from '../kernel/stats.js';
import type { SupervisorOptions } from '../kernel/supervisor.js';
import { wasmPath } from '../paths.js';
import { ConsistencyError, TESTS, type TestType } from './tests.js';

export interface ParamTestOptions {
  test: TestType;
  threads: number;
  reps: number;
  cpus: number;
  /** Loops at injection points 1..9 (-1 = act every `modulo`-th pass). */
  loops: Record<number, number>;
  modulo: number;
  yield: boolean;
  signal: boolean;
  sleepMs: number;
  /** -M: store-release commits for buffer / memcpy pushes. */
  release: boolean;
  /** -d: no thread registers rseq. */
  disableRseq: boolean;
  /** -D M: every M-th thread does not register. */
  disableMod: number;
  mmCid: boolean;
  seed: number;
  supervisor: SupervisorOptions;
  /** Self-check: run a deliberately broken critical section (must be caught). */
  broken: boolean;
  verbose: boolean;
}

export const DEFAULTS: ParamTestOptions = {
  test: 's', threads: 200, reps: 5000, cpus: 2, loops: {}, modulo: 0, yield: false, signal: false, sleepMs: 0,
  release: false, disableRseq: false, disableMod: 0, mmCid: false, seed: 1, supervisor: {}, broken: false, verbose: false,
};

export interface ParamTestResult {
  ok: boolean;
  message: string;
  stats: KernelStats;
  ms: number;
  /** Of `ms`, the time the worker threads ran (the window injection rates are measured over). */
  runMs: number;
  /** The command line that replays this run. */
  replay: string;
}

/** The replay flags of the injection options param-test and alloc-test share (-1..-9, -m, -y, -k, -s). */
export function injectionFlags(o: { loops: Record<number, number>; modulo: number; yield: boolean; signal: boolean; sleepMs: number }): string[] {
  const a: string[] = [];
  for (const [p, n] of Object.entries(o.loops)) a.push(`-${p} ${n}`);
  if (o.modulo) a.push(`-m ${o.modulo}`);
  if (o.yield) a.push('-y');
  if (o.signal) a.push('-k');
  if (o.sleepMs) a.push(`-s ${o.sleepMs}`);
  return a;
}

/** The replay flags of a supervisor policy. */
export function supervisorFlags(s: SupervisorOptions): string[] {
  const a: string[] = [];
  if (s.preemptHz) a.push(`--preempt-hz ${s.preemptHz}`);
  if (s.migrateHz) a.push(`--migrate-hz ${s.migrateHz}`);
  if (s.signalHz) a.push(`--signal-hz ${s.signalHz}`);
  if (s.sliceMs !== undefined) a.push(`--slice-ms ${s.sliceMs}`);
  if (s.policy === 'periodic') a.push('--periodic');
  return a;
}

export function replayLine(o: ParamTestOptions): string {
  const a = ['wasm-rseq param-test', `-T ${o.test}`, `-t ${o.threads}`, `-r ${o.reps}`, `--cpus ${o.cpus}`, ...injectionFlags(o)];
  if (o.release) a.push('-M');
  if (o.disableRseq) a.push('-d');
  if (o.disableMod) a.push(`-D ${o.disableMod}`);
  if (o.mmCid) a.push('--mm-cid');
  a.push(...supervisorFlags(o.supervisor));
  if (o.broken) a.push('--broken');
  a.push(`--seed ${o.seed}`);
  return a.join(' ');
}

/** An integer option >= min, or a UsageError naming it. */
export function checkInt(v: number, name: string, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${name} must be an integer >= ${min} (got ${v})`);
}

/** The options param-test and alloc-test share: threads, reps, vCPUs and the injection points. */
export function validateRun(o: { threads: number; reps: number; cpus: number; modulo: number; sleepMs: number; loops: Record<number, number> }): void {
  checkInt(o.threads, '-t threads');
  if (o.threads > ABI.MAX_THREADS) throw new UsageError(`-t threads must be <= ${ABI.MAX_THREADS} (got ${o.threads})`);
  checkInt(o.reps, '-r reps', 0);
  checkInt(o.cpus, '--cpus', 1);
  if (o.cpus > ABI.MAX_CPUS) throw new UsageError(`--cpus must be <= ${ABI.MAX_CPUS} (got ${o.cpus})`);
  checkInt(o.modulo, '-m', 0);
  checkInt(o.sleepMs, '-s', 0);
  for (const [p, n] of Object.entries(o.loops)) {
    if (!/^[1-9]$/.test(p)) throw new UsageError(`injection point -${p} does not exist (1..9)`);
    if (!Number.isInteger(n) || n < -1) throw new UsageError(`-${p} loops must be an integer >= -1 (got ${n})`);
  }
}

export function validate(o: ParamTestOptions): void {
  if (!(o.test in TESTS)) throw new UsageError(`-T must be one of s, l, b, m, i, r (got '${o.test}')`);
  validateRun(o);
  checkInt(o.disableMod, '-D', 0);
  if (o.broken && o.test !== 'i') throw new UsageError('--broken applies to -T i only');
}

/**
 * Where a traced run (param-test or alloc-test --trace) leaves its trace: `trace` is set as the
 * run's kernel closes, whatever the outcome; `read` reads the kernel while it is open (a watchdog's
 * view of a run that hangs).
 */
export interface TraceSink extends TraceOptions { trace?: ChromeTrace; read?: () => ChromeTrace }

/** Create the run's kernel, tracing into `sink` when there is one. */
export async function createTracedKernel(options: Parameters<typeof Kernel.create>[0], sink?: TraceSink): Promise<Kernel> {
  const kernel = await Kernel.create({ ...options, trace: sink && { eventsPerThread: sink.eventsPerThread } });
  if (sink) sink.read = () => kernel.trace();
  return kernel;
}

/** Close the run's kernel, keeping its trace in `sink` first. */
export async function closeTracedKernel(kernel: Kernel, sink?: TraceSink): Promise<void> {
  try {
    if (sink) sink.trace = kernel.trace();
  } finally {
    if (sink) sink.read = undefined;
    await kernel.close();
  }
}

export async function runParamTest(o: ParamTestOptions, log: (line: string) => void = () => {}, sink?: TraceSink): Promise<ParamTestResult> {
  validate(o);
  const registered = (slot: number) => !o.disableRseq && !(o.disableMod > 0 && slot % o.disableMod === 0);
  const kernel = await createTracedKernel({
    cpus: o.cpus, threads: o.threads, seed: o.seed, register: registered, supervisor: o.supervisor,
  }, sink);
  const replay = replayLine(o);
  const t0 = performance.now();
  let runMs = 0;
  try {
    const module = await kernel.load(wasmPath('param_test'), 'param_test');
    if (o.broken) kernel.defineCriticalSection();
    const injection: InjectionOptions = { loops: o.loops, modulo: o.modulo, yield: o.yield, signal: o.signal, sleepMs: o.sleepMs };
    await kernel.inject(injection);
    const test = TESTS[o.test];
    const run = test.setup({
      kernel, module, mode: o.mmCid ? 1 : 0, mo: o.release ? 3 : 0, reps: o.reps, yieldBetween: o.yield,
      broken: o.broken, registered, random: prng(o.seed ^ 0x5eed), log,
    });
    let finished = false;
    const r0 = performance.now();
    const workers = kernel.run<number>(module, run.fn, run.args).finally(() => { finished = true; runMs = performance.now() - r0; });
    const during = run.during?.(() => finished);
    const [results] = await Promise.all([workers, during]);
    const done = results.sort((a, b) => a.thread - b.thread).map((r) => r.value);
    run.check(done);
    const stats = kernel.stats();
    return { ok: true, message: `${test.name}: OK`, stats, ms: performance.now() - t0, runMs, replay };
  } catch (e) {
    if (!(e instanceof ConsistencyError)) throw e;
    return { ok: false, message: `${TESTS[o.test].name}: ${e.message}`, stats: kernel.stats(), ms: performance.now() - t0, runMs, replay };
  } finally {
    await closeTracedKernel(kernel, sink);
  }
}
