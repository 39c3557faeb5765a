// Statistics read from the shared records: commits, aborts by cause, migrations, preemptions,
// per vCPU and per thread. Reads are racy snapshots; exact once threads are parked.
import type { Abi } from '../abi.js';
import { cpuRec, threadRec, type MemoryPlan, type SharedView } from '../memory.js';

/** Abort causes, in T_ABORT_BY order (the REQ_* bit index). */
export const ABORT_CAUSES = ['preempt', 'migrate', 'signal', 'fence', 'yield', 'sleep', 'mismatch', 'unknown'] as const;
export type AbortCause = (typeof ABORT_CAUSES)[number];

export interface ThreadStats {
  slot: number; state: 'free' | 'live' | 'dead'; registered: boolean; vcpu: number; mmCid: number;
  commits: number; aborts: number; mismatches: number; abortsBy: Record<AbortCause, number>;
  slowPaths: number; preemptions: number; migrations: number; signals: number; fences: number;
  yields: number; sleeps: number; waits: number; faulted: boolean;
}
export interface CpuStats {
  cpu: number; node: number; owner: number; seq: number; commits: number; aborts: number;
  /** The thread slot holding mm_cid `cpu` (CPU_CID_OWNER; cids are numbered like vCPUs), -1 free. */
  cidOwner: number;
  requested: { preempt: number; migrate: number; signal: number; fence: number };
}
export interface KernelStats {
  commits: number; aborts: number; migrations: number; preemptions: number; signals: number; fences: number;
  abortsBy: Record<AbortCause, number>; waiters: number; cpus: CpuStats[]; threads: ThreadStats[];
}

export function readStats(v: SharedView, abi: Abi, plan: MemoryPlan): KernelStats {
  const threads: ThreadStats[] = [];
  for (let t = 0; t < plan.threads; t++) {
    const r = threadRec(abi, plan, t);
    const abortsBy = Object.fromEntries(ABORT_CAUSES.map((c, i) => [c, v.load(r + abi.T_ABORT_BY + 4 * i)])) as Record<AbortCause, number>;
    abortsBy.mismatch = Number(v.load64(r + abi.T_MISMATCH));
    const state = v.load(r + abi.T_STATE);
    threads.push({
      slot: t, state: state === abi.THREAD_LIVE ? 'live' : state === abi.THREAD_DEAD ? 'dead' : 'free',
      registered: v.load(r + abi.T_REG_LEN) !== 0, vcpu: v.load(r + abi.T_VCPU), mmCid: v.load(r + abi.T_CID),
      commits: Number(v.load64(r + abi.T_COMMITS)), aborts: Number(v.load64(r + abi.T_ABORTS)),
      mismatches: abortsBy.mismatch, abortsBy, slowPaths: v.load(r + abi.T_SLOWPATHS),
      preemptions: v.load(r + abi.T_PREEMPTED), migrations: v.load(r + abi.T_MIGRATED), signals: v.load(r + abi.T_SIGNALLED),
      fences: v.load(r + abi.T_FENCED), yields: v.load(r + abi.T_YIELDS), sleeps: v.load(r + abi.T_SLEEPS),
      waits: v.load(r + abi.T_WAITS), faulted: v.load(r + abi.T_FAULT) !== 0,
    });
  }
  const cpus: CpuStats[] = [];
  for (let c = 0; c < plan.cpus; c++) {
    const r = cpuRec(abi, plan, c);
    cpus.push({
      cpu: c, node: v.load(r + abi.CPU_NODE), owner: v.load(r + abi.CPU_OWNER) - 1, seq: v.load(r + abi.CPU_SEQ) >>> 0,
      cidOwner: v.load(r + abi.CPU_CID_OWNER) - 1,
      commits: Number(v.load64(r + abi.CPU_COMMITS)), aborts: Number(v.load64(r + abi.CPU_ABORTS)),
      requested: {
        preempt: v.load(r + abi.CPU_PREEMPTS), migrate: v.load(r + abi.CPU_MIGRATES),
        signal: v.load(r + abi.CPU_SIGNALS), fence: v.load(r + abi.CPU_FENCES),
      },
    });
  }
  const sum = (f: (t: ThreadStats) => number) => threads.reduce((a, t) => a + f(t), 0);
  const abortsBy = Object.fromEntries(ABORT_CAUSES.map((c) => [c, sum((t) => t.abortsBy[c])])) as Record<AbortCause, number>;
  return {
    commits: sum((t) => t.commits), aborts: sum((t) => t.aborts), migrations: sum((t) => t.migrations),
    preemptions: sum((t) => t.preemptions), signals: sum((t) => t.signals), fences: sum((t) => t.fences),
    abortsBy, waiters: v.load(abi.SCHED_WAITERS), cpus, threads,
  };
}
