// Per-vCPU objects from JavaScript (host/objects/): exact under injected preemption at
// oversubscription on kernel threads and pool workers, the commit check shown to matter, the
// main-thread shard, block pool invariants, and typed errors for every misuse.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kernel, KernelClosedError, ObjectError, objects } from '../host/index.js';
import { createPool } from '../host/pool.js';

const SCRIPT = new URL('./fixtures/objects-script.js', import.meta.url);
const code = (e: unknown) => (e as ObjectError).code;
const throwsCode = (f: () => unknown, c: string) => assert.throws(f, (e: unknown) => e instanceof ObjectError && e.code === c);
/** Mid-section preemption: every 4th pass, point 7 (before the commit check) yields to a waiter. */
const YIELD_AT_7 = { loops: { 7: -1 }, modulo: 4, yield: true };
const slots = (n: number) => [...Array(n).keys()];

test('Counter: 8 kernel threads on 2 vCPUs count exactly under injection; without the re-check they lose increments', { timeout: 120_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 8, supervisor: { preemptHz: 2000, migrateHz: 2000 } });
  try {
    const c = k.counter('requests');
    const n = 5000;
    await k.inject(YIELD_AT_7);
    const before = k.stats();
    const r = await k.runScripts<number>(slots(8), SCRIPT, 'countAdds', (s) => ['requests', n, s % 2 ? 3 : 1]);
    const expected = r.reduce((a, x) => a + x.value, 0);
    assert.equal(c.value(), expected);
    assert.equal(c.perCpu().reduce((a, x) => a + x, 0), expected);
    assert.equal(c.mainShard(), 0);
    const after = k.stats();
    assert.ok(after.commits - before.commits >= 8 * n, 'JS commits are counted in the kernel statistics');
    assert.ok(after.aborts > before.aborts, 'the injected preemptions aborted sections');

    const broken = k.counter('broken');
    await k.runScripts(slots(8), SCRIPT, 'brokenAdds', () => ['broken', n]);
    assert.ok(broken.value() < 8 * n, `without the commit check increments are lost (${broken.value()} of ${8 * n})`);
  } finally {
    await k.close();
  }
});

test('Counter and Histogram from a piscina pool of 6 workers on 2 vCPUs are exact', { timeout: 120_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 0, poolSlots: 6, supervisor: { preemptHz: 2000, migrateHz: 2000 } });
  const c = k.counter('tasks');
  const h = k.histogram('lat', { highest: 1e6, subBucketBits: 5 });
  const pool = createPool(k, { handler: new URL('./fixtures/objects-pool-handler.js', import.meta.url) });
  try {
    const tasks = 48, n = 4000;
    const r = await Promise.all(Array.from({ length: tasks }, () => pool.run<{ done: number }>({ counter: 'tasks', histogram: 'lat', n })));
    assert.ok(r.every((x) => x.done === n));
    assert.equal(c.value(), tasks * n);
    const s = h.snapshot();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += 1 + (i % 1000);
    assert.equal(s.count, tasks * n);
    assert.equal(s.sum, tasks * sum);
    assert.equal(s.min, 1);
    assert.equal(s.max, 1000);
    assert.ok(k.stats().cpus.every((x) => x.owner === -1), 'workers park between tasks');
  } finally {
    await pool.destroy();
    await k.close();
  }
});

test('Histogram: count, sum, min, max exact and percentiles within the bucket precision', { timeout: 60_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 4, supervisor: { preemptHz: 2000, migrateHz: 2000 } });
  try {
    const bits = 6;
    const h = k.histogram('latency', { lowest: 1, highest: 3.6e12, subBucketBits: bits });
    let x = 12345;
    const rnd = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x; };
    const per = Array.from({ length: 4 }, () => Array.from({ length: 5000 }, () => Math.floor(2 ** ((rnd() / 2 ** 32) * 40))));
    await k.inject(YIELD_AT_7);
    await k.runScripts(slots(4), SCRIPT, 'recordAll', (s) => ['latency', per[s]]);
    const main = [0, 7, 3.6e12 * 2];
    for (const v of main) h.record(v);
    const all = [...per.flat(), ...main].sort((a, b) => a - b);
    const s = h.snapshot();
    assert.equal(s.count, all.length);
    assert.equal(s.sum, all.reduce((a, b) => a + b, 0));
    assert.equal(s.min, 0);
    assert.equal(s.max, 3.6e12 * 2);
    assert.equal(s.buckets.reduce((a, b) => a + b.count, 0), all.length);
    for (const p of [1, 10, 25, 50, 75, 90, 99, 99.9]) {
      const truth = all[Math.max(1, Math.ceil((p / 100) * all.length)) - 1];
      const got = s.percentile(p);
      assert.ok(Math.abs(got - truth) <= Math.max(1, truth * 2 ** -bits), `p${p}: ${got} vs ${truth}`);
    }
    assert.equal(s.percentile(100), s.max);
  } finally {
    await k.close();
  }
});

