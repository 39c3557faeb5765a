// The worker loops of `wasm-rseq alloc-test` (host/alloc-test/): workloads written for this project
// after mimalloc-bench's specifications, on the kernel's allocator, with exact checks. Every object
// gets a fill pattern when it is allocated (its meta word: size | tag << 16, then tag-derived words
// every 64 bytes and at its end) which is checked when it is freed: an object handed out twice, or
// overlapping another, fails the check of one of its holders. Holders keep (ptr, meta) as one u64.
// Each loop returns its operation count, or a negative code with details in the result record:
//   res + 0 i32 code (ERR_* below or the allocator's ALLOC_ERR_*) | + 4 u32 pointer | + 8 i32 aux
// Built twice: build/alloc_test.wasm (alloc_test.ts, with param_test's injection points) and
// build/alloc_bench.wasm (alloc_bench.ts, without them, as the bench's other modules are).
import { ALLOC_OK, CSID_LOAD_CBNE_STORE, HDR_NR_CPUS, HEADER_ADDR } from "../abi";
import { alloc_drain_slab, alloc_free, alloc_malloc } from "../alloc/front";
import { alloc_lock, alloc_unlock } from "../alloc/central";
import { rseq_begin, rseq_current, rseq_desc, rseq_start_cpu, rseq_stop_cpu } from "../rseq";
import { rseq_load_add_store } from "../ops";
import { rseq_mempool_percpu_free, rseq_mempool_percpu_ptr, rseq_mempool_percpu_zmalloc } from "../alloc/mempool";

@external("wasm-rseq@1", "yield_now") declare function yield_now(): void;

/**
 * A scheduling point, every SCHED_EVERY steps of every workload and front end: the thread takes a
 * vCPU if it has none and acts on a pending request (time slice, preemption, migration), as a
 * thread on a real kernel is scheduled whatever it runs. Without it, threads of the per-thread and
 * central front ends (which run no section) would escape the emulated scheduler and run as plain OS
 * threads, and the comparison with the per-vCPU front ends would not be like for like.
 */
// @ts-ignore: decorator
@inline function sched_point(step: i32): void {
  if ((step & (SCHED_EVERY - 1)) == 0) rseq_begin(rseq_desc(CSID_LOAD_CBNE_STORE));
}
const SCHED_EVERY: i32 = 32;

export const ERR_ALIGN: i32 = -10;
export const ERR_PATTERN: i32 = -11;
export const ERR_NOMEM: i32 = -12;
export const ERR_DRAIN: i32 = -13;

// @ts-ignore: decorator
@inline function xorshift(x: u32): u32 {
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  return x;
}

// @ts-ignore: decorator
@inline function word(meta: u32, off: usize): u32 {
  return meta ^ (<u32>off * 0x9e3779b1);
}

/** The last 4-aligned word of an object of `size` bytes (0 when it is the meta word). */
// @ts-ignore: decorator
@inline function last_off(size: usize): usize {
  return size >= 8 ? (size - 4) & ~<usize>3 : 0;
}

function fill(p: usize, size: usize, meta: u32): void {
  store<u32>(p, meta);
  for (let off: usize = 64; off + 4 <= size; off += 64) store<u32>(p + off, word(meta, off));
  const l = last_off(size);
  if (l != 0) store<u32>(p + l, word(meta, l));
}

function intact(p: usize, size: usize, meta: u32): bool {
  if (load<u32>(p) != meta) return false;
  for (let off: usize = 64; off + 4 <= size; off += 64) if (load<u32>(p + off) != word(meta, off)) return false;
  const l = last_off(size);
  return l == 0 || load<u32>(p + l) == word(meta, l);
}

function fail(res: usize, code: i32, p: usize, aux: i32): i32 {
  store<i32>(res, code);
  store<u32>(res, <u32>p, 4);
  store<i32>(res, aux, 8);
  return code;
}

/** Allocate and fill: the holder's u64 (ptr | meta << 32), or 0 with the failure in `res`. */
function get(a: usize, size: usize, tag: u32, res: usize): u64 {
  const p = alloc_malloc(a, size);
  if (p == 0) { fail(res, ERR_NOMEM, 0, <i32>size); return 0; }
  if ((p & 7) != 0 || (size >= 16 && (p & 15) != 0)) { fail(res, ERR_ALIGN, p, <i32>size); return 0; }
  const meta = <u32>size | (tag << 16);
  fill(p, size, meta);
  return <u64>p | (<u64>meta << 32);
}

