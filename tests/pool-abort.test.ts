// Aborting pool tasks (RseqPool.run with an AbortSignal) never lets piscina terminate a worker
// inside a locked section of the scheduler: the pool holds SCHED_LOCK from before the terminate
// until the worker's exit. Random aborts under injection on 8 workers / 2 vCPUs (every other task
// exact, nothing leaked, the pool keeps serving), and a worker aborted while it holds the lock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineOf } from '../host/internal.js';
import { Kernel, wasmPath } from '../host/index.js';
import { createPool, type RseqPool } from '../host/pool.js';
import { ACQUIRED, ATTEMPTS, HOLDING, STOP, type AbortTask } from './fixtures/pool-abort.js';

const FIX = new URL('./fixtures/pool-abort.js', import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what} (a wedged kernel?)`);
    await sleep(2);
  }
}

const isAbort = (e: unknown) => e instanceof Error && e.name === 'AbortError';

/** Every vCPU and mm_cid free, nobody queued, the lock free, `n` live workers, no slot left dead. */
async function idle(k: Kernel, pool: RseqPool, n: number): Promise<void> {
  const e = engineOf(k);
  await until('an idle kernel', () => {
    const s = k.stats();
    return s.cpus.every((c) => c.owner === -1 && c.cidOwner === -1) && s.waiters === 0
      && e.view.load(e.abi.SCHED_LOCK) === 0
      && s.threads.filter((t) => t.state === 'live').length === n && pool.piscina.threads.length === n;
  });
  assert.ok(k.stats().threads.every((t) => t.state !== 'dead'), 'no slot left dead');
}

test('tasks aborted at random moments under injection: the rest exact, nothing leaked, no wedge, the pool serves on', { timeout: 180_000 }, async (t) => {
  const k = await Kernel.create({ cpus: 2, threads: 0, poolSlots: 8, supervisor: { preemptHz: 1000, migrateHz: 1000 } });
  const m = await k.load(wasmPath('param_test'));
  const pool = createPool(k, { handler: FIX });
  const n = 400_000;
  type Kind = 'none' | 'signal' | 'before' | 'soon' | 'later' | 'after';
  const kinds: Kind[] = ['none', 'signal', 'before', 'soon', 'later', 'after'];
  let seed = 0x9e3779b9;
  const rand = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 2 ** 32; };
  const batch = async (tasks: number, abort: boolean) => {
    const res = await Promise.all(Array.from({ length: tasks }, async () => {
      const base = k.allocPerCpu(16);
      const kind: Kind = abort ? kinds[Math.floor(rand() * kinds.length)] : rand() < 0.5 ? 'none' : 'signal';
      const task: AbortTask = { mode: 'add', module: m.id, base, n };
      const ac = new AbortController();
      if (kind === 'before') ac.abort('before');
      if (kind === 'soon') setTimeout(() => ac.abort('soon'), rand() * 3);
      if (kind === 'later') setTimeout(() => ac.abort('later'), rand() * 40);
      const p = pool.run<{ done: number }>(task, kind === 'none' ? undefined : { signal: ac.signal });
      try {
        const r = await p;
        if (kind === 'after') ac.abort('after');
        return { kind, base, ok: true as const, done: r.done };
      } catch (e) {
        if (!isAbort(e)) throw e;
        assert.ok(kind === 'before' || kind === 'soon' || kind === 'later', `only aborted tasks reject (${kind})`);
        assert.equal((e as Error & { cause: unknown }).cause, kind, 'the cause is the signal\'s reason');
        return { kind, base, ok: false as const, done: -1 };
      }
    }));
    for (const r of res) {
      const sum = k.sumPerCpu(r.base);
      if (r.ok) {
        assert.equal(r.done, n);
        assert.equal(sum, BigInt(n), `a ${r.kind} task's count is exact`);
      } else {
        assert.ok(sum <= BigInt(n), 'an aborted task counted at most its share');
        if (r.kind === 'before') assert.equal(sum, 0n, 'an already aborted task never ran');
      }
    }
    return res;
  };
  try {
    const died: unknown[] = [];
    let aborted = 0, total = 0;
    for (let round = 0; round < 4; round++) {
      const res = await batch(64, true).catch((e) => { died.push(e); return []; });
      total += res.length;
      aborted += res.filter((r) => !r.ok).length;
    }
    assert.deepEqual(died, [], 'no task failed otherwise (no ThreadDiedError)');
    await idle(k, pool, 8);
    t.diagnostic(`tasks ${total}, aborted ${aborted}: running ${pool.aborted.running}, queued ${pool.aborted.queued}; reaped ${pool.reaped.length}`);
    assert.ok(pool.aborted.running > 0, 'some aborts landed while the task ran');
    // piscina posts tasks to its first workers before they have loaded (and claimed a slot): a
    // worker ended that early holds nothing to reap.
    assert.ok(pool.reaped.length <= pool.aborted.running, 'only workers ended by an abort were reaped');
    // The pool serves on, exactly.
    const after = await batch(48, false);
    assert.ok(after.every((r) => r.ok));
    await idle(k, pool, 8);
  } finally {
    await pool.destroy();
    await k.close();
  }
});

