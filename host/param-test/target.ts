// param-test --target: a user's check target (the contract of `wasm-rseq check`: check_setup,
// check_op, check_verify) run on real parallel threads, oversubscribed, under the seeded random
// supervisor and, instrumented, with an action at every shared access inside a section (point 10).
// Where the checker explores one-thread-at-a-time schedules exactly, this is the stress half: real
// races, many operations; a failure reports the command line that replays its configuration and
// seeded decisions (not its interleaving).
import { UsageError } from '../errors.js';
import type { SupervisorOptions } from '../kernel/supervisor.js';
import { hostFile } from '../paths.js';
import { platform } from '../platform/index.js';
import { checkInt, closeTracedKernel, createTracedKernel, injectionFlags, supervisorFlags, validateRun, type ParamTestResult, type TraceSink } from './run.js';

export interface TargetTestOptions {
  /** The check target: a .wasm file built with the preset, or its bytes. */
  target: string | Uint8Array<ArrayBuffer>;
  /** The name the replay line gives the module (default: the path, or FILE.wasm for bytes). */
  file?: string;
  threads: number;
  /** check_op calls per thread. */
  ops: number;
  cpus: number;
  /** Bytes of the zeroed per-vCPU region passed to check_* as `base`. */
  bytes: number;
  /** Load the module instrumented: every shared access inside a section is injection point 10. */
  instrument: boolean;
  /** With `instrument`: act at point 10 every `modulo`-th pass, by yield, signal or sleep. */
  modulo: number;
  yield: boolean;
  signal: boolean;
  sleepMs: number;
  seed: number;
  supervisor: SupervisorOptions;
  verbose: boolean;
}

export const TARGET_DEFAULTS: Omit<TargetTestOptions, 'target'> = {
  threads: 12, ops: 1000, cpus: 2, bytes: 4096, instrument: false, modulo: 0, yield: false, signal: false, sleepMs: 0,
  seed: 1, supervisor: {}, verbose: false,
};

export interface TargetTestResult extends ParamTestResult {
  /** What check_verify returned (0 consistent; 0 too when a thread failed first). */
  verify: number;
}

/** The exports every check target has (README "Checking your critical sections"). */
export const CHECK_EXPORTS = ['check_setup', 'check_op', 'check_verify'] as const;

const fileOf = (o: TargetTestOptions) => o.file ?? (typeof o.target === 'string' ? o.target : 'FILE.wasm');
const acts = (o: TargetTestOptions) => o.yield || o.signal || o.sleepMs > 0;

/** The bytes of a check target, or a UsageError: unreadable, not wasm, or without the check exports. */
export async function checkTargetModule(target: string | Uint8Array<ArrayBuffer>, file = typeof target === 'string' ? target : 'FILE.wasm'): Promise<Uint8Array<ArrayBuffer>> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = typeof target === 'string' ? await platform.readBytes(target) : target;
  } catch (e) {
    throw new UsageError(`--target: cannot read ${file} (${(e as Error).message})`, { cause: e });
  }
  let exports: string[];
  try {
    exports = WebAssembly.Module.exports(await WebAssembly.compile(bytes)).map((x) => x.name);
  } catch (e) {
    throw new UsageError(`--target: ${file} is not a WebAssembly module (${(e as Error).message})`, { cause: e });
  }
  const missing = CHECK_EXPORTS.filter((f) => !exports.includes(f));
  if (missing.length) {
    throw new UsageError(`--target: ${file} does not export ${missing.join(', ')} (see README "Checking your critical sections")`);
  }
  return bytes;
}

export function validateTarget(o: TargetTestOptions): void {
  validateRun({ threads: o.threads, reps: o.ops, cpus: o.cpus, modulo: o.modulo, sleepMs: o.sleepMs, loops: {} });
  checkInt(o.bytes, '--bytes', 8);
  if (o.bytes > 1 << 20) throw new UsageError(`--bytes must be <= ${1 << 20} (got ${o.bytes})`);
  if ((acts(o) || o.modulo) && !o.instrument) throw new UsageError('-m, -y, -k and -s act at point 10 with --target: they need --instrument');
  if (acts(o) !== (o.modulo > 0)) throw new UsageError('with --target, -m N and one of -y, -k, -s go together');
}

export function targetReplayLine(o: TargetTestOptions): string {
  const a = ['wasm-rseq param-test', `--target ${fileOf(o)}`, `-t ${o.threads}`, `-r ${o.ops}`, `--cpus ${o.cpus}`];
  if (o.bytes !== TARGET_DEFAULTS.bytes) a.push(`--bytes ${o.bytes}`);
  if (o.instrument) a.push('--instrument', ...injectionFlags({ ...o, loops: {} }));
  a.push(...supervisorFlags(o.supervisor), `--seed ${o.seed}`);
  return a.join(' ');
}

/** The per-vCPU stride that fits `bytes` (a power of two, at least the kernel's default). */
const strideFor = (bytes: number) => { let s = 65536; while (s < bytes) s *= 2; return s; };

/**
 * Run the target: check_setup once on thread 0, then every thread its check_op steps concurrently,
 * then check_verify. Resolves ok: false (with the replay line) when check_verify returns non-zero
 * or a thread fails (a trap, an abort, an rseq fault); rejects with UsageError on bad options or a
 * module that is not a check target.
 */
export async function runTargetTest(o: TargetTestOptions, log: (line: string) => void = () => {}, sink?: TraceSink): Promise<TargetTestResult> {
  validateTarget(o);
  const file = fileOf(o);
  const bytes = await checkTargetModule(o.target, file);
  const replay = targetReplayLine(o);
  const { threads, ops } = o;
  const kernel = await createTracedKernel({ cpus: o.cpus, threads, seed: o.seed, supervisor: o.supervisor, poolStride: strideFor(o.bytes) }, sink);
  const t0 = performance.now();
  let runMs = 0;
  try {
    const m = await kernel.load(bytes, { name: file, instrument: o.instrument });
    const cs = kernel.defineCriticalSection();
    const base = kernel.allocPerCpu(o.bytes);
    await kernel.runOn(0, m, 'check_setup', cs, base, threads, ops);
    if (acts(o)) await kernel.inject({ loops: { 10: -1 }, modulo: o.modulo, yield: o.yield, signal: o.signal, sleepMs: o.sleepMs });
    log(`${file}: ${threads} threads x ${ops} ops on ${o.cpus} vCPUs${o.instrument ? ', instrumented' : ''}`);
    let verify = 0;
    let failed: string | undefined;
    const r0 = performance.now();
    try {
      const slots = Array.from({ length: threads }, (_, t) => t);
      await kernel.runScripts(slots, hostFile('param-test/target-worker.js'), 'runCheckOps', (t) => [m.id, t, ops, cs, base]);
      runMs = performance.now() - r0;
      verify = (await kernel.runOn<number>(0, m, 'check_verify', cs, base, threads, ops)).value;
    } catch (e) {
      // The user's code trapped, aborted or faulted on some thread: a finding, not a usage error.
      failed = (e as Error).message;
      runMs ||= performance.now() - r0;
    }
    const ok = verify === 0 && failed === undefined;
    const message = `${file}: ${ok ? 'OK' : failed !== undefined ? `a thread failed: ${failed}` : `check_verify returned ${verify}`}`;
    return { ok, message, verify, stats: kernel.stats(), ms: performance.now() - t0, runMs, replay };
  } finally {
    await closeTracedKernel(kernel, sink);
  }
}
