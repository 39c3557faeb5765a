// The tests of param-test as data (the kernel selftest's -T s|l|b|m|i|r): how each lays out its
// per-vCPU data, what each worker runs, and the exact check made after the threads finish.
import { ABI } from '../abi.js';
import type { Kernel, ModuleHandle } from '../kernel/kernel.js';
import { engineOf } from '../internal.js';

const { NODE_DATA, NODE_NEXT, NODE_SIZE, BUF_OFFSET, BUF_LEN, BUF_ARRAY, BUF_ENTRY } = ABI;
const { MBUF_OFFSET, MBUF_LEN, MBUF_ITEM, MBUF_ARRAY, MITEM_DATA1, MITEM_DATA2, MITEM_SIZE } = ABI;
/** Address of entry i of the pointer buffer at b. */
const slotOf = (b: number, i: number) => b + BUF_ARRAY + BUF_ENTRY * i;


export type TestType = 's' | 'l' | 'b' | 'm' | 'i' | 'r';

export interface TestContext {
  kernel: Kernel;
  module: ModuleHandle;
  mode: number;
  mo: number;
  reps: number;
  yieldBetween: boolean;
  broken: boolean;
  /** Slots that registered rseq (their operations commit); the others must only abort. */
  registered: (slot: number) => boolean;
  /** Seeded random numbers for the membarrier manager. */
  random: () => number;
  log: (line: string) => void;
}

export interface ParamTest {
  readonly name: string;
  /** Lay out data; returns the per-thread argument list and the final check (throws on failure). */
  setup(ctx: TestContext): {
    args: (slot: number) => (number | bigint)[];
    fn: string;
    /** Runs on the main thread while the workers run (-T r's manager). */
    during?: (done: () => boolean) => Promise<void>;
    check: (done: number[]) => void;
  };
}

export class ConsistencyError extends Error {
  override name = 'ConsistencyError';
}

const ITEMS_PER_CPU = 100;
const fail = (msg: string): never => { throw new ConsistencyError(msg); };

/** Registered threads did every repetition and unregistered ones none; returns the total. */
function checkDone(ctx: TestContext, done: number[]): number {
  const { threads } = ctx.kernel.stats();
  done.forEach((n, slot) => {
    if (n < 0) fail(`thread ${slot}: a push found its buffer full`);
    if (ctx.registered(slot) && n !== ctx.reps) fail(`thread ${slot} completed ${n} of ${ctx.reps} repetitions`);
    // An unregistered thread may still find a structure empty (no section needed): count its commits.
    const commits = threads[slot].commits;
    if (!ctx.registered(slot) && commits !== 0) fail(`unregistered thread ${slot} committed ${commits} sections (its sections must all abort)`);
  });
  return done.reduce((a, b) => a + b, 0);
}

const perCpu = (ctx: TestContext, base: number) =>
  Array.from({ length: ctx.kernel.cpus }, (_, c) => base + c * engineOf(ctx.kernel).plan.poolStride);

/** Sum of the i64 slot at `base` over vCPUs. */
const sumI64 = (ctx: TestContext, base: number, off = 0) =>
  perCpu(ctx, base).reduce((a, p) => a + engineOf(ctx.kernel).view.load64(p + off), 0n);

/** List nodes (NODE_*) with data 1..100 per vCPU; returns their addresses per vCPU. */
function makeNodes(ctx: TestContext): number[][] {
  return perCpu(ctx, 0).map(() => Array.from({ length: ITEMS_PER_CPU }, (_, j) => {
    const n = ctx.kernel.alloc(NODE_SIZE, NODE_SIZE);
    engineOf(ctx.kernel).view.store(n + NODE_DATA, j + 1);
    return n;
  }));
}
const expectedSum = (ctx: TestContext) => ctx.kernel.cpus * (ITEMS_PER_CPU * (ITEMS_PER_CPU + 1)) / 2;

/** No node lost or duplicated, and the data adds up. */
function checkItems(ctx: TestContext, found: number[], dataOf: (item: number) => number, what: string): void {
  const total = ctx.kernel.cpus * ITEMS_PER_CPU;
  if (new Set(found).size !== found.length) fail(`${what}: an item appears twice (${found.length} entries, ${new Set(found).size} distinct)`);
  if (found.length !== total) fail(`${what}: ${found.length} items, expected ${total} (items lost)`);
  const sum = found.reduce((a, n) => a + dataOf(n), 0);
  if (sum !== expectedSum(ctx)) fail(`${what}: sum ${sum}, expected ${expectedSum(ctx)}`);
}

