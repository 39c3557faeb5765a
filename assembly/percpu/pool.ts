// Per-vCPU memory pool addressing (librseq's mempool): one stride per vCPU, an object allocated by
// the host at `base` (cpu 0's copy) has its cpu-c copy at base + c * stride.
import { HEADER_ADDR, HDR_NR_CPUS, HDR_POOL_STRIDE, RSEQ_CPU_ID, T_AREA } from "../abi";
import { THREAD } from "../rseq";

// @ts-ignore: decorator
@inline export function percpu_stride(): usize {
  return load<u32>(HEADER_ADDR + HDR_POOL_STRIDE);
}

// @ts-ignore: decorator
@inline export function percpu_nr_cpus(): i32 {
  return load<i32>(HEADER_ADDR + HDR_NR_CPUS);
}

/** cpu's copy of the per-vCPU object at `base` (rseq_percpu_ptr). */
// @ts-ignore: decorator
@inline export function percpu_ptr(base: usize, cpu: i32): usize {
  return base + <usize>cpu * percpu_stride();
}

/** After an op returned -1: false when retrying is pointless (this thread is not registered). */
// @ts-ignore: decorator
@inline export function percpu_may_retry(): bool {
  return load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID) >= 0;
}
