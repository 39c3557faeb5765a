// The emulated kernel, main-thread side: creates the shared memory, compiles the core module once,
// spawns the threads and the supervisor, loads user modules, runs calls, fences and reports.
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { readAbi, type Abi } from '../abi.js';
import { RseqError, RseqFault, UsageError, errnoName } from '../errors.js';
import {
  SharedView, createSharedMemory, initMemory, planMemory, resetThread, writeDescriptor, type MemoryPlan,
} from '../memory.js';
import { hostFile, wasmPath } from '../paths.js';
import type { ThreadData } from '../thread.js';
import type { InjectionOptions } from './inject.js';
import { membarrier } from './membarrier.js';
import { Sched, wakeIdle } from './sched.js';
import { readStats, type KernelStats } from './stats.js';
import { normalizeOptions, validateSupervisor, type KernelOptions } from './options.js';
import { BumpRegion } from './region.js';
import type { SupervisorData, SupervisorOptions } from './supervisor.js';
import { ThreadHandle, type Req } from './thread-handle.js';
import { verifyModule } from './verify.js';

export type { KernelOptions } from './options.js';

export interface ModuleHandle { readonly id: number; readonly name: string; readonly exports: readonly string[] }
export interface CallResult<T = unknown> { thread: number; value: T; ms: number }

export class Kernel {
  readonly view: SharedView;
  readonly sched: Sched;
  private readonly threads: ThreadHandle[] = [];
  private readonly modules: { id: number; name: string; module: WebAssembly.Module; host: WebAssembly.Instance }[] = [];
  private supervisorWorker?: Worker;
  private supervisorError?: Error;
  private readonly dataRanges: [number, number][] = [];
  private readonly killing = new Set<number>();
  private kills: Promise<void> = Promise.resolve();
  private readonly heap: BumpRegion;
  /** The per-vCPU pool: offsets within one stride, valid for every vCPU (librseq's mempool). */
  private readonly pool: BumpRegion;
  private nextDesc: number;
  private closed = false;

  private constructor(
    readonly memory: WebAssembly.Memory, readonly abi: Abi, readonly plan: MemoryPlan,
    readonly core: WebAssembly.Module, readonly options: Required<Pick<KernelOptions, 'seed' | 'sig'>> & KernelOptions,
  ) {
    this.view = new SharedView(memory);
    this.sched = new Sched(this.view, abi, plan);
    this.heap = new BumpRegion('heap', plan.heapBase, plan.heapBase + plan.heapSize);
    this.pool = new BumpRegion('per-vCPU pool', plan.poolBase, plan.poolBase + plan.poolStride);
    this.nextDesc = abi.CSID_USER_FIRST;
  }

  /** Create the memory, compile the core module once and start every thread and the supervisor. */
  static async create(options: KernelOptions = {}): Promise<Kernel> {
    const { cpus, threads, poolSlots, poolStride, seed, topology, supervisor: sup, register } = normalizeOptions(options);
    const core = new WebAssembly.Module(await readFile(wasmPath('rseq')));
    const abi = readAbi(core);
    const sig = (options.sig ?? abi.RSEQ_SIG) | 0;
    const plan = planMemory(abi, { cpus, threads: threads + poolSlots, nodes: Math.max(...topology) + 1, poolStride });
    const memory = createSharedMemory(plan);
    initMemory(new SharedView(memory), abi, plan, (c) => topology[c], sig);
    const k = new Kernel(memory, abi, plan, core, { ...options, seed, sig });
    k.modules.push({ id: 0, name: 'core', module: core, host: k.hostInstance(core) });
    try {
      if (sup !== false) await k.startSupervisor(sup);
      await Promise.all(Array.from({ length: threads }, (_, t) =>
        k.spawn(t, typeof register === 'function' ? register(t) : register)));
    } catch (e) {
      await k.close();
      throw e;
    }
    return k;
  }

  get cpus(): number { return this.plan.cpus; }
  get nrThreads(): number { return this.plan.threads; }

  /** Thread slots not started by the kernel, for pool workers. */
  get poolSlots(): number[] {
    return Array.from({ length: this.plan.threads - this.threads.length }, (_, i) => this.threads.length + i);
  }

  /** A pool worker (piscina threadId `pid`) is gone: reap its slot and free it for a replacement. */
  reapPoolWorker(pid: number): void {
    for (const slot of this.poolSlots) {
      const rec = this.sched.thread(slot);
      if (this.view.load(rec + this.abi.T_STATE) === this.abi.THREAD_LIVE && this.view.load(rec + this.abi.T_PID) === pid) {
        this.reap(slot);
        this.clearSlot(slot);
      }
    }
  }

