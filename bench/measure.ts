// The measuring layer: one kernel for the run, each selected suite measured by its runner (default:
// bench/harness.ts's sampler), the rows put in report order, and the run's context. Prints nothing:
// formatting lives in bench/report/.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, cpus as osCpus } from 'node:os';
import { INJECTION, sampled, withKernel } from './harness.js';
import { REQUIRED } from './metrics.js';
import type { Measurement, Meta, Result } from './result.js';
import { SUITES, type Suite } from './suite.js';

export type { Measurement, Meta, Result } from './result.js';

export interface MeasureOptions {
  /** vCPUs of every kernel. */
  cpus: number;
  /** Thread counts measured for every multi-threaded implementation. */
  threads: number[];
  /** Samples per (implementation, thread count); the median is reported. */
  repeat: number;
  /** Target wall time of one sample, ms (iteration counts are calibrated to it). */
  sampleMs: number;
  /** Ids of the suites to run (of the registry measure() is given). */
  suites: string[];
  /** Injection suite: total injected requests per second per vCPU (half preempt, half migrate). */
  injectHz: number[];
  /** Supervisor time slice when threads outnumber vCPUs, ms. */
  sliceMs: number;
  /** benchmark.js settings of the js-api suite: seconds per case per round, samples, rounds. */
  jsApi: { maxTime: number; minSamples: number; rounds: number };
  seed: number;
}

/** Where the run is: called before each unit of work (a sample, a calibration, a js-api case). */
export interface ProgressSink {
  start(total: number): void;
  step(label: string, units?: number): void;
  log(line: string): void;
}

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

/** A suite the measuring layer can run: the row fields every suite must record, a metric per key. */
function validate(s: Suite): void {
  const keys = s.metrics.map((m) => m.key);
  for (const k of REQUIRED) if (!keys.includes(k)) throw new TypeError(`bench: suite ${s.id} must declare the metric ${k}`);
  for (const c of s.columns) if (c !== 'ratio' && c !== 'counterpart' && !keys.includes(c)) throw new TypeError(`bench: suite ${s.id}: column ${c} is not one of its metrics`);
}

/** Rows in report order: suite, injection rate, implementation (as defined), threads. */
function order(results: Result[], suites: readonly Suite[]): Result[] {
  const suiteIdx = (r: Result) => suites.findIndex((s) => s.id === r.suite);
  const implIdx = (r: Result) => suites[suiteIdx(r)].impls.findIndex((i) => i.id === r.impl);
  return [...results].sort((a, b) => suiteIdx(a) - suiteIdx(b) || a.injectHz - b.injectHz || implIdx(a) - implIdx(b) || a.threads - b.threads);
}

/**
 * Measure the suites `o.suites` of `registry` (default: every suite of `npm run bench`) on one
 * kernel, in registry order. Throws CheckError as soon as a structure fails its check.
 */
export async function measure(o: MeasureOptions, progress: ProgressSink, registry: readonly Suite[] = SUITES): Promise<Measurement> {
  const t0 = performance.now();
  const busy0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const meta: Meta = {
    node: process.version, v8: process.versions.v8, cpus: availableParallelism(), cpuModel: osCpus()[0]?.model ?? 'unknown',
    vcpus: o.cpus, date: new Date().toISOString(), platform: process.platform, arch: process.arch, version: packageVersion(),
    threads: o.threads, repeat: o.repeat, sampleMs: o.sampleMs, sliceMs: o.sliceMs, injectHz: o.injectHz,
    injection: INJECTION, suites: o.suites, seed: o.seed, loadAvg: Math.round(loadavg()[0] * 100) / 100,
  };
  for (const id of o.suites) if (!registry.some((s) => s.id === id)) throw new TypeError(`bench: unknown suite '${id}'`);
  const selected = registry.filter((s) => o.suites.includes(s.id));
  selected.forEach(validate);
  progress.start(selected.reduce((a, s) => a + (s.runner ?? sampled).units(s, o), 0));
  const results: Result[] = [];
  if (selected.length > 0) {
    await withKernel(o, Math.max(...o.threads), async (env) => {
      for (const suite of selected) {
        const skip = (what: string, why: string) => {
          (meta.skipped ??= []).push({ suite: suite.id, what, why });
          progress.log(`${what} skipped: ${why}`);
        };
        const note = (line: string) => { ((meta.notes ??= {})[suite.id] ??= []).push(line); };
        results.push(...(await (suite.runner ?? sampled).run({ env, suite, o, progress, skip, note })));
      }
    });
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  meta.otherLoad = Math.max(0, Math.round(((machineBusyMs() - busy0 - (cpu.user + cpu.system) / 1000) / wall) * 100) / 100);
  meta.durationSec = Math.round(wall / 100) / 10;
  return { meta, results: order(results, registry), suites: registry };
}
