// What server.js and task.js share: the routes, and for METRICS=atomics the layout of its shared
// words (per route: a request count, the histogram's bucket counts, the sum in ns) and how they
// are exposed to prom-client (its custom-metric shape: name, help, type, get()).
export const ROUTES = ['/work', '/hello'];
/** Upper bounds in seconds (prom-client's defaults). */
export const ATOMIC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const PER_ROUTE = 128; // bytes: count (i32), buckets (i32 each, last = +Inf), sum (i64 at 64)
const COUNT = 0, BUCKET = 4, SUM = 64;

export const atomicWords = {
  bytes: ROUTES.length * PER_ROUTE,
  /** Record one request of `route` that took `ns` nanoseconds (worker side). */
  record(i32, i64, words, route, ns) {
    const r = words + route * PER_ROUTE;
    Atomics.add(i32, (r + COUNT) >> 2, 1);
    let b = 0;
    while (b < ATOMIC_BUCKETS.length && ns > ATOMIC_BUCKETS[b] * 1e9) b++;
    Atomics.add(i32, ((r + BUCKET) >> 2) + b, 1);
    Atomics.add(i64, (r + SUM) >> 3, BigInt(Math.round(ns)));
  },
  counterMetric(memory, words) {
    const i32 = new Int32Array(memory.buffer);
    return {
      name: 'http_requests_total', help: 'Requests served, by route', type: 'counter', aggregator: 'sum', reset() {},
      async get() {
        const values = ROUTES.map((route, i) => ({ labels: { route }, value: Atomics.load(i32, (words + i * PER_ROUTE + COUNT) >> 2) }));
        return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
      },
    };
  },
  histogramMetric(memory, words) {
    const i32 = new Int32Array(memory.buffer);
    const i64 = new BigInt64Array(memory.buffer);
    const name = 'http_request_duration_seconds';
    return {
      name, help: 'Time from arrival to the end of the task', type: 'histogram', aggregator: 'sum', reset() {},
      async get() {
        const values = ROUTES.flatMap((route, i) => {
          const r = words + i * PER_ROUTE;
          let acc = 0;
          const out = ATOMIC_BUCKETS.map((le, b) => {
            acc += Atomics.load(i32, ((r + BUCKET) >> 2) + b);
            return { metricName: `${name}_bucket`, labels: { route, le: String(le) }, value: acc };
          });
          acc += Atomics.load(i32, ((r + BUCKET) >> 2) + ATOMIC_BUCKETS.length);
          out.push({ metricName: `${name}_bucket`, labels: { route, le: '+Inf' }, value: acc });
          out.push({ metricName: `${name}_sum`, labels: { route }, value: Number(Atomics.load(i64, (r + SUM) >> 3)) / 1e9 });
          out.push({ metricName: `${name}_count`, labels: { route }, value: Atomics.load(i32, (r + COUNT) >> 2) });
          return out;
        });
        return { name, help: this.help, type: this.type, aggregator: this.aggregator, values };
      },
    };
  },
};
