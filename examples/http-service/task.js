// The pool task of server.js: the request's work (n rounds of arithmetic), then its metrics.
import { ROUTES, atomicWords } from './metrics-layout.js';

let counters, latency, i32, i64;

/** A little CPU work standing for a request handler's. */
function work(n) {
  let x = 0;
  for (let i = 1; i <= n; i++) x += Math.sqrt(i) * (i & 7);
  return Math.round(x);
}

export default function task(ctx, { route, n, t0, mode, words }) {
  const result = work(n);
  const ns = (performance.timeOrigin + performance.now() - t0) * 1e6;
  if (mode === 'per-vcpu') {
    // Looked up by name once per worker; each add / record is a critical section on this worker's vCPU.
    counters ??= ROUTES.map((r) => ctx.objects.counter(`requests ${r}`));
    latency ??= ROUTES.map((r) => ctx.objects.histogram(`latency ${r}`));
    counters[route].add(1);
    latency[route].record(ns);
  } else if (mode === 'atomics') {
    i32 ??= new Int32Array(ctx.memory.buffer);
    i64 ??= new BigInt64Array(ctx.memory.buffer);
    atomicWords.record(i32, i64, words, route, ns);
  }
  return result;
}
