// The allocator's four front ends over one back end (central.ts), and the operations every thread
// uses: malloc / free, flushing and draining caches.
//
//  vcpu / mmcid: a cache ("slab") per vCPU, indexed by cpu_id or mm_cid, layout CACHE_* (abi.ts):
//    per class an i32 count and ALLOC_SLOT_MAX slots. Every change of a slab is one rseq section
//    whose only committing store is the class's count:
//      pop   rseq_load_cbne_load_cbne_store(count == n, slot[n-1] == item) -> count = n - 1
//      push  rseq_load_cbne_store_store(count == n): slot[n] = item (speculative) -> count = n + 1
//      refill rseq_load_cbne_memcpy_store(count == n): slots[n, n+k) <- staging -> count = n + k
//      spill  rseq_load_cbne_memcpy_store(count == n): staging <- slots[n-k, n) -> count = n - k
//    A refill takes a batch from the central list into the thread's staging buffer first (a lock),
//    a spill gives the staged batch back after its section committed. Another vCPU's slab is
//    drained under rseq_stop_cpu (mm_cid: every vCPU is stopped, since a cid is not a vCPU — what
//    tcmalloc's FenceCpu does for vCPUs: FenceAllCpus).
//  thread: the same cache in the thread's own block, plain loads and stores, no section.
//  central: no cache, every operation takes the class's lock.
import {
  ALLOC_CHECKED, ALLOC_ERR_DUPLICATE, ALLOC_ERR_FOREIGN, ALLOC_FRONT, ALLOC_MAX_SMALL, ALLOC_NSLABS, ALLOC_NTBLOCKS,
  ALLOC_OK, ALLOC_SLABS, ALLOC_TBLOCKS, CACHE_CLASS_BYTES, CACHE_SIZE, CACHE_SLOTS, FRONT_CENTRAL, FRONT_MMCID,
  FRONT_THREAD, FRONT_VCPU, HDR_NR_CPUS, HDR_THREAD_BASE, HEADER_ADDR, MO_RELAXED, PAGE_FREE, PAGE_LARGE,
  PERCPU_CPU_ID, PERCPU_MM_CID, TB_CACHE, TB_ERROR, TB_SIZE, TB_STAGING, THREAD_REC_SIZE, ALLOC_NCLASS,
} from "../abi";
import { rseq_load_cbne_load_cbne_store, rseq_load_cbne_memcpy_store, rseq_load_cbne_store_store } from "../ops";
import { THREAD, rseq_current, rseq_start_cpu, rseq_stop_cpu } from "../rseq";
import { percpu_may_retry } from "../percpu/pool";
import {
  alloc_central_pop, alloc_central_pop1, alloc_central_push, alloc_central_push1, alloc_classify, alloc_free_large,
  alloc_large, alloc_mark, alloc_page_entry,
} from "./central";
import { alloc_batch, alloc_class_cap, alloc_class_size, alloc_size_class } from "./size";

// --- addresses -----------------------------------------------------------------------------------

/** This thread's slot (its record's index). */
// @ts-ignore: decorator
@inline export function alloc_thread_slot(): i32 {
  return <i32>((THREAD - load<usize>(HEADER_ADDR + HDR_THREAD_BASE)) / THREAD_REC_SIZE);
}

/** Thread slot `t`'s block: staging buffer and per-thread cache. */
// @ts-ignore: decorator
@inline export function alloc_tblock(a: usize, t: i32): usize {
  return load<usize>(a, ALLOC_TBLOCKS) + <usize>t * TB_SIZE;
}

/** Slab `i` (vCPU or mm_cid i). */
// @ts-ignore: decorator
@inline export function alloc_slab(a: usize, i: i32): usize {
  return load<usize>(a, ALLOC_SLABS) + <usize>i * CACHE_SIZE;
}

