// anatomy: the rseq add taken apart, one step added per implementation (1 thread).
import { COLUMNS, STANDARD } from '../metrics.js';
import type { Impl, Suite } from '../suite.js';
import { percpuCounter } from './counter.js';

const STEPS: [string, string, string][] = [
  ['1-plain', 'anatomy_plain', 'plain add on the current vCPU\'s slot, index read once (the floor)'],
  ['2-check', 'anatomy_check', '+ sequence snapshot and commit check (T_SEQP, two atomic loads)'],
  ['3-index', 'anatomy_index', '+ cpu_id from struct rseq, pool stride and cpu compare, every op'],
  ['4-rseq_cs', 'anatomy_cs', '+ rseq_cs store of the (constant) descriptor address, injection flag'],
  ['5-account', 'anatomy_account', '+ the per-thread commit count (T_COMMITS load/add/store)'],
  ['6-inject', 'anatomy_inject', '+ the nine injection points (flag tests around cold host calls)'],
  ['7-full', 'counter_rseq', 'the library\'s percpu_counter_add (= counter rseq): + slow-path branches, retry loop'],
];

const impls: Impl[] = STEPS.map(([id, fn, what]) => ({
  id, kind: id === '1-plain' ? 'plain' : 'rseq', baseline: '1-plain', what, onlyThreads: [1],
  prepare: (env) => percpuCounter(env, id, fn),
}));

export const anatomy: Suite = {
  id: 'anatomy', title: 'where the rseq add\'s time goes, one step at a time', impls, metrics: STANDARD, columns: COLUMNS,
};
