// Every error the library throws, in one place.
//
// Every class extends WasmRseqError, which carries a stable `code` (ERR_KERNEL_CLOSED, ...; for
// RseqError the errno name, EINVAL, ... with the number in `errno`, as Node's system errors do).
// Match errors by class (`e instanceof RseqFault`) or by `e.code`, never by message text.
//
// Errors crossing a thread boundary (a worker's call failed): the worker posts
// `serializeError(e)` (a plain, structured-cloneable object) and the main thread throws
// `reviveError(s)`, an instance of the same class with the same fields (thread, descriptor,
// reason, file, line, ...), the worker's message and stack, and its cause revived too:
//
//   // worker (thread.ts):   reply = { id, ok: false, error: serializeError(e) };
//   // main (kernel.ts call): if (!r.ok) throw reviveError(r.error);
//
// No message is parsed: each class is built from its fields by its static `fromFields`. Errors that
// are not ours revive as their built-in class (TypeError, WebAssembly.RuntimeError, ...) or, for a
// name we do not know, as a plain Error with that name, keeping `code` and `errno` if they had one.
// A new error class must get a case in `fieldsOf` and an entry in `REVIVERS` (tests/errors.test.ts
// round-trips every class).

/** Linux errno values returned (negated) by the emulated system calls. */
export const Errno = {
  EPERM: 1, ESRCH: 3, ENXIO: 6, EAGAIN: 11, EFAULT: 14, EBUSY: 16, EINVAL: 22, ERANGE: 34, ENOSYS: 38, ETIMEDOUT: 110,
  /** Linux-internal ENOTSUPP (not ENOTSUP): prctl(PR_RSEQ_SLICE_EXTENSION) when the extension is disabled. */
  ENOTSUPP: 524,
} as const;
export type ErrnoName = keyof typeof Errno;

export function errnoName(errno: number): ErrnoName | undefined {
  return (Object.keys(Errno) as ErrnoName[]).find((k) => Errno[k] === errno);
}

/** The stable `code` of each error class (RseqError's code is its errno name instead). */
export const ErrorCode = {
  RSEQ_FAULT: 'ERR_RSEQ_FAULT',
  USAGE: 'ERR_USAGE',
  MODULE: 'ERR_MODULE',
  THREAD_DIED: 'ERR_THREAD_DIED',
  KERNEL_CLOSED: 'ERR_KERNEL_CLOSED',
  REGION_EXHAUSTED: 'ERR_REGION_EXHAUSTED',
  WASM_ABORT: 'ERR_WASM_ABORT',
  WATCHDOG: 'ERR_WATCHDOG',
  ALLOC: 'ERR_ALLOC',
} as const;
export type ErrorCodeString = (typeof ErrorCode)[keyof typeof ErrorCode] | ErrnoName | ObjectErrorCode;

/** What every class's `fromFields` accepts besides its own fields. */
export interface ErrorFields {
  /** The message exactly as the original error had it (default: built from the fields). */
  message?: string;
  stack?: string;
  cause?: unknown;
}

/** The base of every error the library throws. */
export abstract class WasmRseqError extends Error {
  abstract readonly code: ErrorCodeString;

  /** Give a revived error the original's message and stack (fields were applied by the constructor). */
  protected static restore<E extends WasmRseqError>(e: E, f: ErrorFields): E {
    if (f.message !== undefined) e.message = f.message;
    if (f.stack !== undefined) e.stack = f.stack;
    return e;
  }
}

/** A system call (sys_rseq, membarrier) failed with `code`, as the kernel would have answered. */
export class RseqError extends WasmRseqError {
  override name = 'RseqError';
  /** The errno value of `code` (EINVAL -> 22). */
  readonly errno: number;
  constructor(readonly code: ErrnoName, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.errno = Errno[code];
  }
  static fromFields(f: { code: ErrnoName } & ErrorFields): RseqError {
    return WasmRseqError.restore(new RseqError(f.code, '', { cause: f.cause }), f);
  }
}

/**
 * The kernel's SIGSEGV: a critical section's descriptor or signature was invalid when the kernel
 * had to abort (or lazily clear) it. The faulting thread is stopped; other threads go on.
 */
export class RseqFault extends WasmRseqError {
  override name = 'RseqFault';
  readonly code = ErrorCode.RSEQ_FAULT;
  constructor(readonly thread: number, readonly descriptor: number, readonly reason: string, options?: { cause?: unknown }) {
    super(`thread ${thread}: rseq fault (SIGSEGV) on descriptor 0x${descriptor.toString(16)}: ${reason}`, options);
  }
  static fromFields(f: { thread: number; descriptor: number; reason: string } & ErrorFields): RseqFault {
    return WasmRseqError.restore(new RseqFault(f.thread, f.descriptor, f.reason, { cause: f.cause }), f);
  }
}

