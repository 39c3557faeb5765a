// The benchmark's wasm side (build/bench.wasm): one loop per (suite, implementation) that runs on a
// kernel thread and returns the operations it completed, one-operation-per-call exports for the
// js-api suite, and set-up / check helpers the host calls on its main-thread instance.
// Every loop counts inside wasm; timing is the host's (bench/measure.ts). Like all library AS code:
// no static data, no allocation, no mutable module state; every address comes from the host.
import {
  BUF_ARRAY, BUF_LEN, BUF_OFFSET, MBUF_ARRAY, MBUF_ITEM, MBUF_LEN, MBUF_OFFSET, MPMC_CELLS, MPMC_CELL_SIZE, MPMC_DEQ,
  MPMC_ENQ, MPMC_MASK, MPMC_PAYLOAD, NODE_DATA, NODE_NEXT, PERCPU_CPU_ID, PERCPU_MM_CID,
} from "../../assembly/abi";
import { percpu_counter_add, percpu_counter_sum } from "../../assembly/percpu/counter";
import { percpu_lock, percpu_unlock } from "../../assembly/percpu/spinlock";
import { percpu_list_pop, percpu_list_push } from "../../assembly/percpu/list";
import { percpu_buffer_pop, percpu_buffer_push } from "../../assembly/percpu/buffer";
import { percpu_memcpy_pop, percpu_memcpy_push } from "../../assembly/percpu/memcpy";
import { percpu_may_retry, percpu_ptr } from "../../assembly/percpu/pool";
import { atomic_counter_add, atomic_counter_read, plain_counter_add } from "../../assembly/atomic/counter";
import { spin_lock, spin_unlock } from "../../assembly/atomic/spinlock";
import { treiber_pop, treiber_push } from "../../assembly/atomic/treiber";
import {
  locked_buffer_pop, locked_buffer_push, locked_list_pop, locked_list_push, locked_memcpy_pop, locked_memcpy_push,
} from "../../assembly/atomic/locked";
import { mpmc_cell, mpmc_memcpy_pop, mpmc_memcpy_push, mpmc_pop, mpmc_push } from "../../assembly/atomic/mpmc";

/** Spinlock objects (per-vCPU or global): the lock word and the data it protects share a line. */
const LOCK_WORD: usize = 0;
const LOCK_DATA: usize = 8;
/** memcpy items are 16 bytes: a value and its check word (a torn copy breaks the pair). */
export const ITEM_SIZE: i32 = 16;
const ITEM_CHECK: u64 = 0x5a5a_5a5a_5a5a_5a5a;

// ---------------------------------------------------------------------------------------------
// counter suite: `iters` increments of one counter; returns the increments done.

/** Per-vCPU rseq add, indexed by cpu_id. Stops early (returns fewer) if the thread is unregistered. */
export function counter_rseq(base: usize, iters: i32): i32 {
  for (let i = 0; i < iters; i++) if (percpu_counter_add(PERCPU_CPU_ID, base, 1) < 0) return i;
  return iters;
}

/** Per-vCPU rseq add, indexed by mm_cid. */
export function counter_rseq_mm_cid(base: usize, iters: i32): i32 {
  for (let i = 0; i < iters; i++) if (percpu_counter_add(PERCPU_MM_CID, base, 1) < 0) return i;
  return iters;
}

/** wasm atomic.add on `word` (one shared word, or this thread's own word). */
export function counter_atomic(word: usize, iters: i32): i32 {
  for (let i = 0; i < iters; i++) atomic_counter_add(word, 1);
  return iters;
}

/** Plain load/add/store on this thread's own word: the floor. */
export function counter_plain(word: usize, iters: i32): i32 {
  for (let i = 0; i < iters; i++) plain_counter_add(word, 1);
  return iters;
}

/** Read side of the per-vCPU counter: `iters` sums over every vCPU's slot (result to `sink`). */
export function read_percpu_sum(base: usize, sink: usize, iters: i32): i32 {
  let acc: i64 = 0;
  for (let i = 0; i < iters; i++) acc += percpu_counter_sum(base);
  store<i64>(sink, acc);
  return iters;
}

