// The supervisor: a worker of its own (off the main event loop) that ticks the emulated clock,
// time-slices vCPUs when threads wait for one, and injects preemption, migration and signals by
// policy from a seeded PRNG. It only ever *requests* (DESIGN §3.2); owners act at checkpoints.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
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

/** The policy as the loop uses it: rates by request bit, tick and slice lengths. */
function compile(abi: Abi, o: SupervisorOptions) {
  const rates: [number, number][] = [
    [o.preemptHz ?? 0, abi.REQ_PREEMPT], [o.migrateHz ?? 0, abi.REQ_MIGRATE], [o.signalHz ?? 0, abi.REQ_SIGNAL],
  ];
  const maxHz = Math.max(0, ...rates.map(([hz]) => hz));
  const tickMs = Math.min(1, Math.max(0.05, maxHz > 0 ? 500 / maxHz : 1));
  return { rates, periodic: o.policy === 'periodic', tickMs, sliceTicks: Math.max(1, Math.round((o.sliceMs ?? 2) / tickMs)) };
}

/**
 * The supervisor loop. `inbox` returns the newest options the host posted (Kernel.supervise), if
 * any: they take effect from the next tick, and the host learns so through SCHED_SUP_ACK.
 */
export function supervise(d: SupervisorData, inbox: () => SupervisorOptions | undefined = () => undefined): void {
  const v = new SharedView(d.memory);
  const { abi } = d;
  const s = new Sched(v, abi, d.plan);
  const counters: [number, number][] = [[abi.REQ_PREEMPT, abi.CPU_PREEMPTS], [abi.REQ_MIGRATE, abi.CPU_MIGRATES], [abi.REQ_SIGNAL, abi.CPU_SIGNALS]];
  let p = compile(abi, d.options);
  const random = prng(d.seed);
  const phase = new Float64Array(d.plan.cpus * p.rates.length);
  const run = abi.SCHED_SUPERVISOR >> 2;
  const request = (c: number, bit: number) => {
    s.request(c, bit);
    const [, counter] = counters.find(([b]) => b === bit)!;
    v.add(s.cpu(c) + counter, 1);
  };
  let gen = v.load(abi.SCHED_SUP_GEN);
  let last = performance.now();
  const owned = () => {
    for (let c = 0; c < d.plan.cpus; c++) if (v.load(s.cpu(c) + abi.CPU_OWNER) !== 0) return true;
    return false;
  };
  while (Atomics.load(v.i32, run) === 1) {
    if (owned()) {
      Atomics.wait(v.i32, run, 1, p.tickMs);
    } else {
      // Nothing to slice or inject: sleep until a thread takes a vCPU, the policy changes or the
      // kernel closes; each of those clears the flag after its change, then wakes us (wakeIdle).
      v.store(abi.SCHED_SUP_IDLE, 1);
      if (!owned() && v.load(abi.SCHED_SUP_GEN) === gen && Atomics.load(v.i32, run) === 1) {
        Atomics.wait(v.i32, abi.SCHED_SUP_IDLE >> 2, 1);
      }
      v.store(abi.SCHED_SUP_IDLE, 0);
      last = performance.now();
    }
    const posted = v.load(abi.SCHED_SUP_GEN);
    if (posted !== gen) {
      // The host posts before it bumps GEN: every change up to `posted` is in the port by now.
      const o = inbox();
      if (o) { p = compile(abi, o); phase.fill(0); }
      gen = posted;
      v.store(abi.SCHED_SUP_ACK, gen);
      Atomics.notify(v.i32, abi.SCHED_SUP_ACK >> 2);
    }
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    const tick = v.add(abi.SCHED_TICK, 1) + 1;
    const waiting = s.waiters() > 0;
    for (let c = 0; c < d.plan.cpus; c++) {
      if (v.load(s.cpu(c) + abi.CPU_OWNER) === 0) continue;
      if (waiting && tick - v.load(s.cpu(c) + abi.CPU_SINCE) >= p.sliceTicks) s.request(c, abi.REQ_PREEMPT);
      p.rates.forEach(([hz, bit], k) => {
        if (hz <= 0) return;
        const chance = hz * dt;
        if (p.periodic) {
          const i = c * p.rates.length + k;
          phase[i] += chance;
          if (phase[i] >= 1) { phase[i] %= 1; request(c, bit); }
        } else if (random() < chance) {
          request(c, bit);
        }
      });
    }
  }
}

/** Drain the port, keeping the newest message (several changes may land within one tick). */
function newest(port: MessagePort): SupervisorOptions | undefined {
  let o: SupervisorOptions | undefined;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) o = m.message as SupervisorOptions;
  return o;
}

if (parentPort && (workerData as { supervisor?: boolean })?.supervisor) {
  parentPort.postMessage('ready');
  supervise(workerData as SupervisorData, () => newest(parentPort!));
  parentPort.postMessage('stopped');
}
