// counter: per-vCPU rseq add against atomic, plain and JS increments, and the read side.
import { analysisHelpers as h, type TargetDef } from '../analysis.js';
import { counterCheck, fail } from '../checks.js';
import { byImpl, cpuCopies, perThread, sampled, scriptLoop, wasmLoop } from '../harness.js';
import { nativeRunner } from '../native.js';
import { I32, I64, line } from '../layout.js';
import { COLUMNS, STANDARD } from '../metrics.js';
import type { Env, Impl, Suite, Workload } from '../suite.js';

/** A per-vCPU i64 counter: the per-vCPU rseq add of `fn`, checked against counter_sum. */
export function percpuCounter(env: Env, id: string, fn: string): Workload {
  const base = env.k.allocPerCpu(I64);
  return wasmLoop(env, id, { fn, args: () => [base], exact: true, check: counterCheck(id, () => env.x.counter_sum(base)) });
}

/** Each thread reads `iters` times and leaves the sum of what it read in its sink: iters x value. */
function readLoop(env: Env, id: string, fn: string, at: number, value: bigint): Workload {
  const sink = perThread(env);
  return wasmLoop(env, id, {
    fn, args: (s) => [at, sink(s)], exact: true,
    check(_ops, slots, iters) {
      for (const s of slots) {
        const got = env.e.view.load64(sink(s));
        if (got !== BigInt(iters) * value) fail(id, `thread ${s} read ${got} in total, expected ${BigInt(iters) * value}`);
      }
    },
  });
}

/** The sum of every thread slot's i64 word. */
const slotsSum = (env: Env, word: (slot: number) => number) => () =>
  Array.from({ length: env.maxThreads }, (_, s) => env.e.view.load64(word(s))).reduce((a, b) => a + b, 0n);

export const counterRseq: Impl = {
  id: 'rseq', kind: 'rseq', baseline: 'atomic-shared', counterpart: 'native-rseq',
  what: 'per-vCPU rseq add (cpu_id) on the current vCPU\'s i64 slot',
  prepare(env) { return percpuCounter(env, this.id, 'counter_rseq'); },
};

const impls: Impl[] = [
  counterRseq,
  {
    id: 'rseq-mm_cid', kind: 'rseq', baseline: 'atomic-shared', counterpart: 'native-rseq',
    what: 'per-vCPU rseq add indexed by mm_cid',
    prepare: (env) => percpuCounter(env, 'rseq-mm_cid', 'counter_rseq_mm_cid'),
  },
  {
    id: 'atomic-shared', kind: 'atomic', baseline: 'atomic-shared', counterpart: 'native-lock-add-shared',
    what: 'wasm atomic.add on one shared i64',
    prepare(env) {
      const word = env.k.alloc(I64, line(env.e.abi));
      return wasmLoop(env, this.id, { fn: 'counter_atomic', args: () => [word], exact: true, check: counterCheck(this.id, () => env.e.view.load64(word)) });
    },
  },
  {
    id: 'atomic-per-thread', kind: 'atomic', baseline: 'atomic-shared', counterpart: 'native-lock-add-own',
    what: 'wasm atomic.add on the thread\'s own i64 (own 128-byte line)',
    prepare(env) {
      const word = perThread(env);
      return wasmLoop(env, this.id, { fn: 'counter_atomic', args: (s) => [word(s)], exact: true, check: counterCheck(this.id, slotsSum(env, word)) });
    },
  },
  {
    id: 'plain-per-thread', kind: 'plain', baseline: 'atomic-shared', counterpart: 'native-plain',
    what: 'plain load/add/store on the thread\'s own i64 (the floor)',
    prepare(env) {
      const word = perThread(env);
      return wasmLoop(env, this.id, { fn: 'counter_plain', args: (s) => [word(s)], exact: true, check: counterCheck(this.id, slotsSum(env, word)) });
    },
  },
  {
    id: 'js-atomics-shared', kind: 'js', baseline: 'atomic-shared',
    what: 'JS Atomics.add on one shared Int32Array word, in a JS loop',
    prepare(env) {
      const word = env.k.alloc(I32, line(env.e.abi));
      const check = counterCheck(this.id, () => BigInt(env.e.view.load(word) >>> 0), true);
      return scriptLoop(env, this.id, { fn: 'atomicsAddLoop', args: (_s, iters) => ({ word, iters }), exact: true, check });
    },
  },
  {
    id: 'read-percpu-sum', kind: 'rseq', role: 'read', baseline: 'read-atomic',
    what: 'read side: sum every vCPU\'s slot of the per-vCPU counter',
    prepare(env) {
      const base = env.k.allocPerCpu(I64);
      cpuCopies(env, base).forEach((p, c) => env.e.view.store64(p, BigInt(c + 1)));
      const value = BigInt((env.k.cpus * (env.k.cpus + 1)) / 2);
      return readLoop(env, this.id, 'read_percpu_sum', base, value);
    },
  },
  {
    id: 'read-atomic', kind: 'atomic', role: 'read', baseline: 'read-atomic',
    what: 'read side: one atomic load of the shared counter',
    prepare(env) {
      const word = env.k.alloc(I64, line(env.e.abi));
      env.e.view.store64(word, 42n);
      return readLoop(env, this.id, 'read_atomic', word, 42n);
    },
  },
  // Native rows (bench/native/rseq_bench.c on the real kernel), 1 and 2 threads, threads not pinned.
  ...([
    ['native-rseq', 'rseq', 'x86-64 rseq critical section: store rseq_cs, cmp cpu_id, addq to the CPU\'s slot (128 B apart)'],
    ['native-lock-add-shared', 'atomic', 'lock addq on one shared word'],
    ['native-lock-add-own', 'atomic', 'lock addq on the thread\'s own word (own 128-byte line)'],
    ['native-plain', 'plain', 'addq on the thread\'s own word (the floor)'],
  ] as const).map(([id, kind, what]): Impl => ({ id, kind, what, baseline: 'native-lock-add-shared', native: true, onlyThreads: [1, 2] })),
];

