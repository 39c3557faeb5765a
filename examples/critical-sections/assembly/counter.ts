// A per-vCPU counter: the README's first critical section, plus the three exports that make the
// module a target of `wasm-rseq check` (check_setup / check_op / check_verify).
import {
  HDR_NR_CPUS, HEADER_ADDR, PERCPU_CPU_ID, percpu_ptr, rseq_current, rseq_load_add_store,
} from "wasm-rseq/assembly";

export function add(base: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    while (true) {
      const cpu = rseq_current(PERCPU_CPU_ID);
      if (rseq_load_add_store<i64>(PERCPU_CPU_ID, percpu_ptr(base, cpu), 1, cpu) == 0) break; // 0 committed, -1 aborted
    }
  }
}

/** Nothing to set up: `base` arrives zeroed. */
export function check_setup(cs: usize, base: usize, threads: i32, ops: i32): void {}

/** One operation of one thread: add 1 to this vCPU's counter. */
export function check_op(thread: i32, step: i32, cs: usize, base: usize): void {
  add(base, 1);
}

/** 0 when no add was lost or repeated: the counters sum to threads x ops. */
export function check_verify(cs: usize, base: usize, threads: i32, ops: i32): i32 {
  let sum: i64 = 0;
  const cpus = load<i32>(HEADER_ADDR + HDR_NR_CPUS);
  for (let c = 0; c < cpus; c++) sum += load<i64>(percpu_ptr(base, c));
  return sum == <i64>threads * ops ? 0 : 1;
}
