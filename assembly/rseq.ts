// This thread's view of rseq: where its record is, and the begin / commit / abort checkpoints of a
// critical section (DESIGN §3). No static data, no allocation, no mutable module state: per-thread
// values arrive as imported immutable globals set at instantiation.
import {
  ABI_VERSION, CS_SIZE, DESC_BASE, HOST_REGION_END, HEADER_ADDR, HDR_MEM_SIZE, PERCPU_MM_CID, RSEQ_CPU_ID,
  RSEQ_CPU_ID_START, RSEQ_CS, RSEQ_MM_CID, SLOW_ABORT, SLOW_BEGIN, SLOW_PARK, T_ABORTS, T_AREA, T_COMMITS, T_INJECT,
  T_MISMATCH, T_SEQP, RSEQ_SLICE_REQUEST, RSEQ_SLICE_GRANTED, PR_RSEQ_SLICE_EXTENSION, PR_RSEQ_SLICE_EXTENSION_SET,
  PR_RSEQ_SLICE_EXT_ENABLE,
} from "./abi";

if (!ASC_FEATURE_THREADS || ASC_MEMORY_BASE < HOST_REGION_END || ASC_RUNTIME != 0 || !ASC_NO_ASSERT) {
  ERROR("wasm-rseq: build with wasm-rseq/asconfig.preset.json (threads, memoryBase >= 16 MiB, runtime stub, noAssert)");
}

/** Address of this thread's record (host/kernel/layout.ts), set per worker at instantiation. */
@external("wasm-rseq@1", "thread") export declare const THREAD: usize;
/** The emulated "return to user": acquire a vCPU, act on requests, account an abort. <0: not registered. */
@external("wasm-rseq@1", "slow") declare function rseq_slow(reason: i32): i32;
/** An injection point (param_test -1..-9): host policy may loop, yield, signal or sleep here. */
@external("wasm-rseq@1", "inject") declare function rseq_inject_at(point: i32): void;

/** The ABI version this code was built against (checked by the host). */
export const RSEQ_ABI: i32 = ABI_VERSION;

/** Address of descriptor `id` in the host's descriptor table. */
// @ts-ignore: decorator
@inline export function rseq_desc(id: i32): usize {
  return <usize>DESC_BASE + <usize>id * <usize>CS_SIZE;
}

/** Bytes of shared memory (for bounds checks in non-hot code). */
// @ts-ignore: decorator
@inline export function rseq_mem_size(): usize {
  return load<u32>(HEADER_ADDR + HDR_MEM_SIZE);
}

/** This thread's registered struct rseq (its own area while unregistered). */
// @ts-ignore: decorator
@inline export function rseq_area(): usize {
  return load<usize>(THREAD, T_AREA);
}

/** cpu_id or mm_cid from the struct rseq at `area`. */
// @ts-ignore: decorator
@inline export function rseq_index(area: usize, mode: i32): i32 {
  return mode == PERCPU_MM_CID ? load<i32>(area, RSEQ_MM_CID) : load<i32>(area, RSEQ_CPU_ID);
}

/**
 * This thread's index for computing per-vCPU pointers: cpu_id_start or mm_cid, both always in
 * range (0 while unregistered, as the kernel keeps them), possibly stale: an operation compares
 * cpu_id / mm_cid with it inside its section.
 */
// @ts-ignore: decorator
@inline export function rseq_current(mode: i32): i32 {
  const area = rseq_area();
  return mode == PERCPU_MM_CID ? load<i32>(area, RSEQ_MM_CID) : load<i32>(area, RSEQ_CPU_ID_START);
}

/**
 * Whether injection points are live for this thread (read once per section). Only modules whose
 * entry declares `@global const RSEQ_INJECT = true` have injection points at all (param_test does);
 * in every other build they compile to nothing, as librseq's RSEQ_INJECT_* macros do.
 */
// @ts-ignore: decorator
@inline export function rseq_inject_on(): bool {
  if (isDefined(RSEQ_INJECT)) return load<i32>(THREAD, T_INJECT) != 0;
  return false;
}

