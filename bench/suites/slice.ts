// slice: the rseq time-slice extension where it matters — a per-vCPU spinlock whose holder may be
// preempted while holding it, at 6x oversubscription of the vCPUs. Without the extension a holder
// preempted mid-hold keeps the lock while the next thread on that vCPU spins on it; with it, the
// preemption is deferred (once, for at most slice_ext_nsec) and the holder yields after releasing.
// Its own runner: one kernel per case (2 vCPUs, 12 threads), each thread timing every hold.
import { row } from '../harness.js';
import { Kernel } from '../../host/index.js';
import type { Impl, Metric, Runner, Suite } from '../suite.js';
import type { SliceBenchOptions, SliceBenchResult } from '../workers/slice.js';

const impls: Impl[] = [
  { id: 'spinlock-no-ext', kind: 'lock', baseline: 'spinlock-no-ext', what: 'per-vCPU spinlock, holder may be preempted while holding it' },
  { id: 'spinlock-slice-ext', kind: 'rseq', baseline: 'spinlock-no-ext', what: 'the same, the holder requests a time-slice extension (rseq slice_ctrl)' },
];

const us = (x: number) => `${x.toFixed(0)} µs`;
const holdP50: Metric = { key: 'holdP50Us', label: 'hold p50', unit: 'µs', better: 'lower', format: us };
const holdP99: Metric = { key: 'holdP99Us', label: 'hold p99', unit: 'µs', better: 'lower', format: us };
const grantedPerOp: Metric = { key: 'grantedPerOp', label: 'granted/op', unit: '/op', better: 'higher', format: (x) => x.toFixed(3) };
const metric = (key: string, label: string, unit: string, better: 'lower' | 'higher', format: (x: number) => string): Metric => ({ key, label, unit, better, format });
const opsPerSec = metric('opsPerSec', 'ops/s', 'ops/s', 'higher', (x) => `${(x / 1000).toFixed(1)} k`);
const nsPerOp = metric('nsPerOp', 'ns/op', 'ns', 'lower', (x) => `${x.toFixed(0)}`);
const abortsPerOp = metric('abortsPerOp', 'aborts/op', '/op', 'lower', (x) => x.toFixed(3));

const WORKER = new URL('../workers/slice.js', import.meta.url);
const CPUS = 2;
const THREADS = 12;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

const runner: Runner = {
  units: (suite) => suite.impls.length,
  async run({ suite, o, progress, note }) {
    const out = [];
    const runMs = Math.max(300, o.sampleMs * 4);
    for (const impl of suite.impls) {
      progress.step(`slice ${impl.id} (${THREADS} threads on ${CPUS} vCPUs)`, 1);
      const k = await Kernel.create({ cpus: CPUS, threads: THREADS, seed: o.seed, supervisor: { sliceMs: o.sliceMs } });
      try {
        const locks = k.allocPerCpu(128);
        const opts: SliceBenchOptions = {
          locks, stride: k.poolStride, holdMs: 0.02, thinkMs: 0.05, runMs, extend: impl.id === 'spinlock-slice-ext',
        };
        const rs = (await k.runScripts<SliceBenchResult>([...Array(THREADS).keys()], WORKER, 'spinlockLoop', () => [opts])).map((r) => r.value);
        const holds = rs.flatMap((r) => r.holds).sort((a, b) => a - b);
        const ops = rs.reduce((a, r) => a + r.ops, 0);
        const secs = Math.max(...rs.map((r) => r.ms)) / 1000;
        const granted = rs.reduce((a, r) => a + r.granted, 0);
        out.push(row(suite, impl, { threads: THREADS, vcpus: CPUS, injectHz: 0 }, {
          opsPerSec: ops / secs, nsPerOp: (secs * 1e9) / ops, abortsPerOp: 0,
          holdP50Us: pct(holds, 0.5) * 1000, holdP99Us: pct(holds, 0.99) * 1000, grantedPerOp: granted / Math.max(1, ops),
        }, { samples: 1, spread: [ops / secs, ops / secs], itersPerThread: Math.round(ops / THREADS) }));
      } finally {
        await k.close();
      }
    }
    note(`hold = 20 µs of work under a per-vCPU spinlock, 50 µs outside; ${THREADS} threads on ${CPUS} vCPUs, time slice ${o.sliceMs} ms; extension 5 µs emulated x scale 20 = 100 µs wall`);
    return out;
  },
};

export const slice: Suite = {
  id: 'slice', title: 'rseq time-slice extension: per-vCPU spinlock holders at 6x oversubscription', impls, runner,
  metrics: [opsPerSec, nsPerOp, abortsPerOp, holdP50, holdP99, grantedPerOp],
  columns: ['opsPerSec', 'ratio', 'holdP50Us', 'holdP99Us', 'grantedPerOp'],
  baseline: 'the same spinlock without the extension',
};
