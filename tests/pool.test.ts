// piscina integration: a real pool whose workers are kernel threads on the shared memory, running
// per-vCPU critical sections under injected preemption and migration, counted exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineOf } from '../host/internal.js';
import { Kernel, wasmPath } from '../host/index.js';
import { createPool } from '../host/pool.js';

test('a piscina pool of 6 kernel threads on 2 vCPUs counts exactly under injection', { timeout: 60_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 0, poolSlots: 6, supervisor: { preemptHz: 1000, migrateHz: 1000 } });
  const m = await k.load(wasmPath('param_test'));
  const pool = createPool(k, { handler: new URL('./fixtures/pool-handler.js', import.meta.url) });
  try {
    const base = k.allocPerCpu(16);
    const tasks = 120, n = 20_000;
    const results = await Promise.all(Array.from({ length: tasks }, () =>
      pool.run<{ slot: number; done: number }>({ module: m.id, base, n })));
    assert.ok(results.every((r) => r.done === n));
    assert.equal(k.sumPerCpu(base), BigInt(tasks * n));
    const slots = new Set(results.map((r) => r.slot));
    assert.ok(slots.size > 1, 'tasks ran on several pool threads');
    assert.ok([...slots].every((s) => engineOf(k).poolSlots.includes(s)));
    const s = k.stats();
    assert.equal(s.threads.filter((t) => t.state === 'live').length, 6);
    assert.ok(s.cpus.every((c) => c.owner === -1), 'workers park between tasks');
  } finally {
    await pool.destroy();
    await k.close();
  }
});