test('a task aborted while its worker holds the scheduler lock: no wedge (the abort waits for the lock; the worker dies wanting it)', { timeout: 60_000 }, async (t) => {
  const k = await Kernel.create({ cpus: 2, threads: 0, poolSlots: 3, supervisor: false });
  const m = await k.load(wasmPath('param_test'));
  const e = engineOf(k);
  const pool = createPool(k, { handler: FIX });
  try {
    const results: string[] = [];
    for (let round = 0; round < 3; round++) {
      const words = new SharedArrayBuffer(16);
      const w = new Int32Array(words);
      const ac = new AbortController();
      const p = pool.run({ mode: 'lockhold', module: m.id, base: 0, n: 0, words, holdMs: 5 } satisfies AbortTask, { signal: ac.signal });
      // Abort at a moment the worker holds SCHED_LOCK (piscina alone would terminate it right there).
      await until('the worker holding the lock', () => Atomics.load(w, HOLDING) === 1 && Atomics.load(w, ACQUIRED) > 2);
      ac.abort('held');
      await assert.rejects(p, isAbort);
      await until('the worker reaped', () => pool.reaped.length === round + 1);
      Atomics.store(w, STOP, 1);
      const attempts = Atomics.load(w, ATTEMPTS), acquired = Atomics.load(w, ACQUIRED);
      assert.ok(attempts - acquired === 0 || attempts - acquired === 1, 'the worker never died holding the lock');
      results.push(attempts - acquired === 1 ? 'died in lock()' : 'died outside lock()');
      await idle(k, pool, 3);
    }
    t.diagnostic(results.join(', '));
    assert.equal(e.view.load(e.abi.SCHED_LOCK), 0);
    // Still serving, exactly.
    const base = k.allocPerCpu(16);
    const r = await Promise.all(Array.from({ length: 6 }, () => pool.run<{ done: number }>({ mode: 'add', module: m.id, base, n: 5000 } satisfies AbortTask)));
    assert.equal(k.sumPerCpu(base), BigInt(r.reduce((a, x) => a + x.done, 0)));
    assert.equal(k.sumPerCpu(base), 30_000n);
    assert.equal(pool.aborted.running, 3);
  } finally {
    await pool.destroy();
    await k.close();
  }
});

test('abort before start, while queued and after the end; no signal, signal never aborted', { timeout: 60_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 0, poolSlots: 2, supervisor: false });
  const m = await k.load(wasmPath('param_test'));
  const pool = createPool(k, { handler: FIX });
  try {
    const base = k.allocPerCpu(16);
    const add = (signal?: AbortSignal, nn = 1000) => pool.run<{ done: number }>({ mode: 'add', module: m.id, base, n: nn } satisfies AbortTask, signal ? { signal } : undefined);
    await assert.rejects(add(AbortSignal.abort('x')), (e: Error) => isAbort(e) && e.cause === 'x');
    // Two long tasks occupy both workers; a third waits in piscina's queue and is aborted there.
    const busy = [add(undefined, 2_000_000), add(undefined, 2_000_000)];
    const ac = new AbortController();
    const queued = add(ac.signal);
    await sleep(5);
    ac.abort();
    await assert.rejects(queued, isAbort);
    await Promise.all(busy);
    const late = new AbortController();
    assert.equal((await add(late.signal)).done, 1000);
    late.abort();
    assert.equal((await add(new AbortController().signal)).done, 1000);
    await idle(k, pool, 2);
    assert.equal(k.sumPerCpu(base), 4_002_000n);
    assert.equal(pool.reaped.length, 0, 'no worker was ended');
    assert.equal(pool.aborted.running, 0);
  } finally {
    await pool.close();
    await k.close();
  }
});