// @ts-ignore: decorator
@inline function count_at(cache: usize, cls: i32): usize { return cache + (<usize>cls << 2); }
// @ts-ignore: decorator
@inline function slots_of(cache: usize, cls: i32): usize { return cache + CACHE_SLOTS + <usize>cls * CACHE_CLASS_BYTES; }

/** Record an error of the checked mode in this thread's block (code, pointer). Returns the code. */
function report(a: usize, code: i32, ptr: usize): i32 {
  const tb = alloc_tblock(a, alloc_thread_slot());
  store<i32>(tb, code, TB_ERROR);
  store<usize>(tb, ptr, TB_ERROR + 4);
  return code;
}

// --- per-vCPU / per-mm_cid slabs ------------------------------------------------------------------

function slab_refill(a: usize, mode: i32, cls: i32): usize {
  const st = alloc_tblock(a, alloc_thread_slot()) + TB_STAGING;
  const got = alloc_central_pop(a, cls, st, alloc_batch(a, cls));
  if (got == 0) return 0;
  let k = got - 1;
  const obj = load<usize>(st + (<usize>k << 2));
  const cap = alloc_class_cap(a, cls);
  while (k > 0) {
    const cpu = rseq_current(mode);
    const s = alloc_slab(a, cpu);
    const cnt = count_at(s, cls);
    const n = load<i32>(cnt);
    let m = cap - n;
    if (m <= 0) break;
    if (m > k) m = k;
    const r = rseq_load_cbne_memcpy_store<i32>(
      mode, MO_RELAXED, cnt, n, slots_of(s, cls) + (<usize>n << 2), st + (<usize>(k - m) << 2), <usize>m << 2, n + m, cpu);
    if (r == 0) k -= m;
    else if (r < 0 && !percpu_may_retry()) break;
  }
  alloc_central_push(a, cls, st, k);
  return obj;
}

/** Move half of the current slab's class to the central list (it is full). */
function slab_spill(a: usize, mode: i32, cls: i32): void {
  const st = alloc_tblock(a, alloc_thread_slot()) + TB_STAGING;
  const half = alloc_batch(a, cls);
  while (true) {
    const cpu = rseq_current(mode);
    const s = alloc_slab(a, cpu);
    const cnt = count_at(s, cls);
    const n = load<i32>(cnt);
    const m = n < half ? n : half;
    if (m <= 0) return;
    const r = rseq_load_cbne_memcpy_store<i32>(
      mode, MO_RELAXED, cnt, n, st, slots_of(s, cls) + (<usize>(n - m) << 2), <usize>m << 2, n - m, cpu);
    if (r == 0) { alloc_central_push(a, cls, st, m); return; }
    if (r < 0 && !percpu_may_retry()) return;
  }
}

function slab_pop(a: usize, mode: i32, cls: i32): usize {
  while (true) {
    const cpu = rseq_current(mode);
    const s = alloc_slab(a, cpu);
    const cnt = count_at(s, cls);
    const n = load<i32>(cnt);
    if (n <= 0) return slab_refill(a, mode, cls);
    const slot = slots_of(s, cls) + (<usize>(n - 1) << 2);
    const item = load<i32>(slot);
    const r = rseq_load_cbne_load_cbne_store<i32>(mode, cnt, n, slot, item, n - 1, cpu);
    if (r == 0) return <usize>item;
    if (r < 0 && !percpu_may_retry()) return alloc_central_pop1(a, cls);
  }
}

function slab_push(a: usize, mode: i32, cls: i32, ptr: usize): void {
  const cap = alloc_class_cap(a, cls);
  while (true) {
    const cpu = rseq_current(mode);
    const s = alloc_slab(a, cpu);
    const cnt = count_at(s, cls);
    const n = load<i32>(cnt);
    if (n >= cap) { slab_spill(a, mode, cls); if (!percpu_may_retry()) break; continue; }
    const r = rseq_load_cbne_store_store<i32>(mode, MO_RELAXED, cnt, n, slots_of(s, cls) + (<usize>n << 2), <i32>ptr, n + 1, cpu);
    if (r == 0) return;
    if (r < 0 && !percpu_may_retry()) break;
  }
  alloc_central_push1(a, cls, ptr);
}

