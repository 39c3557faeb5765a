// The js-api suite, run on one kernel thread (Kernel.runScript): one operation per JavaScript call,
// timed with benchmark.js. Checks first that every case really does its operation, then measures
// in rounds (all cases once per round) so that load drifting during the run hits every case alike.
import Benchmark from 'benchmark';
import type { ThreadContext } from '../../host/index.js';

export interface JsApiOptions {
  /** Module ids (Kernel.load handle .id) of build/bench.wasm; the core module is 0. */
  bench: number;
  /** Name of the Counter (wasm-rseq JS objects) the js-counter case adds to. */
  counter: string;
  /** Per-vCPU counter (cpu 0's address) for both rseq cases. */
  base: number;
  /** Byte addresses of Int32 words on their own lines: wasm atomic.add, JS Atomics.add, JS plain. */
  atomicWord: number;
  jsWord: number;
  plainWord: number;
  /** benchmark.js: seconds per case per round and minimum samples. */
  maxTime: number;
  minSamples: number;
  /** Rounds of the whole suite, cases interleaved; each case reports its median round. */
  rounds: number;
}

export interface JsApiCaseResult { id: string; hz: number; rme: number; samples: number; rounds: number[] }

interface Exports {
  counter_inc(base: number): number;
  atomic_inc(word: number): number;
  nop(): void;
  counter_sum(base: number): bigint;
}

const CHECK_CALLS = 100_000;

export function jsApi(ctx: ThreadContext, o: JsApiOptions): JsApiCaseResult[] {
  const x = ctx.exports(o.bench) as unknown as Exports;
  const core = ctx.exports(0) as unknown as { counter_add(base: number, inc: bigint): number };
  const i32 = new Int32Array(ctx.memory.buffer as unknown as SharedArrayBuffer);
  const { base } = o;
  const aw = o.atomicWord;
  const jw = o.jsWord >> 2;
  const pw = o.plainWord >> 2;
  const counter = ctx.objects.counter(o.counter);

  const cases: [string, () => void][] = [
    ['rseq-call', () => { x.counter_inc(base); }],
    ['rseq-core-call', () => { core.counter_add(base, 1n); }],
    ['wasm-atomic-call', () => { x.atomic_inc(aw); }],
    ['js-counter', () => { counter.add(); }],
    ['js-atomics', () => { Atomics.add(i32, jw, 1); }],
    ['wasm-nop-call', () => { x.nop(); }],
    ['js-plain', () => { i32[pw]++; }],
  ];

  // Each case must change its word by exactly one per call (and the rseq ones must commit).
  const probe: Record<string, () => number> = {
    'rseq-call': () => Number(x.counter_sum(base)),
    'rseq-core-call': () => Number(x.counter_sum(base)),
    'wasm-atomic-call': () => Atomics.load(i32, aw >> 2),
    'js-counter': () => counter.value(),
    'js-atomics': () => Atomics.load(i32, jw),
    'js-plain': () => Atomics.load(i32, pw),
  };
  for (const [id, fn] of cases) {
    const before = probe[id]?.();
    for (let i = 0; i < CHECK_CALLS; i++) fn();
    if (before !== undefined && probe[id]() - before !== CHECK_CALLS) {
      throw new Error(`js-api ${id}: ${CHECK_CALLS} calls changed the counter by ${probe[id]() - before}`);
    }
  }

  const byCase = new Map<string, { hz: number; rme: number; samples: number }[]>(cases.map(([id]) => [id, []]));
  for (let r = 0; r < o.rounds; r++) {
    const suite = new Benchmark.Suite('js-api');
    for (const [id, fn] of cases) suite.add(id, fn, { maxTime: o.maxTime, minSamples: o.minSamples });
    suite.run({ async: false });
    suite.forEach((b: Benchmark) => {
      if (b.error) throw new Error(`js-api ${b.name}: ${b.error.message}`);
      byCase.get(String(b.name))!.push({ hz: b.hz, rme: b.stats.rme, samples: b.stats.sample.length });
    });
  }
  return [...byCase].map(([id, rounds]) => {
    const sorted = [...rounds].sort((a, b) => a.hz - b.hz);
    const mid = sorted[(sorted.length - 1) >> 1];
    return { id, hz: mid.hz, rme: mid.rme, samples: rounds.reduce((a, x) => a + x.samples, 0), rounds: rounds.map((x) => x.hz) };
  });
}
