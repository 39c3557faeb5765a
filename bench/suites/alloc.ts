// alloc: the allocator's four front ends on one back end (issue #11) — per-vCPU caches indexed by
// cpu_id, the same by mm_cid, per-thread caches, central lists only — under the alloc-test
// workloads (larson, threadtest, xmalloc; fill patterns written and checked as in alloc-test, the
// checked mode off). Per row: ops/s, bytes held in front-end caches (peak and mean of samples taken
// every ~2 ms while the threads run), the heap's high-water mark, aborts per op. A scaling run of
// 1..32 threads on 2 vCPUs (quick: 1..16), threadtest and xmalloc at 2 and 16 threads, and a wide
// machine where cpu_id and mm_cid indexing differ. Its own runner: every configuration is a kernel.
import { planWorkload, checkAfter, type Workload } from '../../host/alloc-test/run.js';
import { FRONTS, type Front } from '../../host/alloc/allocator.js';
import { Kernel, wasmPath } from '../../host/index.js';
import { engineOf } from '../../host/internal.js';
import type { TargetDef } from '../analysis.js';
import { row } from '../harness.js';
import { nanos, perOp, rate } from '../report/format.js';
import type { Result } from '../result.js';
import type { Impl, Metric, Runner, Suite } from '../suite.js';

const WORKLOADS: Workload[] = ['larson', 'threadtest', 'xmalloc'];
/** The wide machine: MAX_CPUS is 32, so 32 vCPUs stand in for 64. */
const WIDE = { vcpus: 32, threads: 4, migrateHz: 200, rounds: 24 };

const kindOf = (f: Front) => (f === 'vcpu' || f === 'mmcid' ? 'rseq' : f === 'thread' ? 'plain' : 'lock') as Impl['kind'];
const WHAT: Record<Front, string> = {
  vcpu: 'per-vCPU slabs by cpu_id (one-store rseq push / pop)', mmcid: 'the same slabs indexed by mm_cid',
  thread: 'per-thread caches (thread-local, plain)', central: 'central free lists only (a spinlock per size class)',
};
const impls: Impl[] = WORKLOADS.flatMap((w) => FRONTS.map((f) => ({
  id: `${w}/${f}`, kind: kindOf(f), baseline: `${w}/central`, what: `${w}: ${WHAT[f]}`,
})));

const bytes = (x: number): string => (x >= 1 << 20 ? `${(x / (1 << 20)).toFixed(2)} MiB` : x >= 1024 ? `${(x / 1024).toFixed(1)} KiB` : `${x.toFixed(0)} B`);
const metrics: Metric[] = [
  { key: 'opsPerSec', label: 'ops/s', unit: 'ops/s', better: 'higher', format: rate },
  { key: 'nsPerOp', label: 'ns/op', unit: 'ns', better: 'lower', format: nanos },
  { key: 'abortsPerOp', label: 'aborts/op', unit: '/op', better: 'lower', format: perOp },
  { key: 'cacheBytesPeak', label: 'cache peak', unit: 'B', better: 'lower', format: bytes },
  { key: 'cacheBytesMean', label: 'cache mean', unit: 'B', better: 'lower', format: bytes },
  { key: 'heapHighWater', label: 'heap hw', unit: 'B', better: 'lower', format: bytes },
];

interface Config { workload: Workload; threads: number; vcpus: number; migrateHz: number; fronts: readonly Front[] }