/** The native rows' runner: bench/native/rseq_bench.c, run once per bench run. */
const native = nativeRunner('rseq_bench');

/** The native targets' answer when the native rows are missing: why they were skipped, if they were. */
const nativeMissing = (meta: Parameters<TargetDef['eval']>[1], needs: string) => {
  const why = h.skipped(meta, 'counter', 'native rows');
  return why ? { na: `native rows skipped: ${why}` } : needs;
};

const targets: TargetDef[] = [
  {
    id: 'counter-1t', text: 'counter, 1 thread: rseq ns/op within 1.25x of plain per-thread add', target: 1.25, bound: 'max', unit: 'x',
    eval(all) {
      const a = h.find(all, 'counter', 'rseq', 1);
      const b = h.find(all, 'counter', 'plain-per-thread', 1);
      if (!a || !b) return 'needs counter at 1 thread';
      return { measured: a.nsPerOp / b.nsPerOp, detail: `rseq ${h.ns(a.nsPerOp)} vs plain ${h.ns(b.nsPerOp)}` };
    },
  },
  {
    id: 'counter-2t', text: 'counter, 2 threads: rseq aggregate >= 20x shared atomic.add', target: 20, bound: 'min', unit: 'x',
    eval(all) {
      const a = h.find(all, 'counter', 'rseq', 2);
      const b = h.find(all, 'counter', 'atomic-shared', 2);
      if (!a || !b) return 'needs counter at 2 threads';
      return { measured: a.opsPerSec / b.opsPerSec, detail: `rseq ${h.mops(a.opsPerSec)} vs atomic.add ${h.mops(b.opsPerSec)}` };
    },
  },
  {
    id: 'counter-native-1t', text: 'counter, 1 thread: rseq ns/op within 1.5x of native rseq', target: 1.5, bound: 'max', unit: 'x',
    eval(all, meta) {
      const a = h.find(all, 'counter', 'rseq', 1);
      const n = h.find(all, 'counter', 'native-rseq', 1);
      if (!a) return 'needs counter rseq at 1 thread';
      if (!n) return nativeMissing(meta, 'needs native rows at 1 thread');
      return { measured: a.nsPerOp / n.nsPerOp, detail: `rseq ${h.ns(a.nsPerOp)} vs native rseq ${h.ns(n.nsPerOp)}` };
    },
  },
  ...[1, 2].map((t): TargetDef => ({
    id: `counter-own-${t}t`, text: `counter, ${t} thread${t > 1 ? 's' : ''}: rseq >= 1.0x atomic.add on an own word`, target: 1, bound: 'min', unit: 'x',
    eval(all) {
      const a = h.find(all, 'counter', 'rseq', t);
      const b = h.find(all, 'counter', 'atomic-per-thread', t);
      if (!a || !b) return `needs counter at ${t} thread${t > 1 ? 's' : ''}`;
      return { measured: a.opsPerSec / b.opsPerSec, detail: `rseq ${h.mops(a.opsPerSec)} vs own atomic.add ${h.mops(b.opsPerSec)}` };
    },
  })),
  {
    id: 'counter-native-2t-ratio', text: 'counter, 2 threads: (rseq / shared atomic.add) over (native rseq / native shared lock add)',
    target: 1, bound: 'min', unit: 'x',
    eval(all, meta) {
      const a = h.find(all, 'counter', 'rseq', 2);
      const b = h.find(all, 'counter', 'atomic-shared', 2);
      const na = h.find(all, 'counter', 'native-rseq', 2);
      const nb = h.find(all, 'counter', 'native-lock-add-shared', 2);
      if (!a || !b) return 'needs counter at 2 threads';
      if (!na || !nb) return nativeMissing(meta, 'needs native rows at 2 threads');
      const emulated = a.opsPerSec / b.opsPerSec;
      const native = na.opsPerSec / nb.opsPerSec;
      return { measured: emulated / native, detail: `emulated ${emulated.toFixed(2)}x (${h.mops(a.opsPerSec)} / ${h.mops(b.opsPerSec)}) vs native ${native.toFixed(2)}x (${h.mops(na.opsPerSec)} / ${h.mops(nb.opsPerSec)})` };
    },
  },
];

export const counter: Suite = {
  id: 'counter', title: 'per-vCPU rseq add vs atomic, plain and JS increments; the read side; native rseq and lock add',
  impls, metrics: STANDARD, columns: [...COLUMNS, 'counterpart'], counterpartLabel: 'emulated/native', targets,
  baseline: 'atomic-shared (writes), read-atomic (reads), native-lock-add-shared (native rows)',
  runner: byImpl((i) => (i.native ? native : sampled)),
  notes: () => ['emulated/native: the row\'s ns/op over its native counterpart\'s (rseq: native-rseq; atomic-shared: native-lock-add-shared; '
    + 'atomic-per-thread: native-lock-add-own; plain-per-thread: native-plain); native rows\' ratio is against native-lock-add-shared'],
};