// @ts-ignore: decorator
@inline export function rseq_inject(on: bool, point: i32): void {
  if (on) rseq_inject_at(point);
}

/**
 * An injection point inside a section where the host may act (-8 with -m): true when the action
 * (sleep, yield, signal) touched this section's vCPU, which must then abort at once, before any
 * further store: the kernel restarts a section its thread was preempted in at the abort handler,
 * and a thread that slept has no vCPU left to store into.
 */
// @ts-ignore: decorator
@inline export function rseq_inject_preempted(on: bool, point: i32, seqp: usize, s0: u32): bool {
  if (!on) return false;
  rseq_inject_at(point);
  return !rseq_unchanged(seqp, s0);
}

/**
 * The fast half of a begin: publish descriptor `cs` in the struct rseq at `area` and take the
 * snapshot of the sequence word at `seqp` (rseq_seqp(), read just before). An odd result means no
 * clean start (no vCPU owned, or a request pending): return rseq_restart(area, mode, cpu) then.
 * (The library's own operations take the snapshot first and publish after: ops.ts op_begin.)
 */
// @ts-ignore: decorator
@inline export function rseq_enter(area: usize, seqp: usize, cs: usize): u32 {
  store<u64>(area, <u64>cs, RSEQ_CS);
  return seqp != 0 ? atomic.load<u32>(seqp) : 1;
}

/**
 * After an odd snapshot: enter the kernel (acquire a vCPU, act on requests), then return -1 so the
 * caller retries from its index read. Counted as an abort (a stale cpu argument) when the thread
 * now runs elsewhere, or is not registered, as the section would have failed its cpu compare.
 */
export function rseq_restart(area: usize, mode: i32, cpu: i32): i32 {
  if (rseq_slow(SLOW_BEGIN) < 0 || rseq_index(area, mode) != cpu) return rseq_mismatch();
  return -1;
}

/** The slow half of rseq_begin: enter the kernel until the snapshot is even. 1 = not registered. */
function rseq_begin_slow(cs: usize): u32 {
  while (true) {
    if (rseq_slow(SLOW_BEGIN) < 0) return 1;
    const s0 = rseq_enter(rseq_area(), rseq_seqp(), cs);
    if ((s0 & 1) == 0) return s0;
  }
}

/**
 * Begin a critical section described by descriptor `cs`: make sure this thread owns a vCPU whose
 * sequence word carries no request, then publish `cs` in rseq_cs. Returns the (even) sequence
 * snapshot, or 1 when the thread is not registered (every section of an unregistered thread
 * aborts). Take rseq_seqp() right after it, before any injection point.
 */
// @ts-ignore: decorator
@inline export function rseq_begin(cs: usize): u32 {
  const s0 = rseq_enter(rseq_area(), rseq_seqp(), cs);
  return s0 & 1 ? rseq_begin_slow(cs) : s0;
}

/** Address of the sequence word of the vCPU this section began on. */
// @ts-ignore: decorator
@inline export function rseq_seqp(): usize {
  return load<usize>(THREAD, T_SEQP);
}

/** The commit check: true while nothing happened to the section's vCPU since rseq_begin returned s0. */
// @ts-ignore: decorator
@inline export function rseq_unchanged(seqp: usize, s0: u32): bool {
  return atomic.load<u32>(seqp) == s0;
}

/** Account a committed section (after its single committing store). Returns 0. */
// @ts-ignore: decorator
@inline export function rseq_committed(): i32 {
  store<u64>(THREAD, load<u64>(THREAD, T_COMMITS) + 1, T_COMMITS);
  return 0;
}

/** The commit check failed: enter the kernel's abort path. Returns -1. */
// @ts-ignore: decorator
@inline export function rseq_abort(): i32 {
  store<u64>(THREAD, load<u64>(THREAD, T_ABORTS) + 1, T_ABORTS);
  rseq_slow(SLOW_ABORT);
  return -1;
}

