// The supervisor: a worker of its own (off the main event loop) that ticks the emulated clock,
// time-slices vCPUs when threads wait for one, and injects preemption, migration and signals by
// policy from a seeded PRNG. It only ever *requests* (DESIGN §3.2); owners act at checkpoints.
import { parentPort, workerData } from 'node:worker_threads';
import type { Abi } from '../abi.js';
import { SharedView, type MemoryPlan } from '../memory.js';
import { prng } from './prng.js';
import { Sched } from './sched.js';

export interface SupervisorOptions {
  /** Time slice when threads wait for a vCPU, in ms (default 2). */
  sliceMs?: number;
  /** Injected preemptions per second per vCPU (default 0). */
  preemptHz?: number;
  /** Injected migrations per second per vCPU (default 0). */
  migrateHz?: number;
  /** Injected signals per second per vCPU (default 0). */
  signalHz?: number;
  /** 'random' (Bernoulli per tick, default) or 'periodic'. */
  policy?: 'random' | 'periodic';
}

export interface SupervisorData { memory: WebAssembly.Memory; abi: Abi; plan: MemoryPlan; seed: number; options: SupervisorOptions }

export function supervise(d: SupervisorData): void {
  const v = new SharedView(d.memory);
  const { abi } = d;
  const s = new Sched(v, abi, d.plan);
  const o = d.options;
  const rates: [number, number][] = [
    [o.preemptHz ?? 0, abi.REQ_PREEMPT], [o.migrateHz ?? 0, abi.REQ_MIGRATE], [o.signalHz ?? 0, abi.REQ_SIGNAL],
  ];
  const counters: [number, number][] = [[abi.REQ_PREEMPT, abi.CPU_PREEMPTS], [abi.REQ_MIGRATE, abi.CPU_MIGRATES], [abi.REQ_SIGNAL, abi.CPU_SIGNALS]];
  const maxHz = Math.max(0, ...rates.map(([hz]) => hz));
  const tickMs = Math.min(1, Math.max(0.05, maxHz > 0 ? 500 / maxHz : 1));
  const sliceTicks = Math.max(1, Math.round((o.sliceMs ?? 2) / tickMs));
  const random = prng(d.seed);
  const phase = new Float64Array(d.plan.cpus * rates.length);
  const run = abi.SCHED_SUPERVISOR >> 2;
  const request = (c: number, bit: number) => {
    s.request(c, bit);
    const [, counter] = counters.find(([b]) => b === bit)!;
    v.add(s.cpu(c) + counter, 1);
  };
  let last = performance.now();
  while (Atomics.load(v.i32, run) === 1) {
    Atomics.wait(v.i32, run, 1, tickMs);
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    const tick = v.add(abi.SCHED_TICK, 1) + 1;
    const waiting = s.waiters() > 0;
    for (let c = 0; c < d.plan.cpus; c++) {
      if (v.load(s.cpu(c) + abi.CPU_OWNER) === 0) continue;
      if (waiting && tick - v.load(s.cpu(c) + abi.CPU_SINCE) >= sliceTicks) s.request(c, abi.REQ_PREEMPT);
      rates.forEach(([hz, bit], k) => {
        if (hz <= 0) return;
        const p = hz * dt;
        if (o.policy === 'periodic') {
          const i = c * rates.length + k;
          phase[i] += p;
          if (phase[i] >= 1) { phase[i] %= 1; request(c, bit); }
        } else if (random() < p) {
          request(c, bit);
        }
      });
    }
  }
}

if (parentPort && (workerData as { supervisor?: boolean })?.supervisor) {
  parentPort.postMessage('ready');
  supervise(workerData as SupervisorData);
  parentPort.postMessage('stopped');
}
