#!/usr/bin/env node
// The wasm-rseq command line: param-test (the kernel selftest), soak, check and timeline.
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { SupervisorOptions } from '../kernel/supervisor.js';
import { DEFAULTS, runParamTest, type ParamTestOptions } from '../param-test/run.js';
import type { TestType } from '../param-test/tests.js';
import { soak } from './soak.js';
import { traceSink, writeTrace } from './trace-file.js';
import { checkCommand, timelineCommand } from './check.js';
import { DEFAULTS as ALLOC_DEFAULTS, WORKLOADS, runAllocTest, type AllocTestOptions, type Workload } from '../alloc-test/run.js';
import { FRONTS, type Front } from '../alloc/allocator.js';
import { VARIANTS, formatSliceTest, runSliceTest } from '../slice-test/run.js';
import { soakTarget } from './soak-target.js';
import { paramTestTarget } from './param-test-target.js';
import { statsLines } from '../param-test/report.js';
import { TARGET_DEFAULTS } from '../param-test/target.js';

const int = (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError('not an integer');
  return Number(v);
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('not a number >= 0');
  return n;
};

/** What param-test and alloc-test share: the supervisor's rates, the trace, loops at points 1..9. */
function runOptions(cmd: Command): void {
  cmd
    .option('--preempt-hz <hz>', 'supervisor: injected preemptions per second per vCPU', num)
    .option('--migrate-hz <hz>', 'supervisor: injected migrations per second per vCPU', num)
    .option('--signal-hz <hz>', 'supervisor: injected signals per second per vCPU', num)
    .option('--slice-ms <ms>', 'supervisor: time slice when threads wait for a vCPU', num)
    .option('--periodic', 'supervisor: inject periodically instead of at random')
    .option('--trace <file.json>', 'write the run\'s kernel trace as Chrome Trace Event JSON (Perfetto)')
    .option('--trace-events <n>', 'with --trace: events kept per thread (the ring size; default: 4 MiB of rings over all threads)', int);
  for (let p = 1; p <= 9; p++) cmd.option(`-${p} <loops>`, `loops at injection point ${p} (-1: act every -m passes)`, int);
}

const supervisorOf = (o: Record<string, unknown>): SupervisorOptions => ({
  preemptHz: o.preemptHz as number | undefined, migrateHz: o.migrateHz as number | undefined,
  signalHz: o.signalHz as number | undefined, sliceMs: o.sliceMs as number | undefined,
  policy: o.periodic ? 'periodic' : 'random',
});

const loopsOf = (o: Record<string, unknown>): Record<number, number> => {
  const loops: Record<number, number> = {};
  for (let p = 1; p <= 9; p++) if (o[p] !== undefined) loops[p] = o[p] as number;
  return loops;
};

const program = new Command('wasm-rseq')
  .description('Linux restartable sequences on WebAssembly threads')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

const paramTest = program.command('param-test')
  .description('the kernel rseq selftest param_test, run on the emulated kernel (exit 0 consistent, 1 not, 2 usage)')
  .addOption(new Option('-T <test>', 'test: s spinlock, l list, b buffer, m memcpy buffer, i increment, r membarrier').choices(['s', 'l', 'b', 'm', 'i', 'r']).default('s'))
  .option('-t <threads>', 'worker threads', int, DEFAULTS.threads)
  .option('-r <reps>', 'repetitions per thread', int, DEFAULTS.reps)
  .option('-m <n>', 'with -7/-8/-9 -1 (or --instrument): act every n-th pass', int, 0)
  .option('-y', 'yield at the -m points (and between pop and push)')
  .option('-k', 'raise a signal at the -m points')
  .option('-s <ms>', 'sleep at the -m points', int, 0)
  .option('-M', 'store-release commits for buffer and memcpy pushes')
  .option('-d', 'do not register rseq (every section must abort)')
  .option('-D <M>', 'do not register rseq in every M-th thread', int, 0)
  .option('-v', 'verbose: statistics, last line commits= aborts= migrations= preemptions=')
  .option('--cpus <n>', 'virtual CPUs', int, DEFAULTS.cpus)
  .option('--mm-cid', 'index per-vCPU data by mm_cid instead of cpu_id')
  .option('--seed <n>', 'seed of every injection decision', int, DEFAULTS.seed)
  .option('--target <file.wasm>', `run a check target (check_setup/check_op/check_verify) instead of -T: -r is ops per thread (defaults -t ${TARGET_DEFAULTS.threads} -r ${TARGET_DEFAULTS.ops})`)
  .option('--bytes <n>', 'with --target: bytes of the zeroed per-vCPU region passed as base', int, TARGET_DEFAULTS.bytes)
  .option('--instrument', 'with --target: every shared access inside a section is injection point 10 (-m N with -y, -k or -s act there)')
  .addOption(new Option('--broken', 'self-check: use a deliberately broken critical section (-T i)').hideHelp());
