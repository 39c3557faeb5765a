// A per-vCPU memory pool after librseq's rseq_mempool: fixed-size items with a per-vCPU stride, so
// one allocation (or free) gives (or returns) the item on every vCPU at once, and per-vCPU data of
// many small objects packs densely (item i of every vCPU at base + i * item + c * stride). Layout:
// MP_* (abi.ts). The ranges come from the kernel's allocator (a large allocation of stride x vCPUs),
// so destroying a pool returns them to its page heap. Not a critical section: a spinlock per pool;
// the items' per-vCPU copies are then used with the rseq operations (rseq_mempool_percpu_ptr).
import {
  ALLOC_ERR_FOREIGN, ALLOC_OK, ALLOC_PAGE, HDR_NR_CPUS, HEADER_ADDR, MP_BASE, MP_CAP, MP_FREE, MP_ITEM, MP_LIVE,
  MP_LOCK, MP_NCPUS, MP_NEXT, MP_SIZE, MP_STRIDE,
} from "../abi";
import { alloc_lock, alloc_unlock } from "./central";
import { alloc_free, alloc_malloc } from "./front";

/**
 * Create a pool of items of `item_len` bytes (rounded up to a power of two, at least 8) with
 * `stride` bytes per vCPU (a power of two >= ALLOC_PAGE; 0: 65536, librseq's default), on the
 * allocator at `a`. Returns the pool, or 0 (bad arguments, heap full).
 */
export function rseq_mempool_create(a: usize, item_len: i32, stride: i32): usize {
  if (stride == 0) stride = 65536;
  if (item_len <= 0 || stride < ALLOC_PAGE || (stride & (stride - 1)) != 0) return 0;
  let item = 8;
  while (item < item_len) item <<= 1;
  if (item > stride) return 0;
  const cpus = load<i32>(HEADER_ADDR + HDR_NR_CPUS);
  const pool = alloc_malloc(a, MP_SIZE);
  if (pool == 0) return 0;
  const base = alloc_malloc(a, <usize>stride * cpus);
  if (base == 0) { alloc_free(a, pool); return 0; }
  memory.fill(pool, 0, MP_SIZE);
  store<i32>(pool, item, MP_ITEM);
  store<i32>(pool, stride, MP_STRIDE);
  store<i32>(pool, cpus, MP_NCPUS);
  store<usize>(pool, base, MP_BASE);
  store<i32>(pool, stride / item, MP_CAP);
  return pool;
}

/** Destroy a pool: 0, or -16 (EBUSY) while items are handed out (nothing is freed then). */
export function rseq_mempool_destroy(a: usize, pool: usize): i32 {
  alloc_lock(pool + MP_LOCK);
  const live = load<i32>(pool, MP_LIVE);
  alloc_unlock(pool + MP_LOCK);
  if (live != 0) return -16;
  alloc_free(a, load<usize>(pool, MP_BASE));
  alloc_free(a, pool);
  return 0;
}

/** An item (its vCPU-0 address), uninitialised on every vCPU; 0 when the pool is full. */
export function rseq_mempool_percpu_malloc(pool: usize): usize {
  alloc_lock(pool + MP_LOCK);
  let p = load<usize>(pool, MP_FREE);
  if (p != 0) {
    store<usize>(pool, load<usize>(p), MP_FREE);
  } else {
    const next = load<i32>(pool, MP_NEXT);
    if (next < load<i32>(pool, MP_CAP)) {
      p = load<usize>(pool, MP_BASE) + <usize>next * load<i32>(pool, MP_ITEM);
      store<i32>(pool, next + 1, MP_NEXT);
    }
  }
  if (p != 0) store<i32>(pool, load<i32>(pool, MP_LIVE) + 1, MP_LIVE);
  alloc_unlock(pool + MP_LOCK);
  return p;
}

/** An item zeroed on every vCPU (rseq_mempool_percpu_zmalloc). */
export function rseq_mempool_percpu_zmalloc(pool: usize): usize {
  const p = rseq_mempool_percpu_malloc(pool);
  if (p == 0) return 0;
  const item = <usize>load<i32>(pool, MP_ITEM);
  const stride = <usize>load<i32>(pool, MP_STRIDE);
  for (let c = 0; c < load<i32>(pool, MP_NCPUS); c++) memory.fill(p + <usize>c * stride, 0, item);
  return p;
}

/** Free an item on every vCPU: 0, or ALLOC_ERR_FOREIGN (not an item of this pool). */
export function rseq_mempool_percpu_free(pool: usize, p: usize): i32 {
  const base = load<usize>(pool, MP_BASE);
  const item = <usize>load<i32>(pool, MP_ITEM);
  if (p < base || p >= base + <usize>load<i32>(pool, MP_NEXT) * item || ((p - base) & (item - 1)) != 0) return ALLOC_ERR_FOREIGN;
  alloc_lock(pool + MP_LOCK);
  store<usize>(p, load<usize>(pool, MP_FREE));
  store<usize>(pool, p, MP_FREE);
  store<i32>(pool, load<i32>(pool, MP_LIVE) - 1, MP_LIVE);
  alloc_unlock(pool + MP_LOCK);
  return ALLOC_OK;
}

/** vCPU `cpu`'s copy of item `p` (rseq_percpu_ptr). */
// @ts-ignore: decorator
@inline export function rseq_mempool_percpu_ptr(pool: usize, p: usize, cpu: i32): usize {
  return p + <usize>cpu * <usize>load<i32>(pool, MP_STRIDE);
}

/** Bytes touched in each vCPU's range (the items ever handed out: a range is populated from its start). */
export function rseq_mempool_touched(pool: usize): i32 {
  return load<i32>(pool, MP_NEXT) * load<i32>(pool, MP_ITEM);
}

/** Items handed out now. */
export function rseq_mempool_live(pool: usize): i32 {
  return load<i32>(pool, MP_LIVE);
}
