// Prometheus exposition through prom-client: the kernel's per-vCPU Counters and Histograms and its
// statistics as metrics on a user's prom-client Registry, read from the shared memory at scrape
// time (nothing is copied on the hot path). Import from "wasm-rseq/metrics".
//
// The metrics are prom-client's custom-metric shape (name, help, type, get()), so they render
// through the user's own Registry — `await registry.metrics()` — beside their other metrics.
import type { Registry } from 'prom-client';
import { UsageError } from './errors.js';
import type { Kernel } from './kernel/kernel.js';
import { ABORT_CAUSES } from './kernel/stats.js';
import type { Counter, Histogram } from './objects/index.js';

export type Labels = Readonly<Record<string, string>>;

/** One labelled series of a metric: which per-vCPU object feeds it. */
export interface Series<T> { readonly labels?: Labels; readonly object: T }

export interface CounterMetricOptions {
  readonly name: string;
  readonly help: string;
  /** The per-vCPU Counters behind the metric, one per label set (a bare Counter: one unlabelled series). */
  readonly series: Counter | readonly Series<Counter>[];
  /** One series per vCPU (label `vcpu`, the main-thread shard as vcpu="main") instead of their sum. */
  readonly perVcpu?: boolean;
}

export interface HistogramMetricOptions {
  readonly name: string;
  readonly help: string;
  readonly series: Histogram | readonly Series<Histogram>[];
  /** Upper bounds of the exposed buckets, in exposed units (default prom-client's, in seconds). */
  readonly buckets?: readonly number[];
  /** Exposed units per recorded unit (default 1e-9: recorded in ns, exposed in seconds). */
  readonly scale?: number;
}

export interface MetricsOptions {
  /** The user's prom-client Registry (`new Registry()` or prom-client's default `register`). */
  readonly registry: Registry;
  /** Prefix of the kernel statistics' names (default 'wasm_rseq_'); false: no kernel statistics. */
  readonly kernelStats?: string | false;
}

/** prom-client's default histogram buckets (seconds). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Value { value: number; labels: Labels; metricName?: string }
type MetricType = 'counter' | 'gauge' | 'histogram';

/** A metric whose values are computed when prom-client's registry renders it. */
class ScrapedMetric {
  readonly aggregator = 'sum';
  constructor(readonly name: string, readonly help: string, readonly type: MetricType, private readonly read: () => Value[]) {}
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.read(), aggregator: this.aggregator };
  }
  /** registry.resetMetrics(): the values live in shared memory and are monotonic; nothing to reset. */
  reset(): void {}
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkNames(name: string, series: readonly Series<unknown>[]): void {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) throw new UsageError(`metric name ${JSON.stringify(name)} is not a Prometheus metric name`);
  for (const s of series) {
    for (const l of Object.keys(s.labels ?? {})) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new UsageError(`label name ${JSON.stringify(l)} of ${name} is not a Prometheus label name`);
    }
  }
}

const asSeries = <T>(s: T | readonly Series<T>[]): readonly Series<T>[] => (Array.isArray(s) ? s : [{ object: s as T }]);

/**
 * The kernel's metrics on a prom-client Registry. Add per-vCPU objects with counter() and
 * histogram(); the kernel's statistics (commits and aborts per vCPU, aborts by cause, requests by
 * kind per vCPU, migrations, preemptions) are registered at once unless `kernelStats: false`.
 * Reads are racy snapshots of monotonic per-vCPU words: each scrape sees every vCPU's value at some
 * recent point, which is what a Prometheus counter needs.
 */
export class RseqMetrics {
  private readonly registry: Registry;
  private readonly names: string[] = [];

  constructor(private readonly kernel: Kernel, o: MetricsOptions) {
    if (!o || typeof o.registry?.registerMetric !== 'function') throw new UsageError('metrics: options.registry must be a prom-client Registry');
    this.registry = o.registry;
    const prefix = o.kernelStats ?? 'wasm_rseq_';
    if (prefix !== false) this.registerKernelStats(prefix);
  }

  private add(m: ScrapedMetric): this {
    if (this.registry.getSingleMetric(m.name)) throw new UsageError(`metrics: ${m.name} is already registered on this registry`);
    this.registry.registerMetric(m as never);
    this.names.push(m.name);
    return this;
  }

