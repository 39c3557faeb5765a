// The Chrome Trace Event shape every wasm-rseq trace has (check schedules, kernel runs), so that
// Perfetto and the HTML timeline read them alike: one track per thread (pid 1) and per vCPU (pid 2)
// named by 'M' metadata, spans as complete events (ph 'X'), points as thread-scoped instants (ph 'i').
// Timestamps and durations are in µs.
import { ABI } from '../abi.js';

export interface TraceEvent {
  name: string; ph: string; ts: number; dur?: number; pid: number; tid: number; s?: string; args?: Record<string, unknown>;
}
export interface ChromeTrace { traceEvents: TraceEvent[]; displayTimeUnit: 'ms' | 'ns'; otherData?: Record<string, unknown> }

/** The process ids of the two groups of tracks. */
export const THREADS_PID = 1;
export const CPUS_PID = 2;

/** Names for the process groups and for each thread's and vCPU's track. */
export function trackMetadata(threads: number, cpus: number): TraceEvent[] {
  const out: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: THREADS_PID, tid: 0, args: { name: 'threads' } },
    { name: 'process_name', ph: 'M', ts: 0, pid: CPUS_PID, tid: 0, args: { name: 'vCPUs' } },
  ];
  for (let t = 0; t < threads; t++) out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: THREADS_PID, tid: t, args: { name: `thread ${t}` } });
  for (let c = 0; c < cpus; c++) out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: CPUS_PID, tid: c, args: { name: `vCPU ${c}` } });
  return out;
}

/** A complete event from `ts` to `end` (at least 1 µs, so a zero-length span stays visible; to the ns). */
export function span(name: string, ts: number, end: number, pid: number, tid: number, args?: Record<string, unknown>): TraceEvent {
  const e: TraceEvent = { name, ph: 'X', ts, dur: Math.max(1, Math.round((end - ts) * 1000) / 1000), pid, tid };
  if (args) e.args = args;
  return e;
}

/** A thread-scoped instant event. */
export function instant(name: string, ts: number, pid: number, tid: number, args?: Record<string, unknown>): TraceEvent {
  const e: TraceEvent = { name, ph: 'i', s: 't', ts, pid, tid };
  if (args) e.args = args;
  return e;
}

/** An instant on `thread`'s track and, when it names one (cpu >= 0), on the vCPU's track too. */
export function instantOnBoth(out: TraceEvent[], name: string, ts: number, thread: number, cpu: number, args: Record<string, unknown> = {}): void {
  out.push(instant(name, ts, THREADS_PID, thread, { vcpu: cpu, ...args }));
  if (cpu >= 0) out.push(instant(name, ts, CPUS_PID, cpu, { thread, ...args }));
}

/** A span on `thread`'s track and, when cpu >= 0, on the vCPU's track named `t<thread> <name>`. */
export function spanOnBoth(out: TraceEvent[], name: string, ts: number, end: number, thread: number, cpu: number, args: Record<string, unknown> = {}): void {
  out.push(span(name, ts, end, THREADS_PID, thread, { vcpu: cpu, ...args }));
  if (cpu >= 0) out.push(span(`t${thread} ${name}`, ts, end, CPUS_PID, cpu, { thread, ...args }));
}

/** The names of the request bits set in `bits` (REQ_* order), joined with '+'. */
export function requestNames(bits: number): string {
  const names = [[ABI.REQ_PREEMPT, 'preempt'], [ABI.REQ_MIGRATE, 'migrate'], [ABI.REQ_SIGNAL, 'signal'], [ABI.REQ_FENCE, 'fence']] as const;
  return names.filter(([b]) => bits & b).map(([, n]) => n).join('+');
}