test('BlockPool: under injection no block is handed out twice and none is lost; foreign and double release rejected', { timeout: 60_000 }, async () => {
  const k = await Kernel.create({ cpus: 2, threads: 6, supervisor: { preemptHz: 2000, migrateHz: 2000 } });
  try {
    const blocks = 48;
    const p = k.blockPool('bufs', { blockSize: 256, blocks, cache: 8 });
    await k.inject(YIELD_AT_7);
    const r = await k.runScripts<{ got: number; nulls: number; bad: number }>(slots(6), SCRIPT, 'churnBlocks', () => ['bufs', 400, 12]);
    assert.ok(r.every((x) => x.value.bad === 0), 'every fill pattern survived until its release');
    assert.ok(r.reduce((a, x) => a + x.value.got, 0) > 6 * 400);
    const free = p.freeList();
    assert.equal(free.length, blocks);
    assert.equal(new Set(free).size, blocks, 'each block on exactly one free list');
    assert.equal(p.free(), blocks);

    // Main thread: its own cache in front of the central stack.
    const b = p.acquire()!;
    assert.equal(b.byteLength, 256);
    b.fill(7);
    p.release(b);
    throwsCode(() => p.release(b), 'EDOUBLE');
    throwsCode(() => p.release(new Uint8Array(256)), 'EFOREIGN');
    const b2 = p.acquire()!;
    throwsCode(() => p.release(b2.subarray(8)), 'EFOREIGN');
    throwsCode(() => p.release(new Uint8Array(b2.buffer, b2.byteOffset + 8, 256)), 'EFOREIGN');
    const other = k.blockPool('other', { blockSize: 256, blocks: 2 });
    throwsCode(() => other.release(b2), 'EFOREIGN');
    throwsCode(() => p.release('x' as unknown as Uint8Array), 'EFOREIGN');
    p.release(b2);
    const { value } = await k.runScript<string>(0, SCRIPT, 'doubleRelease', 'bufs');
    assert.equal(value, 'EDOUBLE');
    // Exhaustion: the main thread reaches its cache and the central stack.
    const got: Uint8Array[] = [];
    for (let a = p.acquire(); a; a = p.acquire()) got.push(a);
    assert.equal(new Set(got.map((g) => g.byteOffset)).size, got.length);
    assert.equal(got.length + p.free(), blocks);
    for (const g of got) p.release(g);
  } finally {
    await k.close();
  }
});

test('main-thread shard: writes from the main thread need no vCPU and stay apart from the vCPU copies', async () => {
  const k = await Kernel.create({ cpus: 2, threads: 1, supervisor: false });
  try {
    const c = k.counter('m');
    c.add(); c.add(41);
    assert.equal(c.mainShard(), 42);
    assert.deepEqual(c.perCpu(), [0, 0]);
    await k.runScript(0, SCRIPT, 'countAdds', 'm', 10);
    assert.equal(c.value(), 52);
    assert.equal(c.mainShard(), 42);
    const same = k.objects.counter('m');
    same.add(8);
    assert.equal(c.value(), 60);
    assert.deepEqual(k.objects.list(), [{ name: 'm', kind: 'counter' }]);
    assert.ok(k.stats().cpus.every((x) => x.owner === -1), 'the main thread owns no vCPU');
  } finally {
    await k.close();
  }
});

test('bad input, wrong names and kinds, destroyed objects and a closed kernel are typed errors', async () => {
  const k = await Kernel.create({ cpus: 2, threads: 1, supervisor: false });
  const c = k.counter('c');
  const h = k.histogram('h');
  throwsCode(() => k.counter('c'), 'EEXIST');
  throwsCode(() => k.histogram('c'), 'EEXIST');
  throwsCode(() => k.counter(''), 'EINVAL');
  throwsCode(() => k.counter('x'.repeat(65)), 'EINVAL');
  throwsCode(() => k.counter(3 as unknown as string), 'EINVAL');
  throwsCode(() => k.objects.counter('nope'), 'ENOENT');
  throwsCode(() => k.objects.histogram('c'), 'EKIND');
  throwsCode(() => k.objects.blockPool('h'), 'EKIND');
  for (const n of [-1, NaN, Infinity, 1.5, 2 ** 53, '1' as unknown as number]) throwsCode(() => c.add(n), 'EINVAL');
  for (const v of [-1, NaN, Infinity, -Infinity]) throwsCode(() => h.record(v), 'EINVAL');
  throwsCode(() => h.snapshot().percentile(101), 'EINVAL');
  for (const o of [{ lowest: 0 }, { highest: 1 }, { subBucketBits: 0 }, { subBucketBits: 13 }, { lowest: NaN }]) throwsCode(() => k.histogram(`h${JSON.stringify(o)}`, o), 'EINVAL');
  for (const o of [{ blockSize: 7, blocks: 1 }, { blockSize: 8, blocks: 0 }, { blockSize: 8, blocks: 4, cache: 5 }, null]) {
    throwsCode(() => k.blockPool('bp', o as never), 'EINVAL');
  }
  throwsCode(() => k.histogram('huge', { subBucketBits: 12 }), 'ENOSPC');
  throwsCode(() => objects.counter('c'), 'EINVAL');
  const { value } = await k.runScript<string[]>(0, SCRIPT, 'errors', 'c');
  assert.deepEqual(value, ['ENOENT', 'EKIND', 'EINVAL', 'EINVAL', 'EINVAL']);

  c.destroy();
  throwsCode(() => c.add(), 'EDESTROYED');
  throwsCode(() => c.value(), 'EDESTROYED');
  assert.equal(c.alive, false);
  throwsCode(() => k.objects.counter('c'), 'ENOENT');
  const again = k.counter('c');
  again.add(2);
  assert.equal(again.value(), 2);
  k.resetAllocations();
  throwsCode(() => again.add(), 'EDESTROYED');
  throwsCode(() => h.record(1), 'EDESTROYED');
  assert.deepEqual(k.objects.list(), []);
  const d = k.counter('d');
  await k.close();
  assert.throws(() => d.add(), KernelClosedError);
  assert.throws(() => d.value(), KernelClosedError);
  assert.throws(() => k.counter('e'), KernelClosedError);
  assert.equal(code(new ObjectError('EINVAL', 'x')), 'EINVAL');
});
