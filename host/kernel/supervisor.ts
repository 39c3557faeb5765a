// The supervisor: a thread of its own (off the main event loop) that ticks the emulated clock and
// plays the timer interrupt. Each tick it asks the policy (policy.ts) what to request on every
// owned vCPU — a time-slice end when threads wait, injected preemptions, migrations, signals — and
// makes those requests (DESIGN §3.2: it only ever requests; owners act at their checkpoints).
import type { Abi } from '../abi.js';
import { SharedView, type MemoryPlan } from '../memory.js';
import { platform } from '../platform/index.js';
import { SLICE_END, createPolicy, type PolicySpec, type SupervisorOptions } from './policy.js';
import { Sched } from './sched.js';
import { TraceWriter, supervisorRing } from './trace-ring.js';
import { nowMs } from './slice.js';

export type { SupervisorOptions } from './policy.js';

export interface SupervisorData { memory: WebAssembly.Memory; abi: Abi; plan: MemoryPlan; policy: PolicySpec }

/** Host side: publish new options in the policy words (the caller bumps SCHED_SUP_GEN after). */
export function writeSupervisorOptions(v: SharedView, abi: Abi, o: SupervisorOptions): void {
  const p = abi.SCHED_POLICY;
  v.f64[(p + abi.POL_SLICE_MS) >> 3] = o.sliceMs ?? 2;
  v.f64[(p + abi.POL_PREEMPT_HZ) >> 3] = o.preemptHz ?? 0;
  v.f64[(p + abi.POL_MIGRATE_HZ) >> 3] = o.migrateHz ?? 0;
  v.f64[(p + abi.POL_SIGNAL_HZ) >> 3] = o.signalHz ?? 0;
  v.store(p + abi.POL_PERIODIC, o.policy === 'periodic' ? 1 : 0);
  v.store(p + abi.POL_ACTIVE, (o.preemptHz ?? 0) > 0 || (o.migrateHz ?? 0) > 0 || (o.signalHz ?? 0) > 0 ? 1 : 0);
}

function readSupervisorOptions(v: SharedView, abi: Abi): SupervisorOptions {
  const p = abi.SCHED_POLICY;
  return {
    sliceMs: v.f64[(p + abi.POL_SLICE_MS) >> 3], preemptHz: v.f64[(p + abi.POL_PREEMPT_HZ) >> 3],
    migrateHz: v.f64[(p + abi.POL_MIGRATE_HZ) >> 3], signalHz: v.f64[(p + abi.POL_SIGNAL_HZ) >> 3],
    policy: v.load(p + abi.POL_PERIODIC) === 1 ? 'periodic' : 'random',
  };
}

/** The supervisor loop, until SCHED_SUPERVISOR drops to 0. */
export function supervise(d: SupervisorData): void {
  const v = new SharedView(d.memory);
  const { abi } = d;
  const s = new Sched(v, abi, d.plan);
  const policy = createPolicy(abi, d.policy, d.plan.cpus);
  const trace = d.plan.traceBase ? new TraceWriter(v, abi, d.plan, supervisorRing(d.plan)) : undefined;
  const counted: [number, number][] = [[abi.REQ_PREEMPT, abi.CPU_PREEMPTS], [abi.REQ_MIGRATE, abi.CPU_MIGRATES], [abi.REQ_SIGNAL, abi.CPU_SIGNALS]];
  const run = abi.SCHED_SUPERVISOR >> 2;
  let gen = v.load(abi.SCHED_SUP_GEN);
  let last = performance.now();
  const owned = () => {
    for (let c = 0; c < d.plan.cpus; c++) if (v.load(s.cpu(c) + abi.CPU_OWNER) !== 0) return true;
    return false;
  };
  // Ticks are needed only to time-slice (threads wait) or to inject (rates > 0 on an owned vCPU).
  const needed = () => s.waiters() > 0 || (v.load(abi.SCHED_POLICY + abi.POL_ACTIVE) !== 0 && owned());
  // The earliest time-slice-extension deadline of an owner (absolute ms), Infinity for none.
  let nextDeadline = Infinity;
  while (Atomics.load(v.i32, run) === 1) {
    if (needed()) {
      // A granted extension ends at its deadline, not at the next tick (the kernel's hrtimer).
      const wait = Math.min(policy.tickMs, nextDeadline - nowMs());
      if (wait > 0) Atomics.wait(v.i32, run, 1, wait);
    } else {
      // Nothing to slice or inject: sleep until a thread queues for a vCPU (or takes one while
      // rates are > 0), the policy changes or the kernel closes; each of those clears the flag after
      // its change, then wakes us (wakeIdle). Taking and releasing a vCPU uncontended wakes nobody.
      v.store(abi.SCHED_SUP_IDLE, 1);
      if (!needed() && v.load(abi.SCHED_SUP_GEN) === gen && Atomics.load(v.i32, run) === 1) {
        Atomics.wait(v.i32, abi.SCHED_SUP_IDLE >> 2, 1);
      }
      v.store(abi.SCHED_SUP_IDLE, 0);
      last = performance.now();
    }
    const posted = v.load(abi.SCHED_SUP_GEN);
    if (posted !== gen) {
      // The host writes the policy words before it bumps GEN: they hold the newest options.
      policy.update(readSupervisorOptions(v, abi));
      gen = posted;
      v.store(abi.SCHED_SUP_ACK, gen);
      Atomics.notify(v.i32, abi.SCHED_SUP_ACK >> 2);
    }
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    const tick = v.add(abi.SCHED_TICK, 1) + 1;
    const waiting = s.waiters() > 0;
    const wall = nowMs();
    nextDeadline = Infinity;
    for (let c = 0; c < d.plan.cpus; c++) {
      const cr = s.cpu(c);
      const owner = v.load(cr + abi.CPU_OWNER);
      if (owner === 0) continue;
      let bits = policy.onTick({ cpu: c, dt, held: tick - v.load(cr + abi.CPU_SINCE), waiting });
      // Time-slice extension: an owner holding a grant is not preempted until its deadline; then it is.
      const deadline = owner > 0 ? v.f64[(s.thread(owner - 1) + abi.T_SLICE_DEADLINE) >> 3] : 0;
      if (deadline > 0) {
        if (wall >= deadline) { s.request(c, abi.REQ_PREEMPT); trace?.record(abi.TEV_REQUEST, c, abi.REQ_PREEMPT, abi.TEV_WHY_EXTENSION); }
        else { bits &= ~(SLICE_END | abi.REQ_PREEMPT); nextDeadline = Math.min(nextDeadline, deadline); }
      }
      if (bits === 0) continue;
      if (bits & SLICE_END) { s.request(c, abi.REQ_PREEMPT); trace?.record(abi.TEV_REQUEST, c, abi.REQ_PREEMPT, abi.TEV_WHY_SLICE); }
      if (bits & ~SLICE_END) trace?.record(abi.TEV_REQUEST, c, bits & ~SLICE_END, abi.TEV_WHY_INJECTED);
      for (const [bit, counter] of counted) {
        if (bits & bit) { s.request(c, bit); v.add(cr + counter, 1); }
      }
    }
  }
}

const data = platform.threadData<(SupervisorData & { supervisor?: true }) | undefined>();
if (data?.supervisor) {
  const parent = platform.parent();
  parent.post('ready');
  supervise(data);
  parent.post('stopped');
}