/** Invalid options or arguments (a usage error). */
export class UsageError extends WasmRseqError {
  override name = 'UsageError';
  readonly code = ErrorCode.USAGE;
  static fromFields(f: ErrorFields): UsageError {
    return WasmRseqError.restore(new UsageError(f.message ?? '', { cause: f.cause }), f);
  }
}

/** A loaded module does not fit the kernel (wrong flags, overlapping data, bad imports). */
export class ModuleError extends WasmRseqError {
  override name = 'ModuleError';
  readonly code = ErrorCode.MODULE;
  static fromFields(f: ErrorFields): ModuleError {
    return WasmRseqError.restore(new ModuleError(f.message ?? '', { cause: f.cause }), f);
  }
}

/** A worker thread died (threw, exited or was terminated) while running a call. */
export class ThreadDiedError extends WasmRseqError {
  override name = 'ThreadDiedError';
  readonly code = ErrorCode.THREAD_DIED;
  constructor(readonly thread: number, message: string, options?: { cause?: unknown }) {
    super(`thread ${thread}: ${message}`, options);
  }
  static fromFields(f: { thread: number } & ErrorFields): ThreadDiedError {
    return WasmRseqError.restore(new ThreadDiedError(f.thread, '', { cause: f.cause }), f);
  }
}

/**
 * A closed kernel (or pool) rejects every call: `new KernelClosedError('kernel.load')` is
 * "wasm-rseq: kernel.load() called on a closed kernel".
 */
export class KernelClosedError extends WasmRseqError {
  override name = 'KernelClosedError';
  readonly code = ErrorCode.KERNEL_CLOSED;
  /**
   * @param call what was called, e.g. 'kernel.load' or 'pool.run'
   * @param target what is closed (default: 'pool' if `call` starts with "pool.", else 'kernel')
   */
  constructor(readonly call: string, readonly target: 'kernel' | 'pool' = call.startsWith('pool.') ? 'pool' : 'kernel', options?: { cause?: unknown }) {
    super(`wasm-rseq: ${call}() called on a closed ${target}`, options);
  }
  static fromFields(f: { call: string; target?: 'kernel' | 'pool' } & ErrorFields): KernelClosedError {
    return WasmRseqError.restore(new KernelClosedError(f.call, f.target, { cause: f.cause }), f);
  }
}

/** An allocation did not fit its region (the heap, the per-vCPU pool, the descriptor table). */
export class RegionExhaustedError extends WasmRseqError {
  override name = 'RegionExhaustedError';
  readonly code = ErrorCode.REGION_EXHAUSTED;
  readonly region: string;
  /** Bytes asked for. */
  readonly requested: number;
  /** Bytes left in the region before alignment. */
  readonly left: number;
  constructor(f: { region: string; requested: number; left: number }, options?: { cause?: unknown }) {
    super(`${f.region} exhausted (${f.requested} bytes requested, ${f.left} left)`, options);
    this.region = f.region;
    this.requested = f.requested;
    this.left = f.left;
  }
  static fromFields(f: { region: string; requested: number; left: number } & ErrorFields): RegionExhaustedError {
    return WasmRseqError.restore(new RegionExhaustedError(f, { cause: f.cause }), f);
  }
}

/** What an AssemblyScript abort() passed (`throw new Error(...)` in AS is an abort too). */
export interface WasmAbortFields {
  /** The abort's own message (null: abort() without one). */
  abortMessage: string | null;
  /** The source file (null if none was passed). */
  file: string | null;
  line: number;
  column: number;
  /** The emulated thread (slot) that aborted, if known. */
  thread?: number;
}

/** A wasm module called abort(): "thread 2: abort: boom at assembly/x.ts:12:5". */
export class WasmAbortError extends WasmRseqError {
  override name = 'WasmAbortError';
  readonly code = ErrorCode.WASM_ABORT;
  readonly abortMessage: string | null;
  readonly file: string | null;
  readonly line: number;
  readonly column: number;
  readonly thread: number | undefined;
  constructor(f: WasmAbortFields, options?: { cause?: unknown }) {
    const where = f.file === null ? '' : ` at ${f.file}:${f.line}:${f.column}`;
    super(`${f.thread === undefined ? '' : `thread ${f.thread}: `}abort: ${f.abortMessage ?? '(no message)'}${where}`, options);
    this.abortMessage = f.abortMessage;
    this.file = f.file;
    this.line = f.line;
    this.column = f.column;
    this.thread = f.thread;
  }
  static fromFields(f: WasmAbortFields & ErrorFields): WasmAbortError {
    return WasmRseqError.restore(new WasmAbortError(f, { cause: f.cause }), f);
  }
}