/** Read side of the atomic counter: `iters` atomic loads of one word (result to `sink`). */
export function read_atomic(word: usize, sink: usize, iters: i32): i32 {
  let acc: i64 = 0;
  for (let i = 0; i < iters; i++) acc += atomic_counter_read(word);
  store<i64>(sink, acc);
  return iters;
}

/** anatomy suite: the rseq add rebuilt piece by piece (bench/assembly/anatomy.ts). */
export { anatomy_plain, anatomy_check, anatomy_index, anatomy_cs, anatomy_account, anatomy_inject } from "./anatomy";

// ---------------------------------------------------------------------------------------------
// spinlock suite: lock, add 1 to the protected i64, unlock; returns the rounds done.

/** The current vCPU's lock, taken with an rseq compare-and-store (percpu/spinlock.ts). */
export function spinlock_rseq(lock: usize, iters: i32): i32 {
  for (let i = 0; i < iters; i++) {
    const cpu = percpu_lock(PERCPU_CPU_ID, lock + LOCK_WORD);
    if (cpu < 0) return i;
    const p = percpu_ptr(lock, cpu) + LOCK_DATA;
    store<i64>(p, load<i64>(p) + 1);
    percpu_unlock(lock + LOCK_WORD, cpu);
  }
  return iters;
}

/** One global test-and-test-and-set lock. */
export function spinlock_global(lock: usize, iters: i32): i32 {
  for (let i = 0; i < iters; i++) {
    spin_lock(lock + LOCK_WORD);
    const p = lock + LOCK_DATA;
    store<i64>(p, load<i64>(p) + 1);
    spin_unlock(lock + LOCK_WORD);
  }
  return iters;
}

// ---------------------------------------------------------------------------------------------
// list suite: `iters` attempts to pop a node and push it back; returns the pairs completed (a pop
// can find the list empty while other threads hold its nodes).

/** Per-vCPU lists (percpu/list.ts). */
export function list_rseq(head: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    const node = percpu_list_pop(PERCPU_CPU_ID, head);
    if (node == 0) {
      if (!percpu_may_retry()) return done;
      continue;
    }
    percpu_list_push(PERCPU_CPU_ID, head, node);
    done++;
  }
  return done;
}

/** One Treiber stack with a tagged head (atomic/treiber.ts). */
export function list_treiber(head: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    const node = treiber_pop(head);
    if (node == 0) continue;
    treiber_push(head, node);
    done++;
  }
  return done;
}

/** One list under a global spinlock (atomic/locked.ts). */
export function list_locked(lock: usize, head: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    const node = locked_list_pop(lock, head);
    if (node == 0) continue;
    locked_list_push(lock, head, node);
    done++;
  }
  return done;
}

// ---------------------------------------------------------------------------------------------
// buffer suite: pop a pointer and push it back; returns the pairs completed, or -1 if a push ever
// found its buffer full (an item would be lost: the host fails the run). The MPMC queue is never
// full by capacity, but a consumer preempted between its claim and its release blocks that cell,
// and producers that wrap around to it must wait for it (the queue's blocking window).

export function buffer_rseq(buf: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    const item = percpu_buffer_pop(PERCPU_CPU_ID, buf);
    if (item == 0) {
      if (!percpu_may_retry()) return done;
      continue;
    }
    if (percpu_buffer_push(PERCPU_CPU_ID, 0, buf, item) != 1) return -1;
    done++;
  }
  return done;
}

export function buffer_mpmc(q: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    const item = mpmc_pop(q);
    if (item == 0) continue;
    while (mpmc_push(q, item) != 1) {} // "full" only while a preempted consumer holds the next cell
    done++;
  }
  return done;
}

export function buffer_locked(lock: usize, buf: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    const item = locked_buffer_pop(lock, buf);
    if (item == 0) continue;
    if (locked_buffer_push(lock, buf, item) != 1) return -1;
    done++;
  }
  return done;
}

// ---------------------------------------------------------------------------------------------
// memcpy buffer suite: copy an item out to this thread's `scratch`, copy it back in.

