// The worker loops of `wasm-rseq param-test` (the kernel selftest's param_test.c): each runs `reps`
// iterations of one test on this thread and returns what the host needs for its exact check.

// This module is built with injection points (-1..-9); see rseq_inject_on in assembly/rseq.ts.
// @ts-ignore: decorator
@global const RSEQ_INJECT: bool = true;
import { percpu_buffer_pop, percpu_buffer_push } from "../percpu/buffer";
import { percpu_counter_add } from "../percpu/counter";
import { percpu_list_pop, percpu_list_push } from "../percpu/list";
import { percpu_memcpy_pop, percpu_memcpy_push } from "../percpu/memcpy";
import { percpu_may_retry, percpu_ptr } from "../percpu/pool";
import { percpu_lock, percpu_unlock } from "../percpu/spinlock";
import { rseq_load_add_load_load_add_store } from "../ops";
import {
  THREAD, rseq_abort, rseq_begin, rseq_committed, rseq_current, rseq_desc, rseq_inject, rseq_inject_on, rseq_mismatch,
  rseq_seqp, rseq_unchanged,
} from "../rseq";
import { CSID_USER_FIRST, NODE_DATA, T_SCRATCH } from "../abi";

@external("wasm-rseq@1", "yield_now") declare function yield_now(): void;

/** -T i: per-vCPU counter increments. Returns increments done (0 if unregistered). */
export function test_inc(mode: i32, base: usize, reps: i32): i32 {
  for (let i = 0; i < reps; i++) if (percpu_counter_add(mode, base, 1) < 0) return i;
  return reps;
}

/** -T s: per-vCPU spinlock (lock at `lock`) protecting a per-vCPU count at `data`. */
export function test_spinlock(mode: i32, lock: usize, data: usize, reps: i32): i32 {
  for (let i = 0; i < reps; i++) {
    const cpu = percpu_lock(mode, lock);
    if (cpu < 0) return i;
    const p = percpu_ptr(data, cpu);
    store<i64>(p, load<i64>(p) + 1);
    percpu_unlock(lock, cpu);
  }
  return reps;
}

/** -T l: pop a node, optionally yield, push it back (on whatever vCPU runs us then). */
export function test_list(mode: i32, head: usize, reps: i32, yield_between: bool): i32 {
  for (let i = 0; i < reps; i++) {
    const node = percpu_list_pop(mode, head);
    if (node == 0 && !percpu_may_retry()) return i;
    if (yield_between) yield_now();
    if (node != 0) percpu_list_push(mode, head, node);
  }
  return reps;
}

/** -T b: pop a pointer, optionally yield, push it back. Returns -1 if a push ever found a full buffer. */
export function test_buffer(mode: i32, mo: i32, buf: usize, reps: i32, yield_between: bool): i32 {
  for (let i = 0; i < reps; i++) {
    const item = percpu_buffer_pop(mode, buf);
    if (item == 0 && !percpu_may_retry()) return i;
    if (yield_between) yield_now();
    if (item != 0 && percpu_buffer_push(mode, mo, buf, item) == 0) return -1;
  }
  return reps;
}

/** -T m: copy an item out, optionally yield, copy it back in. -1 if a push found the ring full. */
export function test_memcpy(mode: i32, mo: i32, buf: usize, reps: i32, yield_between: bool): i32 {
  const item = THREAD + T_SCRATCH;
  for (let i = 0; i < reps; i++) {
    const got = percpu_memcpy_pop(mode, mo, buf, item);
    if (got < 0) return i;
    if (yield_between) yield_now();
    if (got > 0 && percpu_memcpy_push(mode, mo, buf, item) == 0) return -1;
  }
  return reps;
}

/**
 * -T r worker: add 1 to the data of the head node of this vCPU's entry in the list that `active`
 * points to (load_add_load_load_add_store). Entries are `entry_size` apart.
 */
export function test_membarrier(mode: i32, active: usize, entry_size: usize, reps: i32): i32 {
  for (let i = 0; i < reps; i++) {
    while (true) {
      const cpu = rseq_current(mode);
      const ret = rseq_load_add_load_load_add_store<isize>(mode, active, <usize>cpu * entry_size, 1, cpu);
      if (ret == 0) break;
      if (!percpu_may_retry()) return i;
    }
  }
  return reps;
}

/** A node's data field (for host checks without views). */
export function node_data(node: usize): isize {
  return load<isize>(node, NODE_DATA);
}

/**
 * A deliberately broken -T i for param-test's self-check (--broken): the increment is stored
 * BEFORE the commit check, so a section that aborts after it has already made its store visible and
 * the retry counts again. param-test must catch this under injection.
 */
export function test_inc_broken(mode: i32, base: usize, reps: i32): i32 {
  for (let i = 0; i < reps; i++) {
    while (true) {
      const cpu = rseq_current(mode);
      const inj = rseq_inject_on();
      const s0 = rseq_begin(rseq_desc(CSID_USER_FIRST));
      if (s0 & 1) return i;
      const seqp = rseq_seqp();
      if (rseq_current(mode) != cpu) { rseq_mismatch(); continue; }
      const p = percpu_ptr(base, cpu);
      store<i64>(p, load<i64>(p) + 1);          // first visible store: the bug
      rseq_inject(inj, 7);
      if (!rseq_unchanged(seqp, s0)) { rseq_abort(); continue; }
      store<i64>(p + 8, load<i64>(p + 8) + 1);  // second store, "the commit"
      rseq_committed();
      break;
    }
  }
  return reps;
}
