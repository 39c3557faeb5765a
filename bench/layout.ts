// Sizes and offsets of the structures the bench lays out from the host, from the typed ABI
// (assembly/abi.ts, the one layout source): the only place bench host code reads a layout.
import { ABI, type Abi } from '../host/abi.js';

/** wasm32: the size of a usize (a pointer or a pointer-buffer slot). */
export const USIZE = ABI.PTR_SIZE;
/** An i64 counter word. */
export const I64 = 8;
/** An i32 word (JS Atomics on an Int32Array). */
export const I32 = 4;

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** A cache line: hot words of different threads or vCPUs sit on different lines. */
export const line = (abi: Abi): number => abi.LINE;

/** List nodes one per line: a pop and push straddling a migration moves a node to another vCPU's
 *  list, and packed nodes would then put two vCPUs' hot nodes on one line (false sharing). */
export const nodeStride = (abi: Abi): number => roundUp(abi.NODE_SIZE, abi.LINE);

/** A pointer buffer (percpu/buffer.ts) holding up to `cap` items. */
export const bufferBytes = (abi: Abi, cap: number): number => abi.BUF_ARRAY + abi.BUF_ENTRY * cap;

/** A memcpy buffer (percpu/memcpy.ts) holding up to `cap` items of `item` bytes. */
export const memcpyBytes = (abi: Abi, cap: number, item: number): number => abi.MBUF_ARRAY + item * cap;

/** One MPMC cell (atomic/mpmc.ts): the sequence word, then `payload` bytes, aligned (mpmc_build). */
export const mpmcCell = (abi: Abi, payload: number): number => roundUp(abi.MPMC_PAYLOAD + payload, abi.MPMC_CELL_ALIGN);

/** An MPMC queue of `cap` cells carrying `payload` bytes each: header lines, then the cells. */
export const mpmcBytes = (abi: Abi, cap: number, payload: number): number => abi.MPMC_CELLS + cap * mpmcCell(abi, payload);

/** A global spinlock followed by `data` bytes it protects; the data starts at lockedData(). */
export const lockedBytes = (abi: Abi, data: number): number => abi.LOCK_DATA + data;
export const lockedData = (abi: Abi, lock: number): number => lock + abi.LOCK_DATA;
