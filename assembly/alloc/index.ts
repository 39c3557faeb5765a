// The allocator for users' AssemblyScript: rseq_malloc / rseq_free on the kernel's allocator (the
// one kernel.allocator() laid out; its front end was chosen there), and the same on an explicit one.
import { ALLOC_ERR_FOREIGN, HDR_ALLOC, HEADER_ADDR } from "../abi";
import { alloc_free, alloc_malloc } from "./front";
export * from "./size";
export * from "./central";
export * from "./front";

/** The kernel's allocator (0: kernel.allocator() was not called). */
// @ts-ignore: decorator
@inline export function rseq_allocator(): usize {
  return load<usize>(HEADER_ADDR + HDR_ALLOC);
}

/** malloc on the kernel's allocator: 8-aligned (16 from 16 bytes) or 0 (heap full, no allocator). */
export function rseq_malloc(size: usize): usize {
  const a = rseq_allocator();
  return a == 0 ? 0 : alloc_malloc(a, size);
}

/** free on the kernel's allocator: 0, or (checked mode) ALLOC_ERR_FOREIGN / ALLOC_ERR_DOUBLE_FREE. */
export function rseq_free(ptr: usize): i32 {
  const a = rseq_allocator();
  return a == 0 ? ALLOC_ERR_FOREIGN : alloc_free(a, ptr);
}
export * from "./mempool";