  /** A Prometheus counter fed by per-vCPU Counters (summed over vCPUs, or one series per vCPU). */
  counter(o: CounterMetricOptions): this {
    const series = asSeries(o.series);
    checkNames(o.name, series);
    return this.add(new ScrapedMetric(o.name, o.help, 'counter', () => series.flatMap(({ labels = {}, object }) => {
      if (!o.perVcpu) return [{ value: object.value(), labels }];
      const values: Value[] = object.perCpu().map((value, c) => ({ value, labels: { ...labels, vcpu: String(c) } }));
      values.push({ value: object.mainShard(), labels: { ...labels, vcpu: 'main' } });
      return values;
    })));
  }

  /** A Prometheus histogram fed by per-vCPU Histograms, merged over vCPUs, re-bucketed to `buckets`. */
  histogram(o: HistogramMetricOptions): this {
    const series = asSeries(o.series);
    checkNames(o.name, series);
    const bounds = [...(o.buckets ?? DEFAULT_BUCKETS)];
    if (bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]))) {
      throw new UsageError(`metrics: buckets of ${o.name} must be finite and increasing`);
    }
    const scale = o.scale ?? 1e-9;
    if (!(scale > 0 && Number.isFinite(scale))) throw new UsageError(`metrics: scale of ${o.name} must be a positive number`);
    return this.add(new ScrapedMetric(o.name, o.help, 'histogram', () => series.flatMap(({ labels = {}, object }) => {
      const snap = object.snapshot();
      // A recorded bucket [from, to) counts below bound b when all of it is: to * scale <= b. The
      // exposed counts are exact at bucket edges and within the histogram's precision elsewhere.
      const values: Value[] = bounds.map((b) => ({
        metricName: `${o.name}_bucket`, labels: { ...labels, le: String(b) },
        value: snap.buckets.reduce((n, k) => (k.to * scale <= b * (1 + 1e-12) ? n + k.count : n), 0),
      }));
      values.push({ metricName: `${o.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: snap.count });
      values.push({ metricName: `${o.name}_sum`, labels, value: snap.sum * scale });
      values.push({ metricName: `${o.name}_count`, labels, value: snap.count });
      return values;
    })));
  }

  private registerKernelStats(prefix: string): void {
    const k = this.kernel;
    const perCpu = (read: (c: ReturnType<Kernel['stats']>['cpus'][number]) => number) => () =>
      k.stats().cpus.map((c) => ({ value: read(c), labels: { vcpu: String(c.cpu) } }));
    this.add(new ScrapedMetric(`${prefix}commits_total`, 'Committed critical sections, per vCPU', 'counter', perCpu((c) => c.commits)));
    this.add(new ScrapedMetric(`${prefix}aborts_total`, 'Aborted critical sections, per vCPU', 'counter', perCpu((c) => c.aborts)));
    this.add(new ScrapedMetric(`${prefix}aborts_by_cause_total`, 'Aborted critical sections by cause', 'counter', () => {
      const by = k.stats().abortsBy;
      return ABORT_CAUSES.map((cause) => ({ value: by[cause], labels: { cause } }));
    }));
    this.add(new ScrapedMetric(`${prefix}requests_total`, 'Requests the kernel made on each vCPU, by kind', 'counter', () =>
      k.stats().cpus.flatMap((c) => Object.entries(c.requested).map(([kind, value]) => ({ value, labels: { vcpu: String(c.cpu), kind } })))));
    this.add(new ScrapedMetric(`${prefix}migrations_total`, 'Threads moved to another vCPU', 'counter', () => [{ value: k.stats().migrations, labels: {} }]));
    this.add(new ScrapedMetric(`${prefix}preemptions_total`, 'Preemptions threads acted on', 'counter', () => [{ value: k.stats().preemptions, labels: {} }]));
    this.add(new ScrapedMetric(`${prefix}waiting_threads`, 'Threads waiting for a vCPU', 'gauge', () => [{ value: k.stats().waiters, labels: {} }]));
  }

  /** Remove every metric this object registered from the registry. */
  unregister(): void {
    for (const n of this.names.splice(0)) this.registry.removeSingleMetric(n);
  }
}

/** Expose `kernel` on `registry` (see RseqMetrics). */
export function collectMetrics(kernel: Kernel, options: MetricsOptions): RseqMetrics {
  return new RseqMetrics(kernel, options);
}
