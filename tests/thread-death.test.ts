// Thread death: a thread killed while it owns a vCPU (possibly mid-section) or while it waits for
// one. The kernel reclaims its vCPU, mm_cid and queue place; the others go on; the per-vCPU data
// holds exactly what was committed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kernel, ThreadDiedError, wasmPath } from '../host/index.js';
import { engineOf } from '../host/internal.js';

test('killing running and waiting threads mid-run loses nothing committed and blocks nobody', { timeout: 60_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 8, supervisor: { sliceMs: 0.5 } });
  try {
    const m = await k.load(wasmPath('param_test'));
    const base = k.allocPerCpu(16);
    const reps = 30_000_000;
    const settled = Promise.allSettled([...Array(8).keys()].map((t) => k.runOn<number>(t, m, 'test_inc', 0, base, reps)));
    await new Promise((r) => setTimeout(r, 30));
    const victims = [0, 5];
    const t0 = performance.now();
    await Promise.all(victims.map((t) => k.kill(t)));
    const reapMs = performance.now() - t0;
    const results = await settled;
    victims.forEach((t) => assert.ok(results[t].status === 'rejected' && results[t].reason instanceof ThreadDiedError));
    const s = k.stats();
    for (const t of victims) {
      assert.equal(s.threads[t].state, 'dead');
      assert.equal(s.threads[t].vcpu, -1);
    }
    assert.ok(s.cpus.every((c) => c.owner === -1), 'every vCPU free once all threads parked');
    assert.equal(s.waiters, 0);
    const survivors = results.filter((r, t) => !victims.includes(t));
    assert.ok(survivors.every((r) => r.status === 'fulfilled' && r.value.value === reps));
    const committedByVictims = victims.reduce((a, t) => a + s.threads[t].commits, 0);
    assert.equal(k.sumPerCpu(base), BigInt(6 * reps + committedByVictims), 'exactly what was committed');
    // The survivors can still run.
    const again = await k.run(m, 'test_inc', () => [1, base, 1000], [1, 2, 3, 4, 6, 7]);
    assert.equal(again.length, 6);
    console.log(`reclaimed 2 killed threads in ${reapMs.toFixed(1)} ms`);
  } finally {
    await k.close();
  }
});

test('reaping frees a dead thread\'s mm_cid by its owner word, never by its T_CID (killed inside takeCid / freeCid)', { timeout: 60_000 }, async () => {
  // The two windows of tests/model lf-die-cid / lf-die-cid-free, set up by hand on parked threads
  // (they own nothing, so the words written here are the only state): then kill() and reap.
  const k = await Kernel.create({ cpus: 2, threads: 4, supervisor: false });
  try {
    const m = await k.load(wasmPath('param_test'));
    const e = engineOf(k);
    const { view: v, abi, sched } = e;
    const cidOwner = (cid: number) => v.load(sched.cidOwner(cid));
    assert.ok([0, 1].every((c) => cidOwner(c) === 0 && v.load(sched.cpu(c) + abi.CPU_OWNER) === 0), 'all free at the start');
    const counts0 = { ...e.reapCounts };
    // Slot 3 terminated between takeCid's CAS and its T_CID store: it owns vCPU 1 (assign has not
    // stored T_VCPU yet) and cid 1's owner word names it; T_CID is still -1.
    v.store(sched.cpu(1) + abi.CPU_OWNER, 3 + 1);
    v.store(sched.cidOwner(1), 3 + 1);
    assert.equal(v.load(sched.thread(3) + abi.T_CID), -1);
    await k.kill(3);
    assert.equal(cidOwner(1), 0, 'the cid its owner word named is free again (a T_CID-trusting reaper leaks it)');
    assert.equal(v.load(sched.cpu(1) + abi.CPU_OWNER), 0, 'and its vCPU');
    // Slot 2 terminated in a lock-free release, inside freeCid after its CAS cleared cid 0's owner
    // word and before T_CID = -1 (it still owns vCPU 0: drop runs before the owner store 0); cid 0
    // was then taken by slot 0 (written by hand: slot 0 is parked).
    v.store(sched.cpu(0) + abi.CPU_OWNER, 2 + 1);
    v.store(sched.thread(2) + abi.T_CID, 0);
    v.store(sched.cidOwner(0), 0 + 1);
    await k.kill(2);
    assert.equal(cidOwner(0), 0 + 1, 'the stale T_CID freed nothing: cid 0 is still slot 0\'s');
    assert.equal(v.load(sched.cpu(0) + abi.CPU_OWNER), 0, 'its vCPU is free');
    assert.equal(v.load(sched.thread(2) + abi.T_CID), -1);
    v.store(sched.cidOwner(0), 0);   // undo the hand-written holder
    assert.equal(e.reapCounts.reaps - counts0.reaps, 2);
    assert.equal(e.reapCounts.cidsFreed - counts0.cidsFreed, 1);
    assert.equal(e.reapCounts.cidsTcidMismatch - counts0.cidsTcidMismatch, 2, 'both reaps saw a T_CID the owner words contradict');
    // Both cids usable: the survivors run on both vCPUs indexed by mm_cid, counted exactly.
    const base = k.allocPerCpu(16);
    const r = await k.run(m, 'test_inc', () => [1, base, 200_000], [0, 1]);
    assert.ok(r.every((x) => x.value === 200_000));
    assert.equal(k.sumPerCpu(base), 400_000n);
    const s = k.stats();
    assert.ok(s.cpus.every((c) => c.owner === -1 && c.cidOwner === -1), 'everything free once parked');
    assert.ok([2, 3].every((t) => s.threads[t].state === 'dead' && s.threads[t].mmCid === -1));
  } finally {
    await k.close();
  }
});