// --- per-thread caches ------------------------------------------------------------------------------

function tc_pop(a: usize, cls: i32): usize {
  const c = alloc_tblock(a, alloc_thread_slot()) + TB_CACHE;
  const cnt = count_at(c, cls);
  let n = load<i32>(cnt);
  if (n <= 0) {
    n = alloc_central_pop(a, cls, slots_of(c, cls), alloc_batch(a, cls));
    if (n == 0) return 0;
  }
  store<i32>(cnt, n - 1);
  return load<usize>(slots_of(c, cls) + (<usize>(n - 1) << 2));
}

function tc_push(a: usize, cls: i32, ptr: usize): void {
  const c = alloc_tblock(a, alloc_thread_slot()) + TB_CACHE;
  const cnt = count_at(c, cls);
  let n = load<i32>(cnt);
  if (n >= alloc_class_cap(a, cls)) {
    const m = alloc_batch(a, cls);
    n -= m;
    alloc_central_push(a, cls, slots_of(c, cls) + (<usize>n << 2), m);
  }
  store<usize>(slots_of(c, cls) + (<usize>n << 2), ptr);
  store<i32>(cnt, n + 1);
}

// --- malloc / free -----------------------------------------------------------------------------------

/** Allocate `size` bytes from the allocator at `a` with its front end. 0: heap full, or (checked) an error recorded. */
export function alloc_malloc(a: usize, size: usize): usize {
  let p: usize;
  if (size > <usize>ALLOC_MAX_SMALL) {
    p = alloc_large(a, size);
  } else {
    const cls = alloc_size_class(size);
    const front = load<i32>(a, ALLOC_FRONT);
    if (front == FRONT_VCPU) p = slab_pop(a, PERCPU_CPU_ID, cls);
    else if (front == FRONT_MMCID) p = slab_pop(a, PERCPU_MM_CID, cls);
    else if (front == FRONT_THREAD) p = tc_pop(a, cls);
    else p = alloc_central_pop1(a, cls);
  }
  if (p != 0 && load<i32>(a, ALLOC_CHECKED) != 0 && alloc_mark(a, p, true) != ALLOC_OK) {
    report(a, ALLOC_ERR_DUPLICATE, p);
    return 0;
  }
  return p;
}

/** Free `ptr` (0 is a no-op). ALLOC_OK; in checked mode ALLOC_ERR_FOREIGN / ALLOC_ERR_DOUBLE_FREE, nothing freed. */
export function alloc_free(a: usize, ptr: usize): i32 {
  if (ptr == 0) return ALLOC_OK;
  let cls: i32;
  if (load<i32>(a, ALLOC_CHECKED) != 0) {
    cls = alloc_classify(a, ptr);
    if (cls == ALLOC_ERR_FOREIGN) return report(a, cls, ptr);
    const e = alloc_mark(a, ptr, false);
    if (e != ALLOC_OK) return report(a, e, ptr);
  } else {
    const kind = <i32>(alloc_page_entry(a, ptr) & 255);
    cls = kind == PAGE_LARGE ? -1 : kind - 1;
    if (kind == PAGE_FREE) return ALLOC_ERR_FOREIGN;
  }
  if (cls < 0) { alloc_free_large(a, ptr); return ALLOC_OK; }
  const front = load<i32>(a, ALLOC_FRONT);
  if (front == FRONT_VCPU) slab_push(a, PERCPU_CPU_ID, cls, ptr);
  else if (front == FRONT_MMCID) slab_push(a, PERCPU_MM_CID, cls, ptr);
  else if (front == FRONT_THREAD) tc_push(a, cls, ptr);
  else alloc_central_push1(a, cls, ptr);
  return ALLOC_OK;
}

// --- flushing and draining ---------------------------------------------------------------------------

