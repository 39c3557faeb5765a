// librseq's per-CPU operation set. Every operation runs as one critical section ending in a single
// committing store and returns 0 committed, 1 compare failed (nothing stored), -1 aborted (retry
// with a fresh cpu from rseq_current). `mode` picks cpu_id or mm_cid indexing; `cpu` is the index
// the caller computed its pointers from. Injection points follow param_test's numbering:
//   9 entry | begin | 1, 8 inside, before the cpu compare | 2 after it | 3 after the first load
//   4 after the compare | 5 after speculative stores | 7 before the commit check | 6 between the
//   commit check and the committing store (loops only: that window is what a fence must wait out).
//   Actions (-m with -y/-k/-s) happen only at 7, 8 and 9; after one at 8 the section checks its
//   sequence at once, so a thread that slept or yielded never makes a speculative store.
//
// Pseudo-code (the specification; the code below is exactly this plus checkpoints):
//   load_cbne_store(v, expect, newv):            if (*v != expect) return 1; *v = newv
//   load_add_store(v, count):                    *v += count
//   load_cbeq_store_add_load_store(v, expectnot, voffp, load):
//                                                r = *v; if (r == expectnot) return 1;
//                                                *load = r; *v = *(r + voffp)
//   load_add_load_load_add_store(ptr, off, inc): p = *(*ptr + off); *p += inc
//   load_cbne_load_cbne_store(v, e, v2, e2, newv): if (*v != e || *v2 != e2) return 1; *v = newv
//   load_cbne_store_store(v, e, v2, newv2, newv): if (*v != e) return 1; *v2 = newv2; *v = newv
//   load_cbne_memcpy_store(v, e, dst, src, len, newv): if (*v != e) return 1;
//                                                memcpy(dst, src, len); *v = newv
import {
  CSID_LOAD_ADD_LOAD_LOAD_ADD_STORE, CSID_LOAD_ADD_STORE, CSID_LOAD_CBEQ_STORE_ADD_LOAD_STORE,
  CSID_LOAD_CBNE_LOAD_CBNE_STORE, CSID_LOAD_CBNE_MEMCPY_STORE, CSID_LOAD_CBNE_STORE,
  CSID_LOAD_CBNE_STORE_STORE, MO_RELEASE, RSEQ_CS,
} from "./abi";
import {
  rseq_abort, rseq_area, rseq_committed, rseq_desc, rseq_index, rseq_inject, rseq_inject_on,
  rseq_inject_preempted, rseq_mismatch, rseq_restart, rseq_seqp, rseq_unchanged,
} from "./rseq";

/**
 * Every operation's start, written once (param_test's points 1, 8 and 2 inside it; the caller
 * passes point 9 and reads `seqp` after it, so the address stays in a local for the commit check):
 * publish descriptor `cs`, take the sequence snapshot and compare the caller's `cpu` with this
 * thread's current index. Returns the even snapshot s0; or, after accounting the restart, the
 * injected preemption or the stale cpu, 1 (odd): the operation then returns -1 and its caller retries.
 */
// @ts-ignore: decorator
@inline function op_begin(inj: bool, mode: i32, seqp: usize, cs: usize, cpu: i32): u32 {
  const area = rseq_area();
  // The snapshot before the rseq_cs store, not after (rseq_enter's order): a request after it still
  // fails the commit check, and loading first measured 25-40% faster per add (Xeon, V8 11.3: the
  // load no longer waits behind the store; README, Benchmarks).
  const s0 = seqp != 0 ? atomic.load<u32>(seqp) : 1;
  store<u64>(area, <u64>cs, RSEQ_CS);
  if (s0 & 1) { rseq_restart(area, mode, cpu); return 1; }
  rseq_inject(inj, 1);
  if (rseq_inject_preempted(inj, 8, seqp, s0)) { rseq_abort(); return 1; }
  if (rseq_index(area, mode) != cpu) { rseq_mismatch(); return 1; }
  rseq_inject(inj, 2);
  return s0;
}

/** The commit check (points 7 before, 6 after): false, the abort accounted, when the section must restart. */
// @ts-ignore: decorator
@inline function op_check(inj: bool, seqp: usize, s0: u32): bool {
  rseq_inject(inj, 7);
  if (!rseq_unchanged(seqp, s0)) { rseq_abort(); return false; }
  rseq_inject(inj, 6);
  return true;
}

/** Nothing was stored: report "compare failed" only if the value read was the owner's. */
// @ts-ignore: decorator
@inline function cmpfail(seqp: usize, s0: u32): i32 {
  return rseq_unchanged(seqp, s0) ? 1 : rseq_abort();
}

// @ts-ignore: decorator
@inline function commit<T>(mo: i32, v: usize, newv: T): void {
  if (mo == MO_RELEASE) atomic.store<T>(v, newv);
  else store<T>(v, newv);
}

// @ts-ignore: decorator
@inline export function rseq_load_cbne_store<T>(mode: i32, v: usize, expect: T, newv: T, cpu: i32): i32 {
  const inj = rseq_inject_on();
  rseq_inject(inj, 9);
  const seqp = rseq_seqp();
  const s0 = op_begin(inj, mode, seqp, rseq_desc(CSID_LOAD_CBNE_STORE), cpu);
  if (s0 & 1) return -1;
  const cur = load<T>(v);
  rseq_inject(inj, 3);
  if (cur != expect) return cmpfail(seqp, s0);
  rseq_inject(inj, 4); rseq_inject(inj, 5);
  if (!op_check(inj, seqp, s0)) return -1;
  store<T>(v, newv);
  return rseq_committed();
}

