// Running samples: the kernel a run uses, the loop workloads (every thread released from the
// kernel's one start barrier, Kernel.run / Kernel.runScripts), calibration, and the default runner
// that samples each implementation of a suite and reduces the samples through the suite's metrics.
import { Kernel, wasmPath, type CallResult, type KernelStats } from '../host/index.js';
import { engineOf } from '../host/internal.js';
import { CheckError, loopCheck } from './checks.js';
import { line } from './layout.js';
import type { MeasureOptions, ProgressSink } from './measure.js';
import type { Result } from './result.js';
import type { BenchExports, Env, Impl, Runner, Sample, Suite, Workload } from './suite.js';

const MAX_ITERS = 2 ** 31 - 1;

/** The supervisor policy at `hz` injected requests per second per vCPU (half preempt, half migrate). */
export const injectAt = (o: MeasureOptions, hz: number) => ({ sliceMs: o.sliceMs, preemptHz: hz / 2, migrateHz: hz / 2, policy: 'periodic' as const });
export const INJECTION = 'supervisor policy periodic; injectHz/2 preemptions + injectHz/2 migrations per second per vCPU';

/** A kernel with `threads` threads, no injection yet, and build/bench.wasm loaded. */
export async function withKernel(o: MeasureOptions, threads: number, body: (env: Env) => Promise<void>): Promise<void> {
  const k = await Kernel.create({ cpus: o.cpus, threads, seed: o.seed, supervisor: injectAt(o, 0) });
  try {
    const m = await k.load(wasmPath('bench'), 'bench');
    await body({ k, e: engineOf(k), m, x: k.host(m) as unknown as BenchExports, maxThreads: threads });
  } finally {
    await k.close();
  }
}

// --- layout helpers -----------------------------------------------------------------------------

/** Per-thread words / scratch areas: one line per thread slot. */
export function perThread(env: Env): (slot: number) => number {
  const l = line(env.e.abi);
  const base = env.k.alloc(env.maxThreads * l, l);
  return (slot) => base + slot * l;
}

/** Every vCPU's copy of the per-vCPU object at `base`. */
export const cpuCopies = (env: Env, base: number): number[] =>
  Array.from({ length: env.k.cpus }, (_, c) => base + c * env.e.plan.poolStride);

// --- loop workloads -----------------------------------------------------------------------------

interface Loop {
  /** Every thread must complete exactly `iters` (counters: fewer means the thread is unregistered). */
  exact?: boolean;
  check: (ops: number[], slots: number[], iters: number) => void;
}

function loop(id: string, w: Loop, start: (slots: number[], iters: number) => Promise<CallResult<number>[]>): Workload {
  return {
    async run(slots, iters) {
      const res = await start(slots, iters);
      const ops = res.map((r) => r.value);
      loopCheck(id, ops, slots, iters, !!w.exact);
      w.check(ops, slots, iters);
      return { ops, ms: res.map((r) => r.ms) };
    },
  };
}

/** Threads run the bench module's export `fn(...args(slot), iters) -> ops`, released together (Kernel.run). */
export function wasmLoop(env: Env, id: string, w: Loop & { fn: string; args: (slot: number) => number[] }): Workload {
  return loop(id, w, (slots, iters) => env.k.run<number>(env.m, w.fn, (s) => [...w.args(s), iters], slots));
}

const LOOPS = new URL('./workers/loops.js', import.meta.url);

/** Threads run `fn(ctx, args(slot, iters)) -> ops` of bench/workers/loops.js, released together (Kernel.runScripts). */
export function scriptLoop(env: Env, id: string, w: Loop & { fn: string; args: (slot: number, iters: number) => object }): Workload {
  return loop(id, w, (slots, iters) => env.k.runScripts<number>(slots, LOOPS, w.fn, (s) => [w.args(s, iters)]));
}

// --- sampling -----------------------------------------------------------------------------------

/** A sample taking this long is stuck (they are calibrated to ~200 ms): say where, and fail loudly. */
const STUCK_MS = 60_000;

