// injection: the counter and list rseq implementations re-run while the supervisor requests
// preemptions and migrations at each --inject-hz rate (baseline: the same implementation at 0 Hz).
import { analysisHelpers as h, type TargetDef } from '../analysis.js';
import { COLUMNS, STANDARD, achievedHz, actedPerSec, requestedHz } from '../metrics.js';
import type { Impl, Suite } from '../suite.js';
import { counterRseq } from './counter.js';
import { listRseq } from './list.js';

const impls: Impl[] = [
  { ...counterRseq, id: 'counter-rseq', baseline: 'counter-rseq', counterpart: undefined, what: 'counter rseq under injected preemption + migration' },
  { ...listRseq, id: 'list-rseq', baseline: 'list-rseq', what: 'list rseq under injected preemption + migration' },
];

const targets: TargetDef[] = [
  {
    id: 'injection-10k', text: 'injection at 10 kHz costs <= 5% of counter throughput', target: 5, bound: 'max', unit: '%',
    eval(all) {
      const cost = (t: number) => {
        const a = h.find(all, 'injection', 'counter-rseq', t, 10000);
        const b = h.find(all, 'injection', 'counter-rseq', t, 0);
        return a && b ? { pct: (1 - a.opsPerSec / b.opsPerSec) * 100, a, b } : undefined;
      };
      // Judged with every vCPU busy (threads = 2, or 1 if that is all that ran); 1 thread shown too.
      const main = cost(2) ?? cost(1);
      if (!main) return 'needs injection at 0 and 10000 Hz';
      const one = main.a.threads !== 1 ? cost(1) : undefined;
      return {
        measured: main.pct,
        detail: `${main.a.threads} threads: ${h.mops(main.a.opsPerSec)} at 10 kHz vs ${h.mops(main.b.opsPerSec)} at 0 Hz, `
          + `${main.a.abortsPerOp.toExponential(1)} aborts/op` + (one ? `; 1 thread: ${one.pct.toFixed(1)}%` : ''),
      };
    },
  },
];

export const injection: Suite = {
  id: 'injection', title: 'counter and list rseq under injected preemptions and migrations',
  impls, metrics: [...STANDARD, actedPerSec, requestedHz, achievedHz], columns: [...COLUMNS, 'requestedHz', 'achievedHz', 'requestsPerSec', 'actedPerSec'],
  baseline: 'the same implementation at 0 Hz', baselineRate: 0, rates: (o) => o.injectHz, targets,
  notes: (meta) => [meta.injection, 'requested / achieved Hz/vCPU: preempt + migrate requests asked for / made by the supervisor per second per vCPU running a thread (kernel statistics over the sample\'s wall time)',
    'requests/s: made by the supervisor (all vCPUs); acted/s: preemptions + migrations the threads acted on'],
};
