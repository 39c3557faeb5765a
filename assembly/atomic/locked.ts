// Spinlock-protected global structures: the lock-based counterparts of the per-vCPU list, pointer
// buffer and memcpy buffer. Each uses the SAME object layout as its per-vCPU twin (NODE_*, BUF_*,
// MBUF_* in assembly/abi.ts) with one global copy and a global lock (spinlock.ts).
import {
  BUF_ARRAY, BUF_LEN, BUF_OFFSET, MBUF_ARRAY, MBUF_ITEM, MBUF_LEN, MBUF_OFFSET, NODE_NEXT,
} from "../abi";
import { spin_lock, spin_unlock } from "./spinlock";

/** Push `node` on the list whose head pointer is at `head`. */
// @ts-ignore: decorator
@inline export function locked_list_push(lock: usize, head: usize, node: usize): void {
  spin_lock(lock);
  store<usize>(node, load<usize>(head), NODE_NEXT);
  store<usize>(head, node);
  spin_unlock(lock);
}

/** Pop from the list at `head`. Returns the node, or 0 when empty. */
// @ts-ignore: decorator
@inline export function locked_list_pop(lock: usize, head: usize): usize {
  spin_lock(lock);
  const top = load<usize>(head);
  if (top != 0) store<usize>(head, load<usize>(top, NODE_NEXT));
  spin_unlock(lock);
  return top;
}

/** Push `item` on the pointer buffer `b`. Returns 1 pushed, 0 full. */
// @ts-ignore: decorator
@inline export function locked_buffer_push(lock: usize, b: usize, item: usize): i32 {
  spin_lock(lock);
  const offset = load<i32>(b, BUF_OFFSET);
  let ret = 0;
  if (offset < load<i32>(b, BUF_LEN)) {
    store<usize>(b + BUF_ARRAY + (<usize>offset << alignof<usize>()), item);
    store<i32>(b, offset + 1, BUF_OFFSET);
    ret = 1;
  }
  spin_unlock(lock);
  return ret;
}

/** Pop from the pointer buffer `b`. Returns the item, or 0 when empty. */
// @ts-ignore: decorator
@inline export function locked_buffer_pop(lock: usize, b: usize): usize {
  spin_lock(lock);
  const offset = load<i32>(b, BUF_OFFSET);
  let item: usize = 0;
  if (offset > 0) {
    item = load<usize>(b + BUF_ARRAY + (<usize>(offset - 1) << alignof<usize>()));
    store<i32>(b, offset - 1, BUF_OFFSET);
  }
  spin_unlock(lock);
  return item;
}

/** Copy the item at `src` into the memcpy buffer `b`. Returns 1 pushed, 0 full. */
// @ts-ignore: decorator
@inline export function locked_memcpy_push(lock: usize, b: usize, src: usize): i32 {
  spin_lock(lock);
  const offset = load<i32>(b, MBUF_OFFSET);
  let ret = 0;
  if (offset < load<i32>(b, MBUF_LEN)) {
    const size = <usize>load<i32>(b, MBUF_ITEM);
    memory.copy(b + MBUF_ARRAY + <usize>offset * size, src, size);
    store<i32>(b, offset + 1, MBUF_OFFSET);
    ret = 1;
  }
  spin_unlock(lock);
  return ret;
}

/** Copy the top item of the memcpy buffer `b` to `dst`. Returns 1 popped, 0 empty. */
// @ts-ignore: decorator
@inline export function locked_memcpy_pop(lock: usize, b: usize, dst: usize): i32 {
  spin_lock(lock);
  const offset = load<i32>(b, MBUF_OFFSET);
  let ret = 0;
  if (offset > 0) {
    const size = <usize>load<i32>(b, MBUF_ITEM);
    memory.copy(dst, b + MBUF_ARRAY + <usize>(offset - 1) * size, size);
    store<i32>(b, offset - 1, MBUF_OFFSET);
    ret = 1;
  }
  spin_unlock(lock);
  return ret;
}