async function watchdog<T>(env: Env, run: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const { view: v, abi, sched } = env.e;
      const cpus = Array.from({ length: env.k.cpus }, (_, c) => {
        const r = sched.cpu(c);
        return `vCPU ${c}: owner ${v.load(r + abi.CPU_OWNER) - 1} seq ${v.load(r + abi.CPU_SEQ)} request ${v.load(r + abi.CPU_REQUEST)}`;
      });
      const threads = Array.from({ length: env.maxThreads }, (_, t) => {
        const r = sched.thread(t);
        return `t${t}: vcpu ${v.load(r + abi.T_VCPU)} grant ${v.load(r + abi.T_GRANT)} next ${v.load(r + abi.T_NEXT)} state ${v.load(r + abi.T_STATE)}`;
      });
      reject(new CheckError(`sample stuck for ${STUCK_MS / 1000} s: ${cpus.join('; ')}; waiters ${v.load(abi.SCHED_WAITERS)} `
        + `head ${v.load(abi.SCHED_HEAD)} lock ${v.load(abi.SCHED_LOCK)}; ${threads.join('; ')}`));
    }, STUCK_MS);
  });
  try {
    return await Promise.race([run, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** One sample: kernel statistics around one barrier-started run. */
async function sample(env: Env, w: Workload, slots: number[], iters: number): Promise<Sample> {
  const before = env.k.stats();
  const out = await watchdog(env, w.run(slots, iters));
  const after = env.k.stats();
  const delta = (f: (s: KernelStats) => number) => f(after) - f(before);
  const perThread = out.ops.map((n, i) => (n > 0 ? (out.ms[i] * 1e6) / n : 0));
  return {
    ops: out.ops.reduce((a, b) => a + b, 0), wallMs: Math.max(Math.max(...out.ms), 1e-3),
    nsPerOpThread: perThread.reduce((a, b) => a + b, 0) / perThread.length,
    counts: {
      aborts: delta((s) => s.aborts), commits: delta((s) => s.commits),
      preemptions: delta((s) => s.preemptions), migrations: delta((s) => s.migrations),
      requests: delta((s) => s.cpus.reduce((a, c) => a + c.requested.preempt + c.requested.migrate + c.requested.signal, 0)),
      // Preempt + migrate requests per occupied vCPU (the injection rate achieved, once over the wall time).
      injectPerVcpu: delta((s) => s.cpus.reduce((a, c) => a + c.requested.preempt + c.requested.migrate, 0)) / Math.min(slots.length, env.k.cpus),
      ...out.counts,
    },
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

/** A row of `suite` with the identity fields, then `metrics` (by key), then the sampling fields. */
export function row(suite: Suite, impl: Impl, at: { threads: number; vcpus: number; injectHz: number }, metrics: Record<string, number>,
  s: { samples: number; spread: [number, number]; itersPerThread: number }): Result {
  const values = Object.fromEntries(suite.metrics.map((m) => [m.key, metrics[m.key]]));
  return {
    suite: suite.id, impl: impl.id, kind: impl.kind, role: impl.role ?? 'write', ...at,
    ...(values as { opsPerSec: number; nsPerOp: number; abortsPerOp: number }),
    baseline: { impl: impl.baseline, injectHz: suite.baselineRate ?? at.injectHz }, ...s,
    ...(impl.native ? { native: true } : {}), ...(impl.counterpart ? { counterpart: impl.counterpart } : {}),
  };
}

/** One row from an implementation's samples, through the suite's metrics. */
function reduce(suite: Suite, impl: Impl, threads: number, vcpus: number, hz: number, iters: number, samples: Sample[]): Result {
  const rates = samples.map((s) => s.ops / (s.wallMs / 1000));
  const set = { samples, rates, ops: samples.reduce((a, s) => a + s.ops, 0), secs: samples.reduce((a, s) => a + s.wallMs, 0) / 1000 };
  const metrics = Object.fromEntries(suite.metrics.map((m) => {
    if (!m.reduce) throw new Error(`bench: suite ${suite.id}: metric ${m.key} has no reduce() (a sampled suite needs one)`);
    return [m.key, m.reduce(set)];
  }));
  return row(suite, impl, { threads, vcpus, injectHz: hz }, metrics,
    { samples: samples.length, spread: [Math.min(...rates), Math.max(...rates)], itersPerThread: iters });
}

/** Every implementation of `suite` measured at `threads`, at every rate; samples interleaved. */
async function measureRound(env: Env, suite: Suite, impls: readonly Impl[], threads: number, o: MeasureOptions, progress: ProgressSink): Promise<Result[]> {
  const rates = suite.rates?.(o) ?? [0];
  const label = (impl: Impl, hz: number) => `${suite.id} ${impl.id} x${threads}${hz ? ` @${hz} Hz` : ''}`;
  env.k.resetAllocations();
  const slots = Array.from({ length: threads }, (_, i) => i);
  const runs = rates.flatMap((hz) => impls.map((impl) => {
    if (!impl.prepare) throw new Error(`bench: suite ${suite.id}: implementation ${impl.id} has no prepare()`);
    return { impl, hz, w: impl.prepare(env), iters: 0, samples: [] as Sample[] };
  }));
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
      const s = await sample(env, run.w, slots, run.iters);
      s.counts.requestedHz = run.hz;
      run.samples.push(s);
      progress.step(label(run.impl, run.hz), 1);
    }
  }
  await at(0);
  return runs.map(({ impl, hz, iters, samples }) => reduce(suite, impl, threads, env.k.cpus, hz, iters, samples));
}

/** A runner per group of implementations: `pick` names each one's runner; each runner sees the suite
 *  with its own implementations only (e.g. the counter: wasm ones sampled, native ones by a program). */
export function byImpl(pick: (impl: Impl) => Runner): Runner {
  const groups = (suite: Suite) => {
    const m = new Map<Runner, Impl[]>();
    for (const i of suite.impls) m.set(pick(i), [...(m.get(pick(i)) ?? []), i]);
    return [...m].map(([runner, impls]) => ({ runner, suite: { ...suite, impls } as Suite }));
  };
  return {
    units: (suite, o) => groups(suite).reduce((a, g) => a + g.runner.units(g.suite, o), 0),
    async run(ctx) {
      const out: Result[] = [];
      for (const g of groups(ctx.suite)) out.push(...(await g.runner.run({ ...ctx, suite: g.suite })));
      return out;
    },
  };
}

/** The rounds of `suite`: its implementations measured at each thread count of `o`. */
const rounds = (suite: Suite, o: MeasureOptions) => o.threads.map((threads) => ({
  threads, impls: suite.impls.filter((i) => (i.onlyThreads ?? o.threads).includes(threads)),
})).filter((r) => r.impls.length > 0);

/**
 * The default runner. Within a round the implementations (and rates) are sampled in turn (sample 1
 * of each, then sample 2, ...), so load that drifts during the run hits them alike.
 */
export const sampled: Runner = {
  units: (suite, o) => rounds(suite, o).reduce((a, r) => a + r.impls.length * (o.repeat + 2), 0) * (suite.rates?.(o) ?? [0]).length,
  async run({ env, suite, o, progress }) {
    const out: Result[] = [];
    for (const r of rounds(suite, o)) out.push(...(await measureRound(env, suite, r.impls, r.threads, o, progress)));
    return out;
  },
};