/** Every object of the cache at `c` to the central lists (plain: the caller has it to itself). Returns objects moved. */
export function alloc_drain_cache(a: usize, c: usize): i32 {
  let moved = 0;
  for (let cls = 0; cls < ALLOC_NCLASS; cls++) {
    const cnt = count_at(c, cls);
    const n = load<i32>(cnt);
    if (n <= 0) continue;
    alloc_central_push(a, cls, slots_of(c, cls), n);
    store<i32>(cnt, 0);
    moved += n;
  }
  return moved;
}

/** This thread's own cache (per-thread front end) to the central lists. */
export function alloc_flush_thread(a: usize): i32 {
  return alloc_drain_cache(a, alloc_tblock(a, alloc_thread_slot()) + TB_CACHE);
}

/**
 * Drain slab `c` to the central lists from any thread, while others run: vcpu front, under
 * rseq_stop_cpu(c); mmcid front, under a stop of every vCPU (a cid is not a vCPU). Returns objects
 * moved, or the stop's negative error.
 */
export function alloc_drain_slab(a: usize, c: i32): i32 {
  const front = load<i32>(a, ALLOC_FRONT);
  if (front == FRONT_VCPU) {
    const e = rseq_stop_cpu(c);
    if (e < 0) return e;
    const moved = alloc_drain_cache(a, alloc_slab(a, c));
    rseq_start_cpu(c);
    return moved;
  }
  if (front != FRONT_MMCID) return 0;
  const cpus = load<i32>(HEADER_ADDR + HDR_NR_CPUS);
  for (let i = 0; i < cpus; i++) {
    const e = rseq_stop_cpu(i);
    if (e < 0) { for (let j = 0; j < i; j++) rseq_start_cpu(j); return e; }
  }
  const moved = alloc_drain_cache(a, alloc_slab(a, c));
  for (let i = 0; i < cpus; i++) rseq_start_cpu(i);
  return moved;
}

/** Drain every slab (as alloc_drain_slab) and this thread's own cache. Returns objects moved. */
export function alloc_drain_all(a: usize): i32 {
  let moved = alloc_flush_thread(a);
  const n = load<i32>(a, ALLOC_NSLABS);
  const front = load<i32>(a, ALLOC_FRONT);
  if (front == FRONT_VCPU || front == FRONT_MMCID) {
    for (let c = 0; c < n; c++) {
      const m = alloc_drain_slab(a, c);
      if (m < 0) return m;
      moved += m;
    }
  }
  return moved;
}

/** Every slab and every thread's cache to the central lists: only while no thread runs (main thread). */
export function alloc_drain_idle(a: usize): i32 {
  let moved = 0;
  for (let c = 0; c < load<i32>(a, ALLOC_NSLABS); c++) moved += alloc_drain_cache(a, alloc_slab(a, c));
  for (let t = 0; t < load<i32>(a, ALLOC_NTBLOCKS); t++) moved += alloc_drain_cache(a, alloc_tblock(a, t) + TB_CACHE);
  return moved;
}

/** Bytes of free objects held in one cache (racy plain reads while threads run). */
export function alloc_cache_bytes_of(c: usize): f64 {
  let bytes: f64 = 0;
  for (let cls = 0; cls < ALLOC_NCLASS; cls++) bytes += <f64>load<i32>(count_at(c, cls)) * <f64>alloc_class_size(cls);
  return bytes;
}

/** Bytes held in every front-end cache (slabs and per-thread caches). */
export function alloc_cache_bytes(a: usize): f64 {
  let bytes: f64 = 0;
  for (let c = 0; c < load<i32>(a, ALLOC_NSLABS); c++) bytes += alloc_cache_bytes_of(alloc_slab(a, c));
  for (let t = 0; t < load<i32>(a, ALLOC_NTBLOCKS); t++) bytes += alloc_cache_bytes_of(alloc_tblock(a, t) + TB_CACHE);
  return bytes;
}
