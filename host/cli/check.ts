// `wasm-rseq check`: check() with its outcome printed, the trace written, and the exit code.
import { writeFileSync } from 'node:fs';
import { check, type CheckOptions } from '../check/check.js';

/** check() for the CLI: prints the outcome, writes the trace, returns the exit code. */
export async function checkCommand(o: CheckOptions & { traceFile?: string }, log = console.log, err = console.error): Promise<number> {
  const r = await check({ ...o, trace: !!o.traceFile });
  if (o.traceFile && r.trace) writeFileSync(o.traceFile, JSON.stringify(r.trace));
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
