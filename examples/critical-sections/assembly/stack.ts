// A per-vCPU stack written with the low-level section API (librseq's percpu list), as a target of
// `wasm-rseq check`. Each section follows the same shape:
//
//   cpu  = rseq_current(...)          the index, possibly stale already
//   s0   = rseq_begin(cs)             publish descriptor cs (kernel.defineCriticalSection()), snapshot
//   seqp = rseq_seqp()                the sequence word of the vCPU the section began on
//   compare cpu with cpu_id           AFTER the begin: a migration before it would go unnoticed
//   loads and plain stores to memory nobody else can see yet
//   if (!rseq_unchanged(seqp, s0))    the commit check, right before ...
//   one store that publishes          ... the single committing store
//
// Thread t's even steps push a node of its own; odd steps pop a node and push it back. check_verify
// wants every pushed node on exactly one stack, once.
import {
  HDR_NR_CPUS, HEADER_ADDR, PERCPU_CPU_ID, RSEQ_CPU_ID, percpu_ptr, rseq_abort, rseq_area, rseq_begin,
  rseq_committed, rseq_current, rseq_mismatch, rseq_seqp, rseq_unchanged,
} from "wasm-rseq/assembly";

/** Nodes (8 bytes: next, a mark for check_verify) start here in vCPU 0's region of `base`. */
const NODES: usize = 256;
/** Steps per thread with a node of their own: 8 threads x 32 fit the default 4096 bytes. */
const MAX_STEPS: i32 = 32;

function nodeOf(base: usize, thread: i32, step: i32): usize {
  return base + NODES + <usize>(thread * MAX_STEPS + step) * 8;
}

/** Push node n on this vCPU's stack (the head is the vCPU's first word of `base`). */
function push(cs: usize, base: usize, n: usize): void {
  while (true) {
    const cpu = rseq_current(PERCPU_CPU_ID);
    const s0 = rseq_begin(cs);
    if (s0 & 1) return;                                       // not registered: nothing runs
    const seqp = rseq_seqp();
    if (load<i32>(rseq_area(), RSEQ_CPU_ID) != cpu) { rseq_mismatch(); continue; }
    const headp = percpu_ptr(base, cpu);
    store<u32>(n, load<u32>(headp));                          // n.next = head: n is still private
    if (!rseq_unchanged(seqp, s0)) { rseq_abort(); continue; }
    store<u32>(headp, <u32>n);                                // the commit
    rseq_committed();
    return;
  }
}

/** Pop the top node of this vCPU's stack, or 0 when it is empty. */
function pop(cs: usize, base: usize): usize {
  while (true) {
    const cpu = rseq_current(PERCPU_CPU_ID);
    const s0 = rseq_begin(cs);
    if (s0 & 1) return 0;
    const seqp = rseq_seqp();
    if (load<i32>(rseq_area(), RSEQ_CPU_ID) != cpu) { rseq_mismatch(); continue; }
    const headp = percpu_ptr(base, cpu);
    const head = <usize>load<u32>(headp);
    if (head == 0) return 0;
    const next = load<u32>(head);
    if (!rseq_unchanged(seqp, s0)) { rseq_abort(); continue; }
    store<u32>(headp, next);                                  // the commit
    rseq_committed();
    return head;
  }
}

export function check_setup(cs: usize, base: usize, threads: i32, ops: i32): void {}

export function check_op(thread: i32, step: i32, cs: usize, base: usize): void {
  if ((step & 1) == 0) { push(cs, base, nodeOf(base, thread, step)); return; }
  const n = pop(cs, base);
  if (n != 0) push(cs, base, n);
}

export function check_verify(cs: usize, base: usize, threads: i32, ops: i32): i32 {
  if (ops > MAX_STEPS || threads > 8) return 9;              // more nodes than the region holds
  let pushed = 0;
  for (let s = 0; s < ops; s += 2) pushed += threads;
  let seen = 0;
  const cpus = load<i32>(HEADER_ADDR + HDR_NR_CPUS);
  for (let c = 0; c < cpus; c++) {
    for (let n = <usize>load<u32>(percpu_ptr(base, c)); n != 0; n = <usize>load<u32>(n)) {
      if (load<u32>(n, 4) != 0) return 2;                     // on a stack twice, or a cycle
      store<u32>(n, 1, 4);
      if (++seen > pushed) return 3;
    }
  }
  return seen == pushed ? 0 : 1;                              // 1: a node was lost
}
