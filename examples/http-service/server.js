// An HTTP service whose request work runs on a piscina pool of wasm-rseq kernel threads, with a
// per-route request counter and a latency histogram kept per vCPU and served at /metrics through
// prom-client. Plain JavaScript, no AssemblyScript.
//
//   PORT=0 npm run example:service      (0 = any free port; prints "listening on http://127.0.0.1:<port>")
//
// METRICS picks how the task records its metrics, for the service benchmark (npm run bench -- --suite service):
//   per-vcpu (default)  wasm-rseq Counter.add / Histogram.record: a JS critical section on the worker's vCPU
//   atomics             Atomics.add on words in shared memory (the usual way to count across workers)
//   none                no metrics at all
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { Registry } from 'prom-client';
import { Kernel } from 'wasm-rseq';
import { collectMetrics } from 'wasm-rseq/metrics';
import { createPool } from 'wasm-rseq/pool';
import { ROUTES, atomicWords } from './metrics-layout.js';

const mode = process.env.METRICS ?? 'per-vcpu';
if (!['per-vcpu', 'atomics', 'none'].includes(mode)) throw new Error(`METRICS must be per-vcpu, atomics or none, got ${mode}`);
const cpus = Number(process.env.CPUS ?? Math.min(4, availableParallelism()));
const workers = Number(process.env.WORKERS ?? 2 * cpus);

const kernel = await Kernel.create({ cpus, threads: 0, poolSlots: workers });
const registry = new Registry();
let words = 0;
if (mode === 'per-vcpu') {
  // Created once on the main thread; every worker finds them by name (ctx.objects).
  const counters = ROUTES.map((route) => ({ labels: { route }, object: kernel.counter(`requests ${route}`) }));
  const latency = ROUTES.map((route) => ({ labels: { route }, object: kernel.histogram(`latency ${route}`, { lowest: 1000 }) }));
  const metrics = collectMetrics(kernel, { registry });
  metrics.counter({ name: 'http_requests_total', help: 'Requests served, by route', series: counters });
  metrics.histogram({ name: 'http_request_duration_seconds', help: 'Time from arrival to the end of the task', series: latency });
} else if (mode === 'atomics') {
  words = kernel.alloc(atomicWords.bytes, 128);
  registry.registerMetric(atomicWords.counterMetric(kernel.memory, words));
  registry.registerMetric(atomicWords.histogramMetric(kernel.memory, words));
}

const pool = createPool(kernel, { handler: new URL('./task.js', import.meta.url), threads: workers });

const server = http.createServer(async (req, res) => {
  const t0 = performance.timeOrigin + performance.now();
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/metrics') {
    res.setHeader('Content-Type', registry.contentType);
    res.end(await registry.metrics());
    return;
  }
  const route = ROUTES.indexOf(url.pathname);
  if (route < 0) { res.statusCode = 404; res.end('not found\n'); return; }
  const n = Math.min(100_000, Math.max(0, Number(url.searchParams.get('n') ?? 200) | 0));
  try {
    const result = await pool.run({ route, n, t0, mode, words });
    res.end(`${result}\n`);
  } catch (e) {
    res.statusCode = 500;
    res.end(`${e instanceof Error ? e.message : String(e)}\n`);
  }
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`listening on http://127.0.0.1:${port} (metrics: ${mode}, ${workers} workers on ${cpus} vCPUs)`);
});

async function shutdown() {
  server.close();
  server.closeAllConnections?.();
  await pool.destroy();
  await kernel.close();
  process.exit(0);
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