const increment: ParamTest = {
  name: 'increment',
  setup(ctx) {
    // Two counter slots: the --broken variant keeps a second count right after the first.
    const base = ctx.kernel.allocPerCpu(2 * ABI.COUNTER_SIZE);
    return {
      fn: ctx.broken ? 'test_inc_broken' : 'test_inc',
      args: () => [ctx.mode, base, ctx.reps],
      check(done) {
        const want = BigInt(checkDone(ctx, done));
        const sum = sumI64(ctx, base);
        if (sum !== want) fail(`per-vCPU counters sum to ${sum}, expected ${want} (threads x reps)`);
      },
    };
  },
};

const spinlock: ParamTest = {
  name: 'spinlock',
  setup(ctx) {
    const lock = ctx.kernel.allocPerCpu(ABI.LOCK_SIZE);
    const data = ctx.kernel.allocPerCpu(ABI.COUNTER_SIZE);
    return {
      fn: 'test_spinlock',
      args: () => [ctx.mode, lock, data, ctx.reps],
      check(done) {
        const want = BigInt(checkDone(ctx, done));
        const sum = sumI64(ctx, data);
        if (sum !== want) fail(`spinlock-protected counters sum to ${sum}, expected ${want}`);
        perCpu(ctx, lock).forEach((p, c) => engineOf(ctx.kernel).view.load(p) !== 0 && fail(`vCPU ${c}'s lock is still held`));
      },
    };
  },
};

const list: ParamTest = {
  name: 'list',
  setup(ctx) {
    const { view: v } = engineOf(ctx.kernel);
    const head = ctx.kernel.allocPerCpu(ABI.PTR_SIZE);
    perCpu(ctx, head).forEach((h, c) => {
      let top = 0;
      for (const n of makeNodes(ctx)[c]) { v.store(n + NODE_NEXT, top); top = n; }
      v.store(h, top);
    });
    return {
      fn: 'test_list',
      args: () => [ctx.mode, head, ctx.reps, ctx.yieldBetween ? 1 : 0],
      check(done) {
        checkDone(ctx, done);
        const found: number[] = [];
        for (const h of perCpu(ctx, head)) {
          for (let n = v.load(h); n !== 0 && found.length <= 2 * expectedSum(ctx); n = v.load(n + NODE_NEXT)) found.push(n);
        }
        checkItems(ctx, found, (n) => v.load(n + NODE_DATA), 'per-vCPU lists');
      },
    };
  },
};

const buffer: ParamTest = {
  name: 'buffer',
  setup(ctx) {
    const { view: v } = engineOf(ctx.kernel);
    const cap = ctx.kernel.cpus * ITEMS_PER_CPU;
    const buf = ctx.kernel.allocPerCpu(BUF_ARRAY + BUF_ENTRY * cap);
    const nodes = makeNodes(ctx);
    perCpu(ctx, buf).forEach((b, c) => {
      v.store(b + BUF_OFFSET, ITEMS_PER_CPU);
      v.store(b + BUF_LEN, cap);
      nodes[c].forEach((n, i) => v.store(slotOf(b, i), n));
    });
    return {
      fn: 'test_buffer',
      args: () => [ctx.mode, ctx.mo, buf, ctx.reps, ctx.yieldBetween ? 1 : 0],
      check(done) {
        checkDone(ctx, done);
        const found: number[] = [];
        for (const b of perCpu(ctx, buf)) {
          const off = v.load(b + BUF_OFFSET);
          if (off < 0 || off > cap) fail(`buffer offset ${off} outside [0, ${cap}]`);
          for (let i = 0; i < off; i++) found.push(v.load(slotOf(b, i)));
        }
        checkItems(ctx, found, (n) => v.load(n + NODE_DATA), 'per-vCPU buffers');
      },
    };
  },
};

