// Per-vCPU counter: writes are one rseq add on the caller's vCPU slot, reads sum every slot.
import { rseq_load_add_store } from "../ops";
import { rseq_current } from "../rseq";
import { percpu_may_retry, percpu_nr_cpus, percpu_ptr } from "./pool";

/** Add `inc` to this vCPU's slot. Returns 0, or -1 if the thread is not registered. */
// @ts-ignore: decorator
@inline export function percpu_counter_add(mode: i32, base: usize, inc: i64): i32 {
  while (true) {
    const cpu = rseq_current(mode);
    if (rseq_load_add_store<i64>(mode, percpu_ptr(base, cpu), inc, cpu) == 0) return 0;
    if (!percpu_may_retry()) return -1;
  }
}

/** Sum of all slots (not a snapshot: concurrent adds may or may not be included). */
export function percpu_counter_sum(base: usize): i64 {
  let sum: i64 = 0;
  const n = percpu_nr_cpus();
  for (let c = 0; c < n; c++) sum += atomic.load<i64>(percpu_ptr(base, c));
  return sum;
}
