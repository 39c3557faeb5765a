// The error module: every class is a WasmRseqError with a stable code, survives
// serializeError -> structured clone (postMessage) -> reviveError with its class and fields, and an
// AssemblyScript abort() in a module built with the preset arrives as a WasmAbortError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ErrorCode, Kernel, KernelClosedError, ModuleError, RegionExhaustedError, RseqError, RseqFault, ThreadDiedError, UsageError,
  WasmAbortError, WasmRseqError, WatchdogError, reviveError, serializeError, type SerializedError,
} from '../host/index.js';
import { BumpRegion } from '../host/kernel/region.js';
import { abortImport, instantiateWithAbort, stringReader } from '../host/wasm-abort.js';
import { compileUserFixture } from './fixtures/asc.js';

/** serialize, clone as postMessage would, revive. */
const roundTrip = (e: unknown): Error => reviveError(structuredClone(serializeError(e)));

/** One instance of every class, with the fields that must survive. */
const samples: [Error, Record<string, unknown>][] = [
  [new RseqError('EPERM', 'signature mismatch'), { code: 'EPERM', errno: 1 }],
  [new RseqFault(3, 0x1040, 'abort_ip inside the critical section'), { code: ErrorCode.RSEQ_FAULT, thread: 3, descriptor: 0x1040, reason: 'abort_ip inside the critical section' }],
  [new UsageError('options.cpus must be an integer in [1, 32], got 0'), { code: ErrorCode.USAGE }],
  [new ModuleError('module memory is not shared'), { code: ErrorCode.MODULE }],
  [new ThreadDiedError(2, 'exited with code 1', { cause: new Error('exited with code 1') }), { code: ErrorCode.THREAD_DIED, thread: 2 }],
  [new KernelClosedError('kernel.load'), { code: ErrorCode.KERNEL_CLOSED, call: 'kernel.load', target: 'kernel' }],
  [new KernelClosedError('pool.run'), { code: ErrorCode.KERNEL_CLOSED, call: 'pool.run', target: 'pool' }],
  [new RegionExhaustedError({ region: 'heap', requested: 4096, left: 100 }), { code: ErrorCode.REGION_EXHAUSTED, region: 'heap', requested: 4096, left: 100 }],
  [new WasmAbortError({ abortMessage: 'boom', file: 'a.ts', line: 3, column: 5, thread: 1 }), { code: ErrorCode.WASM_ABORT, abortMessage: 'boom', file: 'a.ts', line: 3, column: 5, thread: 1 }],
  [new WasmAbortError({ abortMessage: null, file: null, line: 0, column: 0 }), { abortMessage: null, file: null, thread: undefined }],
  [new WatchdogError(30), { code: ErrorCode.WATCHDOG, seconds: 30 }],
];

test('messages', () => {
  assert.equal(new KernelClosedError('kernel.load').message, 'wasm-rseq: kernel.load() called on a closed kernel');
  assert.equal(new KernelClosedError('pool.run').message, 'wasm-rseq: pool.run() called on a closed pool');
  assert.equal(new RseqError('EINVAL', 'bad flags').message, 'EINVAL: bad flags');
  assert.equal(new RseqFault(1, 0x20, 'why').message, 'thread 1: rseq fault (SIGSEGV) on descriptor 0x20: why');
  assert.equal(new RegionExhaustedError({ region: 'heap', requested: 64, left: 8 }).message, 'heap exhausted (64 bytes requested, 8 left)');
  assert.equal(new WasmAbortError({ abortMessage: 'boom', file: 'a.ts', line: 3, column: 5, thread: 1 }).message, 'thread 1: abort: boom at a.ts:3:5');
  assert.equal(new WasmAbortError({ abortMessage: null, file: null, line: 0, column: 0 }).message, 'abort: (no message)');
});

test('every class is a WasmRseqError with a stable code and its own name', () => {
  for (const [e] of samples) {
    assert.ok(e instanceof WasmRseqError && e instanceof Error, e.name);
    assert.equal(e.name, e.constructor.name);
    assert.equal(typeof (e as WasmRseqError).code, 'string');
    assert.match(String(e.stack), new RegExp(`^${e.name}: `));
  }
});