const memcpy: ParamTest = {
  name: 'memcpy buffer',
  setup(ctx) {
    const { view: v } = engineOf(ctx.kernel);
    const cap = ctx.kernel.cpus * ITEMS_PER_CPU;
    const buf = ctx.kernel.allocPerCpu(MBUF_ARRAY + MITEM_SIZE * cap);
    const item = (b: number, i: number) => b + MBUF_ARRAY + MITEM_SIZE * i;
    perCpu(ctx, buf).forEach((b) => {
      v.store(b + MBUF_OFFSET, ITEMS_PER_CPU);
      v.store(b + MBUF_LEN, cap);
      v.store(b + MBUF_ITEM, MITEM_SIZE);
      // item {data1: i32, data2: i64} (MITEM_*) = (j, j + 1), j = 0..99: sum over a vCPU = 2j + 1 summed.
      for (let j = 0; j < ITEMS_PER_CPU; j++) {
        v.store(item(b, j) + MITEM_DATA1, j);
        v.store64(item(b, j) + MITEM_DATA2, BigInt(j + 1));
      }
    });
    return {
      fn: 'test_memcpy',
      args: () => [ctx.mode, ctx.mo, buf, ctx.reps, ctx.yieldBetween ? 1 : 0],
      check(done) {
        checkDone(ctx, done);
        let count = 0;
        let sum = 0n;
        for (const b of perCpu(ctx, buf)) {
          const off = v.load(b + MBUF_OFFSET);
          if (off < 0 || off > cap) fail(`memcpy buffer offset ${off} outside [0, ${cap}]`);
          for (let i = 0; i < off; i++) sum += BigInt(v.load(item(b, i) + MITEM_DATA1)) + v.load64(item(b, i) + MITEM_DATA2);
          count += off;
        }
        const want = BigInt(ctx.kernel.cpus * ITEMS_PER_CPU * ITEMS_PER_CPU);
        if (count !== ctx.kernel.cpus * ITEMS_PER_CPU) fail(`memcpy buffers hold ${count} items, expected ${ctx.kernel.cpus * ITEMS_PER_CPU}`);
        if (sum !== want) fail(`memcpy buffers sum to ${sum}, expected ${want}`);
      },
    };
  },
};

const membarrier: ParamTest = {
  name: 'membarrier',
  setup(ctx) {
    const { kernel: k } = ctx;
    const v = engineOf(k).view;
    // One list head per vCPU, each on its own line; its node's data is what the workers add to.
    const entry = ABI.LINE;
    const makeList = () => {
      const l = k.alloc(entry * k.cpus, ABI.LINE);
      for (let c = 0; c < k.cpus; c++) v.store(l + entry * c, k.alloc(NODE_SIZE, NODE_SIZE));
      return l;
    };
    const lists = [makeList(), makeList()];
    const active = k.alloc(ABI.PTR_SIZE, ABI.LINE);
    v.store(active, lists[0]);
    const nodeOf = (l: number, c: number) => v.load(l + entry * c) + NODE_DATA;
    let fences = 0;
    return {
      fn: 'test_membarrier',
      args: () => [ctx.mode, active, entry, ctx.reps],
      async during(done) {
        let which = 0;
        while (!done()) {
          // mm_cid indexing cannot target one vCPU: fence them all (as the selftest does).
          const cpu = ctx.mode === 1 ? undefined : Math.floor(ctx.random() * k.cpus);
          which ^= 1;
          v.store(active, lists[which]);
          await k.membarrier(cpu);
          fences++;
          const idle = lists[which ^ 1];
          const cpus = cpu === undefined ? [...Array(k.cpus).keys()] : [cpu];
          const before = cpus.map((c) => v.load(nodeOf(idle, c)));
          await new Promise((r) => setTimeout(r, 1));
          cpus.forEach((c, i) => {
            const now = v.load(nodeOf(idle, c));
            if (now !== before[i]) fail(`membarrier test failed: inactive list of vCPU ${c} changed from ${before[i]} to ${now} after the fence`);
          });
        }
      },
      check(done) {
        const want = checkDone(ctx, done);
        let sum = 0;
        for (const l of lists) for (let c = 0; c < k.cpus; c++) sum += v.load(nodeOf(l, c));
        if (sum !== want) fail(`membarrier lists sum to ${sum}, expected ${want}`);
        ctx.log(`membarrier: ${fences} fences`);
      },
    };
  },
};

export const TESTS: Record<TestType, ParamTest> = { s: spinlock, l: list, b: buffer, m: memcpy, i: increment, r: membarrier };