test('supervisor death: reported, and the threads go on without it', { timeout: 60_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 6, supervisor: { sliceMs: 1, preemptHz: 2000 } });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const m = await k.load(wasmPath('param_test'));
    const base = k.allocPerCpu(16);
    assert.equal(k.supervised, true);
    await engineOf(k).crashSupervisor();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(k.supervised, false);
    assert.match(String(k.supervisorFailure), /supervisor exited/);
    assert.ok(warnings.some((w) => /supervisor died/.test(w)), 'a warning was emitted');
    const res = await k.run(m, 'test_inc', () => [0, base, 50_000]);
    assert.ok(res.every((r) => r.value === 50_000));
    assert.equal(k.sumPerCpu(base), 300_000n);
  } finally {
    process.off('warning', onWarning);
    await k.close();
  }
});

test('a thread whose script throws goes on; one that calls process.exit is reaped', { timeout: 60_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 3, supervisor: false });
  try {
    const m = await k.load(wasmPath('param_test'));
    const base = k.allocPerCpu(16);
    const script = new URL('./fixtures/die.js', import.meta.url);
    await assert.rejects(k.runScript(0, script, 'throwWhileOwning', m.id, base), /thrown on purpose/);
    assert.equal(k.stats().threads[0].vcpu, -1, 'it parked');
    await assert.rejects(k.runScript(1, script, 'exitWhileOwning', m.id, base), ThreadDiedError);
    await new Promise((r) => setTimeout(r, 50));
    const s = k.stats();
    assert.equal(s.threads[1].state, 'dead');
    assert.ok(s.cpus.every((c) => c.owner === -1), 'its vCPU was reclaimed');
    const res = await k.run(m, 'test_inc', () => [0, base, 1000], [0, 2]);
    assert.deepEqual(res.map((r) => r.value), [1000, 1000]);
  } finally {
    await k.close();
  }
});

test('close() mid-run returns even when a thread is terminated holding the scheduler lock', { timeout: 60_000 }, async () => {
  // Yielding every pass keeps the scheduler lock busy, so some closes catch a thread inside it.
  for (let i = 0; i < 12; i++) {
    const k = await Kernel.create({ cpus: 2, threads: 12, supervisor: { preemptHz: 5000 } });
    const m = await k.load(wasmPath('param_test'));
    await k.inject({ loops: { 7: -1 }, modulo: 1, yield: true });
    const running = k.run(m, 'test_inc', () => [0, k.allocPerCpu(16), 1e9]).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 20));
    await k.close();
    assert.ok((await running) instanceof ThreadDiedError, 'the interrupted run rejects with ThreadDiedError');
  }
});
