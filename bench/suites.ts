// The benchmark suites as data: for each suite, the implementations measured side by side, how each
// lays out and initialises its structure, which wasm loop (or JS loop) its threads run, and the
// exact check made after every sample (a benchmark of a broken structure is worthless).
import type { Kernel, ModuleHandle } from '../host/index.js';
import type { LoopOutcome } from './workers/loops.js';
import { engineOf } from '../host/internal.js';

export const SUITES = ['counter', 'anatomy', 'spinlock', 'list', 'buffer', 'memcpy', 'js-api', 'injection'] as const;
export type SuiteName = (typeof SUITES)[number];

/** What an implementation is built from: the axis the report colours by. */
export type Kind = 'rseq' | 'atomic' | 'lock' | 'plain' | 'js';

/** Everything a workload needs to lay itself out: the kernel, the bench module and its host exports. */
export interface Env {
  readonly k: Kernel;
  readonly m: ModuleHandle;
  readonly x: BenchExports;
  /** Threads the kernel has (the most any sample uses). */
  readonly maxThreads: number;
}

/** One sample's raw outcome: per participating thread, the operations done and when its loop
 *  started and ended (absolute ms, comparable across threads). */
export interface RunOutcome { ops: number[]; start: number[]; end: number[] }

/** A laid-out structure ready to be measured. run() also checks the structure afterwards (throws). */
export interface Workload {
  run(slots: number[], iters: number): Promise<RunOutcome>;
}

export interface Impl {
  readonly suite: SuiteName;
  /** Short stable id, used in tables, JSON and charts. */
  readonly id: string;
  readonly kind: Kind;
  /** 'read' for the read side of the counter (compared with the atomic read, not the atomic add). */
  readonly role: 'write' | 'read';
  /** The implementation of the same suite this one's ratio is computed against. */
  readonly baseline: string;
  /** One line: what one operation is. */
  readonly what: string;
  /** Thread counts this implementation is measured at, whatever --threads says (default: all). */
  readonly onlyThreads?: number[];
  prepare(env: Env): Workload;
}

/** The main-thread exports of build/bench.wasm used for set-up and checks (bench/assembly/workloads.ts). */
export interface BenchExports {
  list_build(head: number, nodes: number, n: number, stride: number, value0: number): void;
  list_count(head: number, limit: number): number;
  list_sum(head: number, limit: number): bigint;
  buffer_build(b: number, cap: number, n: number, value0: number): void;
  buffer_count(b: number): number;
  buffer_sum(b: number): bigint;
  memcpy_build(b: number, cap: number, n: number, value0: number): void;
  memcpy_count(b: number): number;
  memcpy_sum(b: number): bigint;
  mpmc_build(q: number, cap: number, payload: number): void;
  mpmc_fill(q: number, n: number, value0: number): number;
  mpmc_fill_items(q: number, scratch: number, n: number, value0: number): number;
  mpmc_count(q: number): number;
  mpmc_sum(q: number, items: number): bigint;
  counter_sum(base: number): bigint;
  spinlock_sum(lock: number, cpus: number): bigint;
  ITEM_SIZE: WebAssembly.Global;
}

/** A structure failed its post-sample check. */
export class CheckError extends Error {
  override name = 'CheckError';
}
const fail = (impl: string, msg: string): never => { throw new CheckError(`${impl}: ${msg}`); };

const LINE = 128;
/** Nodes / items per vCPU for the list and buffers (the global structures hold as many in total). */
const PER_CPU = 64;
const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(2, n)));
/** 1 + 2 + ... + n as a bigint: the checksum of items numbered 1..n. */
const triangle = (n: number) => (BigInt(n) * BigInt(n + 1)) / 2n;

/** Per-thread words / scratch areas: one 128-byte line per thread slot. */
function perThread(env: Env): (slot: number) => number {
  const base = env.k.alloc(env.maxThreads * LINE, LINE);
  return (slot) => base + slot * LINE;
}
const cpuCopies = (env: Env, base: number) =>
  Array.from({ length: env.k.cpus }, (_, c) => base + c * engineOf(env.k).plan.poolStride);

