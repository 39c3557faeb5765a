// Anatomy of the per-vCPU counter's fast path (the `anatomy` suite): the rseq add of
// percpu_counter_add -> rseq_load_add_store (assembly/ops.ts, assembly/rseq.ts) rebuilt from the
// plain add one piece at a time, so the table shows where its nanoseconds go. The pieces mirror
// assembly/rseq.ts's checkpoints; when those change, change these (they are a diagnostic, not API).
// Every loop first makes sure this thread owns a vCPU (one real rseq add of 0) and falls back to
// the real operation whenever the vCPU's sequence word moved, so each stays a correct counter.
import { CSID_LOAD_ADD_STORE, CS_SIZE, DESC_BASE, PERCPU_CPU_ID, RSEQ_CPU_ID, RSEQ_CS, T_AREA, T_COMMITS, T_INJECT, T_SEQP } from "../../assembly/abi";
import { percpu_counter_add } from "../../assembly/percpu/counter";
import { percpu_ptr } from "../../assembly/percpu/pool";
import { THREAD, rseq_inject, rseq_inject_preempted } from "../../assembly/rseq";

// @ts-ignore: decorator
@inline function own_vcpu(base: usize): void {
  percpu_counter_add(PERCPU_CPU_ID, base, 0);
}

/** 1. The plain add on the current vCPU's slot, index read once: the floor. */
export function anatomy_plain(base: usize, iters: i32): i32 {
  own_vcpu(base);
  const p = percpu_ptr(base, load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID));
  for (let i = 0; i < iters; i++) store<i64>(p, load<i64>(p) + 1);
  return iters;
}

/** 2. + the commit check: sequence snapshot before, compare before the store. */
export function anatomy_check(base: usize, iters: i32): i32 {
  own_vcpu(base);
  const p = percpu_ptr(base, load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID));
  for (let i = 0; i < iters; i++) {
    const seqp = load<usize>(THREAD, T_SEQP);
    const s0 = seqp != 0 ? atomic.load<u32>(seqp) : 1;
    const v = load<i64>(p);
    if ((s0 & 1) == 0 && atomic.load<u32>(seqp) == s0) store<i64>(p, v + 1);
    else percpu_counter_add(PERCPU_CPU_ID, base, 1);
  }
  return iters;
}

/** 3. + indexing every op: cpu_id from struct rseq, the pool stride, the cpu compare. */
export function anatomy_index(base: usize, iters: i32): i32 {
  own_vcpu(base);
  for (let i = 0; i < iters; i++) {
    const cpu = load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID);
    const p = percpu_ptr(base, cpu);
    const seqp = load<usize>(THREAD, T_SEQP);
    const s0 = seqp != 0 ? atomic.load<u32>(seqp) : 1;
    const v = load<i64>(p);
    if ((s0 & 1) == 0 && load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID) == cpu && atomic.load<u32>(seqp) == s0) store<i64>(p, v + 1);
    else percpu_counter_add(PERCPU_CPU_ID, base, 1);
  }
  return iters;
}

/** 4. + publishing the descriptor in rseq_cs and the injection flag. */
export function anatomy_cs(base: usize, iters: i32): i32 {
  own_vcpu(base);
  for (let i = 0; i < iters; i++) {
    const cpu = load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID);
    const p = percpu_ptr(base, cpu);
    const inj = load<i32>(THREAD, T_INJECT);
    const cs = DESC_BASE + <usize>CSID_LOAD_ADD_STORE * CS_SIZE;
    const seqp = load<usize>(THREAD, T_SEQP);
    const s0 = seqp != 0 ? atomic.load<u32>(seqp) : 1;
    store<u64>(load<usize>(THREAD, T_AREA), <u64>cs, RSEQ_CS);
    const v = load<i64>(p);
    if (inj == 0 && (s0 & 1) == 0 && load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID) == cpu && atomic.load<u32>(seqp) == s0) store<i64>(p, v + 1);
    else percpu_counter_add(PERCPU_CPU_ID, base, 1);
  }
  return iters;
}

/** 5. + the per-thread commit count (T_COMMITS), i.e. everything but the call structure. */
export function anatomy_account(base: usize, iters: i32): i32 {
  own_vcpu(base);
  for (let i = 0; i < iters; i++) {
    const cpu = load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID);
    const p = percpu_ptr(base, cpu);
    const inj = load<i32>(THREAD, T_INJECT);
    const cs = DESC_BASE + <usize>CSID_LOAD_ADD_STORE * CS_SIZE;
    const seqp = load<usize>(THREAD, T_SEQP);
    const s0 = seqp != 0 ? atomic.load<u32>(seqp) : 1;
    store<u64>(load<usize>(THREAD, T_AREA), <u64>cs, RSEQ_CS);
    const v = load<i64>(p);
    if (inj == 0 && (s0 & 1) == 0 && load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID) == cpu && atomic.load<u32>(seqp) == s0) {
      store<i64>(p, v + 1);
      store<u64>(THREAD, load<u64>(THREAD, T_COMMITS) + 1, T_COMMITS);
    } else {
      percpu_counter_add(PERCPU_CPU_ID, base, 1);
    }
  }
  return iters;
}

/** 6. + the nine injection points of ops.ts, each a test of the flag and a cold host call. */
export function anatomy_inject(base: usize, iters: i32): i32 {
  own_vcpu(base);
  for (let i = 0; i < iters; i++) {
    const inj = load<i32>(THREAD, T_INJECT) != 0;
    rseq_inject(inj, 9);
    const cpu = load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID);
    const p = percpu_ptr(base, cpu);
    const cs = DESC_BASE + <usize>CSID_LOAD_ADD_STORE * CS_SIZE;
    const seqp = load<usize>(THREAD, T_SEQP);
    const s0 = seqp != 0 ? atomic.load<u32>(seqp) : 1;
    store<u64>(load<usize>(THREAD, T_AREA), <u64>cs, RSEQ_CS);
    rseq_inject(inj, 1);
    const preempted = rseq_inject_preempted(inj, 8, seqp, s0);
    const same = load<i32>(load<usize>(THREAD, T_AREA), RSEQ_CPU_ID) == cpu;
    rseq_inject(inj, 2);
    const v = load<i64>(p);
    rseq_inject(inj, 3); rseq_inject(inj, 4); rseq_inject(inj, 5); rseq_inject(inj, 7);
    if ((s0 & 1) == 0 && !preempted && same && atomic.load<u32>(seqp) == s0) {
      rseq_inject(inj, 6);
      store<i64>(p, v + 1);
      store<u64>(THREAD, load<u64>(THREAD, T_COMMITS) + 1, T_COMMITS);
    } else {
      percpu_counter_add(PERCPU_CPU_ID, base, 1);
    }
  }
  return iters;
}
