// A kernel run's trace rings (host/kernel/trace-ring.ts) as Chrome Trace Event JSON, in the shape of
// check traces (chrome.ts): each thread's time on a vCPU is a span "on vCPU c" on its track and the
// vCPU's; aborts (with their cause), requests acted on, migrations, yields, sleeps, time-slice
// extension grants and ends and the thread's death are instants; the supervisor's requests appear
// on the vCPU tracks. Timestamps are µs since the kernel started (or was last reset).
import type { Abi } from '../abi.js';
import { ABORT_CAUSES } from '../kernel/stats.js';
import type { Ring } from '../kernel/trace-ring.js';
import {
  CPUS_PID, THREADS_PID, instant, instantOnBoth, requestNames, spanOnBoth, trackMetadata, type ChromeTrace, type TraceEvent,
} from './chrome.js';

/** Rounded to ns: the clocks read no finer, and the JSON stays small. */
const us = (ts: number) => Math.round(ts * 1000) / 1000;

export function kernelTrace(abi: Abi, rings: readonly Ring[], cpus: number, capacity: number): ChromeTrace {
  const threads = rings.length - 1;
  const out: TraceEvent[] = [];
  // Spans still open when the trace was taken end at its last event (rings are in time order).
  const end = us(rings.reduce((m, r) => Math.max(m, r.events.at(-1)?.ts ?? 0), 0));
  const sliceEnd = new Map<number, string>([
    [abi.T_SLICE_YIELDED, 'yielded'], [abi.T_SLICE_ABORTED, 'aborted'], [abi.T_SLICE_EXPIRED, 'expired'], [abi.T_SLICE_REVOKED, 'revoked'],
  ]);
  for (let t = 0; t < threads; t++) {
    const { events, dropped } = rings[t];
    // A ring that wrapped lost the take that opened its first span: that span starts at its first event.
    let open: { ts: number; cpu: number; truncated?: boolean } | undefined;
    if (dropped > 0 && events.length) {
      const first = events.find((e) => e.kind === abi.TEV_TAKE || e.kind === abi.TEV_RELEASE);
      if (first?.kind === abi.TEV_RELEASE) open = { ts: us(events[0].ts), cpu: first.cpu, truncated: true };
    }
    const close = (ts: number, args: Record<string, unknown>) => {
      if (!open) return;
      spanOnBoth(out, `on vCPU ${open.cpu}`, open.ts, ts, t, open.cpu, open.truncated ? { ...args, truncated: true } : args);
      open = undefined;
    };
    for (const e of events) {
      const ts = us(e.ts);
      switch (e.kind) {
        // A take while a span is open: the vCPU went without a release event (a UMCG hand-off).
        case abi.TEV_TAKE: close(ts, {}); open = { ts, cpu: e.cpu }; break;
        case abi.TEV_RELEASE: close(ts, { commits: e.arg }); break;
        case abi.TEV_ABORT: instantOnBoth(out, `abort (${ABORT_CAUSES[e.aux]})`, ts, t, e.cpu, { cause: ABORT_CAUSES[e.aux] }); break;
        case abi.TEV_ACT: instantOnBoth(out, `act on ${requestNames(e.aux)}`, ts, t, e.cpu); break;
        case abi.TEV_MIGRATE: instantOnBoth(out, `migrate to vCPU ${e.arg}`, ts, t, e.cpu, { from: e.cpu, to: e.arg }); break;
        case abi.TEV_YIELD: instantOnBoth(out, 'yield', ts, t, e.cpu); break;
        case abi.TEV_SLEEP: instantOnBoth(out, `sleep ${e.arg} ms`, ts, t, e.cpu); break;
        case abi.TEV_SLICE_GRANT: instantOnBoth(out, 'slice extension granted', ts, t, e.cpu); break;
        case abi.TEV_SLICE_END: instantOnBoth(out, `slice extension ${sliceEnd.get(e.aux) ?? 'ended'}`, ts, t, e.cpu); break;
        case abi.TEV_DEATH: close(ts, { died: true }); out.push(instant('thread died', ts, THREADS_PID, t)); break;
      }
    }
    close(end, { unfinished: true });
  }
  const why = ['request', 'time slice end', 'slice extension expired'];
  for (const e of rings[threads].events) {
    if (e.kind !== abi.TEV_REQUEST) continue;
    const name = e.arg === 0 ? `request ${requestNames(e.aux)}` : why[e.arg] ?? 'request';
    out.push(instant(name, us(e.ts), CPUS_PID, e.cpu, { by: 'supervisor' }));
  }
  out.sort((a, b) => a.ts - b.ts);
  const droppedBy: Record<string, number> = {};
  rings.forEach((r, i) => { if (r.dropped > 0) droppedBy[i < threads ? `thread ${i}` : 'supervisor'] = r.dropped; });
  const dropped = rings.reduce((a, r) => a + r.dropped, 0);
  return {
    traceEvents: [...trackMetadata(threads, cpus), ...out],
    displayTimeUnit: 'ms',
    otherData: {
      producer: 'wasm-rseq kernel', unit: 'us since the kernel started (or was reset)', eventsPerThread: capacity,
      recorded: rings.reduce((a, r) => a + r.written, 0), dropped, droppedBy, wrapped: dropped > 0,
      note: 'aborts at an operation\'s cpu compare (kernel.stats().abortsBy.mismatch) happen in wasm without entering the kernel and are not events',
    },
  };
}
