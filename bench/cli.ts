// The bench's command line (loaded by bench/main.ts once the dev dependencies are there).
// Parses the options, runs the measuring layer (bench/measure.ts) with a progress bar on stderr,
// then prints the tables and writes the JSON / HTML reports (bench/report/).
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { defaultCpus, measure, type MeasureOptions, type ProgressSink } from './measure.js';
import { writeHtml } from './report/html.js';
import { writeJson } from './report/json.js';
import { renderTable } from './report/table.js';
import { CheckError } from './checks.js';
import { SUITE_IDS } from './suite.js';

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
  return n;
};
const intList = (min: number, max: number) => (v: string, prev: number[] | undefined) => {
  const parse = int(min, max);
  return [...new Set([...(prev ?? []), ...v.split(',').filter(Boolean).map((x) => parse(x.trim()))])].sort((a, b) => a - b);
};
const suiteList = (v: string, prev: string[] = []) => {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!SUITE_IDS.includes(n)) throw new InvalidArgumentError(`unknown suite '${n}' (suites: ${SUITE_IDS.join(', ')})`);
  }
  return [...new Set([...prev, ...names])];
};

/** Defaults: a mid-size run (< 10 min on 2 cores) and --quick (< 2 min). */
const PRESETS = {
  default: { repeat: 7, sampleMs: 200, threads: [1, 2, 4, 8], injectHz: [0, 1000, 10000], jsApi: { maxTime: 0.3, minSamples: 10, rounds: 5 } },
  quick: { repeat: 5, sampleMs: 30, threads: [1, 2, 4, 8], injectHz: [0, 1000, 10000], jsApi: { maxTime: 0.1, minSamples: 5, rounds: 3 } },
};

interface CliOptions {
  quick?: boolean; suite?: string[]; json?: string; html?: string; cpus?: number; threads?: number[];
  repeat?: number; sampleMs?: number; injectHz?: number[]; sliceMs?: number; seed: number; progress: boolean;
}

const program = new Command('wasm-rseq-bench')
  .description('per-vCPU rseq operations vs atomic and lock-based fallbacks, on the emulated kernel\n'
    + `suites: ${SUITE_IDS.join(', ')}`)
  .option('--quick', 'short run: ~30 ms samples, 5 repeats (under 2 minutes on 2 cores)')
  .option('--suite <names>', 'run only these suites (repeatable or comma list)', suiteList)
  .option('--json <file>', 'write the results as JSON')
  .option('--html <file>', 'write a self-contained HTML report with charts')
  .option('--cpus <n>', `virtual CPUs (default: this machine's cores, ${defaultCpus()})`, int(1, 32))
  .option('--threads <list>', 'thread counts, comma list (default 1,2,4,8)', intList(1, 256))
  .option('--repeat <n>', 'samples per measurement, median reported (default 7, quick 5)', int(1, 1000))
  .option('--sample-ms <ms>', 'target duration of one sample (default 200, quick 30)', int(1, 60000))
  .option('--inject-hz <list>', 'injection suite rates, per vCPU (default 0,1000,10000)', intList(0, 1_000_000))
  .option('--slice-ms <ms>', 'supervisor time slice when threads outnumber vCPUs', int(1, 1000), 2)
  .option('--seed <n>', 'seed of the kernels', int(0, 2 ** 32 - 1), 1)
  .option('--no-progress', 'no progress bar (it is also off when stderr is not a terminal)')
  .addHelpText('after', `
Examples:
  npm run bench
  npm run bench -- --quick --json r.json --html r.html
  npm run bench -- --suite counter,list --threads 1,2 --cpus 2`);

function progressSink(enabled: boolean): ProgressSink & { stop(): void } {
  if (!enabled) {
    let last = '';
    return {
      start() {},
      step(label) {
        const suite = label.split(' ')[0];
        if (suite !== last) process.stderr.write(`bench: ${suite}...\n`);
        last = suite;
      },
      log: (line) => process.stderr.write(`${line}\n`),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar({
    stream: process.stderr, format: ' {bar} {percentage}% | ETA {eta_formatted} | {job}', hideCursor: true,
    clearOnComplete: true, etaBuffer: 50, fps: 5,
  }, cliProgress.Presets.shades_classic);
  let done = 0;
  let all = 0;
  let job = 'starting';
  return {
    start(total) { all = total; bar.start(total, 0, { job }); },
    step(label, units = 0) { done += units; job = label; bar.update(done, { job: label }); },
    log(line) { bar.stop(); process.stderr.write(`${line}\n`); bar.start(all, done, { job }); },
    stop() { bar.stop(); },
  };
}

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<CliOptions>();
  const preset = o.quick ? PRESETS.quick : PRESETS.default;
  const options: MeasureOptions = {
    cpus: o.cpus ?? defaultCpus(),
    threads: o.threads ?? preset.threads,
    repeat: o.repeat ?? preset.repeat,
    sampleMs: o.sampleMs ?? preset.sampleMs,
    suites: o.suite ?? [...SUITE_IDS],
    injectHz: o.injectHz ?? preset.injectHz,
    sliceMs: o.sliceMs ?? 2,
    jsApi: preset.jsApi,
    seed: o.seed,
  };
  const progress = progressSink(o.progress && !!process.stderr.isTTY);
  let m;
  try {
    m = await measure(options, progress);
  } catch (e) {
    progress.stop();
    if (e instanceof CheckError) {
      process.stderr.write(`\nbench: CORRECTNESS CHECK FAILED - ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  progress.stop();
  process.stdout.write(renderTable(m, !!process.stdout.isTTY) + '\n');
  process.stdout.write(`\n(${m.meta.durationSec} s)\n`);
  if (o.json) { await writeJson(o.json, m); process.stdout.write(`wrote ${o.json}\n`); }
  if (o.html) { await writeHtml(o.html, m); process.stdout.write(`wrote ${o.html}\n`); }
  return 0;
}

export function runCli(): void {
  main().then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