function configs(quick: boolean): Config[] {
  const scaling = quick ? [1, 2, 4, 16] : [1, 2, 4, 8, 16, 32];
  return [
    ...scaling.map((threads) => ({ workload: 'larson' as const, threads, vcpus: 2, migrateHz: 0, fronts: FRONTS })),
    ...(['threadtest', 'xmalloc'] as const).flatMap((workload) => [2, 16].map((threads) => ({ workload, threads, vcpus: 2, migrateHz: 0, fronts: FRONTS }))),
    { workload: 'larson', threads: WIDE.threads, vcpus: WIDE.vcpus, migrateHz: WIDE.migrateHz, fronts: ['vcpu', 'mmcid', 'thread'] },
  ];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Sample { ops: number; ms: number; aborts: number; peak: number; mean: number; hw: number }

/** One run of `w` on front `f`: a fresh allocator, the threads released together, caches sampled meanwhile. */
async function sampleOnce(k: Kernel, m: Awaited<ReturnType<Kernel['load']>>, f: Front, c: Config, reps: number, seed: number): Promise<Sample> {
  await k.reset();
  const al = k.allocator({ front: f, heapBytes: 8 << 20, checked: false });
  const res = k.alloc((c.threads + 1) * 16, 16);
  const wide = c.vcpus === WIDE.vcpus;
  const rounds = wide ? WIDE.rounds : 1;
  const plan = planWorkload(k, al, c.workload, c.threads, Math.ceil(reps / rounds), seed, (s) => res + 16 * s, 0);
  const before = k.stats().aborts;
  let done = false;
  const seen: number[] = [];
  const sampler = (async () => {
    while (!done) {
      seen.push(al.cacheBytes());
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  // The wide machine: each round, every thread wakes on a random vCPU (its placement preference,
  // T_LAST_CPU, as a wide machine's scheduler places a woken thread on some idle CPU) and runs its
  // share of the steps; caches carry over between rounds.
  const e = engineOf(k);
  let rnd = (Math.imul(seed, 0x9e3779b1) | 1) >>> 0;
  const next = () => { rnd ^= rnd << 13; rnd >>>= 0; rnd ^= rnd >>> 17; rnd ^= rnd << 5; rnd >>>= 0; return rnd; };
  const results: { thread: number; value: number; ms: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    if (wide) {
      for (let t = 0; t < c.threads; t++) {
        e.view.store(e.sched.thread(t) + e.abi.T_LAST_CPU, next() % c.vcpus);
      }
    }
    const rs = await k.run<number>(m, plan.fn, plan.args);
    rs.forEach((r, i) => { if (round === 0) results.push({ ...r }); else { results[i].value = r.value < 0 || results[i].value < 0 ? Math.min(r.value, results[i].value) : results[i].value + r.value; results[i].ms += r.ms; } });
  }
  done = true;
  await sampler;
  seen.push(al.cacheBytes());
  let ops = 0;
  for (const r of results) {
    if (r.value < 0) throw new Error(`bench alloc: ${c.workload}/${f} thread ${r.thread} failed (${r.value}): run alloc-test to see why`);
    ops += r.value;
  }
  const ms = Math.max(...results.map((r) => r.ms));
  const aborts = k.stats().aborts - before;
  const hw = al.stats().heapHighWater;
  if (plan.after) await k.runOn(0, m, plan.after.fn, ...plan.after.args);
  checkAfter(al, engineOf(k).plan.threads);
  return { ops, ms, aborts, peak: Math.max(...seen), mean: seen.reduce((a, b) => a + b, 0) / seen.length, hw };
}

const runner: Runner = {
  units: (_, o) => configs(o.sampleMs < 100).reduce((a, c) => a + c.fronts.length, 0),
  async run({ suite, o, progress, note }) {
    const quick = o.sampleMs < 100;
    const rounds = Math.max(1, Math.min(3, o.repeat));
    const out: Result[] = [];
    note(`wide machine: ${WIDE.vcpus} vCPUs (64 is above MAX_CPUS = 32), ${WIDE.threads} threads, supervisor migrations ${WIDE.migrateHz}/s per vCPU, ${WIDE.rounds} rounds per sample each waking every thread on a random vCPU (caches carry over)`);
    note(`workloads fill every object and check the pattern at free (alloc-test's); rounds per row: ${rounds}, median reported`);
    for (const c of configs(quick)) {
      const k = await Kernel.create({ cpus: c.vcpus, threads: c.threads, seed: o.seed, supervisor: { sliceMs: o.sliceMs, migrateHz: c.migrateHz } });
      try {
        const m = await k.load(wasmPath('alloc_bench'), 'alloc_bench');
        for (const f of c.fronts) {
          progress.step(`alloc ${c.workload}/${f} x${c.threads} on ${c.vcpus} vCPUs`, 1);
          // Calibrate the per-thread repetitions to the sample time, then measure.
          const base = (c.workload === 'larson' ? 400 : 300) * (c.vcpus === WIDE.vcpus ? 10 : 1);
          await sampleOnce(k, m, f, c, base, o.seed);
          const first = await sampleOnce(k, m, f, c, base, o.seed);
          const scale = Math.min(100, Math.max(1, (o.sampleMs * (c.vcpus === WIDE.vcpus ? 5 : 1)) / Math.max(first.ms, 0.1)));
          const reps = Math.round(base * scale);
          const ss: Sample[] = [];
          for (let r = 0; r < rounds; r++) ss.push(await sampleOnce(k, m, f, c, reps, o.seed + r));
          const rates = ss.map((s) => s.ops / (s.ms / 1000));
          const mid = ss[rates.indexOf(median(rates))];
          const impl = suite.impls.find((i) => i.id === `${c.workload}/${f}`)!;
          const values = {
            opsPerSec: median(rates), nsPerOp: 1e9 / median(rates), abortsPerOp: ss.reduce((a, s) => a + s.aborts, 0) / ss.reduce((a, s) => a + s.ops, 0),
            cacheBytesPeak: median(ss.map((s) => s.peak)), cacheBytesMean: mid.mean, heapHighWater: median(ss.map((s) => s.hw)),
          };
          const r = row(suite, impl, { threads: c.threads, vcpus: c.vcpus, injectHz: c.migrateHz }, values,
            { samples: ss.length, spread: [Math.min(...rates), Math.max(...rates)], itersPerThread: reps });
          out.push({ ...r, front: f, workload: c.workload });
        }
      } finally {
        await k.close();
      }
    }
    return out;
  },
};

const at = (all: Result[], w: string, f: string, threads: number, vcpus = 2) =>
  all.find((r) => r.suite === 'alloc' && r.impl === `${w}/${f}` && r.threads === threads && r.vcpus === vcpus);
const num = (r: Result | undefined, k: string) => (r?.[k] as number | undefined);

const targets: TargetDef[] = [
  {
    id: 'alloc-vcpu-vs-thread', text: 'alloc: per-vCPU within 10% of per-thread throughput at 2 threads (larson)', target: 0.9, bound: 'min', unit: 'x',
    eval(all) {
      const a = at(all, 'larson', 'vcpu', 2), b = at(all, 'larson', 'thread', 2);
      if (!a || !b) return 'needs the alloc suite';
      return { measured: a.opsPerSec / b.opsPerSec, detail: `${rate(a.opsPerSec)} vs ${rate(b.opsPerSec)} ops/s` };
    },
  },
  {
    id: 'alloc-vcpu-vs-central', text: 'alloc: per-vCPU >= 5x central-only throughput at 2 threads (larson)', target: 5, bound: 'min', unit: 'x',
    eval(all) {
      const a = at(all, 'larson', 'vcpu', 2), b = at(all, 'larson', 'central', 2);
      if (!a || !b) return 'needs the alloc suite';
      return { measured: a.opsPerSec / b.opsPerSec, detail: `${rate(a.opsPerSec)} vs ${rate(b.opsPerSec)} ops/s` };
    },
  },
  {
    id: 'alloc-footprint-16', text: 'alloc: per-vCPU front-end footprint at 16 threads on 2 vCPUs <= 1/4 of per-thread (larson, mean cache bytes)', target: 0.25, bound: 'max', unit: 'x',
    eval(all) {
      const a = at(all, 'larson', 'vcpu', 16), b = at(all, 'larson', 'thread', 16);
      if (!a || !b) return 'needs the alloc suite';
      return { measured: num(a, 'cacheBytesMean')! / num(b, 'cacheBytesMean')!, detail: `${bytes(num(a, 'cacheBytesMean')!)} vs ${bytes(num(b, 'cacheBytesMean')!)}` };
    },
  },
  {
    id: 'alloc-wide-mmcid', text: `alloc: wide machine (${WIDE.vcpus} vCPUs, ${WIDE.threads} threads, wake-ups on random vCPUs) mm_cid footprint <= 1/8 of cpu_id (peak cache bytes)`, target: 0.125, bound: 'max', unit: 'x',
    eval(all) {
      const a = at(all, 'larson', 'mmcid', WIDE.threads, WIDE.vcpus), b = at(all, 'larson', 'vcpu', WIDE.threads, WIDE.vcpus);
      if (!a || !b) return 'needs the alloc suite';
      const [pa, pb, ma, mb] = [num(a, 'cacheBytesPeak')!, num(b, 'cacheBytesPeak')!, num(a, 'cacheBytesMean')!, num(b, 'cacheBytesMean')!];
      return { measured: pa / pb, detail: `peak ${bytes(pa)} vs ${bytes(pb)}; mean ${bytes(ma)} vs ${bytes(mb)} (${(ma / mb).toFixed(2)}x)` };
    },
  },
];

export const alloc: Suite = {
  id: 'alloc', title: 'allocator front ends: per-vCPU (cpu_id) vs per-mm_cid vs per-thread vs central lists, one heap',
  impls, metrics, runner, targets,
  columns: ['opsPerSec', 'ratio', 'cacheBytesPeak', 'cacheBytesMean', 'heapHighWater', 'abortsPerOp'],
  baseline: 'central free lists only, same workload and threads',
};
