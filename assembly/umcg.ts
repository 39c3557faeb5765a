// UMCG from AssemblyScript (host/kernel/umcg.ts): the three system calls as kernel imports, and the
// struct umcg_task layout (abi.ts, UMCG_*). A server's policy loop is the user's code: set
// state = RUNNABLE | UMCG_TF_COND_WAIT, drain runnable_workers_ptr with an atomic exchange, store
// next_tid, call umcg_wait(0, 0) (-EAGAIN: a concurrent wake-up, loop again). tid = slot + 1.
import { UMCG_STATE, UMCG_TASK_RUNNING, UMCG_TF_PREEMPT, UMCG_TASK_MASK } from "./abi";

/** sys_umcg_ctl(flags, self, which_clock): 0 or a negated errno. */
@external("wasm-rseq@1", "umcg_ctl") export declare function umcg_ctl(flags: i32, self: usize, clock: i32): i32;
/** sys_umcg_wait(flags, abs_timeout): abs_timeout in absolute ms (timeOrigin + now, as the host sees it), 0 = none. */
@external("wasm-rseq@1", "umcg_wait") export declare function umcg_wait(flags: i32, abs_timeout_ms: f64): i32;
/** sys_umcg_kick(flags, tid). */
@external("wasm-rseq@1", "umcg_kick") export declare function umcg_kick(flags: i32, tid: i32): i32;

/** Preempt a running worker: cmpxchg(RUNNING -> RUNNING | TF_PREEMPT), then kick. False if it lost to a block. */
export function umcg_preempt(task: usize, tid: i32): bool {
  const s = atomic.load<u32>(task, UMCG_STATE);
  if ((s & UMCG_TASK_MASK) != UMCG_TASK_RUNNING) return false;
  if (atomic.cmpxchg<u32>(task + UMCG_STATE, s, s | UMCG_TF_PREEMPT) != s) return false;
  umcg_kick(0, tid);
  return true;
}