export function memcpy_rseq(buf: usize, scratch: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    const got = percpu_memcpy_pop(PERCPU_CPU_ID, 0, buf, scratch);
    if (got < 0) return done;
    if (got == 0) continue;
    if (percpu_memcpy_push(PERCPU_CPU_ID, 0, buf, scratch) != 1) return -1;
    done++;
  }
  return done;
}

export function memcpy_mpmc(q: usize, scratch: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    if (mpmc_memcpy_pop(q, scratch, ITEM_SIZE) == 0) continue;
    while (mpmc_memcpy_push(q, scratch, ITEM_SIZE) != 1) {}
    done++;
  }
  return done;
}

export function memcpy_locked(lock: usize, buf: usize, scratch: usize, iters: i32): i32 {
  let done = 0;
  for (let i = 0; i < iters; i++) {
    if (locked_memcpy_pop(lock, buf, scratch) == 0) continue;
    if (locked_memcpy_push(lock, buf, scratch) != 1) return -1;
    done++;
  }
  return done;
}

// ---------------------------------------------------------------------------------------------
// js-api suite: one operation per call from JavaScript.

/** An empty call: the JS -> wasm call cost. */
export function nop(): void {}

/** Per-vCPU rseq add of 1 (cpu_id). Returns 0, or -1 if the thread is unregistered. */
export function counter_inc(base: usize): i32 {
  return percpu_counter_add(PERCPU_CPU_ID, base, 1);
}

/** wasm atomic.add of 1 on an i32 word (what JS Atomics.add does on an Int32Array). */
export function atomic_inc(word: usize): i32 {
  return atomic.add<i32>(word, 1);
}

// ---------------------------------------------------------------------------------------------
// Set-up and checks, called on the main thread's instance while no worker runs.

/** Link `n` nodes (at nodes, nodes + stride, ...) with data value0, value0 + 1, ... onto the list
 *  whose head word is `head` (a per-vCPU head, a locked list's head or a Treiber head). */
export function list_build(head: usize, nodes: usize, n: i32, stride: usize, value0: i32): void {
  for (let i = 0; i < n; i++) {
    const node = nodes + <usize>i * stride;
    store<isize>(node, value0 + i, NODE_DATA);
    store<usize>(node, load<usize>(head), NODE_NEXT);
    store<usize>(head, node);
  }
}

/** Nodes on the list at `head` (-1 if it does not end within `limit` nodes: a cycle). */
export function list_count(head: usize, limit: i32): i32 {
  let n = 0;
  for (let p = load<usize>(head); p != 0; p = load<usize>(p, NODE_NEXT)) if (++n > limit) return -1;
  return n;
}

/** Sum of the data of the nodes on the list at `head` (bounded like list_count). */
export function list_sum(head: usize, limit: i32): i64 {
  let s: i64 = 0;
  let n = 0;
  for (let p = load<usize>(head); p != 0 && n <= limit; p = load<usize>(p, NODE_NEXT), n++) s += <i64>load<isize>(p, NODE_DATA);
  return s;
}

/** Make `b` an empty pointer buffer of `cap` entries and push items value0 .. value0 + n - 1. */
export function buffer_build(b: usize, cap: i32, n: i32, value0: i32): void {
  store<i32>(b, cap, BUF_LEN);
  for (let i = 0; i < n; i++) store<usize>(b + BUF_ARRAY + (<usize>i << alignof<usize>()), value0 + i);
  store<i32>(b, n, BUF_OFFSET);
}

export function buffer_count(b: usize): i32 {
  return load<i32>(b, BUF_OFFSET);
}

export function buffer_sum(b: usize): i64 {
  let s: i64 = 0;
  const n = load<i32>(b, BUF_OFFSET);
  for (let i = 0; i < n; i++) s += <i64>load<usize>(b + BUF_ARRAY + (<usize>i << alignof<usize>()));
  return s;
}