/** A long-running command (soak) made no progress for `seconds`. */
export class WatchdogError extends WasmRseqError {
  override name = 'WatchdogError';
  readonly code = ErrorCode.WATCHDOG;
  constructor(readonly seconds: number, options?: { cause?: unknown }) {
    super(`watchdog: no progress in ${seconds} s (deadlock?)`, options);
  }
  static fromFields(f: { seconds: number } & ErrorFields): WatchdogError {
    return WasmRseqError.restore(new WatchdogError(f.seconds, { cause: f.cause }), f);
  }
}

/** An error as a plain, structured-cloneable object (postMessage between threads). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  errno?: number;
  cause?: SerializedError;
  // The typed errors' own fields.
  thread?: number;
  descriptor?: number;
  reason?: string;
  call?: string;
  target?: 'kernel' | 'pool';
  region?: string;
  requested?: number;
  left?: number;
  abortMessage?: string | null;
  file?: string | null;
  line?: number;
  column?: number;
  seconds?: number;
  allocKind?: AllocErrorKind;
  ptr?: number;
}

/** The own fields of a typed error, as they go into a SerializedError. */
function fieldsOf(e: Error): Partial<SerializedError> {
  if (e instanceof RseqFault) return { thread: e.thread, descriptor: e.descriptor, reason: e.reason };
  if (e instanceof ThreadDiedError) return { thread: e.thread };
  if (e instanceof KernelClosedError) return { call: e.call, target: e.target };
  if (e instanceof RegionExhaustedError) return { region: e.region, requested: e.requested, left: e.left };
  if (e instanceof WasmAbortError) {
    const f: Partial<SerializedError> = { abortMessage: e.abortMessage, file: e.file, line: e.line, column: e.column };
    if (e.thread !== undefined) f.thread = e.thread;
    return f;
  }
  if (e instanceof WatchdogError) return { seconds: e.seconds };
  if (e instanceof AllocError) {
    const f: Partial<SerializedError> = { allocKind: e.kind, ptr: e.ptr };
    if (e.thread !== undefined) f.thread = e.thread;
    return f;
  }
  return {};
}

const MAX_CAUSE_DEPTH = 8;

/** `e` (anything thrown) as a plain object that survives postMessage; see reviveError. */
export function serializeError(e: unknown): SerializedError {
  return serialize(e, 0);
}

function serialize(e: unknown, depth: number): SerializedError {
  if (!(e instanceof Error)) {
    return { name: 'Error', message: typeof e === 'string' ? e : `non-error thrown: ${safeString(e)}` };
  }
  const s: SerializedError = { name: e.name, message: e.message };
  if (typeof e.stack === 'string') s.stack = e.stack;
  const { code, errno } = e as { code?: unknown; errno?: unknown };
  if (typeof code === 'string') s.code = code;
  if (typeof errno === 'number') s.errno = errno;
  Object.assign(s, fieldsOf(e));
  if (e.cause !== undefined && depth < MAX_CAUSE_DEPTH) s.cause = serialize(e.cause, depth + 1);
  return s;
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

type Reviver = (s: SerializedError, f: ErrorFields) => Error;

const num = (v: number | undefined): number => v ?? 0;

const REVIVERS: Record<string, Reviver> = {
  RseqError: (s, f) => RseqError.fromFields({ ...f, code: (s.code ?? 'EINVAL') as ErrnoName }),
  RseqFault: (s, f) => RseqFault.fromFields({ ...f, thread: num(s.thread), descriptor: num(s.descriptor), reason: s.reason ?? '' }),
  UsageError: (_, f) => UsageError.fromFields(f),
  ModuleError: (_, f) => ModuleError.fromFields(f),
  ThreadDiedError: (s, f) => ThreadDiedError.fromFields({ ...f, thread: num(s.thread) }),
  KernelClosedError: (s, f) => KernelClosedError.fromFields({ ...f, call: s.call ?? '?', target: s.target }),
  RegionExhaustedError: (s, f) =>
    RegionExhaustedError.fromFields({ ...f, region: s.region ?? '?', requested: num(s.requested), left: num(s.left) }),
  WasmAbortError: (s, f) => WasmAbortError.fromFields({
    ...f, abortMessage: s.abortMessage ?? null, file: s.file ?? null, line: num(s.line), column: num(s.column), thread: s.thread,
  }),
  WatchdogError: (s, f) => WatchdogError.fromFields({ ...f, seconds: num(s.seconds) }),
  PoolClosedError: (s, f) => PoolClosedError.fromFields({ ...f, call: s.call ?? '?' }),
  ObjectError: (s, f) => ObjectError.fromFields({ ...f, code: (s.code ?? 'EINVAL') as ObjectErrorCode }),
  AllocError: (s, f) => AllocError.fromFields({ ...f, kind: s.allocKind ?? 'corrupt', ptr: num(s.ptr), thread: s.thread }),
};

/** Built-in error classes revived as themselves (a wasm trap is a WebAssembly.RuntimeError). */
const BUILTINS: Record<string, new (message?: string, options?: { cause?: unknown }) => Error> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
  RuntimeError: WebAssembly.RuntimeError, CompileError: WebAssembly.CompileError, LinkError: WebAssembly.LinkError,
};