// @ts-ignore: decorator
@inline export function rseq_load_add_store<T>(mode: i32, v: usize, count: T, cpu: i32): i32 {
  const inj = rseq_inject_on();
  rseq_inject(inj, 9);
  const seqp = rseq_seqp();
  const s0 = op_begin(inj, mode, seqp, rseq_desc(CSID_LOAD_ADD_STORE), cpu);
  if (s0 & 1) return -1;
  const cur = load<T>(v);
  rseq_inject(inj, 3); rseq_inject(inj, 4); rseq_inject(inj, 5);
  if (!op_check(inj, seqp, s0)) return -1;
  store<T>(v, cur + count);
  return rseq_committed();
}

// @ts-ignore: decorator
@inline export function rseq_load_cbeq_store_add_load_store(
  mode: i32, v: usize, expectnot: usize, voffp: usize, load_to: usize, cpu: i32,
): i32 {
  const inj = rseq_inject_on();
  rseq_inject(inj, 9);
  const seqp = rseq_seqp();
  const s0 = op_begin(inj, mode, seqp, rseq_desc(CSID_LOAD_CBEQ_STORE_ADD_LOAD_STORE), cpu);
  if (s0 & 1) return -1;
  const r = load<usize>(v);
  rseq_inject(inj, 3);
  if (r == expectnot) return cmpfail(seqp, s0);
  rseq_inject(inj, 4);
  store<usize>(load_to, r);
  const next = load<usize>(r + voffp);
  rseq_inject(inj, 5);
  if (!op_check(inj, seqp, s0)) return -1;
  store<usize>(v, next);
  return rseq_committed();
}

// @ts-ignore: decorator
@inline export function rseq_load_add_load_load_add_store<T>(mode: i32, ptr: usize, off: usize, inc: T, cpu: i32): i32 {
  const inj = rseq_inject_on();
  rseq_inject(inj, 9);
  const seqp = rseq_seqp();
  const s0 = op_begin(inj, mode, seqp, rseq_desc(CSID_LOAD_ADD_LOAD_LOAD_ADD_STORE), cpu);
  if (s0 & 1) return -1;
  const p = load<usize>(load<usize>(ptr) + off);
  rseq_inject(inj, 3);
  const cur = load<T>(p);
  rseq_inject(inj, 4); rseq_inject(inj, 5);
  if (!op_check(inj, seqp, s0)) return -1;
  store<T>(p, cur + inc);
  return rseq_committed();
}

// @ts-ignore: decorator
@inline export function rseq_load_cbne_load_cbne_store<T>(
  mode: i32, v: usize, expect: T, v2: usize, expect2: T, newv: T, cpu: i32,
): i32 {
  const inj = rseq_inject_on();
  rseq_inject(inj, 9);
  const seqp = rseq_seqp();
  const s0 = op_begin(inj, mode, seqp, rseq_desc(CSID_LOAD_CBNE_LOAD_CBNE_STORE), cpu);
  if (s0 & 1) return -1;
  if (load<T>(v) != expect) return cmpfail(seqp, s0);
  rseq_inject(inj, 3);
  if (load<T>(v2) != expect2) return cmpfail(seqp, s0);
  rseq_inject(inj, 4); rseq_inject(inj, 5);
  if (!op_check(inj, seqp, s0)) return -1;
  store<T>(v, newv);
  return rseq_committed();
}

// @ts-ignore: decorator
@inline export function rseq_load_cbne_store_store<T>(
  mode: i32, mo: i32, v: usize, expect: T, v2: usize, newv2: T, newv: T, cpu: i32,
): i32 {
  const inj = rseq_inject_on();
  rseq_inject(inj, 9);
  const seqp = rseq_seqp();
  const s0 = op_begin(inj, mode, seqp, rseq_desc(CSID_LOAD_CBNE_STORE_STORE), cpu);
  if (s0 & 1) return -1;
  if (load<T>(v) != expect) return cmpfail(seqp, s0);
  rseq_inject(inj, 3);
  store<T>(v2, newv2);
  rseq_inject(inj, 4); rseq_inject(inj, 5);
  if (!op_check(inj, seqp, s0)) return -1;
  commit<T>(mo, v, newv);
  return rseq_committed();
}

// @ts-ignore: decorator
@inline export function rseq_load_cbne_memcpy_store<T>(
  mode: i32, mo: i32, v: usize, expect: T, dst: usize, src: usize, len: usize, newv: T, cpu: i32,
): i32 {
  const inj = rseq_inject_on();
  rseq_inject(inj, 9);
  const seqp = rseq_seqp();
  const s0 = op_begin(inj, mode, seqp, rseq_desc(CSID_LOAD_CBNE_MEMCPY_STORE), cpu);
  if (s0 & 1) return -1;
  if (load<T>(v) != expect) return cmpfail(seqp, s0);
  rseq_inject(inj, 3);
  memory.copy(dst, src, len);
  rseq_inject(inj, 4); rseq_inject(inj, 5);
  if (!op_check(inj, seqp, s0)) return -1;
  commit<T>(mo, v, newv);
  return rseq_committed();
}