  private hostInstance(module: WebAssembly.Module): WebAssembly.Instance {
    const never = () => { throw new Error('critical sections do not run on the main thread'); };
    return new WebAssembly.Instance(module, {
      env: { memory: this.memory, abort: never },
      'wasm-rseq@1': { thread: new WebAssembly.Global({ value: 'i32' }, 0), slow: never, inject: never, yield_now: never },
    });
  }

  /** What a thread needs to run on this kernel (slot -1: it claims a free pool slot itself). */
  threadData(slot: number, register: boolean): ThreadData {
    return {
      memory: this.memory, abi: this.abi, plan: this.plan, slot, register, sig: this.options.sig,
      modules: this.modules.map(({ id, module }) => ({ id, module })),
    };
  }

  private async spawn(slot: number, register: boolean): Promise<void> {
    const data = this.threadData(slot, register);
    const worker = new Worker(hostFile('thread.js'), { workerData: data });
    const handle = new ThreadHandle(slot, worker, (t) => this.reap(t.slot));
    this.threads[slot] = handle;
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  }

  private async startSupervisor(options: SupervisorOptions): Promise<void> {
    this.view.store(this.abi.SCHED_SUPERVISOR, 1);
    const data: SupervisorData & { supervisor: true } = {
      memory: this.memory, abi: this.abi, plan: this.plan, seed: this.options.seed, options, supervisor: true,
    };
    const w = new Worker(hostFile('kernel/supervisor.js'), { workerData: data });
    this.supervisorWorker = w;
    await new Promise<void>((resolve, reject) => { w.once('message', () => resolve()); w.once('error', reject); });
    w.on('error', (e) => { this.supervisorError = e; });
    w.on('exit', (code) => {
      if (this.closed) return;
      // The threads go on without time slicing or injection; say so once.
      this.view.store(this.abi.SCHED_SUPERVISOR, 0);
      this.supervisorError ??= new Error(`supervisor exited with code ${code}`);
      process.emitWarning(`wasm-rseq: the supervisor died (${this.supervisorError.message}); time slicing and injection are off`);
    });
    w.unref();
  }

  /** Reclaim a thread that exited: its vCPU, mm_cid and queue place; the slot reads as dead. */
  reap(slot: number): void {
    // Once closing, threads are terminated wherever they are (maybe holding the scheduler lock):
    // there is nothing left to reclaim, and taking the lock could wait forever.
    if (this.closed || this.killing.has(slot)) return;
    this.sched.lock();
    this.reapLocked(slot);
    this.sched.unlock();
  }

  private reapLocked(slot: number): void {
    const { view: v, abi } = this;
    const rec = this.sched.thread(slot);
    this.sched.unqueue(slot);
    const granted = Atomics.exchange(v.i32, (rec + abi.T_GRANT) >> 2, -1);
    if (granted >= 0 || v.load(rec + abi.T_VCPU) >= 0) this.sched.releaseLocked(slot);
    v.store(rec + abi.T_SEQP, 0);
    v.store(rec + abi.T_STATE, abi.THREAD_DEAD);
  }

  private thread(slot: number): ThreadHandle {
    const t = this.threads[slot];
    if (!t) throw new UsageError(`thread ${slot} does not exist (threads: 0..${this.threads.length - 1})`);
    return t;
  }

  private async call(slot: number, req: Req): Promise<{ value: unknown; ms: number }> {
    const r = await this.thread(slot).request(req);
    if (!r.ok) {
      if (r.error.fault) {
        const m = /descriptor 0x([0-9a-f]+): (.*)$/.exec(r.error.message);
        throw new RseqFault(slot, m ? parseInt(m[1], 16) : 0, m ? m[2] : r.error.message);
      }
      const e = new Error(r.error.message);
      e.name = r.error.name;
      throw e;
    }
    return { value: r.value, ms: r.ms };
  }

  /** Verify a wasm module built with the preset and instantiate it on every thread. */
  async load(source: string | Uint8Array | WebAssembly.Module, name?: string): Promise<ModuleHandle> {
    const bytes = typeof source === 'string' ? new Uint8Array(await readFile(source)) : source;
    const module = bytes instanceof WebAssembly.Module ? bytes : new WebAssembly.Module(bytes);
    const { abi } = this;
    const window: [number, number] = [abi.HOST_REGION_END, abi.HOST_REGION_END + abi.DATA_WINDOW * abi.DATA_WINDOWS];
    const data = verifyModule(module, bytes instanceof WebAssembly.Module ? undefined : bytes, this.dataRanges, window);
    this.dataRanges.push(...data);
    const id = this.modules.length;
    const entry = { id, name: name ?? (typeof source === 'string' ? source : `module${id}`), module, host: this.hostInstance(module) };
    this.modules.push(entry);
    await Promise.all(this.threads.filter((t) => !t.exited).map((t) => this.call(t.slot, { op: 'load', module: id, wasm: module })));
    return { id, name: entry.name, exports: WebAssembly.Module.exports(module).map((e) => e.name) };
  }

