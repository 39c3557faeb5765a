// A per-vCPU log-linear histogram (in the spirit of HdrHistogram): values are counted in units of
// 2^u (u = floor(log2(lowest))); below 2^s units one bucket per unit, above it every power of two
// [2^m, 2^(m+1)) is split into 2^s linear sub-buckets, so a bucket is at most value * 2^-s wide.
// Each vCPU's copy holds f64 count, sum, min, max and the bucket counts; a record is one JS
// critical section whose commit is five plain stores after the check (no checkpoint in between).
import { ObjectError } from '../errors.js';
import { ObjectHandle, type Entry, type ObjEnv } from './table.js';

export interface HistogramOptions {
  /** Lowest value told apart from 0 (default 1): the unit is the power of two at or below it. */
  lowest?: number;
  /** Highest value tracked (default 3.6e12, one hour in ns); larger values land in the top bucket. */
  highest?: number;
  /** Linear sub-buckets per power of two are 2^subBucketBits (1..12, default 6): relative precision 2^-bits. */
  subBucketBits?: number;
}

export interface HistogramBucket { readonly from: number; readonly to: number; readonly count: number }

export interface HistogramSnapshot {
  readonly count: number;
  readonly sum: number;
  /** 0 when empty. */
  readonly min: number;
  readonly max: number;
  /** Non-empty buckets, ascending: values v with from <= v < to. */
  readonly buckets: readonly HistogramBucket[];
  /** The value at percentile p (0..100): the upper edge of the bucket holding that rank, within [min, max]. */
  percentile(p: number): number;
}

/** The bucket geometry, from the options (validated) or from a table entry. */
export class Geometry {
  readonly unit: number;
  readonly sub: number;
  readonly buckets: number;
  constructor(readonly lowest: number, readonly highest: number, readonly bits: number) {
    this.unit = 2 ** Math.floor(Math.log2(lowest));
    this.sub = 2 ** bits;
    this.buckets = this.raw(highest) + 1;
  }

  static of(o: HistogramOptions = {}): Geometry {
    if (o === null || typeof o !== 'object') throw new ObjectError('EINVAL', 'histogram options must be an object');
    const lowest = o.lowest ?? 1, highest = o.highest ?? 3.6e12, bits = o.subBucketBits ?? 6;
    if (!(Number.isFinite(lowest) && lowest >= 1)) throw new ObjectError('EINVAL', `histogram lowest must be a finite number >= 1, got ${String(lowest)}`);
    if (!(Number.isFinite(highest) && highest >= 2 * lowest && highest <= Number.MAX_SAFE_INTEGER)) {
      throw new ObjectError('EINVAL', `histogram highest must be in [2 * lowest, 2^53), got ${String(highest)}`);
    }
    if (!Number.isInteger(bits) || bits < 1 || bits > 12) throw new ObjectError('EINVAL', `histogram subBucketBits must be an integer in [1, 12], got ${String(bits)}`);
    return new Geometry(lowest, highest, bits);
  }

  private raw(v: number): number {
    const x = Math.floor(v / this.unit);
    if (x < this.sub) return x;
    const m = x >= 4294967296 ? 63 - Math.clz32(Math.floor(x / 4294967296)) : 31 - Math.clz32(x);
    const shift = m - Math.log2(this.sub);
    return (shift + 1) * this.sub + (Math.floor(x / 2 ** shift) - this.sub);
  }

  /** Bucket of value v (>= 0), clamped to the top bucket. */
  index(v: number): number {
    const i = this.raw(v);
    return i < this.buckets ? i : this.buckets - 1;
  }

  /** [from, to) of bucket i. */
  range(i: number): [number, number] {
    if (i < this.sub) return [i * this.unit, (i + 1) * this.unit];
    const shift = Math.floor(i / this.sub) - 1;
    const w = 2 ** shift * this.unit;
    return [(this.sub + (i % this.sub)) * w, (this.sub + (i % this.sub) + 1) * w];
  }
}

function badValue(v: unknown): ObjectError {
  return new ObjectError('EINVAL', `Histogram.record: value must be a finite number >= 0, got ${String(v)}`);
}