/** The cpu argument no longer names this thread's vCPU (librseq's cpu compare). Returns -1. */
// @ts-ignore: decorator
@inline export function rseq_mismatch(): i32 {
  store<u64>(THREAD, load<u64>(THREAD, T_ABORTS) + 1, T_ABORTS);
  store<u64>(THREAD, load<u64>(THREAD, T_MISMATCH) + 1, T_MISMATCH);
  return -1;
}

/** Release this thread's vCPU before blocking or finishing (it takes one again at its next begin). */
export function rseq_park(): void {
  if (load<usize>(THREAD, T_SEQP) != 0) rseq_slow(SLOW_PARK);
}

/**
 * Stop vCPU `cpu` (tcmalloc's StopCpu + FenceCpu): no thread can begin a section on it, and none
 * that began before can commit, once this returns 0. The caller (outside any section; it releases
 * its own vCPU first) may then operate on that vCPU's data with plain loads and stores until
 * rseq_start_cpu. -22 (EINVAL) no such vCPU, -16 (EBUSY) already stopped by this thread.
 */
@external("wasm-rseq@1", "stop_cpu") export declare function rseq_stop_cpu(cpu: i32): i32;
/** Undo rseq_stop_cpu(cpu): 0, -22 (EINVAL), -1 (EPERM: not stopped by this thread). */
@external("wasm-rseq@1", "start_cpu") export declare function rseq_start_cpu(cpu: i32): i32;

// ---------------------------------------------------------------------------------------------
// The time-slice extension (Linux 7.0, rseq.rst). Between rseq_slice_request() and
// rseq_slice_release() a preemption that would hand this thread's vCPU to a waiting thread is
// deferred once, for at most the kernel's slice_ext_nsec. slice_ctrl is this thread's own word and
// the kernel runs on this thread: plain byte stores, no barrier beyond the host calls' own.

/** prctl(option, arg2, arg3, arg4, arg5): 0 / the value, or a negated errno. */
@external("wasm-rseq@1", "prctl") export declare function rseq_prctl(option: i32, arg2: i32, arg3: i32, arg4: i32, arg5: i32): i32;
/** rseq_slice_yield() (syscall 471): 1 if it yielded inside the grant, 0 if never granted or revoked. */
@external("wasm-rseq@1", "slice_yield") export declare function rseq_slice_yield(): i32;

/** prctl(PR_RSEQ_SLICE_EXTENSION, PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE, 0, 0). */
export function rseq_slice_enable(): i32 {
  return rseq_prctl(PR_RSEQ_SLICE_EXTENSION, PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE, 0, 0);
}

/** Ask for an extension of the current time slice (slice_ctrl.request = 1). */
// @ts-ignore: decorator
@inline export function rseq_slice_request(): void {
  store<u8>(rseq_area(), 1, RSEQ_SLICE_REQUEST);
}

/**
 * Leave the extended region: 0 = no interruption (request still set), 1 = granted and yielded inside
 * the grant, 2 = granted but rseq_slice_yield answered 0 (raced: revoked or ran out), 3 = the grant
 * was revoked by a reschedule (request and granted both clear): slice_test's Success / Yielded /
 * Raced / Scheduled.
 */
export function rseq_slice_release(): i32 {
  const area = rseq_area();
  if (load<u8>(area, RSEQ_SLICE_REQUEST) != 0) {
    store<u8>(area, 0, RSEQ_SLICE_REQUEST);
    return 0;
  }
  if (load<u8>(area, RSEQ_SLICE_GRANTED) != 0) return rseq_slice_yield() != 0 ? 1 : 2;
  return 3;
}

/** The emulated interrupt return outside a critical section: act on a pending request now. */
export function rseq_checkpoint(): void {
  const seqp = rseq_seqp();
  if (seqp == 0 || (atomic.load<u32>(seqp) & 1) != 0) rseq_slow(SLOW_BEGIN);
}