  /** The core module's handle (ops callable one per call, counter_add, ...). */
  get coreModule(): ModuleHandle {
    return { id: 0, name: 'core', exports: WebAssembly.Module.exports(this.core).map((e) => e.name) };
  }

  /** Exports of a module instantiated on the main thread, for setup and reads (no critical sections). */
  host(m: ModuleHandle): WebAssembly.Exports {
    return this.modules[m.id].host.exports;
  }

  /** Run `fn` of module `m` on one thread. */
  async runOn<T = unknown>(slot: number, m: ModuleHandle, fn: string, ...args: (number | bigint)[]): Promise<CallResult<T>> {
    const { value, ms } = await this.call(slot, { op: 'call', module: m.id, fn, args, together: false });
    return { thread: slot, value: value as T, ms };
  }

  /**
   * Run a JavaScript function on a kernel thread: `fn` exported by the ES module at `url`, called
   * as fn(context: ThreadContext, ...args) on that worker (it may call wasm exports in a loop,
   * e.g. for per-call benchmarks). Arguments and result must be structured-cloneable.
   */
  async runScript<T = unknown>(slot: number, url: string | URL, fn: string, ...args: unknown[]): Promise<CallResult<T>> {
    const { value, ms } = await this.call(slot, { op: 'script', url: String(url), fn, args });
    return { thread: slot, value: value as T, ms };
  }

  /**
   * Run `fn` on several threads at once (default all live ones), each with `args(slot)`, all
   * released together from a start barrier. Resolves when every call returned.
   */
  async run<T = unknown>(
    m: ModuleHandle, fn: string, args: (slot: number) => (number | bigint)[] = () => [], slots?: number[],
  ): Promise<CallResult<T>[]> {
    const which = slots ?? this.threads.filter((t) => !t.exited).map((t) => t.slot);
    const bar = this.abi.SCHED_BARRIER >> 2;
    Atomics.store(this.view.i32, bar, 0);
    Atomics.store(this.view.i32, bar + 1, 0);
    const calls = which.map((slot) => this.call(slot, { op: 'call', module: m.id, fn, args: args(slot), together: true })
      .then(({ value, ms }) => ({ thread: slot, value: value as T, ms })));
    const arrived = Promise.race([this.whenArrived(which.length), Promise.allSettled(calls)]);
    await arrived;
    Atomics.store(this.view.i32, bar, 1);
    Atomics.notify(this.view.i32, bar);
    return Promise.all(calls);
  }

  private async whenArrived(n: number): Promise<void> {
    const i = (this.abi.SCHED_BARRIER >> 2) + 1;
    for (let seen = Atomics.load(this.view.i32, i); seen < n; seen = Atomics.load(this.view.i32, i)) {
      const w = Atomics.waitAsync(this.view.i32, i, seen, 50);
      if (w.async) await w.value;
    }
  }

  /** The thread's sys_rseq(area, len, flags, sig): resolves 0 or rejects with an RseqError. */
  async sysRseq(slot: number, area: number, len: number, flags: number, sig: number): Promise<0> {
    const { value } = await this.call(slot, { op: 'sys_rseq', args: [area, len, flags, sig] });
    const ret = value as number;
    if (ret === 0) return 0;
    const code = errnoName(-ret) ?? 'EINVAL';
    throw new RseqError(code, `rseq(0x${(area >>> 0).toString(16)}, ${len}, ${flags}, 0x${(sig >>> 0).toString(16)}) on thread ${slot}`);
  }

  /** Set (or clear, with undefined) the injection policy of threads (default all). */
  async inject(options: InjectionOptions | undefined, slots?: number[]): Promise<void> {
    const which = slots ?? this.threads.filter((t) => !t.exited).map((t) => t.slot);
    await Promise.all(which.map((slot) => this.call(slot, { op: 'inject', options })));
  }

  /** membarrier(PRIVATE_EXPEDITED_RSEQ) on every vCPU, or only on `cpu` (MEMBARRIER_CMD_FLAG_CPU). */
  async membarrier(cpu?: number): Promise<void> {
    if (cpu !== undefined && (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus)) {
      throw new RseqError('EINVAL', `membarrier: no vCPU ${cpu}`);
    }
    await membarrier(this.sched, cpu === undefined ? [...Array(this.cpus).keys()] : [cpu]);
  }