export class Histogram extends ObjectHandle {
  readonly kind = 'histogram' as const;
  readonly geometry: Geometry;
  private readonly base8: number;
  private readonly stride8: number;
  private readonly shard8: number;
  private readonly b0: number;

  /** @internal */
  constructor(env: ObjEnv, entry: Entry) {
    super(env, entry);
    const { abi } = env;
    this.geometry = new Geometry(entry.p0, entry.p1, entry.p2);
    if (this.geometry.buckets !== entry.p3 || abi.HIST_BUCKETS + 8 * entry.p3 > entry.size) {
      throw new ObjectError('EINVAL', `histogram '${entry.name}': table entry does not match its geometry`);
    }
    this.base8 = entry.base >> 3;
    this.stride8 = entry.stride >> 3;
    this.shard8 = entry.shard >> 3;
    this.b0 = abi.HIST_BUCKETS >> 3;
  }

  /** Record one value (finite, >= 0). Kernel threads: their vCPU's copy; main thread: its shard. */
  record(value: number): void {
    if (!(value >= 0 && value <= Number.MAX_VALUE)) throw badValue(value);
    if (this.i32[this.liveIdx] !== this.token) this.checkHandle('record');
    const bi = this.b0 + this.geometry.index(value);
    const s = this.section;
    const f = this.f64;
    if (s === null) {
      this.checkHandle('record');
      this.put(this.shard8, bi, value);
      return;
    }
    for (;;) {
      const h = this.base8 + s.begin() * this.stride8;
      const n = f[h];
      const sum = f[h + 1] + value;
      const min = n === 0 || value < f[h + 2] ? value : f[h + 2];
      const max = n === 0 || value > f[h + 3] ? value : f[h + 3];
      const b = f[h + bi] + 1;
      if (s.check()) {
        f[h + bi] = b;
        f[h + 1] = sum;
        f[h + 2] = min;
        f[h + 3] = max;
        f[h] = n + 1;
        s.committed();
        return;
      }
    }
  }

  private put(h: number, bi: number, value: number): void {
    const f = this.f64;
    const n = f[h];
    if (n === 0 || value < f[h + 2]) f[h + 2] = value;
    if (n === 0 || value > f[h + 3]) f[h + 3] = value;
    f[h + bi] += 1;
    f[h + 1] += value;
    f[h] = n + 1;
  }

  /** Merged over every vCPU and the main shard (plain reads: exact once the writers are quiescent). */
  snapshot(): HistogramSnapshot {
    this.checkHandle('snapshot');
    const f = this.f64;
    const g = this.geometry;
    const counts = new Float64Array(g.buckets);
    let count = 0, sum = 0, min = Infinity, max = -Infinity;
    const copies = [this.shard8, ...Array.from({ length: this.cpus }, (_, c) => this.base8 + c * this.stride8)];
    for (const h of copies) {
      if (f[h] === 0) continue;
      count += f[h]; sum += f[h + 1];
      min = Math.min(min, f[h + 2]); max = Math.max(max, f[h + 3]);
      for (let i = 0; i < g.buckets; i++) counts[i] += f[h + this.b0 + i];
    }
    if (count === 0) { min = 0; max = 0; }
    const buckets: HistogramBucket[] = [];
    for (let i = 0; i < g.buckets; i++) {
      if (counts[i] !== 0) { const [from, to] = g.range(i); buckets.push({ from, to, count: counts[i] }); }
    }
    return {
      count, sum, min, max, buckets,
      percentile(p: number): number {
        if (!(p >= 0 && p <= 100)) throw new ObjectError('EINVAL', `percentile must be in [0, 100], got ${String(p)}`);
        if (count === 0) return 0;
        const rank = Math.max(1, Math.ceil((p / 100) * count));
        let seen = 0;
        const top = g.range(g.buckets - 1)[0];
        for (const b of buckets) {
          seen += b.count;
          // The top bucket also holds the values above `highest`: its upper edge is the maximum.
          if (seen >= rank) return b.from >= top ? max : Math.max(min, Math.min(max, b.to - g.unit));
        }
        return max;
      },
    };
  }
}
