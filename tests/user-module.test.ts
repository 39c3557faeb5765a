// A user module, compiled the way a user compiles theirs (import "wasm-rseq/assembly", the preset),
// loaded with kernel.load and run under injected preemption; and modules that do not fit rejected.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Kernel, ModuleError } from '../host/index.js';
import { packageRoot } from '../host/paths.js';
import { compileUserFixture } from './fixtures/asc.js';

/** Compile the fixture with the preset, or with `options` replacing the preset's (to break it). */
const compile = (options?: Record<string, unknown>): Promise<Uint8Array> => compileUserFixture('sections.ts', options);

test('a user module built with the preset runs its own sections exactly under injection', { timeout: 120_000 }, async () => {
  const bytes = await compile();
  const k = await Kernel.create({ cpus: 2, threads: 6, supervisor: { preemptHz: 2000, migrateHz: 2000 } });
  try {
    const m = await k.load(bytes, 'sections');
    const cs = k.defineCriticalSection();
    const base = k.allocPerCpu(8);
    const res = await k.run(m, 'count', () => [cs, base, 2_000_000]);
    assert.ok(res.every((r) => r.value === 2_000_000));
    assert.equal(k.sumPerCpu(base), 12_000_000n);
    assert.ok(k.stats().aborts > 0, 'injection aborted some sections');
  } finally {
    await k.close();
  }
});

test('modules that do not fit the kernel are refused before they touch the memory', { timeout: 120_000 }, async () => {
  const k = await Kernel.create({ cpus: 1, threads: 1, supervisor: false });
  try {
    const preset = JSON.parse(readFileSync(join(packageRoot, 'asconfig.preset.json'), 'utf8')).options;
    const notShared = await compile({ ...preset, sharedMemory: false, maximumMemory: undefined });
    await assert.rejects(k.load(notShared), (e: unknown) => e instanceof ModuleError && /not shared/.test(e.message));
    const ownMemory = await compile({ ...preset, importMemory: false, sharedMemory: false, maximumMemory: undefined });
    await assert.rejects(k.load(ownMemory), (e: unknown) => e instanceof ModuleError && /env.memory/.test(e.message));
    await assert.rejects(compile({ ...preset, memoryBase: 1024 }), /build with wasm-rseq\/asconfig.preset.json/);
  } finally {
    await k.close();
  }
});

test('a mutable global (module-level let) is refused at load, named when built with --debug; thread-local on request', { timeout: 120_000 }, async () => {
  const k = await Kernel.create({ cpus: 1, threads: 2, supervisor: false });
  try {
    const preset = JSON.parse(readFileSync(join(packageRoot, 'asconfig.preset.json'), 'utf8')).options;
    const plain = await compileUserFixture('globals.ts');
    // Exactly one global is named (not the varargs trampoline's): the user's `hits`.
    await assert.rejects(k.load(plain), (e: unknown) => e instanceof ModuleError
      && /mutable globals: global \d+ \(mut i32\)\. A wasm global belongs to its instance/.test(e.message)
      && /--debug/.test(e.message) && /threadLocalGlobals/.test(e.message));
    const debug = await compileUserFixture('globals.ts', { ...preset, debug: true });
    await assert.rejects(k.load(debug), (e: unknown) => e instanceof ModuleError && /mutable globals: \$\S*globals\/hits \(mut i32\)\./.test(e.message));
    // Asked for, the global is per thread: each thread counts only its own calls.
    const at = k.alloc(4);
    const m = await k.load(plain, { threadLocalGlobals: true });
    const res = await k.run(m, 'bump', (t) => [at, t + 1]);
    assert.deepEqual(res.map((r) => r.value), [1, 2]);
    const again = await k.run(m, 'bump', () => [at, 10]);
    assert.deepEqual(again.map((r) => r.value), [11, 12]);
    // The varargs trampoline's global alone is not state: the module loads as is.
    // (Both forms of the call work: kernel.run sets the argument count for optional parameters.)
    const va = await k.load(await compileUserFixture('varargs.ts'));
    await k.run(va, 'add', () => [at, 5]);
    await k.run(va, 'add', () => [at]);
    // bump: 1 + 2 + 10 + 10; add: 2 × 5, then 2 × 1 (the default).
    assert.equal(new Int32Array(k.memory.buffer, at, 1)[0], 23 + 10 + 2);
  } finally {
    await k.close();
  }
});