interface WasmLoop {
  fn: string;
  args: (slot: number) => number[];
  /** Every thread must complete exactly `iters` (counters: fewer means the thread is unregistered). */
  exact?: boolean;
  check: (ops: number[], slots: number[], iters: number) => void;
}

/** A workload whose threads run one wasm loop `fn(...args, iters) -> ops` from the start barrier. */
function wasmLoop(env: Env, id: string, w: WasmLoop): Workload {
  const bar = env.k.alloc(2 * LINE, LINE);
  return {
    async run(slots, iters) {
      const res = await runTogether(env, bar, slots, 'wasmLoop', (slot) => ({ module: env.m.id, fn: w.fn, args: w.args(slot), iters }));
      res.forEach((r, i) => {
        if (r.ops < 0) fail(id, `thread ${slots[i]}: a push found its buffer full (an item would have been lost)`);
        if (w.exact && r.ops !== iters) fail(id, `thread ${slots[i]} completed ${r.ops} of ${iters} operations (unregistered?)`);
      });
      const ops = res.map((r) => r.ops);
      w.check(ops, slots, iters);
      return { ops, start: res.map((r) => r.start), end: res.map((r) => r.end) };
    },
  };
}

/** Counter checks: the counter(s) hold exactly the increments done so far. */
function counterCheck(id: string, read: () => bigint, mod32 = false) {
  let total = 0n;
  return (ops: number[]) => {
    total += BigInt(sum(ops));
    const got = read();
    const want = mod32 ? BigInt.asUintN(32, total) : total;
    if (got !== want) fail(id, `counter reads ${got}, expected ${want} (increments lost or duplicated)`);
  };
}

/** Item checks: every item present once; count and checksum preserved. */
function itemsCheck(id: string, total: number, read: () => { count: number; sum: bigint }) {
  return () => {
    const { count, sum: s } = read();
    if (s < 0n) fail(id, 'an item is torn (its check word does not match its value)');
    if (count !== total) fail(id, `${count} items, expected ${total} (items lost or duplicated)`);
    if (s !== triangle(total)) fail(id, `items sum to ${s}, expected ${triangle(total)}`);
  };
}

// --- counter ---------------------------------------------------------------------------------