/** Check and free a holder's object. ALLOC_OK or the failure (in `res`). */
function put(a: usize, h: u64, res: usize): i32 {
  const p = <usize>(<u32>h);
  const meta = <u32>(h >> 32);
  const size = <usize>(meta & 0xffff);
  if (!intact(p, size, meta)) return fail(res, ERR_PATTERN, p, <i32>size);
  store<u32>(p, 0xdeadbeef);
  const e = alloc_free(a, p);
  return e == ALLOC_OK ? ALLOC_OK : fail(res, e, p, <i32>size);
}

/** larson / xmalloc sizes: log-uniform 8..2047 (1 in 256 large: 4097..16384, when `large`). */
// @ts-ignore: decorator
@inline function rand_size(r: u32, large: bool): usize {
  if (large && (r & 255) == 0) return 4097 + <usize>((r >> 8) % 12288);
  const k = (r >> 8) % 8;
  const lo = <usize>8 << k;
  return lo + <usize>((r >> 10) % <u32>lo);
}

// @ts-ignore: decorator
@inline function clamp_small(s: usize): usize { return s > 4096 ? 4096 : s; }

/**
 * larson: a table of `k` objects (u64 holders at `tab`); each step frees a random one and allocates
 * a new random size; every 16th step swaps the object with a random slot of the shared exchange
 * array (`x` u64 slots at `xch`), so objects are freed by other threads than their allocator's.
 * Every `drain_every` steps (0: never) it drains a random vCPU's cache through stop_cpu.
 */
export function larson(a: usize, tab: usize, k: i32, xch: usize, x: i32, steps: i32, seed: u32, drain_every: i32, large: bool, res: usize): i32 {
  let r = xorshift(seed | 1);
  let tag: u32 = 0;
  let ops = 0;
  const cpus = load<i32>(HEADER_ADDR + HDR_NR_CPUS);
  for (let i = 0; i < k; i++) {
    r = xorshift(r);
    const h = get(a, clamp_small(rand_size(r, large)), ++tag & 0xffff, res);
    if (h == 0) return load<i32>(res);
    store<u64>(tab + (<usize>i << 3), h);
    ops++;
  }
  for (let s = 1; s <= steps; s++) {
    sched_point(s);
    r = xorshift(r);
    const i = <usize>(r % <u32>k);
    const slot = tab + (i << 3);
    if ((s & 15) == 0 && x > 0) {
      const j = <usize>((r >> 8) % <u32>x);
      const old = atomic.xchg<u64>(xch + (j << 3), load<u64>(slot));
      if (old != 0) { store<u64>(slot, old); continue; }
      r = xorshift(r);
      const h = get(a, rand_size(r, large), ++tag & 0xffff, res);
      if (h == 0) return load<i32>(res);
      store<u64>(slot, h);
      ops++;
      continue;
    }
    if (put(a, load<u64>(slot), res) != ALLOC_OK) return load<i32>(res);
    r = xorshift(r);
    const h = get(a, rand_size(r, large), ++tag & 0xffff, res);
    if (h == 0) return load<i32>(res);
    store<u64>(slot, h);
    ops += 2;
    if (drain_every > 0 && s % drain_every == 0) {
      const m = alloc_drain_slab(a, <i32>((r >> 4) % <u32>cpus));
      if (m < 0) return fail(res, ERR_DRAIN, 0, m);
    }
  }
  for (let i = 0; i < k; i++) {
    if (put(a, load<u64>(tab + (<usize>i << 3)), res) != ALLOC_OK) return load<i32>(res);
    ops++;
  }
  return ops;
}

/** After larson: free what is left in the exchange array (one thread). */
export function larson_cleanup(a: usize, xch: usize, x: i32, res: usize): i32 {
  let n = 0;
  for (let j = 0; j < x; j++) {
    const h = atomic.xchg<u64>(xch + (<usize>j << 3), 0);
    if (h == 0) continue;
    if (put(a, h, res) != ALLOC_OK) return load<i32>(res);
    n++;
  }
  return n;
}

/** threadtest: `rounds` times allocate `n` objects (of `size`, or a random size per round when 0), then free them. */
export function threadtest(a: usize, tab: usize, n: i32, rounds: i32, size: i32, seed: u32, res: usize): i32 {
  let r = xorshift(seed | 1);
  let tag: u32 = 0;
  let ops = 0;
  for (let round = 0; round < rounds; round++) {
    r = xorshift(r);
    const sz: usize = size > 0 ? <usize>size : clamp_small(rand_size(r, false));
    for (let i = 0; i < n; i++) {
      sched_point(i);
      const h = get(a, sz, ++tag & 0xffff, res);
      if (h == 0) return load<i32>(res);
      store<u64>(tab + (<usize>i << 3), h);
    }
    for (let i = 0; i < n; i++) if (put(a, load<u64>(tab + (<usize>i << 3)), res) != ALLOC_OK) return load<i32>(res);
    ops += 2 * n;
  }
  return ops;
}

