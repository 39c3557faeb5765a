// Sizes and offsets of the structures the bench lays out from the host, read from the kernel's ABI
// (assembly/abi.ts, the one layout source): the only place bench host code reads a layout.
import type { Abi } from '../host/abi.js';

/** wasm32: the size of a usize (a pointer or a pointer-buffer slot). */
export const USIZE = 4;
/** An i64 counter word. */
export const I64 = 8;
/** An i32 word (JS Atomics on an Int32Array). */
export const I32 = 4;

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** `abi[name]`, or a loud error if this core module does not export it. */
function field(abi: Abi, name: string): number {
  const v = abi[name];
  if (typeof v !== 'number') throw new Error(`bench: the core module's ABI has no ${name} (assembly/abi.ts)`);
  return v;
}

/** A cache line: hot words of different threads or vCPUs sit on different lines. */
export const line = (abi: Abi): number => field(abi, 'LINE');

/** List nodes one per line: a pop and push straddling a migration moves a node to another vCPU's
 *  list, and packed nodes would then put two vCPUs' hot nodes on one line (false sharing). */
export const nodeStride = (abi: Abi): number => roundUp(field(abi, 'NODE_SIZE'), line(abi));

/** A pointer buffer (percpu/buffer.ts) holding up to `cap` items. */
export const bufferBytes = (abi: Abi, cap: number): number => field(abi, 'BUF_ARRAY') + USIZE * cap;

/** A memcpy buffer (percpu/memcpy.ts) holding up to `cap` items of `item` bytes. */
export const memcpyBytes = (abi: Abi, cap: number, item: number): number => field(abi, 'MBUF_ARRAY') + item * cap;

/** One MPMC cell (atomic/mpmc.ts): the sequence word, then `payload` bytes, 8-aligned (mpmc_build). */
export const mpmcCell = (abi: Abi, payload: number): number => roundUp(field(abi, 'MPMC_PAYLOAD') + payload, 8);

/** An MPMC queue of `cap` cells carrying `payload` bytes each: header lines, then the cells. */
export const mpmcBytes = (abi: Abi, cap: number, payload: number): number => field(abi, 'MPMC_CELLS') + cap * mpmcCell(abi, payload);

/** A global spinlock followed by `data` bytes it protects; the data starts at lockedData(). */
export const lockedBytes = (abi: Abi, data: number): number => field(abi, 'LOCK_SIZE') + data;
export const lockedData = (abi: Abi, lock: number): number => lock + field(abi, 'LOCK_SIZE');
