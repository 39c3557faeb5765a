// Per-vCPU ring of fixed-size items copied in and out (param_test -T m). Per-vCPU object: MBUF_* (assembly/abi.ts),
//   0 offset (i32) | 4 buflen (i32) | 8 item size (i32) | 16.. items
// Each push/pop copies one item inside the section and commits the offset.
import { MBUF_ARRAY, MBUF_ITEM, MBUF_LEN, MBUF_OFFSET } from "../abi";
import { rseq_load_cbne_memcpy_store } from "../ops";
import { rseq_current } from "../rseq";
import { percpu_may_retry, percpu_ptr } from "./pool";

/** Copy the item at `src` into the current vCPU's ring. Returns 1 pushed, 0 full, -1 unregistered. */
// @ts-ignore: decorator
@inline export function percpu_memcpy_push(mode: i32, mo: i32, base: usize, src: usize): i32 {
  while (true) {
    const cpu = rseq_current(mode);
    const b = percpu_ptr(base, cpu);
    const offset = load<i32>(b, MBUF_OFFSET);
    if (offset >= load<i32>(b, MBUF_LEN)) return 0;
    const size = <usize>load<i32>(b, MBUF_ITEM);
    const dst = b + MBUF_ARRAY + <usize>offset * size;
    const ret = rseq_load_cbne_memcpy_store<i32>(mode, mo, b + MBUF_OFFSET, offset, dst, src, size, offset + 1, cpu);
    if (ret == 0) return 1;
    if (ret < 0 && !percpu_may_retry()) return -1;
  }
}

/** Copy the top item of the current vCPU's ring to `dst`. Returns 1 popped, 0 empty, -1 unregistered. */
// @ts-ignore: decorator
@inline export function percpu_memcpy_pop(mode: i32, mo: i32, base: usize, dst: usize): i32 {
  while (true) {
    const cpu = rseq_current(mode);
    const b = percpu_ptr(base, cpu);
    const offset = load<i32>(b, MBUF_OFFSET);
    if (offset <= 0) return 0;
    const size = <usize>load<i32>(b, MBUF_ITEM);
    const src = b + MBUF_ARRAY + <usize>(offset - 1) * size;
    const ret = rseq_load_cbne_memcpy_store<i32>(mode, mo, b + MBUF_OFFSET, offset, dst, src, size, offset - 1, cpu);
    if (ret == 0) return 1;
    if (ret < 0 && !percpu_may_retry()) return -1;
  }
}
