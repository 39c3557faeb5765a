// pool: a real piscina pool of kernel threads (wasm-rseq/pool createPool) against a plain piscina
// pool, the same worker count, a bounded number of tasks submitted at once; each task does 1 or
// 100 adds: per-vCPU Counter.add(1) (the JS objects: the protocol in plain JS on the vCPU the worker
// owns while it runs) vs Atomics.add on one shared word. Its own runner: both pools stay up for the
// whole suite and the rounds interleave them (rseq 1, atomics 1, rseq 100, atomics 100, ...).
import { Piscina } from 'piscina';
import { Kernel, type KernelOptions } from '../../host/index.js';
import { createPool, type RseqPool } from '../../host/pool.js';
import type { TargetDef } from '../analysis.js';
import { CheckError } from '../checks.js';
import { row } from '../harness.js';
import { rate } from '../report/format.js';
import type { Impl, Metric, Runner, Suite } from '../suite.js';
import type { AtomicsPoolData } from '../workers/pool-atomics.js';
import type { PoolBenchData } from '../workers/pool-rseq.js';

/** Pool workers per vCPU (oversubscribed: more workers than vCPUs, as a service would run). */
export const WORKERS_PER_VCPU = 4;
/** Tasks per measured batch (all submitted at once, then awaited). */
export const TASKS = 5000;
export const OPS = [1, 100] as const;

const RSEQ_HANDLER = new URL('../workers/pool-rseq.js', import.meta.url);
const ATOMICS_WORKER = new URL('../workers/pool-atomics.js', import.meta.url);
const COUNTER = 'bench.pool';

const impls: Impl[] = [
  { id: 'rseq', kind: 'rseq', baseline: 'atomics', what: 'RseqPool task: ops x Counter.add(1) on the worker\'s vCPU (JS objects), then park' },
  { id: 'atomics', kind: 'js', baseline: 'atomics', what: 'plain piscina task: ops x Atomics.add(i32, 0, 1) on one shared word' },
];

const tasksPerSec: Metric = { key: 'tasksPerSec', label: 'tasks/s', unit: 'tasks/s', better: 'higher', format: rate };
const usPerTask: Metric = { key: 'usPerTask', label: 'µs/task', unit: 'µs', better: 'lower', format: (x) => `${x.toFixed(1)} µs` };
/** CPU time of the whole process (every thread) per task: far less sensitive to other load than wall time. */
const cpuUsPerTask: Metric = { key: 'cpuUsPerTask', label: 'CPU µs/task', unit: 'µs', better: 'lower', format: (x) => `${x.toFixed(1)} µs` };
const opsPerTask: Metric = { key: 'opsPerTask', label: 'adds/task', unit: '', better: 'higher', format: (x) => String(x) };
const opsPerSec: Metric = { key: 'opsPerSec', label: 'adds/s', unit: 'ops/s', better: 'higher', format: rate };
const nsPerOp: Metric = { key: 'nsPerOp', label: 'ns/add', unit: 'ns', better: 'lower', format: (x) => `${x.toFixed(0)} ns` };
const abortsPerOp: Metric = { key: 'abortsPerOp', label: 'aborts/add', unit: '/op', better: 'lower', format: (x) => x.toFixed(4) };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Both pools, up for the suite: run(impl, ops, tasks) times one batch and checks its sum. */
export interface PoolPair {
  k: Kernel;
  workers: number;
  /** One batch: its wall ms and the process's CPU ms (every thread: main, workers, supervisor). */
  batch(impl: 'rseq' | 'atomics', ops: number, tasks: number): Promise<{ ms: number; cpuMs: number }>;
  close(): Promise<void>;
}

export async function poolPair(cpus: number, workers = WORKERS_PER_VCPU * cpus, seed = 1, kernel: KernelOptions = {}): Promise<PoolPair> {
  const k = await Kernel.create({ cpus, threads: 0, poolSlots: workers, seed, ...kernel });
  let pool: RseqPool | undefined;
  let plain: Piscina | undefined;
  try {
    const counter = k.counter(COUNTER);
    const rseqData: PoolBenchData = { counter: COUNTER };
    pool = createPool(k, { handler: RSEQ_HANDLER, workerData: rseqData });
    const word = new SharedArrayBuffer(64);
    const data: AtomicsPoolData = { word };
    plain = new Piscina({ filename: ATOMICS_WORKER.href, minThreads: workers, maxThreads: workers, idleTimeout: Infinity, workerData: data });
    const i32 = new Int32Array(word);
    const p = pool, q = plain;
    return {
      k, workers,
      async batch(impl, ops, tasks) {
        const before = impl === 'rseq' ? counter.value() : Atomics.load(i32, 0);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const all: Promise<unknown>[] = new Array(tasks);
        // The same message to both pools.
        const t = { ops };
        if (impl === 'rseq') for (let i = 0; i < tasks; i++) all[i] = p.run(t);
        else for (let i = 0; i < tasks; i++) all[i] = q.run(t);
        await Promise.all(all);
        const ms = performance.now() - t0;
        const c = process.cpuUsage(c0);
        const after = impl === 'rseq' ? counter.value() : Atomics.load(i32, 0);
        if (after - before !== ops * tasks) throw new CheckError(`pool ${impl}: ${tasks} tasks x ${ops} adds added ${after - before}`);
        return { ms, cpuMs: (c.user + c.system) / 1000 };
      },
      async close() { await Promise.allSettled([p.destroy(), q.destroy()]); await k.close(); },
    };
  } catch (e) {
    await Promise.allSettled([pool?.destroy(), plain?.destroy()]);
    await k.close();
    throw e;
  }
}