const counter: Impl[] = [
  {
    suite: 'counter', id: 'rseq', kind: 'rseq', role: 'write', baseline: 'atomic-shared',
    what: 'per-vCPU rseq add (cpu_id) on the current vCPU\'s i64 slot',
    prepare(env) {
      const base = env.k.allocPerCpu(8);
      return wasmLoop(env, this.id, { fn: 'counter_rseq', args: () => [base], exact: true, check: counterCheck(this.id, () => env.x.counter_sum(base)) });
    },
  },
  {
    suite: 'counter', id: 'rseq-mm_cid', kind: 'rseq', role: 'write', baseline: 'atomic-shared',
    what: 'per-vCPU rseq add indexed by mm_cid',
    prepare(env) {
      const base = env.k.allocPerCpu(8);
      return wasmLoop(env, this.id, { fn: 'counter_rseq_mm_cid', args: () => [base], exact: true, check: counterCheck(this.id, () => env.x.counter_sum(base)) });
    },
  },
  {
    suite: 'counter', id: 'atomic-shared', kind: 'atomic', role: 'write', baseline: 'atomic-shared',
    what: 'wasm atomic.add on one shared i64',
    prepare(env) {
      const word = env.k.alloc(8, LINE);
      return wasmLoop(env, this.id, { fn: 'counter_atomic', args: () => [word], exact: true, check: counterCheck(this.id, () => engineOf(env.k).view.load64(word)) });
    },
  },
  {
    suite: 'counter', id: 'atomic-per-thread', kind: 'atomic', role: 'write', baseline: 'atomic-shared',
    what: 'wasm atomic.add on the thread\'s own i64 (own 128-byte line)',
    prepare(env) {
      const word = perThread(env);
      const all = () => Array.from({ length: env.maxThreads }, (_, s) => engineOf(env.k).view.load64(word(s))).reduce((a, b) => a + b, 0n);
      return wasmLoop(env, this.id, { fn: 'counter_atomic', args: (s) => [word(s)], exact: true, check: counterCheck(this.id, all) });
    },
  },
  {
    suite: 'counter', id: 'plain-per-thread', kind: 'plain', role: 'write', baseline: 'atomic-shared',
    what: 'plain load/add/store on the thread\'s own i64 (the floor)',
    prepare(env) {
      const word = perThread(env);
      const all = () => Array.from({ length: env.maxThreads }, (_, s) => engineOf(env.k).view.load64(word(s))).reduce((a, b) => a + b, 0n);
      return wasmLoop(env, this.id, { fn: 'counter_plain', args: (s) => [word(s)], exact: true, check: counterCheck(this.id, all) });
    },
  },
  {
    suite: 'counter', id: 'js-atomics-shared', kind: 'js', role: 'write', baseline: 'atomic-shared',
    what: 'JS Atomics.add on one shared Int32Array word, in a JS loop',
    prepare(env) {
      const word = env.k.alloc(4, LINE);
      const bar = env.k.alloc(2 * LINE, LINE);
      const check = counterCheck(this.id, () => BigInt(engineOf(env.k).view.load(word) >>> 0), true);
      return {
        async run(slots, iters) {
          const out = await runTogether(env, bar, slots, 'atomicsAddLoop', () => ({ word, iters }));
          if (out.some((o) => o.ops !== iters)) fail('js-atomics-shared', 'a thread stopped early');
          check(out.map((o) => o.ops));
          return { ops: out.map((o) => o.ops), start: out.map((o) => o.start), end: out.map((o) => o.end) };
        },
      };
    },
  },
  {
    suite: 'counter', id: 'read-percpu-sum', kind: 'rseq', role: 'read', baseline: 'read-atomic',
    what: 'read side: sum every vCPU\'s slot of the per-vCPU counter',
    prepare(env) {
      const base = env.k.allocPerCpu(8);
      cpuCopies(env, base).forEach((p, c) => engineOf(env.k).view.store64(p, BigInt(c + 1)));
      const value = BigInt((env.k.cpus * (env.k.cpus + 1)) / 2);
      return readLoop(env, this.id, 'read_percpu_sum', base, value);
    },
  },
  {
    suite: 'counter', id: 'read-atomic', kind: 'atomic', role: 'read', baseline: 'read-atomic',
    what: 'read side: one atomic load of the shared counter',
    prepare(env) {
      const word = env.k.alloc(8, LINE);
      engineOf(env.k).view.store64(word, 42n);
      return readLoop(env, this.id, 'read_atomic', word, 42n);
    },
  },
];

/** Each thread reads `iters` times and leaves the sum of what it read in its sink: iters x value. */
function readLoop(env: Env, id: string, fn: string, at: number, value: bigint): Workload {
  const sink = perThread(env);
  return wasmLoop(env, id, {
    fn, args: (s) => [at, sink(s)], exact: true,
    check(_ops, slots, iters) {
      for (const s of slots) {
        const got = engineOf(env.k).view.load64(sink(s));
        if (got !== BigInt(iters) * value) fail(id, `thread ${s} read ${got} in total, expected ${BigInt(iters) * value}`);
      }
    },
  });
}

/**
 * Run `fn` of bench/workers/loops.js on each slot (Kernel.runScript) with `opts(slot)`, all
 * released together from a barrier of our own at `bar` (two words on their own lines), so that
 * each thread reports absolute start and end times of its loop.
 */
async function runTogether(env: Env, bar: number, slots: number[], fn: string, opts: (slot: number) => object): Promise<LoopOutcome[]> {
  const { view } = engineOf(env.k);
  const arrive = bar;
  const go = bar + LINE;
  view.store(arrive, 0);
  view.store(go, 0);
  const url = new URL('./workers/loops.js', import.meta.url);
  const calls = slots.map((s) => env.k.runScript<LoopOutcome>(s, url, fn, { ...opts(s), arrive, go }));
  const arrived = (async () => {
    for (let seen = view.load(arrive); seen < slots.length; seen = view.load(arrive)) {
      const w = Atomics.waitAsync(view.i32, arrive >> 2, seen, 50);
      if (w.async) await w.value;
    }
  })();
  await Promise.race([arrived, Promise.allSettled(calls)]);
  view.store(go, 1);
  Atomics.notify(view.i32, go >> 2);
  return (await Promise.all(calls)).map((r) => r.value);
}

// --- anatomy ---------------------------------------------------------------------------------

