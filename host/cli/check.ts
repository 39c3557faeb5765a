// `wasm-rseq check`: check() with its outcome printed, the trace and timeline written, and the exit
// code; and `wasm-rseq timeline`, any trace file as a timeline page.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { check, type CheckOptions } from '../check/check.js';
import { UsageError } from '../errors.js';
import { timelineHtml } from '../trace/timeline.js';

/** check() for the CLI: prints the outcome, writes the trace and timeline, returns the exit code. */
export async function checkCommand(o: CheckOptions & { traceFile?: string; timelineFile?: string }, log = console.log, err = console.error): Promise<number> {
  const r = await check({ ...o, trace: !!(o.traceFile || o.timelineFile) });
  if (o.traceFile && r.trace) writeFileSync(o.traceFile, JSON.stringify(r.trace));
  if (o.timelineFile && r.trace) {
    const f = r.failure;
    const title = `wasm-rseq check ${o.file ?? ''}: ${f ? `FAILED (${f.error ?? `check_verify returned ${f.verify}`})` : 'schedule passed'}`;
    writeFileSync(o.timelineFile, timelineHtml(r.trace, { title, subtitle: f ? `replay: ${f.replay}` : `schedule ${o.replay}` }));
  }
  if ((o.traceFile || o.timelineFile) && !r.trace) log('check: no failing schedule, so no trace or timeline was written (--replay SCHEDULE traces any one)');
  const rate = `${r.schedules} schedule${r.schedules === 1 ? '' : 's'} in ${r.seconds.toFixed(2)} s (${r.perSecond.toFixed(0)} schedules/s)`;
  if (r.ok) {
    log(`check: no failure in ${rate}; ${r.points} decision points without preemption`);
    return 0;
  }
  const f = r.failure!;
  err(`check FAILED after ${f.schedulesToFailure} schedules: ${f.error ?? `check_verify returned ${f.verify}`}`);
  err(`schedule: ${f.schedule}`);
  err(`explored ${rate}`);
  err(`replay: ${f.replay}`);
  return 1;
}

/** `wasm-rseq timeline TRACE.json -o OUT.html`. Throws UsageError for an unreadable or non-trace file. */
export function timelineCommand(traceFile: string, outFile: string): void {
  let trace: unknown;
  try {
    trace = JSON.parse(readFileSync(traceFile, 'utf8'));
  } catch (e) {
    throw new UsageError(`timeline: cannot read ${traceFile}: ${(e as Error).message}`, { cause: e });
  }
  writeFileSync(outFile, timelineHtml(trace, { title: basename(traceFile) }));
}
