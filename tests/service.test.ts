// examples/http-service end to end: the server on 127.0.0.1 (port 0), a bounded number of real HTTP
// requests, exact counts in /metrics, an exposition that parses, and a clean exit on SIGTERM.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startServer, stopServer } from '../bench/suites/service.js';

/** Parse a Prometheus text exposition strictly enough to catch malformed lines; returns samples by series. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') { assert.match(meta[3], /^(counter|gauge|histogram|summary|untyped)$/, line); typed.add(meta[2]); }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(m[1]) || typed.has(family), `sample before its # TYPE: ${line}`);
    samples.set(m[1] + (m[2] ?? ''), Number(m[3]));
  }
  return samples;
}

describe('examples/http-service', { timeout: 120_000 }, () => {
  for (const mode of ['per-vcpu', 'atomics'] as const) {
    test(`${mode}: request counts in /metrics are exact and the exposition parses`, async () => {
      const { child, url: base } = await startServer(mode, 2);
      try {
        const work = 300, hello = 57;
        // Bounded load: 16 requests in flight at a time, a fixed total.
        const urls = [...Array(work).fill(`${base}/work?n=300`), ...Array(hello).fill(`${base}/hello?n=10`)];
        for (let i = 0; i < urls.length; i += 16) {
          const replies = await Promise.all(urls.slice(i, i + 16).map((u) => fetch(u)));
          assert.ok(replies.every((r) => r.status === 200));
          await Promise.all(replies.map((r) => r.text()));
        }
        assert.equal((await fetch(`${base}/nope`)).status, 404);
        const res = await fetch(`${base}/metrics`);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        const s = parseExposition(await res.text());
        assert.equal(s.get('http_requests_total{route="/work"}'), work);
        assert.equal(s.get('http_requests_total{route="/hello"}'), hello);
        assert.equal(s.get('http_request_duration_seconds_count{route="/work"}'), work);
        assert.equal(s.get('http_request_duration_seconds_bucket{route="/work",le="+Inf"}'), work);
        assert.ok((s.get('http_request_duration_seconds_sum{route="/work"}') ?? 0) > 0);
        if (mode === 'per-vcpu') {
          const commits = [...s].filter(([k]) => k.startsWith('wasm_rseq_commits_total')).reduce((a, [, v]) => a + v, 0);
          assert.ok(commits >= 2 * (work + hello), `kernel commits ${commits} cover every add and record`);
        }
      } finally {
        assert.equal(await stopServer(child), 0, 'SIGTERM closes cleanly');
      }
    });
  }
});
