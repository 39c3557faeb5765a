// Per-vCPU pointer ring used as a stack (param_test -T b). Per-vCPU object: BUF_* (assembly/abi.ts),
//   0 offset (i32, entries in use) | 4 buflen (i32, capacity) | 8.. array of usize
// Push commits the offset after a speculative store of the slot; pop re-checks the slot it read.
import { BUF_ARRAY, BUF_LEN, BUF_OFFSET } from "../abi";
import { rseq_load_cbne_load_cbne_store, rseq_load_cbne_store_store } from "../ops";
import { rseq_current } from "../rseq";
import { percpu_may_retry, percpu_ptr } from "./pool";

/** Push `item` on the current vCPU's buffer. Returns 1 pushed, 0 full, -1 unregistered. */
// @ts-ignore: decorator
@inline export function percpu_buffer_push(mode: i32, mo: i32, base: usize, item: usize): i32 {
  while (true) {
    const cpu = rseq_current(mode);
    const b = percpu_ptr(base, cpu);
    const offset = load<i32>(b, BUF_OFFSET);
    if (offset >= load<i32>(b, BUF_LEN)) return 0;
    const slot = b + BUF_ARRAY + (<usize>offset << alignof<usize>());
    const ret = rseq_load_cbne_store_store<i32>(mode, mo, b + BUF_OFFSET, offset, slot, <i32>item, offset + 1, cpu);
    if (ret == 0) return 1;
    if (ret < 0 && !percpu_may_retry()) return -1;
  }
}

/** Pop from the current vCPU's buffer. Returns the item, or 0 when empty / unregistered. */
// @ts-ignore: decorator
@inline export function percpu_buffer_pop(mode: i32, base: usize): usize {
  while (true) {
    const cpu = rseq_current(mode);
    const b = percpu_ptr(base, cpu);
    const offset = load<i32>(b, BUF_OFFSET);
    if (offset <= 0) return 0;
    const slot = b + BUF_ARRAY + (<usize>(offset - 1) << alignof<usize>());
    const head = load<i32>(slot);
    const ret = rseq_load_cbne_load_cbne_store<i32>(mode, b + BUF_OFFSET, offset, slot, head, offset - 1, cpu);
    if (ret == 0) return <usize>head;
    if (ret < 0 && !percpu_may_retry()) return 0;
  }
}
