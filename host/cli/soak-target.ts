// `wasm-rseq soak --target FILE.wasm`: the configurations drawn for a user's check target instead of
// the param-test matrix: vCPUs, threads (oversubscribed mostly), ops, supervisor rates, and whether
// the module is instrumented with an action at point 10 (every shared access inside a section).
import { ABI } from '../abi.js';
import { UsageError } from '../errors.js';
import { checkInt } from '../param-test/run.js';
import { TARGET_DEFAULTS, checkTargetModule, type TargetTestOptions } from '../param-test/target.js';

export interface SoakTarget {
  module: Uint8Array<ArrayBuffer>;
  /** The name replay lines give the module. */
  file: string;
  /** At most this many threads (the target's per-vCPU layout may bound threads x ops). */
  threadsMax: number;
  /** At most this many check_op calls per thread. */
  opsMax: number;
  /** Bytes of the per-vCPU region passed as base. */
  bytes: number;
}

/** The soak's target from the command line: the module read and checked, the bounds validated (UsageError). */
export async function soakTarget(file: string, o: { threadsMax: number; opsMax: number; bytes: number }): Promise<SoakTarget> {
  checkInt(o.threadsMax, '--threads-max');
  if (o.threadsMax > ABI.MAX_THREADS) throw new UsageError(`--threads-max must be <= ${ABI.MAX_THREADS} (got ${o.threadsMax})`);
  checkInt(o.opsMax, '--ops-max');
  checkInt(o.bytes, '--bytes', 8);
  return { module: await checkTargetModule(file), file, threadsMax: o.threadsMax, opsMax: o.opsMax, bytes: o.bytes };
}

/** One randomly drawn run of the target on 1..cpusMax vCPUs: the draw itself is replayable from the seed. */
export function drawTargetRun(random: () => number, t: SoakTarget, cpusMax: number, seed: number): TargetTestOptions {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const cpus = 1 + Math.floor(random() * cpusMax);
  const threads = Math.max(1, Math.min(t.threadsMax, cpus * pick([1, 3, 6])));
  const instrument = random() < 0.75;
  const kind = instrument ? pick(['yield', 'signal', 'sleep', 'none'] as const) : 'none';
  const o: TargetTestOptions = {
    ...TARGET_DEFAULTS, target: t.module, file: t.file, bytes: t.bytes, cpus, threads, seed, instrument,
    ops: Math.max(1, Math.floor(t.opsMax / pick([1, 4, 16]))),
    supervisor: { preemptHz: pick([0, 1000, 10000]), migrateHz: pick([0, 1000, 5000]), signalHz: pick([0, 500]), sliceMs: pick([0.5, 2]) },
  };
  if (kind !== 'none') {
    o.modulo = pick([1, 2, 3, 4, 8]);
    o.yield = kind === 'yield';
    o.signal = kind === 'signal';
    // A yield hands the vCPU over and a sleep lasts 1 ms (at most one action per operation): fewer ops.
    if (kind === 'yield') o.ops = Math.max(1, Math.floor(o.ops / 10));
    if (kind === 'sleep') { o.sleepMs = 1; o.ops = Math.min(o.ops, 50); }
  }
  return o;
}