runOptions(paramTest);

paramTest.action(async (o: Record<string, unknown>) => {
  const opts: ParamTestOptions = {
    test: o.T as TestType, threads: o.t as number, reps: o.r as number, cpus: o.cpus as number, loops: loopsOf(o),
    modulo: o.m as number, yield: !!o.y, signal: !!o.k, sleepMs: o.s as number, release: !!o.M, disableRseq: !!o.d,
    disableMod: o.D as number, mmCid: !!o.mmCid, seed: o.seed as number, broken: !!o.broken, verbose: !!o.v,
    supervisor: supervisorOf(o),
  };
  const given = (key: string) => paramTest.getOptionValueSource(key) === 'cli';
  if (o.target !== undefined) { process.exitCode = await paramTestTarget(o, opts.supervisor, given); return; }
  if (given('bytes') || given('instrument')) throw new UsageError('--bytes and --instrument apply to --target only');
  const log = opts.verbose ? (l: string) => console.log(l) : () => {};
  const sink = traceSink(o);
  const r = await runParamTest(opts, log, sink);
  if (sink?.trace) console.error(writeTrace(o.trace as string, sink.trace));
  if (opts.verbose) for (const l of statsLines(r, { ...opts, detail: opts.mmCid ? 'mm_cid' : 'cpu_id' })) console.log(l);
  if (!r.ok) {
    console.error(`param-test FAILED: ${r.message}`);
    console.error(`replay: ${r.replay}`);
    process.exitCode = 1;
  }
});

const allocTest = program.command('alloc-test')
  .description('the allocator under a workload with exact checks (exit 0 consistent, 1 not, 2 usage)')
  .addOption(new Option('--front <front>', 'front end: per-vCPU (cpu_id), per-mm_cid, per-thread, or central lists only').choices([...FRONTS]).default(ALLOC_DEFAULTS.front))
  .addOption(new Option('--workload <w>', 'larson (random sizes, objects handed between threads), threadtest (allocate N, free N), xmalloc (producer/consumer)').choices([...WORKLOADS]).default(ALLOC_DEFAULTS.workload))
  .option('-t <threads>', 'worker threads', int, ALLOC_DEFAULTS.threads)
  .option('-r <reps>', 'larson: steps per thread; threadtest: objects per thread (rounds of 100); xmalloc: objects produced per thread', int, ALLOC_DEFAULTS.reps)
  .option('-m <n>', 'with -7/-8/-9 -1: act every n-th pass', int, 0)
  .option('-y', 'yield at the -m points')
  .option('-k', 'raise a signal at the -m points')
  .option('-s <ms>', 'sleep at the -m points', int, 0)
  .option('-v', 'verbose')
  .option('--cpus <n>', 'virtual CPUs', int, ALLOC_DEFAULTS.cpus)
  .option('--seed <n>', 'seed of every injection decision and of the workload', int, ALLOC_DEFAULTS.seed)
  .option('--drain-every <n>', 'larson, vcpu/mmcid: drain a random vCPU\'s cache (stop_cpu) every n steps (0 never)', int, ALLOC_DEFAULTS.drainEvery)
  .option('--heap-bytes <n>', 'bytes of pages in the allocator\'s heap', int, ALLOC_DEFAULTS.heapBytes)
  .option('--unchecked', 'turn the allocator\'s checked mode (double free, foreign pointer) off');