  /** Define a critical-section descriptor for user code (valid unless `bad` corrupts a field). */
  defineCriticalSection(): number {
    if (this.nextDesc >= this.plan.nrDesc) throw new RangeError('descriptor table full');
    return writeDescriptor(this.view, this.abi, this.plan, this.nextDesc++, this.options.sig);
  }

  /** Allocate `size` bytes of the heap region (for nodes, buffers, rseq areas). Never freed. */
  alloc(size: number, align = 16): number {
    return this.heap.alloc(size, align);
  }

  /** Allocate a per-vCPU object: returns cpu 0's address; cpu c's copy is at + c * poolStride. */
  allocPerCpu(size: number, align: number = this.abi.LINE): number {
    return this.pool.alloc(size, align);
  }

  /** Release every per-vCPU object and heap block (between independent runs), zeroing them. */
  resetAllocations(): void {
    this.view.u8.fill(0, this.plan.poolBase, this.plan.heapBase + this.plan.heapSize);
    this.pool.reset();
    this.heap.reset();
  }

  /** Sum of the i64 per-vCPU counter at `base` (plain reads; exact once its writers are parked). */
  sumPerCpu(base: number): bigint {
    let sum = 0n;
    for (let c = 0; c < this.cpus; c++) sum += this.view.load64(base + c * this.plan.poolStride);
    return sum;
  }

  stats(): KernelStats {
    return readStats(this.view, this.abi, this.plan);
  }

  /** Whether the supervisor is running (false if it was never started or has died). */
  get supervised(): boolean {
    return this.view.load(this.abi.SCHED_SUPERVISOR) === 1;
  }

  /**
   * Change the supervisor's policy while threads run (rates, slice, random or periodic; the seed's
   * random stream goes on). Resolves once the supervisor has switched, from its next tick.
   */
  async supervise(options: SupervisorOptions): Promise<void> {
    validateSupervisor(options);
    if (!this.supervised) throw new UsageError('the supervisor is not running (created with supervisor: false, or it died)');
    const { view: v, abi } = this;
    this.supervisorWorker!.postMessage({ ...options });
    const gen = v.add(abi.SCHED_SUP_GEN, 1) + 1;
    Atomics.notify(v.i32, abi.SCHED_SUPERVISOR >> 2);
    wakeIdle(v, abi);
    for (let ack = v.load(abi.SCHED_SUP_ACK); ack < gen; ack = v.load(abi.SCHED_SUP_ACK)) {
      if (!this.supervised) throw new UsageError(`the supervisor died: ${this.supervisorError?.message ?? 'unknown'}`);
      const w = Atomics.waitAsync(v.i32, abi.SCHED_SUP_ACK >> 2, ack, 50);
      if (w.async) await w.value;
    }
  }

  /** Why the supervisor died, if it did. */
  get supervisorFailure(): Error | undefined {
    return this.supervisorError;
  }

  /** Stop the supervisor as if it had crashed (for tests of the runtime without it). */
  async crashSupervisor(): Promise<void> {
    await this.supervisorWorker?.terminate();
  }

  /**
   * Kill a thread (worker.terminate(): whatever it was doing, even mid-section or waiting for a
   * vCPU). Resolves once it has exited and the kernel has reclaimed its vCPU, mm_cid and queue place.
   */
  async kill(slot: number): Promise<void> {
    const t = this.thread(slot);
    // One kill at a time: the main thread holds the scheduler lock across each.
    const done = this.kills.then(() => this.killNow(t));
    this.kills = done.catch(() => {});
    return done;
  }

  private async killNow(t: ThreadHandle): Promise<void> {
    const slot = t.slot;
    if (t.exited) return;
    // Hold the scheduler lock across the kill so the thread cannot die inside a locked section.
    this.killing.add(slot);
    this.sched.lock();
    try {
      await new Promise<void>((resolve) => { t.worker.once('exit', () => resolve()); void t.worker.terminate(); });
      this.reapLocked(slot);
    } finally {
      this.sched.unlock();
      this.killing.delete(slot);
    }
  }

  /** Reset a dead thread's slot so that stats and tests see a clean record. */
  clearSlot(slot: number): void {
    resetThread(this.view, this.abi, this.sched.thread(slot));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.view.store(this.abi.SCHED_SUPERVISOR, 0);
    Atomics.notify(this.view.i32, this.abi.SCHED_SUPERVISOR >> 2);
    wakeIdle(this.view, this.abi);
    await Promise.all(this.threads.filter((t) => !t.exited).map((t) => t.worker.terminate()));
    await this.supervisorWorker?.terminate();
  }
}

