// alloc-test: param-test's sibling for the allocator. One run = one front end and one workload
// (larson / threadtest / xmalloc, after mimalloc-bench's specifications) on the emulated kernel,
// with every object's fill pattern checked at free, the checked mode's double-free / foreign-pointer
// detection on, and, after the threads finish, every cache drained and the exact invariant checked:
// every object ever carved is free exactly once and no large allocation is live.
import { ABI } from '../abi.js';
import { FRONTS, allocError, type Allocator, type Front } from '../alloc/allocator.js';
import { AllocError, UsageError } from '../errors.js';
import { engineOf } from '../internal.js';
import type { Kernel, ModuleHandle } from '../kernel/kernel.js';
import type { InjectionOptions } from '../kernel/policy.js';
import type { KernelStats } from '../kernel/stats.js';
import type { SupervisorOptions } from '../kernel/supervisor.js';
import { checkInt, closeTracedKernel, createTracedKernel, injectionFlags, supervisorFlags, validateRun, type TraceSink } from '../param-test/run.js';
import { wasmPath } from '../paths.js';

export type Workload = 'larson' | 'threadtest' | 'xmalloc';
export const WORKLOADS: readonly Workload[] = ['larson', 'threadtest', 'xmalloc'];

export interface AllocTestOptions {
  front: Front;
  workload: Workload;
  threads: number;
  cpus: number;
  /** Steps per thread (larson), objects per thread (threadtest: rounds of 100, xmalloc: produced). */
  reps: number;
  seed: number;
  loops: Record<number, number>;
  modulo: number;
  yield: boolean;
  signal: boolean;
  sleepMs: number;
  supervisor: SupervisorOptions;
  /** larson: drain a random vCPU's cache (stop_cpu) every this many steps; 0 never. */
  drainEvery: number;
  heapBytes: number;
  /** The allocator's checked mode (double free / foreign pointer); on by default. */
  checked: boolean;
  verbose: boolean;
}

export const DEFAULTS: AllocTestOptions = {
  front: 'vcpu', workload: 'larson', threads: 12, cpus: 2, reps: 2000, seed: 1, loops: {}, modulo: 0, yield: false,
  signal: false, sleepMs: 0, supervisor: {}, drainEvery: 500, heapBytes: 8 << 20, checked: true, verbose: false,
};

export interface AllocTestResult {
  ok: boolean;
  message: string;
  stats: KernelStats;
  ops: number;
  ms: number;
  runMs: number;
  heapHighWater: number;
  cacheBytesAtEnd: number;
  replay: string;
}

export function replayLine(o: AllocTestOptions): string {
  const a = ['wasm-rseq alloc-test', `--front ${o.front}`, `--workload ${o.workload}`, `-t ${o.threads}`, `-r ${o.reps}`, `--cpus ${o.cpus}`,
    ...injectionFlags(o), ...supervisorFlags(o.supervisor)];
  if (o.drainEvery !== DEFAULTS.drainEvery) a.push(`--drain-every ${o.drainEvery}`);
  if (o.heapBytes !== DEFAULTS.heapBytes) a.push(`--heap-bytes ${o.heapBytes}`);
  if (!o.checked) a.push('--unchecked');
  a.push(`--seed ${o.seed}`);
  return a.join(' ');
}

export function validate(o: AllocTestOptions): void {
  if (!FRONTS.includes(o.front)) throw new UsageError(`--front must be one of ${FRONTS.join(', ')} (got '${o.front}')`);
  if (!WORKLOADS.includes(o.workload)) throw new UsageError(`--workload must be one of ${WORKLOADS.join(', ')} (got '${o.workload}')`);
  validateRun(o);
  checkInt(o.drainEvery, '--drain-every', 0);
  checkInt(o.heapBytes, '--heap-bytes', 1 << 16);
}

export class AllocConsistencyError extends Error {
  override name = 'AllocConsistencyError';
}

const LARSON_OBJECTS = 64;
const THREADTEST_N = 100;
const ERRORS: Record<number, string> = {
  [-10]: 'misaligned object', [-11]: 'fill pattern broken at free (object handed out twice, or overlapping another)',
  [-12]: 'heap full', [-13]: 'draining another vCPU failed',
};

/** One workload laid out on `k`: the export each thread runs and its arguments; `after` runs once they are done. */
export interface Plan {
  fn: string;
  args: (slot: number) => (number | bigint)[];
  /** Extra cleanup on thread 0 once every thread returned (larson: the exchange array). */
  after?: { fn: string; args: (number | bigint)[] };
}

