// Terminal report: a header naming machine and runtime, one cli-table3 table per suite (its declared
// columns), and the targets block (measured vs target, PASS / MISS).
import Table from 'cli-table3';
import { evaluateTargets } from '../analysis.js';
import type { Measurement } from '../result.js';
import { bySuite, cells, describe, heads, notesOf } from './format.js';

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
  for (const [suite, rows] of bySuite(m)) {
    const d = describe(suite);
    const head = heads(suite);
    const t = new Table({
      head, style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
      colAligns: ['left', ...Array<'right'>(head.length - 1).fill('right')],
    });
    for (const r of rows) t.push(cells(suite, r, m.results));
    out.push('', `${suite.id}  (baseline: ${d.baseline})`, t.toString());
    const pad = Math.max(18, ...d.what.map(([id]) => id.length + 1));
    for (const [id, what] of d.what) out.push(`  ${id.padEnd(pad)} ${what}`);
    for (const note of notesOf(suite, meta)) out.push(`  ${note}`);
  }
  out.push('', 'targets (reported, never asserted)');
  for (const t of evaluateTargets(m.results, m.suites, m.meta)) {
    const verdict = t.na ? 'n/a ' : t.pass === undefined ? '----' : t.pass ? 'PASS' : 'MISS';
    const paint = color && t.pass !== undefined ? (s: string) => `\x1b[${t.pass ? 32 : 31}m${s}\x1b[0m` : (s: string) => s;
    const measured = t.measured === undefined ? '-' : t.unit === '%' ? `${t.measured.toFixed(1)}%` : `${t.measured.toFixed(2)}x`;
    const want = `${t.bound === 'max' ? '<=' : '>='} ${t.target}${t.unit}`;
    out.push(`  ${paint(verdict)}  ${t.text}: ${measured} (target ${want}) - ${t.detail}`);
  }
  return out.join('\n');
}