test('serializeError -> structured clone -> reviveError keeps class, name, message, stack, code and fields', () => {
  for (const [e, fields] of samples) {
    const r = roundTrip(e);
    assert.equal(r.constructor, e.constructor, e.name);
    assert.equal(r.name, e.name);
    assert.equal(r.message, e.message);
    assert.equal(r.stack, e.stack);
    for (const [k, v] of Object.entries(fields)) assert.deepEqual((r as unknown as Record<string, unknown>)[k], v, `${e.name}.${k}`);
    if (e.cause !== undefined) {
      assert.ok(r.cause instanceof Error);
      assert.equal(r.cause.message, (e.cause as Error).message);
    }
  }
});

test('fromFields builds each class from its fields, no text parsing', () => {
  const f = RseqFault.fromFields({ thread: 4, descriptor: 0x80, reason: 'descriptor outside memory' });
  assert.deepEqual([f.thread, f.descriptor, f.reason, f.message], [4, 0x80, 'descriptor outside memory', new RseqFault(4, 0x80, 'descriptor outside memory').message]);
  const odd = RseqFault.fromFields({ thread: 1, descriptor: 2, reason: 'r', message: 'kept as is' });
  assert.equal(odd.message, 'kept as is');
  assert.equal(RseqError.fromFields({ code: 'EBUSY' }).errno, 16);
  assert.equal(KernelClosedError.fromFields({ call: 'pool.close' }).target, 'pool');
});

test('errors that are not ours revive as their built-in class, or as a plain Error with their name', () => {
  for (const e of [new TypeError('t'), new RangeError('r'), new WebAssembly.RuntimeError('unreachable'), new SyntaxError('s')]) {
    const r = roundTrip(e);
    assert.equal(r.constructor, e.constructor);
    assert.deepEqual([r.name, r.message, r.stack], [e.name, e.message, e.stack]);
  }
  const odd = Object.assign(new Error('disk'), { name: 'SystemError', code: 'ENOENT', errno: -2 });
  const r = roundTrip(odd);
  assert.equal(r.constructor, Error);
  assert.deepEqual([r.name, r.message, (r as { code?: string }).code, (r as { errno?: number }).errno], ['SystemError', 'disk', 'ENOENT', -2]);
  assert.deepEqual(serializeError('text'), { name: 'Error', message: 'text' });
  assert.equal(roundTrip(42).message, 'non-error thrown: 42');
  // A name like "toString" or "__proto__" is just an unknown name.
  const proto = reviveError({ name: '__proto__', message: 'x' } as SerializedError);
  assert.deepEqual([proto.constructor, proto.name], [Error, '__proto__']);
});

test('causes are serialized and revived, cycles bounded', () => {
  const inner = new RegionExhaustedError({ region: 'per-vCPU pool', requested: 8, left: 0 });
  const r = roundTrip(new ThreadDiedError(0, 'died', { cause: inner }));
  assert.ok(r.cause instanceof RegionExhaustedError && r.cause.requested === 8);
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  a.cause = b;
  let depth = 0;
  for (let s: SerializedError | undefined = serializeError(a); s; s = s.cause) depth++;
  assert.ok(depth > 1 && depth < 20);
});

test('BumpRegion: out of space is a RegionExhaustedError, a bad size a UsageError', () => {
  const r = new BumpRegion('heap', 0, 64);
  r.alloc(40, 8);
  assert.throws(() => r.alloc(32, 8), (e: unknown) => e instanceof RegionExhaustedError && e.region === 'heap' && e.requested === 32 && e.left === 24);
  assert.throws(() => r.alloc(0, 8), UsageError);
});

