// Writing a run's trace for --trace FILE.json (param-test, alloc-test, soak).
import { writeFileSync } from 'node:fs';
import type { ChromeTrace } from '../trace/chrome.js';

/** Write `trace` to `file` as JSON; returns the line that says what was written. */
export function writeTrace(file: string, trace: ChromeTrace): string {
  writeFileSync(file, JSON.stringify(trace));
  const dropped = Number(trace.otherData?.dropped ?? 0);
  return `trace: ${trace.traceEvents.length} events written to ${file}${dropped ? ` (the rings were full: ${dropped} older events dropped)` : ''}`;
}