const ANATOMY: [string, string, string][] = [
  ['1-plain', 'anatomy_plain', 'plain add on the current vCPU\'s slot, index read once (the floor)'],
  ['2-check', 'anatomy_check', '+ sequence snapshot and commit check (T_SEQP, two atomic loads)'],
  ['3-index', 'anatomy_index', '+ cpu_id from struct rseq, pool stride and cpu compare, every op'],
  ['4-rseq_cs', 'anatomy_cs', '+ rseq_cs store of the (constant) descriptor address, injection flag'],
  ['5-account', 'anatomy_account', '+ the per-thread commit count (T_COMMITS load/add/store)'],
  ['6-inject', 'anatomy_inject', '+ the nine injection points (flag tests around cold host calls)'],
  ['7-full', 'counter_rseq', 'the library\'s percpu_counter_add (= counter rseq): + slow-path branches, retry loop'],
];

const anatomy: Impl[] = ANATOMY.map(([id, fn, what]) => ({
  suite: 'anatomy', id, kind: id === '1-plain' ? 'plain' : 'rseq', role: 'write', baseline: '1-plain', what, onlyThreads: [1],
  prepare(env: Env) {
    const base = env.k.allocPerCpu(8);
    return wasmLoop(env, id, { fn, args: () => [base], exact: true, check: counterCheck(id, () => env.x.counter_sum(base)) });
  },
}));

// --- spinlock --------------------------------------------------------------------------------

const spinlock: Impl[] = [
  {
    suite: 'spinlock', id: 'rseq-percpu-lock', kind: 'rseq', role: 'write', baseline: 'global-ttas',
    what: 'lock the current vCPU\'s lock (rseq compare-and-store), add 1 to its data, unlock',
    prepare(env) {
      const lock = env.k.allocPerCpu(16);
      return wasmLoop(env, this.id, {
        fn: 'spinlock_rseq', args: () => [lock], exact: true,
        check: counterCheck(this.id, () => env.x.spinlock_sum(lock, env.k.cpus)),
      });
    },
  },
  {
    suite: 'spinlock', id: 'global-ttas', kind: 'lock', role: 'write', baseline: 'global-ttas',
    what: 'one global test-and-test-and-set CAS lock around the same add',
    prepare(env) {
      const lock = env.k.alloc(16, LINE);
      return wasmLoop(env, this.id, {
        fn: 'spinlock_global', args: () => [lock], exact: true,
        check: counterCheck(this.id, () => env.x.spinlock_sum(lock, 1)),
      });
    },
  },
];

// --- list ------------------------------------------------------------------------------------

// One node per line: a pop and push straddling a migration moves a node to another vCPU's list,
// and packed nodes would then put two vCPUs' hot nodes on one line (false sharing that persists).
const NODE_STRIDE = LINE;

/** Build `n` nodes numbered value0.. onto the list at `head`, one line each. */
function nodes(env: Env, head: number, n: number, value0: number): void {
  env.x.list_build(head, env.k.alloc(n * NODE_STRIDE, LINE), n, NODE_STRIDE, value0);
}

const list: Impl[] = [
  {
    suite: 'list', id: 'rseq', kind: 'rseq', role: 'write', baseline: 'treiber',
    what: 'pop a node from the current vCPU\'s list and push it back (2 rseq sections)',
    prepare(env) {
      const head = env.k.allocPerCpu(4);
      const heads = cpuCopies(env, head);
      heads.forEach((h, c) => nodes(env, h, PER_CPU, c * PER_CPU + 1));
      const total = heads.length * PER_CPU;
      const check = itemsCheck(this.id, total, () => ({
        count: sum(heads.map((h) => env.x.list_count(h, total + 1))),
        sum: heads.reduce((a, h) => a + env.x.list_sum(h, total + 1), 0n),
      }));
      return wasmLoop(env, this.id, { fn: 'list_rseq', args: () => [head], check });
    },
  },
  {
    suite: 'list', id: 'treiber', kind: 'atomic', role: 'write', baseline: 'treiber',
    what: 'pop and push back on one Treiber stack (tagged 64-bit CAS, ABA-safe)',
    prepare(env) {
      const head = env.k.alloc(8, LINE);
      const total = env.k.cpus * PER_CPU;
      nodes(env, head, total, 1);
      const check = itemsCheck(this.id, total, () => ({ count: env.x.list_count(head, total + 1), sum: env.x.list_sum(head, total + 1) }));
      return wasmLoop(env, this.id, { fn: 'list_treiber', args: () => [head], check });
    },
  },
  {
    suite: 'list', id: 'locked', kind: 'lock', role: 'write', baseline: 'treiber',
    what: 'pop and push back on one list under a global TTAS spinlock',
    prepare(env) {
      const lock = env.k.alloc(16, LINE);
      const head = lock + 8;
      const total = env.k.cpus * PER_CPU;
      nodes(env, head, total, 1);
      const check = itemsCheck(this.id, total, () => ({ count: env.x.list_count(head, total + 1), sum: env.x.list_sum(head, total + 1) }));
      return wasmLoop(env, this.id, { fn: 'list_locked', args: () => [lock, head], check });
    },
  },
];

