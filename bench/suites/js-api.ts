// js-api: one operation per JavaScript call, on one kernel thread, timed with benchmark.js inside
// the worker (bench/workers/js-api.ts). Its own runner: the cases run interleaved in rounds there.
import { analysisHelpers as h, type TargetDef } from '../analysis.js';
import { row } from '../harness.js';
import { I64, line } from '../layout.js';
import { COLUMNS, abortsPerOp, migrationsPerSec, nsPerOp, nsPerOpThread, opsPerSec, preemptionsPerSec, requestsPerSec } from '../metrics.js';
import type { Impl, Metric, Runner, Suite } from '../suite.js';
import type { JsApiCaseResult, JsApiOptions } from '../workers/js-api.js';

/** The cases, in the order they run; the worker (bench/workers/js-api.ts) implements them. */
const impls: Impl[] = [
  { id: 'rseq-call', kind: 'rseq', what: 'bench export counter_inc(base): one per-vCPU rseq add per JS call' },
  { id: 'rseq-core-call', kind: 'rseq', what: 'core export counter_add(base, 1n): the same through the i64 (BigInt) API' },
  { id: 'wasm-atomic-call', kind: 'atomic', what: 'bench export atomic_inc(word): one wasm atomic.add per JS call' },
  { id: 'js-counter', kind: 'rseq', what: 'Counter.add() (wasm-rseq JS objects): the per-vCPU protocol in plain JS, no wasm call' },
  { id: 'js-atomics', kind: 'js', what: 'Atomics.add(i32, i, 1) on the shared memory' },
  { id: 'wasm-nop-call', kind: 'plain', what: 'an empty wasm export: the JS -> wasm call alone' },
  { id: 'js-plain', kind: 'plain', what: 'i32[i]++ on the shared memory (not thread-safe: the floor)' },
].map((c) => ({ ...c, kind: c.kind as Impl['kind'], baseline: 'js-atomics', onlyThreads: [1] }));

/** benchmark.js relative margin of error of the median round, % (samples = rounds). */
const rme: Metric = { key: 'rme', label: 'rme', unit: '%', better: 'lower', format: (x) => `${x.toFixed(1)}%` };

const WORKER = new URL('../workers/js-api.js', import.meta.url);

const runner: Runner = {
  units: (suite) => suite.impls.length,
  async run({ env, suite, o, progress }) {
    const { k, e } = env;
    k.resetAllocations();
    const l = line(e.abi);
    const words = k.alloc(3 * l, l);
    const counter = 'bench.js-api';
    k.counter(counter);
    const opts: JsApiOptions = {
      bench: env.m.id, counter, base: k.allocPerCpu(I64), atomicWord: words, jsWord: words + l, plainWord: words + 2 * l,
      maxTime: o.jsApi.maxTime, minSamples: o.jsApi.minSamples, rounds: o.jsApi.rounds,
    };
    progress.step('js-api (benchmark.js, 1 thread)', 0);
    const before = k.stats();
    const { value } = await k.runScript<JsApiCaseResult[]>(0, WORKER, 'jsApi', opts);
    const after = k.stats();
    progress.step('js-api (benchmark.js, 1 thread)', suite.impls.length);
    const commits = after.commits - before.commits;
    const aborts = commits > 0 ? (after.aborts - before.aborts) / commits : 0;
    return value.map((c) => {
      const impl = suite.impls.find((i) => i.id === c.id)!;
      const metrics = {
        opsPerSec: c.hz, nsPerOp: 1e9 / c.hz, abortsPerOp: impl.kind === 'rseq' ? aborts : 0, nsPerOpThread: 1e9 / c.hz,
        preemptionsPerSec: 0, migrationsPerSec: 0, requestsPerSec: 0, rme: c.rme,
      };
      return row(suite, impl, { threads: 1, vcpus: k.cpus, injectHz: 0 }, metrics,
        { samples: c.rounds.length, spread: [Math.min(...c.rounds), Math.max(...c.rounds)], itersPerThread: 1 });
    });
  },
};

const targets: TargetDef[] = [
  {
    id: 'js-api', text: 'js-api, 1 thread: per-vCPU add from JS >= 2x faster than Atomics.add from JS', target: 2, bound: 'min', unit: 'x',
    eval(all) {
      const a = h.find(all, 'js-api', 'rseq-call', 1);
      const b = h.find(all, 'js-api', 'js-atomics', 1);
      if (!a || !b) return 'needs the js-api suite';
      return { measured: b.nsPerOp / a.nsPerOp, detail: `counter_inc ${h.ns(a.nsPerOp)} vs Atomics.add ${h.ns(b.nsPerOp)} per call` };
    },
  },
  {
    id: 'js-counter', text: 'js-api, 1 thread: Counter.add from JS >= 4x faster than Atomics.add from JS', target: 4, bound: 'min', unit: 'x',
    eval(all) {
      const a = h.find(all, 'js-api', 'js-counter', 1);
      const b = h.find(all, 'js-api', 'js-atomics', 1);
      if (!a || !b) return 'needs the js-api suite';
      return { measured: b.nsPerOp / a.nsPerOp, detail: `Counter.add ${h.ns(a.nsPerOp)} vs Atomics.add ${h.ns(b.nsPerOp)} per call` };
    },
  },
];

export const jsApi: Suite = {
  id: 'js-api', title: 'one operation per JavaScript call (benchmark.js, 1 thread)', impls, runner, targets,
  metrics: [opsPerSec, nsPerOp, abortsPerOp, nsPerOpThread, preemptionsPerSec, migrationsPerSec, requestsPerSec, rme],
  columns: COLUMNS,
};
