// A checked schedule as Chrome Trace Event JSON (Perfetto, chrome://tracing): one track per thread
// and per vCPU; operations and sections as complete (X) spans, aborts, commits, requests,
// migrations and run-token passes as instant events. Time is the event's index (1 µs each).
import type { Abi } from '../abi.js';
import {
  CPUS_PID, THREADS_PID, instant, instantOnBoth, requestNames, span, spanOnBoth, trackMetadata, type ChromeTrace,
} from '../trace/chrome.js';

export interface CheckEvent { kind: number; thread: number; cpu: number; arg: number }

export function chromeTrace(abi: Abi, events: readonly CheckEvent[], threads: number, cpus: number): ChromeTrace {
  const out = trackMetadata(threads, cpus);
  const op = new Map<number, { ts: number; step: number }>();
  const sec = new Map<number, { ts: number; cpu: number }>();
  const endSection = (e: CheckEvent, ts: number, how: string) => {
    const s = sec.get(e.thread);
    if (!s) return;
    sec.delete(e.thread);
    spanOnBoth(out, `section (${how})`, s.ts, ts, e.thread, s.cpu);
  };
  events.forEach((e, i) => {
    const ts = i + 1;
    switch (e.kind) {
      case abi.CHK_EV_OP: op.set(e.thread, { ts, step: e.arg }); break;
      case abi.CHK_EV_OP_END: {
        endSection(e, ts, 'left');
        const o = op.get(e.thread);
        if (o) out.push(span(`op ${o.step}`, o.ts, ts, THREADS_PID, e.thread));
        break;
      }
      case abi.CHK_EV_BEGIN:
        endSection(e, ts, 'restarted');
        sec.set(e.thread, { ts, cpu: e.cpu });
        break;
      case abi.CHK_EV_COMMIT: endSection(e, ts + 1, 'committed'); instantOnBoth(out, 'commit', ts, e.thread, e.cpu); break;
      case abi.CHK_EV_ABORT: endSection(e, ts, 'aborted'); instantOnBoth(out, 'abort', ts, e.thread, e.cpu); break;
      case abi.CHK_EV_REQUEST: {
        const what = requestNames(e.arg & 0xff);
        out.push(instant(`request ${what}`, ts, CPUS_PID, e.arg >> 8, { by: e.thread }));
        out.push(instant(`request ${what} on vCPU ${e.arg >> 8}`, ts, THREADS_PID, e.thread));
        break;
      }
      case abi.CHK_EV_MIGRATE: instantOnBoth(out, `migrate to vCPU ${e.arg & 0xff}`, ts, e.thread, e.cpu); break;
      case abi.CHK_EV_RUN: instantOnBoth(out, `run thread ${e.arg}`, ts, e.thread, e.cpu); break;
      case abi.CHK_EV_TAKE: instantOnBoth(out, `take vCPU ${e.arg}`, ts, e.thread, e.cpu); break;
      case abi.CHK_EV_RELEASE: instantOnBoth(out, `release vCPU ${e.arg}`, ts, e.thread, e.cpu); break;
    }
  });
  return { traceEvents: out, displayTimeUnit: 'ms', otherData: { producer: 'wasm-rseq check', unit: '1 us = 1 event' } };
}