// xmalloc rings: one per thread, single producer (its thread) and single consumer (the next thread).
//   0 head (u32, consumer) | 128 tail (u32, producer) | 256.. RING_CAP u64 holders
const RING_CAP: u32 = 256;
export const RING_BYTES: i32 = 256 + 256 * 8;

/**
 * xmalloc-style producer / consumer: thread `me` of `t` allocates `count` objects into its ring and
 * frees `count` objects taken from ring (me + 1) % t: every object is freed on another thread.
 * Never blocks: it produces and consumes what it can, and yields when it can do neither.
 */
export function xmalloc(a: usize, rings: usize, t: i32, me: i32, count: i32, seed: u32, res: usize): i32 {
  let r = xorshift(seed | 1);
  let tag: u32 = 0;
  const mine = rings + <usize>me * RING_BYTES;
  const theirs = rings + <usize>((me + 1) % t) * RING_BYTES;
  let made = 0, freed = 0;
  while (made < count || freed < count) {
    sched_point(0);
    let progress = false;
    for (let i = 0; i < 16 && made < count; i++) {
      const tail = atomic.load<u32>(mine + 128);
      if (tail - atomic.load<u32>(mine) >= RING_CAP) break;
      r = xorshift(r);
      const h = get(a, rand_size(r, false) >> 2 | 8, ++tag & 0xffff, res);
      if (h == 0) return load<i32>(res);
      store<u64>(mine + 256 + (<usize>(tail % RING_CAP) << 3), h);
      atomic.store<u32>(mine + 128, tail + 1);
      made++;
      progress = true;
    }
    for (let i = 0; i < 16 && freed < count; i++) {
      const head = atomic.load<u32>(theirs);
      if (head == atomic.load<u32>(theirs + 128)) break;
      const h = load<u64>(theirs + 256 + (<usize>(head % RING_CAP) << 3));
      atomic.store<u32>(theirs, head + 1);
      if (put(a, h, res) != ALLOC_OK) return load<i32>(res);
      freed++;
      progress = true;
    }
    if (!progress) yield_now();
  }
  return made + freed;
}

/** stop_cpu / start_cpu for tests: 0 or the kernel's negative errno. */
export function stop_cpu(c: i32): i32 { return rseq_stop_cpu(c); }
export function start_cpu(c: i32): i32 { return rseq_start_cpu(c); }

/** The futex lock alone: `n` plain increments of the i32 at `ctr` under the lock at `lock`. */
export function lock_test(lock: usize, ctr: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    alloc_lock(lock);
    store<i32>(ctr, load<i32>(ctr) + 1);
    alloc_unlock(lock);
  }
  return n;
}

/**
 * Per-vCPU pool use: `reps` times, allocate an item of `pool` (zeroed on every vCPU), add 1 to its
 * copy on this thread's vCPU with an rseq add (retried on abort), and keep it in `tab` (n slots,
 * replacing and freeing the oldest). Returns the adds done; the host sums every item over vCPUs.
 * Items left in `tab` are the host's to sum and free.
 */
export function mempool_adds(pool: usize, tab: usize, n: i32, reps: i32, mode: i32): i32 {
  for (let i = 0; i < n; i++) store<usize>(tab + (<usize>i << 2), 0);
  let adds = 0;
  for (let r = 0; r < reps; r++) {
    sched_point(r);
    const slot = tab + (<usize>(r % n) << 2);
    let p = load<usize>(slot);
    if (p == 0 || (r & 7) == 0) {
      if (p != 0) {
        // Freeing an item loses its per-vCPU sums: hand them to the host's tally first.
        adds -= <i32>mempool_sum(pool, p);
        if (rseq_mempool_percpu_free(pool, p) != ALLOC_OK) return ERR_PATTERN;
      }
      p = rseq_mempool_percpu_zmalloc(pool);
      if (p == 0) return ERR_NOMEM;
      store<usize>(slot, p);
    }
    while (true) {
      const cpu = rseq_current(mode);
      if (rseq_load_add_store<i64>(mode, rseq_mempool_percpu_ptr(pool, p, cpu), 1, cpu) == 0) break;
    }
    adds++;
  }
  return adds;
}

/** Sum of item `p` over every vCPU (plain reads). */
export function mempool_sum(pool: usize, p: usize): i64 {
  let s: i64 = 0;
  for (let c = 0; c < load<i32>(HEADER_ADDR + HDR_NR_CPUS); c++) s += atomic.load<i64>(rseq_mempool_percpu_ptr(pool, p, c));
  return s;
}
