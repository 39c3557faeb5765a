// Treiber stack with a tagged head: the lock-free counterpart of percpu/list.ts, on the same nodes
// (0 data | 4 next, NODE_* in assembly/abi.ts). The head is one u64 on its own 128-byte line:
//
//   0                4                8
//   +----------------+----------------+
//   | top node (u32) | tag (u32)      |      tag += 1 on every successful CAS
//   +----------------+----------------+
//
// The tag makes the CAS fail if the top was popped and pushed back in between (ABA): a pop that
// read `next` of a node that meanwhile moved cannot install that stale `next`. Nodes are never
// freed, so reading `next` of a node another thread just popped is harmless.
import { NODE_NEXT } from "../abi";

// @ts-ignore: decorator
@inline function retag(old: u64, top: usize): u64 {
  return (((old >> 32) + 1) << 32) | <u64>top;
}

/** Push `node`. Lock-free; thread-safe. */
// @ts-ignore: decorator
@inline export function treiber_push(head: usize, node: usize): void {
  while (true) {
    const old = atomic.load<u64>(head);
    store<usize>(node, <usize>(<u32>old), NODE_NEXT);
    if (atomic.cmpxchg<u64>(head, old, retag(old, node)) == old) return;
  }
}

/** Pop the top node. Returns it, or 0 when the stack is empty. Lock-free; thread-safe. */
// @ts-ignore: decorator
@inline export function treiber_pop(head: usize): usize {
  while (true) {
    const old = atomic.load<u64>(head);
    const top = <usize>(<u32>old);
    if (top == 0) return 0;
    const next = load<usize>(top, NODE_NEXT);
    if (atomic.cmpxchg<u64>(head, old, retag(old, next)) == old) return top;
  }
}