// --- buffer and memcpy buffer --------------------------------------------------------------------

/** Capacity of an MPMC queue holding `items`: above items + threads in flight, so it is never full. */
const mpmcCap = (env: Env, items: number) => nextPow2(2 * (items + env.maxThreads));

const buffer: Impl[] = [
  {
    suite: 'buffer', id: 'rseq', kind: 'rseq', role: 'write', baseline: 'mpmc-atomic',
    what: 'pop a pointer from the current vCPU\'s buffer and push it back (2 rseq sections)',
    prepare(env) {
      const total = env.k.cpus * PER_CPU;
      const buf = env.k.allocPerCpu(8 + 4 * total);
      const bufs = cpuCopies(env, buf);
      bufs.forEach((b, c) => env.x.buffer_build(b, total, PER_CPU, c * PER_CPU + 1));
      const check = itemsCheck(this.id, total, () => ({
        count: sum(bufs.map((b) => env.x.buffer_count(b))), sum: bufs.reduce((a, b) => a + env.x.buffer_sum(b), 0n),
      }));
      return wasmLoop(env, this.id, { fn: 'buffer_rseq', args: () => [buf], check });
    },
  },
  {
    suite: 'buffer', id: 'mpmc-atomic', kind: 'atomic', role: 'write', baseline: 'mpmc-atomic',
    what: 'dequeue and enqueue a pointer on one bounded MPMC queue (Vyukov, CAS per op)',
    prepare(env) {
      const total = env.k.cpus * PER_CPU;
      const cap = mpmcCap(env, total);
      const q = env.k.alloc(384 + cap * 16, LINE);
      env.x.mpmc_build(q, cap, 4);
      if (env.x.mpmc_fill(q, total, 1) !== total) fail(this.id, 'queue full while filling');
      const check = itemsCheck(this.id, total, () => ({ count: env.x.mpmc_count(q), sum: env.x.mpmc_sum(q, 0) }));
      return wasmLoop(env, this.id, { fn: 'buffer_mpmc', args: () => [q], check });
    },
  },
  {
    suite: 'buffer', id: 'locked', kind: 'lock', role: 'write', baseline: 'mpmc-atomic',
    what: 'pop and push back on one pointer buffer under a global TTAS spinlock',
    prepare(env) {
      const total = env.k.cpus * PER_CPU;
      const lock = env.k.alloc(4, LINE);
      const buf = env.k.alloc(8 + 4 * total, LINE);
      env.x.buffer_build(buf, total, total, 1);
      const check = itemsCheck(this.id, total, () => ({ count: env.x.buffer_count(buf), sum: env.x.buffer_sum(buf) }));
      return wasmLoop(env, this.id, { fn: 'buffer_locked', args: () => [lock, buf], check });
    },
  },
];

