// The allocator (issue #11): stop_cpu / start_cpu, every front end under every workload at
// 6x oversubscription (12 threads on 2 vCPUs) with and without injection, the checked mode's typed
// errors, and a single-threaded instruction-stream fuzz test after tcmalloc's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ABI } from '../host/abi.js';
import { DEFAULTS, WORKLOADS, runAllocTest, type AllocTestOptions } from '../host/alloc-test/run.js';
import { FRONTS } from '../host/alloc/allocator.js';
import { AllocError, Kernel, reviveError, serializeError, wasmPath } from '../host/index.js';
import { engineOf } from '../host/internal.js';
import type { Op } from './fixtures/alloc-fuzz-script.js';

const FUZZ = new URL('./fixtures/alloc-fuzz-script.js', import.meta.url);
const INJECTED: Partial<AllocTestOptions> = {
  supervisor: { preemptHz: 300, migrateHz: 300 }, loops: { 7: -1, 8: -1, 9: -1 }, modulo: 5, yield: true,
};

describe('alloc-test matrix: 12 threads on 2 vCPUs', { timeout: 300_000 }, () => {
  for (const workload of WORKLOADS) {
    for (const front of FRONTS) {
      for (const [name, inj] of [['none', {}], ['injected', INJECTED]] as const) {
        test(`${workload} / ${front} / ${name}`, async () => {
          // larson drains a random vCPU's slab through stop_cpu every 100 steps (vcpu, mmcid).
          const r = await runAllocTest({ ...DEFAULTS, front, workload, threads: 12, cpus: 2, reps: 400, drainEvery: 100, ...inj });
          assert.ok(r.ok, `${r.message}\nreplay: ${r.replay}`);
          const rseq = front === 'vcpu' || front === 'mmcid';
          if (name === 'injected' && rseq) assert.ok(r.stats.aborts > 0, 'no abort under injection');
          if (workload === 'larson' && rseq) assert.ok(r.stats.cpus.some((c) => c.requested.fence > 0), 'no vCPU was stopped');
        });
      }
    }
  }
});

describe('stop_cpu / start_cpu', { timeout: 60_000 }, () => {
  test('a stopped vCPU is owned by nobody until it is started; errors', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 3, supervisor: false });
    try {
      const m = await k.load(wasmPath('alloc_test'));
      const e = engineOf(k);
      const owner = (c: number) => e.view.load(e.sched.cpu(c) + ABI.CPU_OWNER);
      assert.equal((await k.runOn<number>(0, m, 'stop_cpu', 5)).value, -22);
      assert.equal((await k.runOn<number>(0, m, 'start_cpu', 1)).value, -1);
      assert.equal((await k.runOn<number>(0, m, 'stop_cpu', 1)).value, 0);
      assert.equal((await k.runOn<number>(0, m, 'stop_cpu', 1)).value, -16);
      assert.equal(e.view.load(e.sched.cpu(1) + ABI.CPU_STOP), 1);
      // Other threads run sections meanwhile: never on vCPU 1.
      const a = k.allocator({ front: 'vcpu', heapBytes: 1 << 20 });
      const res = k.alloc(64, 16);
      const tab = k.alloc(8 * 100 * 2, 128);
      await k.run(m, 'threadtest', (s) => [a.address, tab + (s - 1) * 800, 100, 20, 48, s, res + 16 * s], [1, 2]);
      assert.equal(owner(1), 0);
      assert.equal(e.view.load(a.address + ABI.ALLOC_SLABS) && e.view.load(e.view.load(a.address + ABI.ALLOC_SLABS) + ABI.CACHE_SIZE + 4 * 3), 0, 'stopped vCPU 1 got objects');
      assert.equal((await k.runOn<number>(1, m, 'start_cpu', 1)).value, -1, 'only the stopper starts it');
      assert.equal((await k.runOn<number>(0, m, 'start_cpu', 1)).value, 0);
      assert.equal(e.view.load(e.sched.cpu(1) + ABI.CPU_STOP), 0);
    } finally {
      await k.close();
    }
  });

  test('a dead stopper\'s vCPU runs again', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 2, supervisor: false });
    try {
      const m = await k.load(wasmPath('alloc_test'));
      const e = engineOf(k);
      assert.equal((await k.runOn<number>(0, m, 'stop_cpu', 0)).value, 0);
      await k.kill(0);
      assert.equal(e.view.load(e.sched.cpu(0) + ABI.CPU_STOP), 0);
    } finally {
      await k.close();
    }
  });
});

