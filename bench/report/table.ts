// Terminal report: a header naming machine and runtime, one cli-table3 table per suite, and the
// targets block (measured vs target, PASS / MISS).
import Table from 'cli-table3';
import { evaluateTargets, ratioOf } from '../analysis.js';
import type { Measurement } from '../measure.js';
import { bySuite, describe, hz, isBaseline, nanos, perOp, rate, ratio } from './format.js';

const HEAD = ['impl', 'threads', 'vcpus', 'inject Hz', 'ops/s', 'ns/op', 'ratio', 'aborts/op'];

export function renderTable(m: Measurement, color = false): string {
  const out: string[] = [];
  const { meta } = m;
  out.push(`wasm-rseq ${meta.version} benchmarks  ${meta.date}`);
  out.push(`node ${meta.node} (V8 ${meta.v8}) on ${meta.platform}/${meta.arch}, ${meta.cpus} cores (${meta.cpuModel})`);
  out.push(`vCPUs ${meta.vcpus}; threads ${meta.threads.join(',')}; median of ${meta.repeat} samples of ~${meta.sampleMs} ms; time slice ${meta.sliceMs} ms; load average at start ${meta.loadAvg}`);
  if ((meta.otherLoad ?? 0) >= 0.25) {
    out.push(`WARNING: other processes used ${meta.otherLoad} of ${meta.cpus} cores during this run; multi-thread figures are skewed`);
  }
  out.push('ops/s = all threads\' operations / wall time (first thread\'s start to last thread\'s end); ns/op = 1e9 / ops/s;');
  out.push('ratio = ops/s / the baseline\'s ops/s at the same thread count (> 1: faster); aborts/op from the kernel\'s statistics');
  for (const [suite, rows] of bySuite(m.results)) {
    const d = describe(suite);
    const inj = suite === 'injection';
    const t = new Table({
      head: inj ? [...HEAD, 'requests/s', 'acted/s'] : HEAD, style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
      colAligns: ['left', ...Array<'right'>(inj ? 9 : 7).fill('right')],
    });
    for (const r of rows) {
      t.push([
        r.impl, r.threads, r.vcpus, hz(r.injectHz), rate(r.opsPerSec), nanos(r.nsPerOp),
        ratio(ratioOf(r, m.results), isBaseline(r)), perOp(r.abortsPerOp),
        ...(inj ? [rate(r.requestsPerSec), rate(r.preemptionsPerSec + r.migrationsPerSec)] : []),
      ]);
    }
    out.push('', `${suite}  (baseline: ${d.baseline})`, t.toString());
    for (const [id, what] of d.what) out.push(`  ${id.padEnd(18)} ${what}`);
    if (inj) out.push(`  ${meta.injection}`, '  requests/s: made by the supervisor (all vCPUs); acted/s: preemptions + migrations the threads acted on');
  }
  out.push('', 'targets (reported, never asserted)');
  for (const t of evaluateTargets(m.results)) {
    const verdict = t.pass === undefined ? '----' : t.pass ? 'PASS' : 'MISS';
    const paint = color && t.pass !== undefined ? (s: string) => `\x1b[${t.pass ? 32 : 31}m${s}\x1b[0m` : (s: string) => s;
    const measured = t.measured === undefined ? '-' : t.unit === '%' ? `${t.measured.toFixed(1)}%` : `${t.measured.toFixed(2)}x`;
    const want = `${t.bound === 'max' ? '<=' : '>='} ${t.target}${t.unit}`;
    out.push(`  ${paint(verdict)}  ${t.text}: ${measured} (target ${want}) - ${t.detail}`);
  }
  return out.join('\n');
}