runOptions(allocTest);

allocTest.action(async (o: Record<string, unknown>) => {
  const opts: AllocTestOptions = {
    front: o.front as Front, workload: o.workload as Workload, threads: o.t as number, reps: o.r as number, cpus: o.cpus as number,
    loops: loopsOf(o), modulo: o.m as number, yield: !!o.y, signal: !!o.k, sleepMs: o.s as number, seed: o.seed as number,
    drainEvery: o.drainEvery as number, heapBytes: o.heapBytes as number, checked: !o.unchecked, verbose: !!o.v,
    supervisor: supervisorOf(o),
  };
  const log = opts.verbose ? (l: string) => console.log(l) : () => {};
  const sink = traceSink(o);
  const r = await runAllocTest(opts, log, sink);
  if (sink?.trace) console.error(writeTrace(o.trace as string, sink.trace));
  if (opts.verbose || r.ok) console.log(r.message);
  if (opts.verbose) {
    const s = r.stats;
    console.log(`commits=${s.commits} aborts=${s.aborts} migrations=${s.migrations} preemptions=${s.preemptions} fences=${s.fences} in ${r.ms.toFixed(0)} ms`);
  }
  if (!r.ok) {
    console.error(`alloc-test FAILED: ${r.message}`);
    console.error(`replay: ${r.replay}`);
    process.exitCode = 1;
  }
});

program.command('soak')
  .description('run the param-test matrix (or a check target) under random injection until time is up; exit 1 on any violation')
  .option('--minutes <n>', 'how long', num, 1)
  .option('--seed <n>', 'seed of the drawn configurations (replayable)', int, Date.now() % 2 ** 31)
  .option('--cpus <n>', 'virtual CPUs (with --target: at most)', int, 2)
  .option('--watchdog <s>', 'seconds one run may take before it counts as a deadlock', num, 120)
  .option('--runs <n>', 'stop after n runs', int)
  .option('--target <file.wasm>', 'soak a check target (check_setup/check_op/check_verify) instead of the param-test matrix')
  .option('--threads-max <n>', 'with --target: at most n threads', int, TARGET_DEFAULTS.threads)
  .option('--ops-max <n>', 'with --target: at most n operations per thread', int, TARGET_DEFAULTS.ops)
  .option('--bytes <n>', 'with --target: bytes of the zeroed per-vCPU region passed as base', int, TARGET_DEFAULTS.bytes)
  .option('-v, --verbose', 'print each run before it starts')
  .option('--trace <file.json>', 'write the kernel trace of the first failing run (or of the last run) as Chrome Trace Event JSON')
  .option('--trace-events <n>', 'with --trace: events kept per thread (the ring size; default: 4 MiB of rings over all threads)', int)
  .action(async (o: { minutes: number; seed: number; cpus: number; watchdog: number; runs?: number; target?: string; threadsMax: number; opsMax: number; bytes: number; verbose?: boolean; trace?: string; traceEvents?: number }) => {
    const target = o.target === undefined ? undefined : await soakTarget(o.target, o);
    const ok = await soak({
      minutes: o.minutes, seed: o.seed, cpus: o.cpus, watchdogSeconds: o.watchdog, runs: o.runs, target, verbose: o.verbose, log: (l) => console.log(l), traceFile: o.trace, traceEvents: o.traceEvents,
    });
    // A deadlocked run leaves its threads behind: exit explicitly.
    process.exit(ok ? 0 : 1);
  });

