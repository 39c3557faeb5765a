// param-test's -v statistics (the test types and --target alike): the outcome and time, aborts by
// cause, injection rates requested vs achieved, and the selftest's last line.
import type { SupervisorOptions } from '../kernel/supervisor.js';
import type { ParamTestResult } from './run.js';

export interface RunShape { threads: number; cpus: number; supervisor: SupervisorOptions; /** e.g. 'cpu_id'. */ detail: string }

/** The -v lines; the last is `commits=<n> aborts=<n> migrations=<n> preemptions=<n>`. */
export function statsLines(r: ParamTestResult, run: RunShape): string[] {
  const s = r.stats;
  const by = Object.entries(s.abortsBy).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(' ');
  // Injection rates per vCPU running a thread: requested (options) vs achieved (the supervisor's requests over the run).
  const secs = Math.max(r.runMs, 1e-3) / 1000;
  const busy = Math.min(run.threads, run.cpus);
  const kinds = [['preempt', run.supervisor.preemptHz], ['migrate', run.supervisor.migrateHz], ['signal', run.supervisor.signalHz]] as const;
  const rates = kinds.map(([k, hz]) => {
    const made = s.cpus.reduce((a, c) => a + c.requested[k], 0);
    return `${k} requested=${hz ?? 0} achieved=${(made / busy / secs).toFixed(1)}`;
  });
  return [
    `${r.message} in ${r.ms.toFixed(0)} ms (${run.threads} threads, ${run.cpus} vCPUs, ${run.detail})`,
    `aborts by cause: ${by || 'none'}; signals=${s.signals} fences=${s.fences}`,
    `injection per vCPU: ${rates.join(' ')}`,
    `commits=${s.commits} aborts=${s.aborts} migrations=${s.migrations} preemptions=${s.preemptions}`,
  ];
}