describe('checked mode', { timeout: 60_000 }, () => {
  test('double free and foreign pointers: typed AllocError codes, nothing freed', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 1, supervisor: false });
    try {
      for (const front of FRONTS) {
        await k.reset();
        const a = k.allocator({ front, heapBytes: 1 << 20, checked: true });
        const x = k.coreModule;
        const p = (await k.runOn<number>(0, x, 'alloc_malloc', a.address, 100)).value;
        assert.equal((await k.runOn<number>(0, x, 'alloc_free', a.address, p + 4)).value, ABI.ALLOC_ERR_FOREIGN);
        assert.equal((await k.runOn<number>(0, x, 'alloc_free', a.address, 16)).value, ABI.ALLOC_ERR_FOREIGN);
        assert.equal((await k.runOn<number>(0, x, 'alloc_free', a.address, p)).value, 0);
        assert.equal((await k.runOn<number>(0, x, 'alloc_free', a.address, p)).value, ABI.ALLOC_ERR_DOUBLE_FREE);
        const err = a.threadError(0);
        assert.ok(err instanceof AllocError && err.kind === 'double-free' && err.ptr === p && err.code === 'ERR_ALLOC', String(err));
        const back = reviveError(serializeError(err));
        assert.ok(back instanceof AllocError && back.kind === 'double-free' && back.ptr === p);
        a.drainIdle();
        a.checkAllFree();
      }
    } finally {
      await k.close();
    }
  });
});

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(8, 16, 24, 48, 100, 128, 200, 640, 1000, 4096, 5000, 20000).map((size) => ({ op: 'malloc' as const, size })) },
  { weight: 6, arbitrary: fc.nat().map((i) => ({ op: 'free' as const, i })) },
  { weight: 2, arbitrary: fc.record({ size: fc.constantFrom(8, 64, 512, 4096), n: fc.integer({ min: 1, max: 140 }) }).map((r) => ({ op: 'batch' as const, ...r })) },
  { weight: 1, arbitrary: fc.constant({ op: 'freeAll' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((cpu) => ({ op: 'drain' as const, cpu })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map((cpu) => ({ op: 'switch' as const, cpu })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map((cpu) => ({ op: 'stop' as const, cpu })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map((cpu) => ({ op: 'start' as const, cpu })) },
  { weight: 1, arbitrary: fc.constant({ op: 'doubleFree' as const }) },
  { weight: 1, arbitrary: fc.record({ i: fc.nat(), delta: fc.integer({ min: 0, max: 2 }) }).map((r) => ({ op: 'foreign' as const, ...r })) },
);

describe('instruction-stream fuzz (single thread, 4 vCPUs)', { timeout: 300_000 }, () => {
  for (const front of FRONTS) {
    test(`${front}: no sequence of instructions breaks the invariants`, async () => {
      const k = await Kernel.create({ cpus: 4, threads: 1, supervisor: false });
      try {
        const m = await k.load(wasmPath('alloc_test'));
        await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 120 }), async (ops) => {
          await k.reset();
          const a = k.allocator({ front, heapBytes: 2 << 20, checked: true, classBytes: 1024 });
          await k.runScript(0, FUZZ, 'fuzz', a.address, m.id, 4, front === 'mmcid', ops);
          for (let c = 0; c < 4; c++) assert.equal(engineOf(k).view.load(engineOf(k).sched.cpu(c) + ABI.CPU_STOP), 0);
          a.drainIdle();
          a.checkAllFree();
          a.releaseIdle();
          assert.equal(a.stats().heapUsed, 0, 'spans left in the page heap after every object was freed');
        }), { numRuns: 60, seed: 11 });
      } finally {
        await k.close();
      }
    });
  }
});

describe('per-vCPU memory pool (librseq mempool)', { timeout: 120_000 }, () => {
  for (const [front, mode] of [['vcpu', 0], ['mmcid', 1]] as const) {
    test(`${front}: items on every vCPU at once, rseq adds on each thread's copy, exact sums, destroy returns the range`, async () => {
      const threads = 12, n = 8, reps = 1500;
      const k = await Kernel.create({ cpus: 2, threads, supervisor: { preemptHz: 300, migrateHz: 300 } });
      try {
        const m = await k.load(wasmPath('alloc_test'));
        await k.inject({ loops: { 7: -1 }, modulo: 5, yield: true });
        const a = k.allocator({ front, heapBytes: 2 << 20, checked: true });
        const core = k.coreModule;
        const pool = (await k.runOn<number>(0, core, 'rseq_mempool_create', a.address, 8, 4096)).value;
        assert.ok(pool > 0);
        const tab = k.alloc(threads * n * 4, 128);
        const res = await k.run<number>(m, 'mempool_adds', (s) => [pool, tab + s * n * 4, n, reps, mode]);
        const x = k.host(m) as unknown as { mempool_sum(pool: number, p: number): bigint };
        const v = engineOf(k).view;
        let left = 0n;
        const items: number[] = [];
        for (let i = 0; i < threads * n; i++) { const p = v.load(tab + 4 * i) >>> 0; if (p) { items.push(p); left += x.mempool_sum(pool, p); } }
        assert.equal(left, BigInt(res.reduce((s, r) => s + r.value, 0)), 'per-vCPU sums lost or duplicated');
        assert.equal(new Set(items).size, items.length, 'an item is held twice');
        const touched = (await k.runOn<number>(0, core, 'rseq_mempool_touched', pool)).value;
        assert.ok(touched > 0 && touched <= 4096, `touched ${touched}`);
        assert.equal((await k.runOn<number>(0, core, 'rseq_mempool_destroy', a.address, pool)).value, -16, 'destroy with live items');
        assert.equal((await k.runOn<number>(0, core, 'rseq_mempool_percpu_free', pool, items[0] + 4)).value, ABI.ALLOC_ERR_FOREIGN);
        for (const p of items) assert.equal((await k.runOn<number>(0, core, 'rseq_mempool_percpu_free', pool, p)).value, 0);
        assert.equal((await k.runOn<number>(0, core, 'rseq_mempool_destroy', a.address, pool)).value, 0);
        await k.inject(undefined);
        a.drainIdle();
        a.checkAllFree();
      } finally {
        await k.close();
      }
    });
  }
});

test('a user module allocates with rseq_malloc / rseq_free on the kernel\'s allocator', { timeout: 120_000 }, async () => {
  const { compileUserFixture } = await import('./fixtures/asc.js');
  const bytes = await compileUserFixture('malloc.ts');
  const k = await Kernel.create({ cpus: 2, threads: 6, supervisor: { preemptHz: 1000, migrateHz: 1000 } });
  try {
    const m = await k.load(bytes, 'malloc');
    const a = k.allocator({ front: 'vcpu', heapBytes: 2 << 20, checked: true });
    const res = await k.run<number>(m, 'churn', () => [300, 50, 3000]);
    assert.ok(res.every((r) => r.value === 300), res.map((r) => r.value).join());
    a.drainIdle();
    a.checkAllFree();
  } finally {
    await k.close();
  }
});
