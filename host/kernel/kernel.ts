// The public Kernel: a thin facade over the engine (engine.ts), as piscina's Piscina is over its
// pool. Every call checks that the kernel is open; a closed kernel rejects with KernelClosedError.
import { KernelClosedError, UsageError } from '../errors.js';
import { Engine, type CallResult, type LoadOptions, type ModuleHandle } from './engine.js';
import type { KernelOptions } from './options.js';
import type { InjectionOptions, SupervisorOptions } from './policy.js';
import type { KernelStats } from './stats.js';
import type { ChromeTrace } from '../trace/chrome.js';
import { mainObjects, type BlockPool, type BlockPoolOptions, type Counter, type Histogram, type HistogramOptions, type ObjectTable } from '../objects/index.js';

export type { KernelOptions, TraceOptions } from './options.js';
export type { ChromeTrace, TraceEvent } from '../trace/chrome.js';
import type { Allocator, AllocatorOptions } from '../alloc/allocator.js';
export type { CallResult, LoadOptions, ModuleHandle } from './engine.js';

const engines = new WeakMap<Kernel, Engine>();

/** The engine behind a kernel (host/internal.ts); throws KernelClosedError once it is closed. */
export function engineOf(k: Kernel, what = 'kernel'): Engine {
  const e = engines.get(k);
  if (!e) throw new UsageError('not a wasm-rseq Kernel');
  if (e.closed) throw new KernelClosedError(what);
  return e;
}

export class Kernel {
  private constructor(engine: Engine) {
    engines.set(this, engine);
  }

  /**
   * Create the shared memory, compile the core module and start `threads` emulated threads (each
   * registered with rseq unless `register: false`) and the supervisor. Rejects with UsageError on
   * bad options.
   */
  static async create(options: KernelOptions = {}): Promise<Kernel> {
    return new Kernel(await Engine.create(options));
  }

  /** Number of vCPUs. */
  get cpus(): number { return engineOf(this, 'kernel.cpus').cpus; }
  /** Thread slots, kernel threads and pool slots together. */
  get nrThreads(): number { return engineOf(this, 'kernel.nrThreads').nrThreads; }
  /** Bytes between one vCPU's copy of a per-vCPU object and the next. */
  get poolStride(): number { return engineOf(this, 'kernel.poolStride').plan.poolStride; }
  /** The shared memory every thread runs on. */
  get memory(): WebAssembly.Memory { return engineOf(this, 'kernel.memory').memory; }
  /** Whether the kernel has been closed. */
  get closed(): boolean { return engines.get(this)?.closed ?? true; }

  /** Verify a wasm module built with the preset and instantiate it on every thread. Throws ModuleError. */
  load(source: string | URL | Uint8Array | WebAssembly.Module, options?: string | LoadOptions): Promise<ModuleHandle> {
    return engineOf(this, 'kernel.load').load(source, options);
  }

  /** The core module's handle (the librseq operations, counter_add, ...). */
  get coreModule(): ModuleHandle { return engineOf(this, 'kernel.coreModule').coreModule; }

  /** Exports of a module instantiated on the main thread, for setup and reads (no critical sections). */
  host(m: ModuleHandle): WebAssembly.Exports { return engineOf(this, 'kernel.host').host(m); }

  /** Run `fn` of module `m` on one thread; rejects with ThreadDiedError if that thread dies. */
  runOn<T = unknown>(slot: number, m: ModuleHandle, fn: string, ...args: (number | bigint)[]): Promise<CallResult<T>> {
    return engineOf(this, 'kernel.runOn').runOn<T>(slot, m, fn, ...args);
  }

  /**
   * Run a JavaScript function on a kernel thread: `fn` exported by the ES module at `url`, called
   * as fn(context: ThreadContext, ...args) on that worker. Arguments and result are structured-cloned.
   */
  runScript<T = unknown>(slot: number, url: string | URL, fn: string, ...args: unknown[]): Promise<CallResult<T>> {
    return engineOf(this, 'kernel.runScript').runScript<T>(slot, url, fn, ...args);
  }

  /**
   * Run `fn` on several threads at once (default all live kernel threads), each with `args(slot)`,
   * all released together from one start barrier. Resolves when every call returned.
   */
  run<T = unknown>(m: ModuleHandle, fn: string, args?: (slot: number) => (number | bigint)[], slots?: number[]): Promise<CallResult<T>[]> {
    return engineOf(this, 'kernel.run').run<T>(m, fn, args, slots);
  }

  /** runScript on several threads (`slots`) at once, each with `args(slot)`, released together like run(). */
  runScripts<T = unknown>(slots: number[], url: string | URL, fn: string, args?: (slot: number) => unknown[]): Promise<CallResult<T>[]> {
    return engineOf(this, 'kernel.runScripts').runScripts<T>(slots, url, fn, args);
  }

  /** The thread's sys_rseq(area, len, flags, sig): resolves 0 or rejects with an RseqError. */
  sysRseq(slot: number, area: number, len: number, flags: number, sig: number): Promise<0> {
    return engineOf(this, 'kernel.sysRseq').sysRseq(slot, area, len, flags, sig);
  }

  /**
   * The thread's prctl(option, arg2, arg3, arg4, arg5): PR_RSEQ_SLICE_EXTENSION (79) with
   * PR_RSEQ_SLICE_EXTENSION_SET (2) / _GET (1) and PR_RSEQ_SLICE_EXT_ENABLE (1). Resolves the value,
   * or rejects with an RseqError (EINVAL, ENOTSUPP, ENXIO).
   */
  prctl(slot: number, option: number, arg2: number, arg3 = 0, arg4 = 0, arg5 = 0): Promise<number> {
    return engineOf(this, 'kernel.prctl').prctl(slot, option, arg2, arg3, arg4, arg5);
  }

