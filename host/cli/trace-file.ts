// Writing a run's trace for --trace FILE.json [--trace-events N] (param-test, alloc-test, soak).
import { writeFileSync } from 'node:fs';
import type { TraceSink } from '../param-test/run.js';
import type { ChromeTrace } from '../trace/chrome.js';

/** The sink a run traces into when --trace is given (ring size from --trace-events), else undefined. */
export function traceSink(o: { trace?: unknown; traceEvents?: unknown }): TraceSink | undefined {
  return o.trace ? { eventsPerThread: o.traceEvents as number | undefined } : undefined;
}

/** Write `trace` to `file` as JSON; returns the line that says what was written. */
export function writeTrace(file: string, trace: ChromeTrace): string {
  writeFileSync(file, JSON.stringify(trace));
  const dropped = Number(trace.otherData?.dropped ?? 0);
  return `trace: ${trace.traceEvents.length} events written to ${file}${dropped ? ` (the rings were full: ${dropped} older events dropped; --trace-events N keeps more)` : ''}`;
}
