// A checked schedule as Chrome Trace Event JSON (Perfetto, chrome://tracing): one track per thread
// and per vCPU; operations and sections as complete (X) spans, aborts, commits, requests,
// migrations and run-token passes as instant events. Time is the event's index (1 µs each).
import type { Abi } from '../abi.js';

export interface CheckEvent { kind: number; thread: number; cpu: number; arg: number }

interface TraceEvent { name: string; ph: string; ts: number; dur?: number; pid: number; tid: number; s?: string; args?: Record<string, unknown> }

const THREADS = 1;
const CPUS = 2;
const REQ_NAMES: [number, string][] = [[1, 'preempt'], [2, 'migrate'], [4, 'signal'], [8, 'fence']];

export function chromeTrace(abi: Abi, events: readonly CheckEvent[], threads: number, cpus: number): object {
  const out: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: THREADS, tid: 0, args: { name: 'threads' } },
    { name: 'process_name', ph: 'M', ts: 0, pid: CPUS, tid: 0, args: { name: 'vCPUs' } },
  ];
  for (let t = 0; t < threads; t++) out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: THREADS, tid: t, args: { name: `thread ${t}` } });
  for (let c = 0; c < cpus; c++) out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: CPUS, tid: c, args: { name: `vCPU ${c}` } });
  const op = new Map<number, { ts: number; step: number }>();
  const sec = new Map<number, { ts: number; cpu: number }>();
  const instant = (name: string, ts: number, e: CheckEvent, args: Record<string, unknown> = {}) => {
    out.push({ name, ph: 'i', s: 't', ts, pid: THREADS, tid: e.thread, args: { vcpu: e.cpu, ...args } });
    if (e.cpu >= 0) out.push({ name, ph: 'i', s: 't', ts, pid: CPUS, tid: e.cpu, args: { thread: e.thread, ...args } });
  };
  const endSection = (e: CheckEvent, ts: number, how: string) => {
    const s = sec.get(e.thread);
    if (!s) return;
    sec.delete(e.thread);
    const name = `section (${how})`;
    out.push({ name, ph: 'X', ts: s.ts, dur: Math.max(1, ts - s.ts), pid: THREADS, tid: e.thread, args: { vcpu: s.cpu } });
    if (s.cpu >= 0) out.push({ name: `t${e.thread} ${name}`, ph: 'X', ts: s.ts, dur: Math.max(1, ts - s.ts), pid: CPUS, tid: s.cpu, args: { thread: e.thread } });
  };
  events.forEach((e, i) => {
    const ts = i + 1;
    switch (e.kind) {
      case abi.CHK_EV_OP: op.set(e.thread, { ts, step: e.arg }); break;
      case abi.CHK_EV_OP_END: {
        endSection(e, ts, 'left');
        const o = op.get(e.thread);
        if (o) out.push({ name: `op ${o.step}`, ph: 'X', ts: o.ts, dur: Math.max(1, ts - o.ts), pid: THREADS, tid: e.thread });
        break;
      }
      case abi.CHK_EV_BEGIN:
        endSection(e, ts, 'restarted');
        sec.set(e.thread, { ts, cpu: e.cpu });
        break;
      case abi.CHK_EV_COMMIT: endSection(e, ts + 1, 'committed'); instant('commit', ts, e); break;
      case abi.CHK_EV_ABORT: endSection(e, ts, 'aborted'); instant('abort', ts, e); break;
      case abi.CHK_EV_REQUEST: {
        const bits = e.arg & 0xff;
        const what = REQ_NAMES.filter(([b]) => bits & b).map(([, n]) => n).join('+');
        out.push({ name: `request ${what}`, ph: 'i', s: 't', ts, pid: CPUS, tid: e.arg >> 8, args: { by: e.thread } });
        out.push({ name: `request ${what} on vCPU ${e.arg >> 8}`, ph: 'i', s: 't', ts, pid: THREADS, tid: e.thread });
        break;
      }
      case abi.CHK_EV_MIGRATE: instant(`migrate to vCPU ${e.arg & 0xff}`, ts, e); break;
      case abi.CHK_EV_RUN: instant(`run thread ${e.arg}`, ts, e); break;
      case abi.CHK_EV_TAKE: instant(`take vCPU ${e.arg}`, ts, e); break;
      case abi.CHK_EV_RELEASE: instant(`release vCPU ${e.arg}`, ts, e); break;
    }
  });
  return { traceEvents: out, displayTimeUnit: 'ms', otherData: { producer: 'wasm-rseq check', unit: '1 us = 1 event' } };
}
