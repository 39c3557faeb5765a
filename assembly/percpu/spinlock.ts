// Per-vCPU spinlock (param_test -T s): taken with load_cbne_store(lock, 0, 1) on the caller's vCPU,
// released with a store-release by whoever holds it, wherever it runs by then.
import { rseq_load_cbne_store } from "../ops";
import { rseq_current } from "../rseq";
import { percpu_may_retry, percpu_ptr } from "./pool";

/** Take the lock of the current vCPU. Returns the vCPU whose lock is held, or -1 if unregistered. */
// @ts-ignore: decorator
@inline export function percpu_lock(mode: i32, base: usize): i32 {
  while (true) {
    const cpu = rseq_current(mode);
    const ret = rseq_load_cbne_store<i32>(mode, percpu_ptr(base, cpu), 0, 1, cpu);
    if (ret == 0) return cpu;
    if (ret < 0 && !percpu_may_retry()) return -1;
  }
}

// @ts-ignore: decorator
@inline export function percpu_unlock(base: usize, cpu: i32): void {
  atomic.store<i32>(percpu_ptr(base, cpu), 0);
}
