// The public Kernel's lifecycle: a closed kernel rejects every call with one typed error, run needs
// threads, and reset() returns every shared record to its initial state.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kernel, KernelClosedError, UsageError, wasmPath } from '../host/index.js';
import { createPool } from '../host/pool.js';

describe('kernel lifecycle', { timeout: 60_000 }, () => {
  test('a closed kernel rejects every call with KernelClosedError', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 2, poolSlots: 1 });
    const m = await k.load(wasmPath('param_test'));
    await k.close();
    await k.close(); // idempotent
    assert.equal(k.closed, true);
    const sync: [string, () => unknown][] = [
      ['alloc', () => k.alloc(8)], ['allocPerCpu', () => k.allocPerCpu(8)], ['stats', () => k.stats()],
      ['sumPerCpu', () => k.sumPerCpu(0)], ['defineCriticalSection', () => k.defineCriticalSection()],
      ['resetAllocations', () => k.resetAllocations()], ['cpus', () => k.cpus], ['host', () => k.host(m)],
      ['createPool', () => createPool(k, { handler: new URL('./fixtures/die.js', import.meta.url) })],
    ];
    for (const [name, call] of sync) assert.throws(call, KernelClosedError, name);
    const async: [string, () => Promise<unknown>][] = [
      ['load', () => k.load(wasmPath('param_test'))], ['run', () => k.run(m, 'test_inc', () => [0, 0, 1])],
      ['runOn', () => k.runOn(0, m, 'test_inc', 0, 0, 1)], ['runScript', () => k.runScript(0, 'x', 'f')],
      ['sysRseq', () => k.sysRseq(0, 0, 0, 0, 0)], ['inject', () => k.inject(undefined)],
      ['membarrier', () => k.membarrier()], ['supervise', () => k.supervise({})], ['kill', () => k.kill(0)],
      ['reset', () => k.reset()],
    ];
    for (const [name, call] of async) {
      await assert.rejects(async () => call(), (e: Error) => e instanceof KernelClosedError && e.message.includes(`kernel.${name}`), name);
    }
  });

  test('run on a kernel without threads is a usage error, not an empty result', async () => {
    const k = await Kernel.create({ cpus: 1, threads: 0, supervisor: false });
    try {
      const m = await k.load(wasmPath('param_test'));
      await assert.rejects(k.run(m, 'test_inc', () => [0, 0, 1]), UsageError);
      await assert.rejects(k.runOn(0, m, 'test_inc', 0, 0, 1), /thread 0 does not exist \(kernel threads: none/);
    } finally {
      await k.close();
    }
  });

  test('reset() returns counters, statistics, allocations and descriptors to their initial state', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 4, seed: 7, supervisor: { preemptHz: 2000, sliceMs: 0.5 } });
    try {
      const m = await k.load(wasmPath('param_test'));
      const fresh = k.stats();
      const base = k.allocPerCpu(16);
      const d = k.defineCriticalSection();
      await k.inject({ loops: { 7: -1 }, modulo: 3, yield: true });
      await k.run(m, 'test_inc', () => [0, base, 200_000]);
      assert.equal(k.sumPerCpu(base), 800_000n);
      assert.ok(k.stats().commits > 0 && k.stats().aborts > 0);
      await k.reset();
      const after = k.stats();
      assert.deepEqual({ ...after, threads: after.threads.map((t) => ({ ...t })) }, { ...fresh, threads: fresh.threads.map((t) => ({ ...t })) });
      assert.equal(k.allocPerCpu(16), base, 'the per-vCPU pool starts over');
      assert.equal(k.sumPerCpu(base), 0n, 'and is zeroed');
      assert.equal(k.defineCriticalSection(), d, 'user descriptors start over');
      // The kernel works as new: an exact count again.
      await k.run(m, 'test_inc', () => [1, base, 100_000]);
      assert.equal(k.sumPerCpu(base), 400_000n);
    } finally {
      await k.close();
    }
  });
});