// The preset's memory: imported, shared, 272 pages at least.
const presetMemory = () => new WebAssembly.Memory({ initial: 272, maximum: 65536, shared: true });
const never = () => { throw new Error('not called by the fixture'); };
const rseqStubs = { thread: new WebAssembly.Global({ value: 'i32' }, 0), slow: never, inject: never, yield_now: never, stop_cpu: never, start_cpu: never };

test('an AssemblyScript abort() arrives as a WasmAbortError with message, file, line, column and thread', { timeout: 120_000 }, async () => {
  const module = new WebAssembly.Module(await compileUserFixture('abort.ts'));
  const memory = presetMemory();
  const inst = instantiateWithAbort(module, { env: { memory }, 'wasm-rseq@1': rseqStubs }, 5);
  const ex = inst.exports as { boom(): void; long(n: number): void; bare(): void };

  assert.throws(() => ex.boom(), (e: unknown) => {
    assert.ok(e instanceof WasmAbortError, String(e));
    assert.equal(e.abortMessage, 'boom');
    assert.match(String(e.file), /abort\.ts$/);
    assert.equal(e.line, 7);
    assert.ok(e.column > 0);
    assert.equal(e.thread, 5);
    assert.equal(e.message, `thread 5: abort: boom at ${e.file}:7:${e.column}`);
    return true;
  });

  // > 1024 characters from a SharedArrayBuffer (the loader's TextDecoder refuses shared views).
  assert.throws(() => ex.long(150), (e: unknown) => {
    assert.ok(e instanceof WasmAbortError);
    assert.equal(e.abortMessage, `${'0123456789'.repeat(150)} \u00e9\u20ac\u{1F600}`);
    assert.deepEqual([e.file, e.line, e.column], ['long.ts', 7, 9]);
    return true;
  });

  assert.throws(() => ex.bare(), (e: unknown) => e instanceof WasmAbortError && e.abortMessage === null && e.file === null);

  // The same import for a shared env (thread-runtime.ts), and the error survives a thread hop.
  const env = { memory, abort: abortImport(memory) };
  const again = new WebAssembly.Instance(module, { env, 'wasm-rseq@1': rseqStubs }).exports as typeof ex;
  try {
    again.boom();
    assert.fail('boom() returned');
  } catch (e) {
    assert.ok(e instanceof WasmAbortError && e.thread === undefined);
    const r = roundTrip(e);
    assert.ok(r instanceof WasmAbortError);
    assert.deepEqual([r.abortMessage, r.file, r.line, r.column, r.message], [e.abortMessage, e.file, e.line, e.column, e.message]);
  }
});

test('stringReader: a pointer that is not a string is refused', () => {
  const memory = presetMemory();
  const read = stringReader(memory);
  assert.equal(read(0), null);
  assert.throws(() => read(64), /not a string/);
  assert.equal(stringReader(memory), read, 'one reader per memory');
  const plain = new WebAssembly.Memory({ initial: 1 });
  const u32 = new Uint32Array(plain.buffer);
  u32[(64 - 8) >> 2] = 2; // STRING_ID
  u32[(64 - 4) >> 2] = 4; // two UTF-16 code units
  new Uint16Array(plain.buffer).set([0x68, 0x69], 32);
  assert.equal(stringReader(plain)(64), 'hi');
});

test('on a kernel thread, an AssemblyScript abort() rejects the call with a WasmAbortError, fields intact', { timeout: 120_000 }, async () => {
  const k = await Kernel.create({ cpus: 1, threads: 2, supervisor: false });
  try {
    const m = await k.load(await compileUserFixture('abort-thread.ts'), 'abort-thread');
    const err = await k.runOn(1, m, 'boom').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WasmAbortError, `got ${String(err)}`);
    assert.equal(err.abortMessage, 'boom');
    assert.match(err.file ?? '', /abort-thread\.ts$/);
    assert.equal(err.line, 6);
    assert.ok(err.column > 0);
    assert.equal(err.thread, 1);
    // The thread survives an abort (it is an exception, not a fault): it runs the next call.
    await assert.rejects(k.runOn(1, m, 'bare'), WasmAbortError);
  } finally {
    await k.close();
  }
});
