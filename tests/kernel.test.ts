// The emulated kernel's scheduling promises: preemption without migration still aborts, mm_cid is
// unique among running threads and compact, membarrier waits for owners, faults stop one thread.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kernel, RseqError, RseqFault, UsageError, wasmPath } from '../host/index.js';
import { engineOf } from '../host/internal.js';

describe('kernel', { timeout: 60_000 }, () => {
  test('preemption without migration still aborts (threads <= vCPUs)', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 2, supervisor: { preemptHz: 5000 } });
    try {
      const m = await k.load(wasmPath('param_test'));
      const base = k.allocPerCpu(16);
      const reps = 3_000_000;
      await k.run(m, 'test_inc', () => [0, base, reps]);
      const s = k.stats();
      assert.equal(k.sumPerCpu(base), BigInt(2 * reps));
      assert.ok(s.preemptions > 0, 'the supervisor preempted');
      assert.ok(s.abortsBy.preempt > 0, `aborts by preemption: ${JSON.stringify(s.abortsBy)}`);
      assert.equal(s.migrations, 0, 'nobody waited, so nobody moved');
    } finally {
      await k.close();
    }
  });

  test('mm_cid is unique among running threads and compact from 0', async () => {
    const k = await Kernel.create({ cpus: 3, threads: 9, supervisor: { sliceMs: 0.5, migrateHz: 2000 } });
    try {
      const m = await k.load(wasmPath('param_test'));
      const base = k.allocPerCpu(16);
      let done = false;
      const run = k.run(m, 'test_inc', () => [1, base, 300_000]).finally(() => { done = true; });
      let samples = 0;
      while (!done) {
        engineOf(k).sched.lock();
        const cids: number[] = [];
        for (let t = 0; t < 9; t++) {
          const r = engineOf(k).sched.thread(t);
          if (engineOf(k).view.load(r + engineOf(k).abi.T_VCPU) >= 0) cids.push(engineOf(k).view.load(r + engineOf(k).abi.T_CID));
        }
        engineOf(k).sched.unlock();
        assert.equal(new Set(cids).size, cids.length, `duplicate mm_cid among running threads: ${cids}`);
        assert.ok(cids.every((c) => c >= 0 && c < 3), `mm_cid outside [0, vCPUs): ${cids}`);
        samples++;
        await new Promise((r) => setImmediate(r));
      }
      await run;
      assert.ok(samples > 0);
      assert.equal(k.sumPerCpu(base), BigInt(9 * 300_000));
    } finally {
      await k.close();
    }
  });

  test('a single running thread gets mm_cid 0 wherever it runs', async () => {
    const k = await Kernel.create({ cpus: 4, threads: 1, supervisor: { migrateHz: 5000 } });
    try {
      const m = await k.load(wasmPath('param_test'));
      const base = k.allocPerCpu(16);
      await k.run(m, 'test_inc', () => [1, base, 5_000_000]);
      const s = k.stats();
      assert.ok(s.migrations > 0, 'it migrated');
      const slot0 = engineOf(k).view.load(base);
      assert.equal(BigInt(slot0) + 0n, engineOf(k).view.load64(base), 'all increments landed in mm_cid 0');
      assert.equal(engineOf(k).view.load64(base), 5_000_000n);
    } finally {
      await k.close();
    }
  });

  test('membarrier: returns at once on idle vCPUs, rejects a vCPU that does not exist', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 2, supervisor: false });
    try {
      await k.membarrier();
      await k.membarrier(1);
      await assert.rejects(k.membarrier(2), (e: unknown) => e instanceof RseqError && e.code === 'EINVAL');
      assert.equal(k.stats().cpus[1].requested.fence, 2);
    } finally {
      await k.close();
    }
  });

  test('a bad descriptor found at abort is a fault: that thread stops, the others go on', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 4, supervisor: false });
    try {
      const m = await k.load(wasmPath('param_test'));
      const base = k.allocPerCpu(16);
      // test_inc_broken uses descriptor CSID_USER_FIRST, never defined here: all zeros, abort_ip 0.
      await k.inject({ loops: { 7: -1 }, modulo: 1, signal: true }, [0]);
      await assert.rejects(k.runOn(0, m, 'test_inc_broken', 0, base, 10),
        (e: unknown) => e instanceof RseqFault && e.thread === 0 && /abort_ip/.test(e.reason));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(k.stats().threads[0].state, 'dead');
      assert.equal(k.stats().threads[0].vcpu, -1, 'its vCPU was reclaimed');
      const other = k.allocPerCpu(16);
      const res = await k.run(m, 'test_inc', () => [0, other, 10_000], [1, 2, 3]);
      assert.deepEqual(res.map((r) => r.value), [10_000, 10_000, 10_000]);
      assert.equal(k.sumPerCpu(other), 30_000n);
    } finally {
      await k.close();
    }
  });

  test('bad options are usage errors', async () => {
    await assert.rejects(Kernel.create({ cpus: 0 }), UsageError);
    await assert.rejects(Kernel.create({ cpus: 33 }), UsageError);
    await assert.rejects(Kernel.create({ threads: 1.5 }), UsageError);
    await assert.rejects(Kernel.create({ poolStride: 5000 }), UsageError);
    await assert.rejects(Kernel.create({ cpus: 2, topology: [0] }), UsageError);
    await assert.rejects(Kernel.create({ cpus: 1, threads: 1, supervisor: { preemptHz: -1 } }), UsageError);
  });

  test('an idle kernel\'s supervisor sleeps until a thread takes a vCPU', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 2, supervisor: { preemptHz: 5000 } });
    try {
      const m = await k.load(wasmPath('param_test'));
      const base = k.allocPerCpu(16);
      const tick = () => engineOf(k).view.load(engineOf(k).abi.SCHED_TICK);
      const idleTicks = async () => {
        const t0 = tick();
        await new Promise((r) => setTimeout(r, 150));
        return tick() - t0;
      };
      assert.ok(await idleTicks() <= 1, 'no ticks while nobody owns a vCPU');
      const t0 = tick();
      await k.run(m, 'test_inc', () => [0, base, 3_000_000]);
      assert.ok(tick() > t0, 'it ticked while threads ran');
      assert.ok(k.stats().preemptions > 0, 'and injected');
      assert.ok(await idleTicks() <= 1, 'asleep again once they parked');
    } finally {
      await k.close();
    }
  });

  test('supervise() changes the injection rates of a running kernel, counted exactly', async () => {
    const k = await Kernel.create({ cpus: 2, threads: 4 });
    try {
      const m = await k.load(wasmPath('param_test'));
      const base = k.allocPerCpu(16);
      const requested = () => k.stats().cpus.reduce((a, c) => a + c.requested.preempt + c.requested.migrate, 0);
      let total = 0;
      for (const hz of [0, 5000, 0]) {
        await k.supervise({ preemptHz: hz, migrateHz: hz });
        const before = requested();
        const res = await k.run(m, 'test_inc', () => [0, base, 3_000_000]);
        total += res.reduce((a, r) => a + (r.value as number), 0);
        const made = requested() - before;
        if (hz === 0) assert.equal(made, 0, 'no request at 0 Hz');
        else assert.ok(made > 0, 'requests at 5 kHz');
      }
      assert.equal(k.sumPerCpu(base), BigInt(total));
      // Changes that land within one tick all resolve; the last one wins.
      for (let i = 0; i < 20; i++) await Promise.all([k.supervise({ preemptHz: 100 }), k.supervise({ preemptHz: 200 }), k.supervise({})]);
      await assert.rejects(k.supervise({ preemptHz: Number.NaN }), UsageError);
      await assert.rejects(k.supervise({ policy: 'sometimes' as 'random' }), UsageError);
    } finally {
      await k.close();
    }
    const off = await Kernel.create({ cpus: 1, threads: 1, supervisor: false });
    try {
      await assert.rejects(off.supervise({ preemptHz: 10 }), /not running/);
    } finally {
      await off.close();
    }
  });
});
