// HTML report: one self-contained file that opens offline. Inlines chart.js's UMD bundle and the
// JSON report; one chart per suite (throughput vs threads, one line per implementation and rate;
// 1-thread suites as ns per op) above the same table the terminal shows, and the targets.
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Measurement } from '../result.js';
import { bySuite, cells, describe, heads, notesOf } from './format.js';
import { toJson } from './json.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** Text safe inside a <script> element. */
const scriptSafe = (s: string) => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

async function chartJs(): Promise<string> {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return readFile(join(dirname(main), 'chart.umd.js'), 'utf8');
}

// Runs in the browser: draws the charts from the embedded report.
const DRAW = `
const report = JSON.parse(document.getElementById('report').textContent);
const palette = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
const suites = [...new Set(report.results.map(r => r.suite))];
const si = (v) => v >= 1e9 ? (v / 1e9) + ' G' : v >= 1e6 ? (v / 1e6) + ' M' : v >= 1e3 ? (v / 1e3) + ' k' : String(v);
for (const suite of suites) {
  const rows = report.results.filter(r => r.suite === suite);
  const canvas = document.getElementById('chart-' + suite);
  if (!canvas) continue;
  if (rows.every(r => r.threads === 1)) {
    canvas.parentElement.style.height = (60 + 32 * rows.length) + 'px';
    new Chart(canvas, { type: 'bar', data: { labels: rows.map(r => r.impl), datasets: [{ label: 'ns per operation (lower is better)',
      data: rows.map(r => r.nsPerOp), backgroundColor: rows.map(r => r.kind === 'rseq' ? palette[0] : palette[7]) }] },
      options: { animation: false, maintainAspectRatio: false, indexAxis: 'y',
        plugins: { title: { display: true, text: suite + ': ns per operation, 1 thread (blue: rseq)' }, legend: { display: false } },
        scales: { x: { beginAtZero: true, title: { display: true, text: 'ns/op' } } } } });
    continue;
  }
  const threads = [...new Set(rows.map(r => r.threads))].sort((a, b) => a - b);
  const rated = new Set(rows.map(r => r.injectHz)).size > 1;
  const keyOf = (r) => r.impl + (rated ? ' @' + r.injectHz + ' Hz' : '');
  const keys = [...new Set(rows.map(keyOf))];
  const datasets = keys.map((key, i) => {
    const pts = rows.filter(r => keyOf(r) === key);
    const kind = pts[0].kind;
    return { label: key, data: threads.map(t => (pts.find(r => r.threads === t) || {}).opsPerSec ?? null),
      borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length],
      borderDash: kind === 'rseq' ? [] : [6, 4], borderWidth: kind === 'rseq' ? 3 : 2, tension: 0.1 };
  });
  new Chart(canvas, { type: 'line', data: { labels: threads.map(String), datasets },
    options: { animation: false, maintainAspectRatio: false,
      plugins: { title: { display: true, text: suite + ': aggregate throughput vs threads (' + report.meta.vcpus + ' vCPUs)' } },
      scales: { x: { title: { display: true, text: 'threads' } },
        y: { type: 'logarithmic', title: { display: true, text: 'ops/s (log)' }, ticks: { callback: si } } } } });
}`;

export async function renderHtml(m: Measurement): Promise<string> {
  const report = toJson(m);
  const { meta } = m;
  const sections = bySuite(m).map(([suite, rows]) => {
    const body = rows.map((r) => `<tr class="${r.kind}${r.native ? ' native' : ''}">${cells(suite, r, m.results).map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
    const d = describe(suite);
    const legend = d.what.map(([id, what]) => `<dt>${esc(id)}</dt><dd>${esc(what)}</dd>`).join('');
    const notes = notesOf(suite, meta).map((n) => `<p class="meta">${esc(n)}</p>`).join('');
    return `<section><h2>${esc(suite.id)}</h2><p class="meta">${esc(suite.title)}; baseline: ${esc(d.baseline)}</p><div class="chart"><canvas id="chart-${esc(suite.id)}"></canvas></div>
<table><thead><tr>${heads(suite).map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody></table><dl>${legend}</dl>${notes}</section>`;
  }).join('\n');
  const targets = report.targets.map((t) => {
    const v = t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : 'MISS';
    const measured = t.measured === undefined ? '-' : t.unit === '%' ? `${t.measured.toFixed(1)}%` : `${t.measured.toFixed(2)}x`;
    return `<li class="${v}"><b>${v}</b> ${esc(t.text)}: <b>${measured}</b> (target ${t.bound === 'max' ? '&le;' : '&ge;'} ${t.target}${t.unit}) — ${esc(t.detail)}</li>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wasm-rseq benchmarks ${esc(meta.date)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; }
.meta { color: #555; } .chart { height: 340px; }
table { border-collapse: collapse; margin-top: 8px; } th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #ddd; }
th:first-child, td:first-child { text-align: left; } tr.rseq td:first-child { font-weight: 600; color: #1f4f8f; }
tr.native td:first-child { font-style: italic; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; color: #444; font-size: 13px; } dd { margin: 0; }
li.PASS b:first-child { color: #1a7f37; } li.MISS b:first-child { color: #c62828; }
</style></head><body>
<h1>wasm-rseq benchmarks</h1>
<p class="meta">wasm-rseq ${esc(meta.version)} · ${esc(meta.date)} · node ${esc(meta.node)} (V8 ${esc(meta.v8)}) · ${esc(meta.platform)}/${esc(meta.arch)} ·
${meta.cpus} cores (${esc(meta.cpuModel)}) · ${meta.vcpus} vCPUs · threads ${meta.threads.join(', ')} · median of ${meta.repeat} samples of ~${meta.sampleMs} ms ·
load average at start ${meta.loadAvg} · other processes used ${meta.otherLoad ?? '?'} cores · ${meta.durationSec ?? '?'} s</p>
<p class="meta">ops/s = all threads' operations / wall time (first thread's start to last thread's end); ns/op = 1e9 / ops/s; ratio = ops/s relative to the suite's
baseline at the same thread count (injection: the same implementation at 0 Hz). Solid lines are per-vCPU rseq implementations.</p>
<h2>Targets</h2><ul>
${targets}
</ul>
${sections}
<script type="application/json" id="report">${JSON.stringify(report).replace(/</g, '\\u003c')}</script>
<script>${scriptSafe(await chartJs())}</script>
<script>${DRAW}</script>
</body></html>
`;
}

export async function writeHtml(file: string, m: Measurement): Promise<void> {
  await writeFile(file, await renderHtml(m));
}