program.command('check')
  .description('find rseq bugs in a module\'s check_setup/check_op/check_verify deterministically (exit 0 none found, 1 failure, 2 usage)')
  .argument('<file>', 'the module (.wasm built with the preset)')
  .requiredOption('--threads <n>', 'threads', int)
  .requiredOption('--ops <n>', 'operations per thread (check_op calls)', int)
  .option('--cpus <n>', 'virtual CPUs', int, 2)
  .option('--bytes <n>', 'bytes of the zeroed per-vCPU region passed as base', int, 4096)
  .option('--bound <k>', 'systematic: every schedule with at most k preemptions/migrations/signals/switches', int)
  .option('--pct', 'randomized (PCT-style): random change points instead of DFS')
  .option('--runs <n>', 'with --pct: schedules to run', int, 1000)
  .option('--seed <n>', 'with --pct: seed', int, 1)
  .option('--depth <d>', 'with --pct: up to d-1 change points per schedule', int, 3)
  .option('--max-schedules <n>', 'stop after n schedules', int)
  .option('--replay <schedule>', 'run exactly this schedule (printed by a failure)')
  .option('--trace <file.json>', 'write the failing (or replayed) schedule as Chrome Trace Event JSON (Perfetto)')
  .option('--timeline <file.html>', 'write the failing (or replayed) schedule as a self-contained offline HTML timeline')
  .action(async (file: string, o: Record<string, unknown>) => {
    if (o.pct && o.bound !== undefined) throw new UsageError('check: --bound and --pct exclude each other');
    if (o.replay !== undefined && (o.pct || o.bound !== undefined)) throw new UsageError('check: --replay runs one schedule: no --bound or --pct');
    const code = await checkCommand({
      module: file, file, threads: o.threads as number, ops: o.ops as number, cpus: o.cpus as number, bytes: o.bytes as number,
      bound: (o.bound as number | undefined) ?? 2, pct: o.pct ? { runs: o.runs as number, seed: o.seed as number, depth: o.depth as number } : undefined,
      replay: o.replay as string | undefined, traceFile: o.trace as string | undefined, timelineFile: o.timeline as string | undefined, maxSchedules: o.maxSchedules as number | undefined,
    });
    process.exitCode = code;
  });

program.command('timeline')
  .description('draw a Chrome Trace Event JSON file (check, kernel, param-test, soak) as a self-contained offline HTML page')
  .argument('<trace.json>', 'the trace')
  .requiredOption('-o <out.html>', 'the page to write')
  .action((file: string, o: { o: string }) => timelineCommand(file, o.o));

program.command('slice-test')
  .description("the kernel's rseq time-slice extension selftest (slice_test.c) on one emulated vCPU; exit 1 if a variant got no grant")
  .addOption(new Option('--variant <name>', 'variant').choices([...VARIANTS.map((v) => v.name), 'all']).default('all'))
  .option('--seconds <s>', 'wall seconds per variant (the selftest runs 5)', num, 1)
  .option('--scale <x>', 'real ns per emulated ns', num, 20)
  .option('--ext-ns <ns>', 'slice_ext_nsec, emulated (5000..50000)', int, 5000)
  .action(async (o: { variant: string; seconds: number; scale: number; extNs: number }) => {
    let ok = true;
    for (const variant of VARIANTS.filter((v) => o.variant === 'all' || v.name === o.variant)) {
      const r = await runSliceTest({ variant, seconds: o.seconds, scale: o.scale, extNs: o.extNs });
      for (const l of formatSliceTest(r)) console.log(l);
      const consistent = r.success + r.yielded + r.aborted + r.scheduled === r.total && r.raced <= r.yielded;
      if (!consistent || r.kernel.granted === 0) { ok = false; console.log(`not ok ${variant.name}${consistent ? ': no extension was granted' : ': counts do not add up'}`); }
      else console.log(`ok ${variant.name}`);
    }
    process.exitCode = ok ? 0 : 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as { code?: string; exitCode?: number; message?: string };
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
    process.exitCode = 0;
  } else if (err.code?.startsWith('commander.') || e instanceof UsageError) {
    if (e instanceof UsageError) console.error(`wasm-rseq: ${err.message}`);
    process.exitCode = 2;
  } else {
    console.error(e);
    process.exitCode = 1;
  }
}