/** Make `b` an empty memcpy buffer of `cap` ITEM_SIZE items and push items value0 .. value0 + n - 1. */
export function memcpy_build(b: usize, cap: i32, n: i32, value0: i32): void {
  store<i32>(b, cap, MBUF_LEN);
  store<i32>(b, ITEM_SIZE, MBUF_ITEM);
  for (let i = 0; i < n; i++) item_write(b + MBUF_ARRAY + <usize>i * ITEM_SIZE, value0 + i);
  store<i32>(b, n, MBUF_OFFSET);
}

export function memcpy_count(b: usize): i32 {
  return load<i32>(b, MBUF_OFFSET);
}

/** Sum of the items' values, or -1 if an item is torn (its check word does not match). */
export function memcpy_sum(b: usize): i64 {
  let s: i64 = 0;
  const n = load<i32>(b, MBUF_OFFSET);
  for (let i = 0; i < n; i++) {
    const v = item_read(b + MBUF_ARRAY + <usize>i * ITEM_SIZE);
    if (v < 0) return -1;
    s += v;
  }
  return s;
}

/** Make `q` an empty queue of `cap` (a power of two) cells of `payload` bytes each. */
export function mpmc_build(q: usize, cap: i32, payload: i32): void {
  const cell = (MPMC_PAYLOAD + <usize>payload + 7) & ~7;
  store<u32>(q, 0, MPMC_ENQ);
  store<u32>(q, 0, MPMC_DEQ);
  store<u32>(q, cap - 1, MPMC_MASK);
  store<u32>(q, <u32>cell, MPMC_CELL_SIZE);
  for (let i = 0; i < cap; i++) store<u32>(q + MPMC_CELLS + <usize>i * cell, i);
}

/** Enqueue pointer items value0 .. value0 + n - 1. Returns the number enqueued. */
export function mpmc_fill(q: usize, n: i32, value0: i32): i32 {
  for (let i = 0; i < n; i++) if (mpmc_push(q, value0 + i) != 1) return i;
  return n;
}

/** Enqueue memcpy items value0 .. value0 + n - 1 via `scratch`. Returns the number enqueued. */
export function mpmc_fill_items(q: usize, scratch: usize, n: i32, value0: i32): i32 {
  for (let i = 0; i < n; i++) {
    item_write(scratch, value0 + i);
    if (mpmc_memcpy_push(q, scratch, ITEM_SIZE) != 1) return i;
  }
  return n;
}

export function mpmc_count(q: usize): i32 {
  return <i32>(load<u32>(q, MPMC_ENQ) - load<u32>(q, MPMC_DEQ));
}

/** Sum of queued items: pointer items (`items` false) or memcpy items (-1 if one is torn). */
export function mpmc_sum(q: usize, items: bool): i64 {
  let s: i64 = 0;
  const end = load<u32>(q, MPMC_ENQ);
  for (let pos = load<u32>(q, MPMC_DEQ); pos != end; pos++) {
    const at = mpmc_cell(q, pos) + MPMC_PAYLOAD;
    if (!items) {
      s += <i64>load<usize>(at);
    } else {
      const v = item_read(at);
      if (v < 0) return -1;
      s += v;
    }
  }
  return s;
}

/** Sum over every vCPU of the per-vCPU counter at `base`. */
export function counter_sum(base: usize): i64 {
  return percpu_counter_sum(base);
}

/** Sum over every vCPU of the spinlock-protected data at `lock` (-1 if a lock is still held). */
export function spinlock_sum(lock: usize, cpus: i32): i64 {
  let s: i64 = 0;
  for (let c = 0; c < cpus; c++) {
    const p = percpu_ptr(lock, c);
    if (atomic.load<i32>(p + LOCK_WORD) != 0) return -1;
    s += load<i64>(p + LOCK_DATA);
  }
  return s;
}

// @ts-ignore: decorator
@inline function item_write(at: usize, v: i32): void {
  store<u64>(at, <u64>v);
  store<u64>(at, <u64>v ^ ITEM_CHECK, 8);
}

// @ts-ignore: decorator
@inline function item_read(at: usize): i64 {
  const v = load<u64>(at);
  return load<u64>(at, 8) == (v ^ ITEM_CHECK) ? <i64>v : -1;
}
