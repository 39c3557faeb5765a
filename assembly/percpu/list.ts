// Per-vCPU singly linked list (param_test -T l). Head pointer at the per-vCPU object; nodes
// (NODE_*, assembly/abi.ts) anywhere in shared memory. Push and pop each commit with one store to the head.
import { NODE_NEXT, T_SCRATCH } from "../abi";
import { rseq_load_cbeq_store_add_load_store, rseq_load_cbne_store } from "../ops";
import { THREAD, rseq_current } from "../rseq";
import { percpu_may_retry, percpu_ptr } from "./pool";

/** Push `node` on the current vCPU's list. Returns that vCPU, or -1 if unregistered. */
// @ts-ignore: decorator
@inline export function percpu_list_push(mode: i32, base: usize, node: usize): i32 {
  while (true) {
    const cpu = rseq_current(mode);
    const head = percpu_ptr(base, cpu);
    const expect = load<usize>(head);
    store<usize>(node, expect, NODE_NEXT);
    if (rseq_load_cbne_store<usize>(mode, head, expect, node, cpu) == 0) return cpu;
    if (!percpu_may_retry()) return -1;
  }
}

/** Pop from the current vCPU's list. Returns the node, or 0 when that list is empty / unregistered. */
// @ts-ignore: decorator
@inline export function percpu_list_pop(mode: i32, base: usize): usize {
  const out = THREAD + T_SCRATCH;
  while (true) {
    const cpu = rseq_current(mode);
    const ret = rseq_load_cbeq_store_add_load_store(mode, percpu_ptr(base, cpu), 0, NODE_NEXT, out, cpu);
    if (ret == 0) return load<usize>(out);
    if (ret > 0 || !percpu_may_retry()) return 0;
  }
}
