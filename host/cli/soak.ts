// `wasm-rseq soak`: the param-test matrix under random injection, round after round, until the time
// is up. Every run is checked exactly; a watchdog catches deadlock; memory (RSS) is watched. Any
// violation prints the seed and the command line that replays it, and the exit code is 1. With a
// check target (soak-target.ts) the runs are drawn for it instead, and replay as param-test --target.
import { WatchdogError } from '../errors.js';
import { prng } from '../kernel/prng.js';
import { DEFAULTS, replayLine, runParamTest, type ParamTestOptions, type ParamTestResult, type TraceSink } from '../param-test/run.js';
import { traceSink, writeTrace } from './trace-file.js';
import type { TestType } from '../param-test/tests.js';
import { runTargetTest, targetReplayLine } from '../param-test/target.js';
import { drawTargetRun, type SoakTarget } from './soak-target.js';

export interface SoakOptions {
  minutes: number; seed: number; cpus: number; watchdogSeconds: number; verbose?: boolean; log: (s: string) => void;
  /** Write the trace of the first failing run (or, when none fails, of the last run) here. */
  traceFile?: string;
  /** Events kept per thread in the traced runs' rings (default: the kernel's). */
  traceEvents?: number;
  /** Soak this check target (on 1..cpus vCPUs) instead of the param-test matrix. */
  target?: SoakTarget;
  /** Stop after this many runs even if time is left. */
  runs?: number;
}

/** One drawn run: the line that replays it, and how to start it. */
interface SoakRun { replay: string; start: (sink?: TraceSink) => Promise<ParamTestResult> }

function nextRun(o: SoakOptions, random: () => number): SoakRun {
  const seed = Math.floor(random() * 2 ** 31);
  if (o.target) {
    const t = drawTargetRun(random, o.target, o.cpus, seed);
    return { replay: targetReplayLine(t), start: (sink) => runTargetTest(t, undefined, sink) };
  }
  const p = drawRun(random, o.cpus, seed);
  return { replay: replayLine(p), start: (sink) => runParamTest(p, undefined, sink) };
}

const TYPES: TestType[] = ['s', 'l', 'b', 'm', 'i', 'r'];

/** One randomly drawn param-test configuration: the draw itself is replayable from the seed. */
export function drawRun(random: () => number, cpus: number, seed: number): ParamTestOptions {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const test = pick(TYPES);
  const point = 1 + Math.floor(random() * 9);
  const kind = pick(['loop', 'yield', 'signal', 'sleep', 'none'] as const);
  const o: ParamTestOptions = {
    ...DEFAULTS, test, cpus, seed, threads: cpus * pick([1, 3, 6]), reps: pick([200, 1000, 5000]),
    mmCid: random() < 0.5, release: (test === 'b' || test === 'm') && random() < 0.5,
    disableMod: random() < 0.1 ? 3 : 0,
    supervisor: { preemptHz: pick([0, 1000, 10000]), migrateHz: pick([0, 1000, 5000]), signalHz: pick([0, 500]), sliceMs: pick([0.5, 2]) },
  };
  if (kind === 'loop') o.loops = { [point]: pick([1000, 10000]) };
  else if (kind !== 'none') {
    o.loops = { [pick([7, 8, 9])]: -1 };
    o.modulo = pick([1, 2, 4]);
    o.yield = kind === 'yield';
    o.signal = kind === 'signal';
    if (kind === 'sleep') { o.sleepMs = 1; o.reps = 50; }
  }
  return o;
}

export async function soak(o: SoakOptions): Promise<boolean> {
  const random = prng(o.seed);
  const deadline = Date.now() + o.minutes * 60_000;
  let runs = 0, commits = 0, aborts = 0, peakRss = 0;
  const rss0 = process.memoryUsage().rss;
  let ok = true;
  let traced: { run: number; sink: TraceSink } | undefined;
  while (Date.now() < deadline && ok && !(o.runs !== undefined && runs >= o.runs)) {
    const run = nextRun(o, random);
    if (o.verbose) o.log(run.replay);
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WatchdogError(o.watchdogSeconds)), o.watchdogSeconds * 1000);
    });
    const sink = traceSink({ trace: o.traceFile, traceEvents: o.traceEvents });
    if (sink) traced = { run: runs + 1, sink };
    try {
      const r = await Promise.race([run.start(sink), watchdog]);
      runs++;
      commits += r.stats.commits;
      aborts += r.stats.aborts;
      if (!r.ok) {
        ok = false;
        o.log(`VIOLATION: ${r.message}\nreplay: ${r.replay}`);
      }
    } catch (e) {
      ok = false;
      o.log(`FAILURE: ${(e as Error).message}\nreplay: ${run.replay}`);
      // A run that hangs still has its kernel open: read its rings now.
      if (sink && !sink.trace) sink.trace = sink.read?.();
    } finally {
      clearTimeout(timer);
    }
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    if (runs % 10 === 0) o.log(`soak: ${runs} runs, ${commits} commits, ${aborts} aborts, rss ${(rss / 2 ** 20).toFixed(0)} MiB`);
  }
  if (o.traceFile && traced?.sink.trace) {
    o.log(`${writeTrace(o.traceFile, traced.sink.trace)}: run ${traced.run}, ${ok ? 'the last (none failed)' : 'the first that failed'}`);
  }
  const growth = (peakRss - rss0) / 2 ** 20;
  o.log(`soak ${ok ? 'PASSED' : 'FAILED'}: ${runs} runs, ${commits} commits, ${aborts} aborts, peak rss ${(peakRss / 2 ** 20).toFixed(0)} MiB (+${growth.toFixed(0)} MiB), seed ${o.seed}`);
  return ok;
}
