// The timeline page: self-contained (no network reference of any kind), the trace embedded intact
// whatever its names hold, any Chrome trace accepted, and — in headless Chromium — a real failing
// check schedule drawn with one row per track, every span and every instant event, and no script error.
//
// The browser tests need Chromium (apt-get install chromium, or CHROMIUM=/path/to/chromium). Without it
// they are skipped with one line saying so, except under CI (CI=true), where that is a FAILURE: CI
// (.ci/run) installs chromium, so a skip there would hide a broken setup.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { check, timelineHtml, UsageError } from '../host/index.js';
import { hostFile } from '../host/paths.js';
import { compileUserFixture } from './fixtures/asc.js';

interface Ev { name: string; ph: string; ts: number; dur?: number; pid: number; tid: number; args?: Record<string, unknown> }

/** The trace embedded in a page, parsed back. */
const embedded = (html: string): unknown => {
  const m = /<script type="application\/json" id="trace-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the page embeds the trace');
  return JSON.parse(m[1]);
};

const tricky: Ev[] = [
  { name: 'process_name', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: '</script><script>alert(1)</script>' } },
  { name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: '<!-- not a comment --> & "quotes" \u2028' } },
  { name: 'op </SCRIPT> 0', ph: 'X', ts: 1, dur: 3, pid: 1, tid: 0, args: { url: 'https://example.com/' } },
];

test('the page is self-contained: no network reference, script or style from outside', () => {
  const html = timelineHtml({ traceEvents: [] }, { title: 'a <b> title' });
  for (const bad of ['http://', 'https://', '<script src', '<link', '@import', 'url(']) assert.ok(!html.includes(bad), `the page holds ${bad}`);
  assert.match(html, /<title>a &#60;b&#62; title<\/title>/);
});

test('a trace with </script>, <!-- and U+2028 in its names is embedded intact and closes no script early', () => {
  const trace = { traceEvents: tricky, otherData: { note: '</script>' } };
  const html = timelineHtml(trace, { title: '</script>' });
  assert.deepEqual(embedded(html), trace);
  assert.equal(html.split(/<\/script/i).length - 1, 2, 'only the page\'s own two </script> tags');
  assert.ok(!html.includes('<!--'));
  assert.deepEqual(embedded(timelineHtml(tricky)), tricky, 'a bare array of events too');
});

test('anything but a trace object or an array of events is a usage error', () => {
  for (const bad of [null, 3, 'x', {}, { traceEvents: 'no' }]) assert.throws(() => timelineHtml(bad), UsageError);
});

const CI = process.env.CI === 'true';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM=/path/to/chromium)`;

/** The <body> attributes of `html` after headless Chromium ran its script (offline, a fresh profile). */
function renderHeadless(html: string): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rseq-timeline-'));
  try {
    const page = join(dir, 'timeline.html');
    writeFileSync(page, html);
    const r = spawnSync(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--virtual-time-budget=5000',
      '--dump-dom', pathToFileURL(page).href,
    ], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `chromium failed: ${r.error ?? r.stderr}`);
    const body = /<body([^>]*)>/.exec(r.stdout);
    assert.ok(body, `no <body> in the dumped DOM:\n${r.stdout.slice(0, 500)}`);
    return Object.fromEntries([...body[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function browserTest(name: string, fn: () => Promise<void> | void): void {
  if (missing !== undefined && !CI) {
    test(name, { skip: `browser check skipped: ${missing}; CI=true makes this a failure` }, () => {});
    return;
  }
  test(name, { timeout: 120_000 }, async () => {
    if (missing !== undefined) assert.fail(`the browser check cannot run: ${missing} (CI=true: a missing tool is a failure)`);
    await fn();
  });
}

browserTest('headless Chromium draws a real failing check schedule: every track, span and event, no error', async () => {
  const module = await compileUserFixture('check-stack-no-check.ts');
  const r = await check({ module, threads: 2, ops: 3, cpus: 2, bound: 2, trace: true });
  assert.equal(r.ok, false);
  const events = (r.trace as { traceEvents: Ev[] }).traceEvents;
  const count = (f: (e: Ev) => boolean) => String(events.filter(f).length);
  const body = renderHeadless(timelineHtml(r.trace, { title: 'check', subtitle: r.failure!.replay }));
  assert.equal(body['data-error'], undefined, `script error: ${body['data-error']}`);
  assert.equal(body['data-rendered'], '1');
  assert.equal(body['data-tracks'], count((e) => e.ph === 'M' && e.name === 'thread_name'));
  assert.equal(body['data-spans'], count((e) => e.ph === 'X'));
  assert.equal(body['data-markers'], count((e) => e.ph === 'i'));
});

browserTest('headless Chromium draws any Chrome trace: a bare array, B/E pairs, unnamed tracks, other phases ignored', () => {
  const trace = [
    ...tricky,
    { name: 'outer', ph: 'B', ts: 2, pid: 7, tid: 3 }, { name: 'inner', ph: 'B', ts: 3, pid: 7, tid: 3 },
    { name: 'inner', ph: 'E', ts: 4, pid: 7, tid: 3 }, { name: 'outer', ph: 'E', ts: 9, pid: 7, tid: 3 },
    { name: 'lost', ph: 'E', ts: 9, pid: 7, tid: 4 }, { name: 'counter', ph: 'C', ts: 5, pid: 7, tid: 3, args: { n: 1 } },
    { name: 'global', ph: 'I', ts: 6, pid: 7, tid: 3, s: 'g' }, { name: 'abort', ph: 'i', ts: 2, pid: 1, tid: 0 },
  ];
  const body = renderHeadless(timelineHtml(trace));
  assert.equal(body['data-error'], undefined, `script error: ${body['data-error']}`);
  assert.deepEqual([body['data-rendered'], body['data-tracks'], body['data-spans'], body['data-markers'], body['data-ignored']], ['1', '2', '3', '2', '2']);
});

test('wasm-rseq timeline TRACE.json -o OUT.html converts a trace file; an unreadable one is a usage error (exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rseq-timeline-cli-'));
  const cli = fileURLToPath(hostFile('cli/main.js'));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'timeline', ...args], { encoding: 'utf8', timeout: 60_000 });
  writeFileSync(join(dir, 't.json'), JSON.stringify({ traceEvents: tricky }));
  const ok = run(join(dir, 't.json'), '-o', join(dir, 't.html'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(embedded(readFileSync(join(dir, 't.html'), 'utf8')), { traceEvents: tricky });
  const absent = run(join(dir, 'absent.json'), '-o', join(dir, 'x.html'));
  assert.equal(absent.status, 2);
  assert.match(absent.stderr, /timeline: cannot read .*absent\.json/);
  writeFileSync(join(dir, 'bad.json'), '{"not": "a trace"}');
  assert.equal(run(join(dir, 'bad.json'), '-o', join(dir, 'x.html')).status, 2);
  rmSync(dir, { recursive: true, force: true });
});