/** Lay out workload `w` for `threads` threads (`reps` as in AllocTestOptions). `res(slot)` is each thread's result record. */
export function planWorkload(k: Kernel, al: Allocator, w: Workload, threads: number, reps: number, seed: number,
  res: (slot: number) => number, drainEvery: number, large = true): Plan {
  const a = al.address;
  const s = (slot: number) => ((seed * 0x9e3779b1) ^ (slot * 0x85ebca6b) ^ 0x5eed) >>> 0;
  if (w === 'larson') {
    const tab = k.alloc(threads * LARSON_OBJECTS * 8, 128);
    const x = 4 * threads;
    const xch = k.alloc(x * 8, 128);
    const drain = al.front === 'vcpu' || al.front === 'mmcid' ? drainEvery : 0;
    return {
      fn: 'larson',
      args: (slot) => [a, tab + slot * LARSON_OBJECTS * 8, LARSON_OBJECTS, xch, x, reps, s(slot), drain, large ? 1 : 0, res(slot)],
      after: { fn: 'larson_cleanup', args: [a, xch, x, res(threads)] },
    };
  }
  if (w === 'threadtest') {
    const tab = k.alloc(threads * THREADTEST_N * 8, 128);
    const rounds = Math.max(1, Math.round(reps / THREADTEST_N));
    return { fn: 'threadtest', args: (slot) => [a, tab + slot * THREADTEST_N * 8, THREADTEST_N, rounds, 0, s(slot), res(slot)] };
  }
  const ringBytes = 256 + 256 * 8;
  const rings = k.alloc(threads * ringBytes, 128);
  return { fn: 'xmalloc', args: (slot) => [a, rings, threads, slot, reps, s(slot), res(slot)] };
}

/** What a thread's negative result means, as a typed error where the allocator found it. */
export function describeFailure(k: Kernel, al: Allocator, resAddr: number, slot: number, code: number): Error {
  const v = engineOf(k).view;
  const ptr = v.load(resAddr + 4) >>> 0;
  const aux = v.load(resAddr + 8);
  if (code <= -2 && code >= -4) return allocError(ABI, code, ptr, slot);
  return new AllocConsistencyError(`thread ${slot}: ${ERRORS[code] ?? `error ${code}`} (0x${ptr.toString(16)}, ${aux})`);
}

/**
 * Drain, check every thread's recorded error and the exact all-free invariant, then return every
 * span to the page heap and check it is empty. Throws.
 */
export function checkAfter(al: Allocator, slots: number): void {
  for (let t = 0; t < slots; t++) {
    const e = al.threadError(t);
    if (e) throw e;
  }
  al.drainIdle();
  al.checkAllFree();
  al.releaseIdle();
  const s = al.stats();
  if (s.heapUsed !== 0 || s.centralFree.some((n) => n !== 0)) {
    throw new AllocError('lost', 0, undefined, `after releasing free spans ${s.heapUsed} bytes are still in spans (${s.centralFree.reduce((a, b) => a + b, 0)} objects on central lists)`);
  }
}

export async function runAllocTest(o: AllocTestOptions, log: (line: string) => void = () => {}, sink?: TraceSink): Promise<AllocTestResult> {
  validate(o);
  const kernel = await createTracedKernel({ cpus: o.cpus, threads: o.threads, seed: o.seed, supervisor: o.supervisor }, sink);
  const replay = replayLine(o);
  const t0 = performance.now();
  let runMs = 0;
  let ops = 0;
  const end = (ok: boolean, message: string, al?: Allocator): AllocTestResult => ({
    ok, message, stats: kernel.stats(), ops, ms: performance.now() - t0, runMs, replay,
    heapHighWater: al?.stats().heapHighWater ?? 0, cacheBytesAtEnd: al?.cacheBytes() ?? 0,
  });
  const name = `${o.workload}/${o.front}`;
  let al: Allocator | undefined;
  try {
    const module: ModuleHandle = await kernel.load(wasmPath('alloc_test'), 'alloc_test');
    al = kernel.allocator({ front: o.front, heapBytes: o.heapBytes, checked: o.checked });
    const resBase = kernel.alloc((o.threads + 1) * 16, 16);
    const res = (slot: number) => resBase + slot * 16;
    const plan = planWorkload(kernel, al, o.workload, o.threads, o.reps, o.seed, res, o.drainEvery);
    const injection: InjectionOptions = { loops: o.loops, modulo: o.modulo, yield: o.yield, signal: o.signal, sleepMs: o.sleepMs };
    await kernel.inject(injection);
    const r0 = performance.now();
    const results = (await kernel.run<number>(module, plan.fn, plan.args)).sort((x, y) => x.thread - y.thread);
    runMs = performance.now() - r0;
    for (const r of results) {
      if (r.value < 0) throw describeFailure(kernel, al, res(r.thread), r.thread, r.value);
      ops += r.value;
    }
    log(`${name}: ${ops} operations in ${runMs.toFixed(0)} ms; cache bytes at end ${al.cacheBytes()}`);
    await kernel.inject(undefined);
    if (plan.after) {
      const { value } = await kernel.runOn<number>(0, module, plan.after.fn, ...plan.after.args);
      if (value < 0) throw describeFailure(kernel, al, res(o.threads), 0, value);
      ops += value;
    }
    const hw = al.stats().heapHighWater;
    checkAfter(al, engineOf(kernel).plan.threads);
    return { ...end(true, `${name}: OK (${ops} operations, heap high water ${hw} B, all objects free after draining, every span back in the page heap)`, al), heapHighWater: hw };
  } catch (e) {
    if (!(e instanceof AllocError) && !(e instanceof AllocConsistencyError)) throw e;
    return end(false, `${name}: ${e.name}: ${e.message}`, al);
  } finally {
    await closeTracedKernel(kernel, sink);
  }
}
