// A Chrome Trace Event trace as one self-contained, offline HTML page: a Gantt timeline of its tracks.
//
// The page needs nothing but a browser: no network (no external scripts, styles, fonts or images), the
// trace embedded as JSON, and the page's own script (renderTimeline below, serialized with toString so
// it is type-checked here) drawing inline SVG from it. No charting library: none is small enough to
// inline sensibly for a Gantt of a few hundred to a few thousand events, and Chrome's trace viewer and
// Perfetto are apps, not embeddable pages.
//
// It reads ANY standard trace (`{ traceEvents: [...] }` or a bare array): metadata (ph 'M':
// process_name, thread_name, *_sort_index) names and orders the tracks, complete events (X) and
// begin/end pairs (B/E) become spans, instants (i, legacy I) markers; every other phase is counted and
// ignored. After drawing, the script sets data-rendered="1", data-tracks, data-spans, data-markers and
// data-ignored on <body>; any script error sets data-error (so a headless browser can check the page).
import { UsageError } from '../errors.js';

export interface TimelineOptions {
  /** The page's heading and <title> (default 'Trace timeline'). */
  title?: string;
  /** One line under the heading (e.g. the replay command of a failing schedule). */
  subtitle?: string;
}

/**
 * The timeline page of `trace` (a parsed Chrome Trace Event JSON: `{ traceEvents }` or an array).
 * Returns the HTML text. Throws UsageError if `trace` is neither. Pure; safe on any thread.
 */
export function timelineHtml(trace: unknown, options: TimelineOptions = {}): string {
  traceEventsOf(trace);
  const title = options.title ?? 'Trace timeline';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)}</h1>
  ${options.subtitle ? `<p class="subtitle">${escapeHtml(options.subtitle)}</p>` : ''}
  <p class="summary" id="summary"></p>
  <div class="bar">
    <div class="legend" id="legend"></div>
    <div class="zoom">
      <button type="button" id="zoom-in" title="zoom in">+</button>
      <button type="button" id="zoom-out" title="zoom out">&minus;</button>
      <button type="button" id="zoom-fit" title="show the whole trace">fit</button>
      <span class="hint">wheel to zoom, drag to pan</span>
    </div>
  </div>