/** The error `s` was made from: the same class (ours or built-in), fields, message and stack. */
export function reviveError(s: SerializedError): Error {
  const cause = s.cause === undefined ? undefined : reviveError(s.cause);
  const f: ErrorFields = { message: s.message, stack: s.stack, cause };
  const ours = Object.hasOwn(REVIVERS, s.name) ? REVIVERS[s.name] : undefined;
  if (ours) return ours(s, f);
  const Builtin = Object.hasOwn(BUILTINS, s.name) ? BUILTINS[s.name] : Error;
  const e = new Builtin(s.message, cause === undefined ? undefined : { cause });
  if (e.name !== s.name) e.name = s.name;
  if (s.stack !== undefined) e.stack = s.stack;
  if (s.code !== undefined) (e as { code?: string }).code = s.code;
  if (s.errno !== undefined) (e as { errno?: number }).errno = s.errno;
  return e;
}

// --- Per-vCPU objects from JavaScript (host/objects/) -------------------------------------------

/** Why an object call failed (ObjectError.code). */
export type ObjectErrorCode =
  | 'EINVAL'     // bad argument: a name, an option, a value (negative, NaN, non-finite, not an integer)
  | 'EEXIST'     // an object of that name already exists
  | 'ENOENT'     // no object of that name
  | 'EKIND'      // the object has another kind (a histogram looked up as a counter)
  | 'EDESTROYED' // the handle's object has been destroyed (or the kernel's allocations reset)
  | 'ENOSPC'     // the object table or the per-vCPU pool / heap is full
  | 'EFOREIGN'   // a block that is not one of this pool's blocks
  | 'EDOUBLE'    // a block released twice (or never acquired)
  | 'ENOTREG';   // the calling thread is not registered with rseq

/** A per-vCPU object call (Counter, Histogram, BlockPool, the object table) failed. */
export class ObjectError extends WasmRseqError {
  override name = 'ObjectError';
  constructor(readonly code: ObjectErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
  }
  static fromFields(f: { code: ObjectErrorCode } & ErrorFields): ObjectError {
    return WasmRseqError.restore(new ObjectError(f.code, '', { cause: f.cause }), f);
  }
}

/** A call on an RseqPool that is closing or closed (close() / destroy()). */
export class PoolClosedError extends KernelClosedError {
  override name = 'PoolClosedError';
  constructor(call: string, options?: { cause?: unknown }) {
    super(call, 'pool', options);
  }
  static override fromFields(f: { call: string } & ErrorFields): PoolClosedError {
    return WasmRseqError.restore(new PoolClosedError(f.call, { cause: f.cause }), f);
  }
}

// --- The allocator (host/alloc/, assembly/alloc/) ---------------------------------------------------

/**
 * What the allocator's checked mode (or an exact check after a run) found: a pointer freed twice,
 * a pointer that is no object of this heap, an object handed out while already handed out, an
 * object lost (neither cached nor on a central list after draining), or a corrupted structure.
 */
export type AllocErrorKind = 'double-free' | 'foreign-pointer' | 'duplicate' | 'lost' | 'corrupt';

export class AllocError extends WasmRseqError {
  override name = 'AllocError';
  readonly code = ErrorCode.ALLOC;
  constructor(readonly kind: AllocErrorKind, readonly ptr: number, readonly thread?: number, message?: string, options?: { cause?: unknown }) {
    super(message ?? `${kind} of 0x${(ptr >>> 0).toString(16)}${thread !== undefined ? ` on thread ${thread}` : ''}`, options);
  }
  static fromFields(f: { kind: AllocErrorKind; ptr: number; thread?: number } & ErrorFields): AllocError {
    return WasmRseqError.restore(new AllocError(f.kind, f.ptr, f.thread, undefined, { cause: f.cause }), f);
  }
}