  /** debugfs rseq/slice_ext_nsec: grant length in emulated ns, 5000..50000 (RseqError ERANGE outside). */
  setSliceExtension(nsec: number): void { engineOf(this, 'kernel.setSliceExtension').setSliceExtension(nsec); }

  /** Set (or clear, with undefined) the injection policy of threads (default all). */
  inject(options: InjectionOptions | undefined, slots?: number[]): Promise<void> {
    return engineOf(this, 'kernel.inject').inject(options, slots);
  }

  /** membarrier(PRIVATE_EXPEDITED_RSEQ) on every vCPU, or only on `cpu` (MEMBARRIER_CMD_FLAG_CPU). */
  membarrier(cpu?: number): Promise<void> {
    return engineOf(this, 'kernel.membarrier').membarrier(cpu);
  }

  /** Define a critical-section descriptor for user code. Returns its address. */
  defineCriticalSection(): number { return engineOf(this, 'kernel.defineCriticalSection').defineCriticalSection(); }

  /** Allocate `size` bytes of the heap region (nodes, buffers, rseq areas). Never freed until reset. */
  alloc(size: number, align = 16): number { return engineOf(this, 'kernel.alloc').alloc(size, align); }

  /**
   * Lay out the kernel's allocator on the heap: `front` per-vCPU (cpu_id), per-mm_cid, per-thread
   * or central-only caches over one page heap and central lists, `heapBytes` of pages. Users'
   * AssemblyScript calls rseq_malloc / rseq_free (wasm-rseq/assembly) on it. One per kernel.
   */
  allocator(options: AllocatorOptions): Allocator { return engineOf(this, 'kernel.allocator').allocator(options); }

  /** Allocate a per-vCPU object: returns cpu 0's address; cpu c's copy is at + c * poolStride. */
  allocPerCpu(size: number, align = 128): number { return engineOf(this, 'kernel.allocPerCpu').allocPerCpu(size, align); }

  /** Release every per-vCPU object and heap block (between independent runs), zeroing them. */
  resetAllocations(): void { engineOf(this, 'kernel.resetAllocations').resetAllocations(); }

  /** Every shared record back to its initial state (between runs; threads stay registered). */
  reset(): Promise<void> { return engineOf(this, 'kernel.reset').reset(); }

  /** Sum of the i64 per-vCPU counter at `base` (plain reads; exact once its writers are parked). */
  sumPerCpu(base: number): bigint { return engineOf(this, 'kernel.sumPerCpu').sumPerCpu(base); }

  /** Commits, aborts by cause, migrations, preemptions, per vCPU and per thread (a racy snapshot). */
  stats(): KernelStats { return engineOf(this, 'kernel.stats').stats(); }

  /**
   * What the kernel recorded since it started or was last reset (created with `trace`), as Chrome
   * Trace Event JSON for Perfetto: a track per thread (pid 1) and per vCPU (pid 2). Readable while
   * threads run (a snapshot), after a thread died, or while one hangs; exact once threads are parked.
   * `otherData.dropped` counts events the bounded rings overwrote. Throws UsageError when not tracing.
   */
  trace(): ChromeTrace { return engineOf(this, 'kernel.trace').trace(); }

  /** Whether the supervisor is running (false if it was never started or has died). */
  get supervised(): boolean { return engineOf(this, 'kernel.supervised').supervised; }

  /** Change the supervisor's policy while threads run; resolves once the supervisor has switched. */
  supervise(options: SupervisorOptions): Promise<void> { return engineOf(this, 'kernel.supervise').supervise(options); }

  /** Why the supervisor died, if it did. */
  get supervisorFailure(): Error | undefined { return engineOf(this, 'kernel.supervisorFailure').supervisorFailure; }

  /**
   * Kill a thread (whatever it was doing, even mid-section or waiting for a vCPU). Resolves once it
   * has exited and the kernel has reclaimed its vCPU, mm_cid and queue place.
   */
  kill(slot: number): Promise<void> { return engineOf(this, 'kernel.kill').kill(slot); }

  // --- Per-vCPU objects from JavaScript (host/objects/) ---------------------------------------

  /**
   * Create a named per-vCPU counter (ObjectError EEXIST if the name is taken, ENOSPC when the table,
   * pool or heap is full). Workers find it with ctx.objects.counter(name).
   */
  counter(name: string): Counter { return mainObjects(engineOf(this, 'kernel.counter')).createCounter(name); }

  /** Create a named per-vCPU log-linear histogram (see HistogramOptions for the bucket geometry). */
  histogram(name: string, options?: HistogramOptions): Histogram {
    return mainObjects(engineOf(this, 'kernel.histogram')).createHistogram(name, options);
  }

  /** Create a named pool of `blocks` blocks of `blockSize` bytes with per-vCPU free-list caches. */
  blockPool(name: string, options: BlockPoolOptions): BlockPool {
    return mainObjects(engineOf(this, 'kernel.blockPool')).createBlockPool(name, options);
  }

  /** Find objects by name on the main thread (their writes go to the main-thread shard). */
  get objects(): ObjectTable { return mainObjects(engineOf(this, 'kernel.objects')); }

  /** Stop every thread and the supervisor. Idempotent; every later call throws KernelClosedError. */
  async close(): Promise<void> {
    await engines.get(this)?.close();
  }
}