</header>
<main id="plot"><svg id="chart" role="img" aria-label="timeline"></svg></main>
<div id="tooltip" hidden></div>
<script type="application/json" id="trace-data">${embedJson(trace)}</script>
<script>
window.onerror = function (message) { document.body.setAttribute('data-error', String(message)); };
(${renderTimeline.toString()})(document, JSON.parse(document.getElementById('trace-data').textContent));
</script>
</body>
</html>
`;
}

/** The events of a trace object or array; UsageError for anything else. */
export function traceEventsOf(trace: unknown): unknown[] {
  if (Array.isArray(trace)) return trace;
  const events = (trace as { traceEvents?: unknown } | null)?.traceEvents;
  if (Array.isArray(events)) return events;
  throw new UsageError('not a Chrome trace: expected { "traceEvents": [...] } or an array of events');
}

/**
 * JSON that is safe inside <script>: `<` (so no `</script>` or `<!--`), `>` and `&` as \u escapes,
 * and U+2028/U+2029 too. JSON.parse of the script's text gives back exactly `value`.
 */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --band: #f5f7fa; --accent: #3e4c59; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
header { padding: 14px 20px 10px; border-bottom: 1px solid var(--line); background: #fbfcfd; position: sticky; top: 0; z-index: 2; }
h1 { font-size: 17px; margin: 0 0 2px; font-weight: 600; }
.subtitle { margin: 0 0 2px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; color: var(--accent); word-break: break-all; }
.summary { margin: 0 0 8px; color: var(--muted); }
.bar { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: center; justify-content: space-between; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; }
.legend .group { color: var(--muted); font-weight: 600; text-transform: uppercase; font-size: 10px; letter-spacing: .05em; }
.legend .entry { display: inline-flex; gap: 5px; align-items: center; white-space: nowrap; }
.legend svg { overflow: visible; }
.zoom { display: flex; gap: 6px; align-items: center; margin-left: auto; }
.zoom button { font: inherit; min-width: 32px; padding: 2px 8px; border: 1px solid #cbd2d9; border-radius: 4px; background: #fff; color: var(--ink); cursor: pointer; }
.zoom button:hover { background: var(--band); }
.hint { color: var(--muted); font-size: 12px; }
main { padding: 8px 20px 24px; }
#chart { display: block; width: 100%; user-select: none; cursor: grab; }
#chart.dragging { cursor: grabbing; }
#chart text { font-size: 11px; fill: var(--ink); }
#chart .track-label { font-size: 12px; }
#chart .process-label { font-size: 11px; font-weight: 700; fill: var(--accent); text-transform: uppercase; letter-spacing: .05em; }
#chart .tick-label { fill: var(--muted); font-size: 10.5px; }
#chart .axis-title { fill: var(--muted); font-size: 10.5px; }
#chart .span-label { pointer-events: none; }
#chart .item:hover { stroke-width: 2.2; filter: brightness(0.95); }
#chart .empty { font-size: 14px; fill: var(--muted); }
#tooltip { position: fixed; z-index: 3; max-width: 380px; padding: 7px 10px; border-radius: 6px; background: rgba(31, 41, 51, .95); color: #f5f7fa; font-size: 12px; pointer-events: none; box-shadow: 0 4px 14px rgba(0, 0, 0, .25); }
#tooltip .name { font-weight: 600; margin-bottom: 3px; }
#tooltip table { border-collapse: collapse; }
#tooltip td { padding: 0 8px 0 0; vertical-align: top; }
#tooltip td:first-child { color: #9aa5b1; }
`;

/**
 * The page's script: draws `trace` into the page's #chart and wires legend, tooltip and zoom.
 * Runs in the browser, serialized with toString(): it must use nothing from outside its own body.
 */
