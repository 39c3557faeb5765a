// Entry of build/rseq.wasm, the library's own module: the ABI constants for the host to read and
// check, and one-operation-per-call exports for JavaScript callers.
export * from "./abi";
export { RSEQ_ABI, rseq_park } from "./rseq";
export { percpu_counter_sum } from "./percpu/counter";
import { percpu_counter_add } from "./percpu/counter";
import { PERCPU_CPU_ID, PERCPU_MM_CID } from "./abi";

/** Add to this vCPU's slot of the counter at `base` (cpu_id indexing). 0, or -1 unregistered. */
export function counter_add(base: usize, inc: i64): i32 {
  return percpu_counter_add(PERCPU_CPU_ID, base, inc);
}

/** Same, indexed by mm_cid. */
export function counter_add_mm_cid(base: usize, inc: i64): i32 {
  return percpu_counter_add(PERCPU_MM_CID, base, inc);
}

// The allocator (assembly/alloc/): one operation per call for JavaScript callers, and the
// main-thread helpers the host uses between runs (drain, statistics).
export {
  alloc_malloc, alloc_free, alloc_flush_thread, alloc_drain_slab, alloc_drain_all, alloc_drain_idle, alloc_cache_bytes,
  alloc_cache_bytes_of, alloc_classify, alloc_size_class, alloc_class_size, rseq_malloc, rseq_free,
  rseq_mempool_create, rseq_mempool_destroy, rseq_mempool_percpu_malloc, rseq_mempool_percpu_zmalloc,
  rseq_mempool_percpu_free, rseq_mempool_touched, rseq_mempool_live,
} from "./alloc/index";
import { THREAD, rseq_checkpoint, rseq_slice_enable, rseq_slice_release, rseq_slice_request } from "./rseq";
import { T_SCRATCH } from "./abi";
export { rseq_slice_enable, rseq_checkpoint };

/**
 * One round of the kernel's slice_test from wasm: request an extension, spin `spins` iterations
 * with a checkpoint (the emulated interrupt return) every 64, release. Returns rseq_slice_release's
 * outcome (0 success, 1 yielded, 2 raced, 3 scheduled).
 */
export function slice_round(spins: i32): i32 {
  rseq_checkpoint();
  rseq_slice_request();
  let x: i32 = 0;
  for (let i = 0; i < spins; i++) {
    x += i;
    if ((i & 63) == 0) rseq_checkpoint();
  }
  store<i32>(THREAD + T_SCRATCH, x); // keep the loop
  return rseq_slice_release();
}