const memcpy: Impl[] = [
  {
    suite: 'memcpy', id: 'rseq', kind: 'rseq', role: 'write', baseline: 'mpmc-atomic',
    what: 'copy a 16-byte item out of the current vCPU\'s ring and back in (2 rseq sections)',
    prepare(env) {
      const size = env.x.ITEM_SIZE.value as number;
      const total = env.k.cpus * PER_CPU;
      const buf = env.k.allocPerCpu(16 + size * total);
      const bufs = cpuCopies(env, buf);
      bufs.forEach((b, c) => env.x.memcpy_build(b, total, PER_CPU, c * PER_CPU + 1));
      const scratch = perThread(env);
      const check = itemsCheck(this.id, total, () => ({
        count: sum(bufs.map((b) => env.x.memcpy_count(b))),
        sum: bufs.reduce((a, b) => { const s = env.x.memcpy_sum(b); return a < 0n || s < 0n ? -1n : a + s; }, 0n),
      }));
      return wasmLoop(env, this.id, { fn: 'memcpy_rseq', args: (s) => [buf, scratch(s)], check });
    },
  },
  {
    suite: 'memcpy', id: 'mpmc-atomic', kind: 'atomic', role: 'write', baseline: 'mpmc-atomic',
    what: 'dequeue and enqueue a 16-byte item (memcpy) on one bounded MPMC queue',
    prepare(env) {
      const size = env.x.ITEM_SIZE.value as number;
      const total = env.k.cpus * PER_CPU;
      const cap = mpmcCap(env, total);
      const q = env.k.alloc(384 + cap * (8 + size), LINE);
      const scratch = perThread(env);
      env.x.mpmc_build(q, cap, size);
      if (env.x.mpmc_fill_items(q, scratch(0), total, 1) !== total) fail(this.id, 'queue full while filling');
      const check = itemsCheck(this.id, total, () => ({ count: env.x.mpmc_count(q), sum: env.x.mpmc_sum(q, 1) }));
      return wasmLoop(env, this.id, { fn: 'memcpy_mpmc', args: (s) => [q, scratch(s)], check });
    },
  },
  {
    suite: 'memcpy', id: 'locked', kind: 'lock', role: 'write', baseline: 'mpmc-atomic',
    what: 'copy an item out of one ring and back in under a global TTAS spinlock',
    prepare(env) {
      const size = env.x.ITEM_SIZE.value as number;
      const total = env.k.cpus * PER_CPU;
      const lock = env.k.alloc(4, LINE);
      const buf = env.k.alloc(16 + size * total, LINE);
      env.x.memcpy_build(buf, total, total, 1);
      const scratch = perThread(env);
      const check = itemsCheck(this.id, total, () => ({ count: env.x.memcpy_count(buf), sum: env.x.memcpy_sum(buf) }));
      return wasmLoop(env, this.id, { fn: 'memcpy_locked', args: (s) => [lock, buf, scratch(s)], check });
    },
  },
];

// --- injection ---------------------------------------------------------------------------------

/** The counter and list rseq implementations, re-run under supervisor injection (baseline: 0 Hz). */
const injection: Impl[] = [
  { ...counter[0], suite: 'injection', id: 'counter-rseq', baseline: 'counter-rseq', what: 'counter rseq under injected preemption + migration' },
  { ...list[0], suite: 'injection', id: 'list-rseq', baseline: 'list-rseq', what: 'list rseq under injected preemption + migration' },
];

/** The multi-threaded suites (js-api is single-threaded and measured by bench/workers/js-api.ts). */
export const IMPLS: Record<Exclude<SuiteName, 'js-api'>, Impl[]> = { counter, anatomy, spinlock, list, buffer, memcpy, injection };

/** The js-api cases, in the order they run; the worker (bench/workers/js-api.ts) implements them. */
export const JS_API_CASES: { id: string; kind: Kind; what: string }[] = [
  { id: 'rseq-call', kind: 'rseq', what: 'bench export counter_inc(base): one per-vCPU rseq add per JS call' },
  { id: 'rseq-core-call', kind: 'rseq', what: 'core export counter_add(base, 1n): the same through the i64 (BigInt) API' },
  { id: 'wasm-atomic-call', kind: 'atomic', what: 'bench export atomic_inc(word): one wasm atomic.add per JS call' },
  { id: 'js-atomics', kind: 'js', what: 'Atomics.add(i32, i, 1) on the shared memory' },
  { id: 'wasm-nop-call', kind: 'plain', what: 'an empty wasm export: the JS -> wasm call alone' },
  { id: 'js-plain', kind: 'plain', what: 'i32[i]++ on the shared memory (not thread-safe: the floor)' },
];
export const JS_API_BASELINE = 'js-atomics';