function renderTimeline(doc: Document, trace: unknown): void {
  type Args = Record<string, unknown>;
  interface Ev { name?: string; ph?: string; ts?: number; dur?: number; pid?: number | string; tid?: number | string; args?: Args; s?: string }
  interface Item { name: string; ph: string; ts: number; dur: number; args?: Args; track: Track; kind: string; depth: number }
  interface Track { pid: number | string; tid: number | string; name: string; sort: number; spans: Item[]; markers: Item[]; lanes: number; y: number; h: number }
  interface Proc { pid: number | string; name: string; sort: number; tracks: Track[]; y: number }

  // Colours of span kinds [fill, stroke] and marker kinds, by what the event's name says.
  const SPAN_STYLE: Record<string, [string, string, string]> = {
    committed: ['#b2f2bb', '#2b8a3e', 'section committed'],
    aborted: ['#ffc9c9', '#c92a2a', 'section aborted'],
    restarted: ['#ffe8cc', '#e8590c', 'section restarted'],
    left: ['#e9ecef', '#868e96', 'section left'],
    op: ['#d0ebff', '#1c7ed6', 'operation'],
  };
  // Other spans by a hash of their name (digits dropped, so 'worker 3' and 'worker 5' match), in hues
  // that no outcome above uses: no red, orange, green or grey.
  const OTHER_SPANS: [string, string][] = [['#e5dbff', '#6741d9'], ['#c3fae8', '#0c8599'], ['#dbe4ff', '#3b5bdb'], ['#f3d9fa', '#9c36b5']];
  const MARKER_STYLE: Record<string, [string, string]> = {
    abort: ['#e03131', 'abort'], commit: ['#2f9e44', 'commit'], request: ['#f08c00', 'request'],
    migrate: ['#7048e8', 'migration'], run: ['#1971c2', 'run token'], other: ['#868e96', 'other'],
  };
  const spanKind = (n: string) => /abort/i.test(n) ? 'aborted' : /commit/i.test(n) ? 'committed' : /restart/i.test(n) ? 'restarted'
    : /\bleft\b/i.test(n) ? 'left' : /^op\b/i.test(n) ? 'op' : 'other';
  const markerKind = (n: string) => /abort/i.test(n) ? 'abort' : /commit/i.test(n) ? 'commit' : /request|preempt|signal/i.test(n) ? 'request'
    : /migrat/i.test(n) ? 'migrate' : /^run\b|run.token/i.test(n) ? 'run' : 'other';
  const hash = (s: string) => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return Math.abs(h); };
  const spanColours = (it: Item): [string, string] => {
    const s = SPAN_STYLE[it.kind];
    return s ? [s[0], s[1]] : OTHER_SPANS[hash(it.name.replace(/\d+/g, '')) % OTHER_SPANS.length];
  };

  // ---- the model: processes, tracks, spans and markers ----
  const events: Ev[] = (Array.isArray(trace) ? trace : (trace as { traceEvents: Ev[] }).traceEvents).filter((e: unknown) => e && typeof e === 'object');
  const procs = new Map<string, Proc>();
  const tracks = new Map<string, Track>();
  const proc = (pid: number | string) => {
    const k = String(pid);
    let p = procs.get(k);
    if (!p) procs.set(k, p = { pid, name: `process ${pid}`, sort: Number(pid) || 0, tracks: [], y: 0 });
    return p;
  };
  const trackKey = (e: Ev) => `${e.pid ?? 0}/${e.tid ?? 0}`;
  const track = (pid: number | string = 0, tid: number | string = 0) => {
    const k = trackKey({ pid, tid });
    let t = tracks.get(k);
    if (!t) {
      tracks.set(k, t = { pid, tid, name: `thread ${tid}`, sort: Number(tid) || 0, spans: [], markers: [], lanes: 1, y: 0, h: 0 });
      proc(pid).tracks.push(t);
    }
    return t;
  };
  const item = (e: Ev, ts: number, dur: number, kind: (n: string) => string): Item => {
    const t = track(e.pid, e.tid);
    const name = String(e.name ?? '');
    return { name, ph: e.ph!, ts, dur, args: e.args, track: t, kind: kind(name), depth: 0 };
  };
  let ignored = 0;
  const open = new Map<string, Ev[]>(); // B events waiting for their E, per track
  for (const e of events) {
    const ts = Number(e.ts) || 0;
    const name = e.args?.name;
    switch (e.ph) {
      case 'M':
        if (e.name === 'process_name' && name !== undefined) proc(e.pid ?? 0).name = String(name);
        else if (e.name === 'thread_name' && name !== undefined) track(e.pid, e.tid).name = String(name);
        else if (e.name === 'process_sort_index') proc(e.pid ?? 0).sort = Number(e.args?.sort_index) || 0;
        else if (e.name === 'thread_sort_index') track(e.pid, e.tid).sort = Number(e.args?.sort_index) || 0;
        break;
      case 'X': { const it = item(e, ts, Math.max(0, Number(e.dur) || 0), spanKind); it.track.spans.push(it); break; }
      case 'i': case 'I': { const it = item(e, ts, 0, markerKind); it.track.markers.push(it); break; }
      case 'B': { const k = trackKey(e); if (!open.has(k)) open.set(k, []); open.get(k)!.push(e); break; }
      case 'E': {
        const b = open.get(trackKey(e))?.pop();
        if (!b) { ignored++; break; }
        const bts = Number(b.ts) || 0;
        const it = item({ ...b, args: { ...b.args, ...e.args } }, bts, Math.max(0, ts - bts), spanKind);
        it.track.spans.push(it);
        break;
      }
      default: ignored++;
    }
  }
  for (const bs of open.values()) ignored += bs.length; // a B without its E: no duration to draw

  const sortedProcs = [...procs.values()].filter((p) => p.tracks.length > 0).sort((a, b) => a.sort - b.sort || String(a.pid).localeCompare(String(b.pid), undefined, { numeric: true }));
  for (const p of sortedProcs) p.tracks.sort((a, b) => a.sort - b.sort || String(a.tid).localeCompare(String(b.tid), undefined, { numeric: true }));
  const allTracks = sortedProcs.flatMap((p) => p.tracks);
  const spans = allTracks.flatMap((t) => t.spans);
  const markers = allTracks.flatMap((t) => t.markers);

  // Nested spans (an operation holding its section) stack in lanes, as in Chrome's trace viewer.
  for (const t of allTracks) {
    t.spans.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const ends: number[] = [];
    for (const s of t.spans) {
      while (ends.length && ends[ends.length - 1] <= s.ts) ends.pop();
      s.depth = ends.length;
      ends.push(s.ts + s.dur);
      t.lanes = Math.max(t.lanes, ends.length);
    }
  }

  let tMin = Infinity;
  let tMax = -Infinity;
  for (const it of [...spans, ...markers]) { tMin = Math.min(tMin, it.ts); tMax = Math.max(tMax, it.ts + it.dur); }
  if (!(tMin <= tMax)) { tMin = 0; tMax = 1; }
  const pad = Math.max((tMax - tMin) * 0.01, 0.5);
  const full = { t0: tMin - pad, t1: tMax + pad };
  let view = { ...full };

  // ---- layout (px) ----
  const LABEL_W = 150, AXIS_H = 30, PROC_H = 24, MARK_H = 14, LANE_H = 20, LANE_GAP = 3, ROW_PAD = 5, RIGHT = 12;
  let y = AXIS_H;
  for (const p of sortedProcs) {
    p.y = y;
    y += PROC_H;
    for (const t of p.tracks) {
      t.y = y;
      t.h = ROW_PAD + MARK_H + t.lanes * (LANE_H + LANE_GAP) + ROW_PAD;
      y += t.h;
    }
  }
  const height = y + 8;

  // The SVG namespace comes from the page's own <svg> (the HTML parser put it there), so the page
  // holds no URL at all, not even the namespace's.
  const svg = doc.getElementById('chart') as unknown as SVGSVGElement;
  const NS = svg.namespaceURI;
  const el = (tag: string, attrs: Record<string, string | number>, parent: Element, text?: string) => {
    const n = doc.createElementNS(NS, tag);
    for (const k in attrs) n.setAttribute(k, String(attrs[k]));
    if (text !== undefined) n.textContent = text;
    parent.appendChild(n);
    return n;
  };
  // Marker shapes by kind: abort a cross (a stroke), the others filled shapes with a white rim.
  const markerShape = (kind: string, x: number, cy: number, r: number): [string, Record<string, number | string>] => {
    switch (kind) {
      case 'abort': return ['path', { d: `M${x - r},${cy - r}L${x + r},${cy + r}M${x - r},${cy + r}L${x + r},${cy - r}` }];
      case 'commit': return ['circle', { cx: x, cy, r: r * 0.85 }];
      case 'request': return ['path', { d: `M${x - r},${cy - r * 0.8}L${x + r},${cy - r * 0.8}L${x},${cy + r}Z` }];
      case 'migrate': return ['path', { d: `M${x},${cy - r * 1.1}L${x + r},${cy}L${x},${cy + r * 1.1}L${x - r},${cy}Z` }];
      case 'run': return ['path', { d: `M${x - r * 0.8},${cy - r}L${x + r},${cy}L${x - r * 0.8},${cy + r}Z` }];
      default: return ['rect', { x: x - r * 0.6, y: cy - r * 0.6, width: r * 1.2, height: r * 1.2 }];
    }
  };
  const drawMarker = (kind: string, x: number, cy: number, r: number, parent: Element, extra: Record<string, string | number> = {}) => {
    const [tag, geo] = markerShape(kind, x, cy, r);
    const colour = MARKER_STYLE[kind][0];
    const paint: Record<string, string | number> = kind === 'abort' ? { stroke: colour, 'stroke-width': 2.4, 'stroke-linecap': 'round', fill: 'none' } : { fill: colour, stroke: '#fff', 'stroke-width': 1 };
    return el(tag, { ...geo, ...paint, ...extra }, parent);
  };

  // The name, or its longest prefix of whole words that fits with an ellipsis ('t0…' says more than
  // 'sec…'), or nothing.
  const fitLabel = (name: string, room: number) => {
    if (name.length <= room) return name;
    let cut = name.lastIndexOf(' ', room - 1);
    while (cut > 0 && /[\s(]/.test(name[cut - 1])) cut--;
    return cut > 0 ? `${name.slice(0, cut)}…` : '';
  };

  // ---- time formatting and axis ticks ----
  const fmt = (us: number, digits = 6) => {
    const a = Math.abs(us);
    const r = (v: number) => String(Number(v.toPrecision(digits)));
    return a >= 1e6 ? `${r(us / 1e6)} s` : a >= 1e3 ? `${r(us / 1e3)} ms` : `${r(us)} µs`;
  };
  const ticks = (t0: number, t1: number, target: number) => {
    const raw = (t1 - t0) / target;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
    const out: number[] = [];
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(Number(t.toPrecision(12)));
    return out;
  };

  // ---- drawing (the whole chart, again after each zoom or pan: a few thousand nodes at most) ----
  const drawn: Item[] = [];
  const draw = () => {
    const width = Math.max(480, svg.parentElement!.clientWidth - 40);
    const plotW = width - LABEL_W - RIGHT;
    const x = (t: number) => LABEL_W + ((t - view.t0) / (view.t1 - view.t0)) * plotW;
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    drawn.length = 0;

    // Process bands and track rows with alternating shading.
    sortedProcs.forEach((p) => {
      el('rect', { x: 0, y: p.y, width, height: PROC_H, fill: '#eef2f6' }, svg);
      el('text', { x: 8, y: p.y + PROC_H / 2 + 4, class: 'process-label' }, svg, p.name);
      p.tracks.forEach((t, i) => {
        el('rect', { x: 0, y: t.y, width, height: t.h, fill: i % 2 ? '#f8fafc' : '#ffffff' }, svg);
        el('line', { x1: 0, x2: width, y1: t.y + t.h - 0.5, y2: t.y + t.h - 0.5, stroke: '#eef1f4' }, svg);
        el('text', { x: 16, y: t.y + t.h / 2 + 4, class: 'track-label' }, svg, t.name);
      });
    });
    el('line', { x1: LABEL_W - 0.5, x2: LABEL_W - 0.5, y1: AXIS_H, y2: height, stroke: '#d9e2ec' }, svg);

    // Axis with grid lines through every row.
    const axis = el('g', {}, svg);
    for (const t of ticks(view.t0, view.t1, Math.max(2, Math.floor(plotW / 110)))) {
      const tx = x(t);
      el('line', { x1: tx, x2: tx, y1: AXIS_H - 6, y2: height, stroke: '#e4e7eb', 'stroke-dasharray': '2 3' }, axis);
      el('text', { x: tx, y: AXIS_H - 10, 'text-anchor': 'middle', class: 'tick-label' }, axis, fmt(t));
    }
    el('line', { x1: LABEL_W, x2: LABEL_W + plotW, y1: AXIS_H - 0.5, y2: AXIS_H - 0.5, stroke: '#9aa5b1' }, axis);
    el('text', { x: 8, y: AXIS_H - 10, class: 'axis-title' }, axis, 'time');

    // A nested <svg> clips spans to the plot area with no clip-path reference; it starts at x = LABEL_W.
    const plot = el('svg', { x: LABEL_W, y: 0, width: plotW, height }, svg);
    const px = (t: number) => x(t) - LABEL_W;
    const visible = (it: Item) => it.ts + it.dur >= view.t0 && it.ts <= view.t1;
    for (const t of allTracks) {
      for (const s of t.spans) {
        if (!visible(s)) continue;
        const x0 = Math.max(px(s.ts), -2);
        const x1 = Math.min(px(s.ts + s.dur), plotW + 2);
        const w = Math.max(1.5, x1 - x0);
        const top = t.y + ROW_PAD + MARK_H + s.depth * (LANE_H + LANE_GAP);
        const [fill, stroke] = spanColours(s);
        el('rect', { x: x0, y: top, width: w, height: LANE_H, rx: 3, fill, stroke, 'stroke-width': 1, class: 'item', 'data-i': drawn.length }, plot);
        drawn.push(s);
        const label = fitLabel(s.name, Math.floor((w - 8) / 6.1)); // characters that fit (11px system font)
        if (label) el('text', { x: x0 + 4, y: top + LANE_H / 2 + 4, class: 'span-label' }, plot, label);
      }
      for (const m of t.markers) {
        if (!visible(m)) continue;
        const mx = px(m.ts);
        const cy = t.y + ROW_PAD + MARK_H / 2;
        // A hairline from the marker down through the lanes shows where in a span it happened.
        el('line', { x1: mx, x2: mx, y1: cy, y2: t.y + t.h - ROW_PAD, stroke: MARKER_STYLE[m.kind][0], 'stroke-opacity': 0.35, 'stroke-width': 1 }, plot);
        drawMarker(m.kind, mx, cy, 5, plot, { class: 'item', 'data-i': drawn.length });
        drawn.push(m);
      }
    }
    if (!allTracks.length) el('text', { x: LABEL_W + 12, y: AXIS_H + 30, class: 'empty' }, svg, 'This trace has no spans or instant events.');
  };

  // ---- legend and summary (only the kinds this trace has) ----
  const legend = doc.getElementById('legend')!;
  const entry = (draw: (s: Element) => void, label: string) => {
    const span = doc.createElement('span');
    span.className = 'entry';
    const icon = doc.createElementNS(NS, 'svg');
    icon.setAttribute('width', '18');
    icon.setAttribute('height', '14');
    draw(icon);
    span.append(icon, label);
    legend.appendChild(span);
  };
  const group = (label: string) => { const g = doc.createElement('span'); g.className = 'group'; g.textContent = label; legend.appendChild(g); };
  const spanKinds = [...new Set(spans.map((s) => s.kind))];
  if (spanKinds.length) group('spans');
  for (const k of Object.keys(SPAN_STYLE).filter((k) => spanKinds.includes(k))) {
    const [fill, stroke, label] = SPAN_STYLE[k];
    entry((s) => el('rect', { x: 1, y: 2, width: 16, height: 10, rx: 2, fill, stroke }, s), label);
  }
  if (spanKinds.includes('other')) {
    entry((s) => OTHER_SPANS.forEach(([fill, stroke], i) => el('rect', { x: 1 + i * 4, y: 2, width: 4, height: 10, fill, stroke, 'stroke-width': 0.5 }, s)), 'other (colour by name)');
  }
  const markerKinds = [...new Set(markers.map((m) => m.kind))];
  if (markerKinds.length) group('events');
  for (const k of Object.keys(MARKER_STYLE).filter((k) => markerKinds.includes(k))) entry((s) => drawMarker(k, 9, 7, 5, s), MARKER_STYLE[k][1]);

  const unit = (trace as { otherData?: { unit?: unknown } }).otherData?.unit;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  doc.getElementById('summary')!.textContent = [
    plural(allTracks.length, 'track'), plural(spans.length, 'span'), plural(markers.length, 'event'),
    `${fmt(tMin, 4)} – ${fmt(tMax, 4)}`, ...(typeof unit === 'string' ? [`time: ${unit}`] : []),
    ...(ignored ? [`${plural(ignored, 'other trace event')} not drawn`] : []),
  ].join(' · ');

  // ---- tooltip (hidden while dragging) ----
  let dragging: { x: number; t0: number; t1: number } | null = null;
  const tip = doc.getElementById('tooltip')!;
  const row = (table: HTMLElement, k: string, v: string) => {
    const tr = doc.createElement('tr');
    for (const s of [k, v]) { const td = doc.createElement('td'); td.textContent = s; tr.appendChild(td); }
    table.appendChild(tr);
  };
  svg.addEventListener('mousemove', (ev) => {
    const i = (ev.target as Element).getAttribute?.('data-i');
    if (i === null || i === undefined || dragging) { tip.hidden = true; return; }
    const it = drawn[Number(i)];
    tip.replaceChildren();
    const name = doc.createElement('div');
    name.className = 'name';
    name.textContent = it.name || '(no name)';
    const table = doc.createElement('table');
    row(table, 'track', `${it.track.name} (pid ${it.track.pid}, tid ${it.track.tid})`);
    row(table, 'ts', fmt(it.ts));
    if (it.ph !== 'i' && it.ph !== 'I') row(table, 'dur', fmt(it.dur));
    for (const k in it.args ?? {}) row(table, k, typeof it.args![k] === 'object' ? JSON.stringify(it.args![k]) : String(it.args![k]));
    tip.append(name, table);
    tip.hidden = false;
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = `${Math.min(ev.clientX + 14, innerWidth - w - 8)}px`;
    tip.style.top = `${ev.clientY + 16 + h > innerHeight ? ev.clientY - h - 10 : ev.clientY + 16}px`;
  });
  svg.addEventListener('mouseleave', () => { tip.hidden = true; });

  // ---- zoom and pan ----
  const plotWidth = () => svg.getBoundingClientRect().width - LABEL_W - RIGHT;
  const timeAt = (clientX: number) => view.t0 + ((clientX - svg.getBoundingClientRect().left - LABEL_W) / plotWidth()) * (view.t1 - view.t0);
  const zoom = (factor: number, at = (view.t0 + view.t1) / 2) => {
    const span = Math.min(full.t1 - full.t0, Math.max((view.t1 - view.t0) * factor, (full.t1 - full.t0) / 5000, 1e-3));
    const f = (at - view.t0) / (view.t1 - view.t0);
    view = { t0: at - f * span, t1: at + (1 - f) * span };
    draw();
  };
  const pan = (dt: number) => { view = { t0: view.t0 + dt, t1: view.t1 + dt }; draw(); };
  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    // A sideways scroll (a trackpad's) pans; an up/down one zooms around the pointer.
    if (Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) pan((ev.deltaX / plotWidth()) * (view.t1 - view.t0));
    else zoom(ev.deltaY > 0 ? 1.25 : 0.8, timeAt(ev.clientX));
  }, { passive: false });
  svg.addEventListener('mousedown', (ev) => { dragging = { x: ev.clientX, ...view }; svg.classList.add('dragging'); tip.hidden = true; });
  addEventListener('mousemove', (ev) => {
    if (!dragging) return;
    const dt = ((ev.clientX - dragging.x) / plotWidth()) * (dragging.t1 - dragging.t0);
    pan(dragging.t0 - dt - view.t0);
  });
  addEventListener('mouseup', () => { dragging = null; svg.classList.remove('dragging'); });
  doc.getElementById('zoom-in')!.addEventListener('click', () => zoom(0.5));
  doc.getElementById('zoom-out')!.addEventListener('click', () => zoom(2));
  doc.getElementById('zoom-fit')!.addEventListener('click', () => { view = { ...full }; draw(); });
  addEventListener('resize', draw);

  draw();
  const body = doc.body;
  body.setAttribute('data-tracks', String(allTracks.length));
  body.setAttribute('data-spans', String(spans.length));
  body.setAttribute('data-markers', String(markers.length));
  body.setAttribute('data-ignored', String(ignored));
  body.setAttribute('data-rendered', '1');
}
