// Every error the library throws, in one place.

/** Linux errno values returned (negated) by the emulated system calls. */
export const Errno = { EPERM: 1, ENXIO: 6, EBUSY: 16, EFAULT: 14, EINVAL: 22, ENOSYS: 38 } as const;
export type ErrnoName = keyof typeof Errno;

export function errnoName(errno: number): ErrnoName | undefined {
  return (Object.keys(Errno) as ErrnoName[]).find((k) => Errno[k] === errno);
}

/** A system call (sys_rseq, membarrier) failed with `code`, as the kernel would have answered. */
export class RseqError extends Error {
  override name = 'RseqError';
  constructor(readonly code: ErrnoName, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
  }
}

/**
 * The kernel's SIGSEGV: a critical section's descriptor or signature was invalid when the kernel
 * had to abort (or lazily clear) it. The faulting thread is stopped; other threads go on.
 */
export class RseqFault extends Error {
  override name = 'RseqFault';
  constructor(readonly thread: number, readonly descriptor: number, readonly reason: string) {
    super(`thread ${thread}: rseq fault (SIGSEGV) on descriptor 0x${descriptor.toString(16)}: ${reason}`);
  }
}

/** Invalid options or arguments (a usage error). */
export class UsageError extends TypeError {
  override name = 'UsageError';
}

/** A loaded module does not fit the kernel (wrong flags, overlapping data, bad imports). */
export class ModuleError extends Error {
  override name = 'ModuleError';
}

/** A worker thread died (threw, exited or was terminated) while running a call. */
export class ThreadDiedError extends Error {
  override name = 'ThreadDiedError';
  constructor(readonly thread: number, message: string, options?: { cause?: unknown }) {
    super(`thread ${thread}: ${message}`, options);
  }
}

/** A call on a kernel (or pool) that has been closed. */
export class KernelClosedError extends Error {
  override name = 'KernelClosedError';
  constructor(readonly call: string) {
    super(`wasm-rseq: ${call} called on a closed kernel`);
  }
}

/** A call on an RseqPool that is closing or closed (close() / destroy()). */
export class PoolClosedError extends Error {
  override name = 'PoolClosedError';
  constructor(readonly call: string) {
    super(`wasm-rseq: ${call} called on a closed pool`);
  }
}