const rounds = (repeat: number) => Math.max(3, Math.min(7, repeat));

const runner: Runner = {
  units: (suite, o) => suite.impls.length * OPS.length * rounds(o.repeat),
  async run({ suite, o, progress, note }) {
    const pair = await poolPair(o.cpus, WORKERS_PER_VCPU * o.cpus, o.seed);
    const times = new Map<string, { ms: number; cpuMs: number }[]>();
    const key = (impl: string, ops: number) => `${impl}/${ops}`;
    let aborts = 0, commits = 0;
    try {
      // Warm-up: every worker started, JIT warm, on both pools.
      for (const ops of OPS) for (const impl of ['rseq', 'atomics'] as const) await pair.batch(impl, ops, 500);
      const n = rounds(o.repeat);
      for (let r = 0; r < n; r++) {
        for (const ops of OPS) {
          for (const impl of ['rseq', 'atomics'] as const) {
            progress.step(`pool ${impl} ${ops} add(s)/task (round ${r + 1}/${n}, ${TASKS} tasks)`, 1);
            const s0 = impl === 'rseq' ? pair.k.stats() : undefined;
            const b = await pair.batch(impl, ops, TASKS);
            if (s0) { const s1 = pair.k.stats(); aborts += s1.aborts - s0.aborts; commits += s1.commits - s0.commits; }
            const list = times.get(key(impl, ops)) ?? [];
            list.push(b);
            times.set(key(impl, ops), list);
          }
        }
      }
    } finally {
      await pair.close();
    }
    note(`${pair.workers} workers per pool on ${o.cpus} vCPUs, ${TASKS} tasks per batch submitted at once, rounds interleaved; median batch`);
    const out = [];
    for (const ops of OPS) {
      for (const impl of suite.impls) {
        const bs = times.get(key(impl.id, ops))!;
        const rates = bs.map((x) => TASKS / (x.ms / 1000));
        const tps = median(rates);
        const metrics = {
          tasksPerSec: tps, usPerTask: 1e6 / tps, cpuUsPerTask: median(bs.map((x) => (x.cpuMs * 1000) / TASKS)), opsPerTask: ops, opsPerSec: tps * ops, nsPerOp: 1e9 / (tps * ops),
          abortsPerOp: impl.kind === 'rseq' && commits > 0 ? aborts / commits : 0,
        };
        out.push({
          ...row(suite, impl, { threads: pair.workers, vcpus: o.cpus, injectHz: 0 }, metrics,
            { samples: rates.length, spread: [Math.min(...rates), Math.max(...rates)], itersPerThread: ops }),
          opsPerTask: ops,
        });
      }
    }
    return out;
  },
};

const target = (ops: number, want: number): TargetDef => ({
  id: `pool-${ops}`, text: `pool: tasks doing ${ops} per-vCPU add${ops > 1 ? 's' : ''} >= ${want}x the tasks/s of a plain piscina pool doing Atomics.add`,
  target: want, bound: 'min', unit: 'x',
  eval(all) {
    const a = all.find((r) => r.suite === 'pool' && r.impl === 'rseq' && r.opsPerTask === ops);
    const b = all.find((r) => r.suite === 'pool' && r.impl === 'atomics' && r.opsPerTask === ops);
    if (!a || !b) return 'needs the pool suite';
    const x = a.tasksPerSec as number, y = b.tasksPerSec as number;
    return { measured: x / y, detail: `${rate(x)} vs ${rate(y)} tasks/s (${(1e6 / x).toFixed(1)} vs ${(1e6 / y).toFixed(1)} µs per task; CPU ${(a.cpuUsPerTask as number).toFixed(1)} vs ${(b.cpuUsPerTask as number).toFixed(1)} µs per task)` };
  },
});

export const pool: Suite = {
  id: 'pool', title: `piscina pool of kernel threads vs plain piscina (${TASKS} tasks per batch, ${WORKERS_PER_VCPU} workers per vCPU)`,
  impls, runner, targets: [target(1, 1.0), target(100, 1.5)],
  metrics: [tasksPerSec, usPerTask, cpuUsPerTask, opsPerTask, opsPerSec, nsPerOp, abortsPerOp],
  columns: ['opsPerTask', 'tasksPerSec', 'usPerTask', 'ratio', 'cpuUsPerTask', 'abortsPerOp'],
  baseline: 'plain piscina, Atomics.add',
};
