// The emulated kernel's engine, main-thread side: the shared memory, the compiled modules, the
// threads and the supervisor, and everything done to them. Private machinery: users hold a Kernel
// (kernel.ts), the library's pool, bench and tests reach this through host/internal.ts.
// The main thread never blocks here: it takes the scheduler lock with Atomics.waitAsync.
import { readAbi, type Abi } from '../abi.js';
import { RegionExhaustedError, RseqError, UsageError, errnoName, reviveError } from '../errors.js';
import {
  SharedView, createSharedMemory, initMemory, planMemory, resetRecords, writeDescriptor, type MemoryPlan,
} from '../memory.js';
import { hostFile, wasmPath } from '../paths.js';
import { platform, type ThreadPort } from '../platform/index.js';
import type { ThreadData } from '../thread.js';
import { layoutAllocator, type Allocator, type AllocatorOptions } from '../alloc/allocator.js';
import { membarrier } from './membarrier.js';
import { normalizeOptions, validateSupervisor, type KernelOptions } from './options.js';
import { createPolicy, type InjectionOptions, type PolicySpec, type SupervisorOptions } from './policy.js';
import { BumpRegion } from './region.js';
import { Sched, wakeIdle } from './sched.js';
import { readStats, type KernelStats } from './stats.js';
import { readRings, resetTrace } from './trace-ring.js';
import { Reaper } from './reaper.js';
import { kernelTrace } from '../trace/kernel.js';
import type { ChromeTrace } from '../trace/chrome.js';
import { writeSupervisorOptions, type SupervisorData } from './supervisor.js';
import { ThreadHandle, type Req } from './thread-handle.js';
import { verifyModule } from './verify.js';
import { instrument } from '../check/instrument.js';
import type { ExploreSpec } from './policy.js';
import type { CheckJob } from '../check/runtime.js';

/** The time-slice extension's words in the policy block (KernelOptions.sliceExtension). */
function writeSliceExtension(v: SharedView, abi: Abi, o: { nsec: number; scale: number; enabled: boolean }): void {
  const p = abi.SCHED_POLICY;
  v.store(p + abi.POL_SLICE_EXT_NSEC, o.nsec);
  v.store(p + abi.POL_SLICE_EXT_OFF, o.enabled ? 0 : 1);
  v.f64[(p + abi.POL_SLICE_EXT_SCALE) >> 3] = o.scale;
}

export interface ModuleHandle { readonly id: number; readonly name: string; readonly exports: readonly string[] }
/** kernel.load's options (a string is the name). */
export interface LoadOptions {
  name?: string;
  /**
   * Put a point before every load and store of the module (binaryen, at load time): inside a
   * section each is injection point 10 (kernel.inject({ loops: { 10: -1 }, modulo, yield, ... }))
   * and, under `wasm-rseq check`, a decision point of the explorer. Needs the module's bytes.
   */
  instrument?: boolean;
  /**
   * Accept mutable globals (module-level `let`): each thread's instance has its own copy, so they
   * are thread-local, never shared. Without this, kernel.load refuses them (a ModuleError).
   */
  threadLocalGlobals?: boolean;
}
export interface CallResult<T = unknown> { thread: number; value: T; ms: number }

interface LoadedModule { id: number; name: string; module: WebAssembly.Module; host: WebAssembly.Instance }

export class Engine {
  readonly view: SharedView;
  readonly sched: Sched;
  readonly policy: PolicySpec;
  private readonly threads: ThreadHandle[] = [];
  private readonly modules: LoadedModule[] = [];
  private supervisorPort?: ThreadPort;
  private supervisorError?: Error;
  private readonly dataRanges: [number, number][] = [];
  /** Reclaims dead threads' slots, vCPUs and mm_cids (reaper.ts). */
  private readonly reaper: Reaper;
  private readonly heap: BumpRegion;
  /** The per-vCPU pool: offsets within one stride, valid for every vCPU (librseq's mempool). */
  private readonly pool: BumpRegion;
  private nextDesc: number;
  private warnedInject = false;
  closed = false;

  private constructor(
    readonly memory: WebAssembly.Memory, readonly abi: Abi, readonly plan: MemoryPlan,
    readonly core: WebAssembly.Module, readonly sig: number, supervisor: SupervisorOptions | false, seed: number,
  ) {
    this.view = new SharedView(memory);
    this.policy = { kind: 'seeded', seed, supervisor: supervisor || {} };
    this.sched = new Sched(this.view, abi, plan, createPolicy(abi, this.policy, plan.cpus));
    this.reaper = new Reaper(this.view, abi, plan, this.sched, () => this.closed);
    this.heap = new BumpRegion('heap', plan.heapBase, plan.heapBase + plan.heapSize);
    this.pool = new BumpRegion('per-vCPU pool', plan.poolBase, plan.poolBase + plan.poolStride);
    this.nextDesc = abi.CSID_USER_FIRST;
  }

  /** Create the memory, compile the core module once and start every thread and the supervisor. */
  static async create(options: KernelOptions = {}): Promise<Engine> {
    const { cpus, threads, poolSlots, poolStride, seed, topology, supervisor, register, sliceExtension, traceCapacity } = normalizeOptions(options);
    const core = await WebAssembly.compile(await platform.readBytes(wasmPath('rseq')));
    const abi = await readAbi(core);
    const sig = (options.sig ?? abi.RSEQ_SIG) | 0;
    const plan = planMemory(abi, { cpus, threads: threads + poolSlots, nodes: Math.max(...topology) + 1, poolStride, traceCapacity });
    const memory = createSharedMemory(plan);
    initMemory(new SharedView(memory), abi, plan, (c) => topology[c], sig);
    writeSliceExtension(new SharedView(memory), abi, sliceExtension);
    if (plan.traceBase) resetTrace(new SharedView(memory), abi, plan);
    const e = new Engine(memory, abi, plan, core, sig, supervisor, seed);
    e.modules.push({ id: 0, name: 'core', module: core, host: await e.hostInstance(core) });
    try {
      if (supervisor !== false) await e.startSupervisor(supervisor);
      await Promise.all(Array.from({ length: threads }, (_, t) =>
        e.spawn(t, typeof register === 'function' ? register(t) : register)));
    } catch (err) {
      await e.close();
      throw err;
    }
    return e;
  }

  get cpus(): number { return this.plan.cpus; }
  get nrThreads(): number { return this.plan.threads; }
  /** Slots of the threads the kernel started (not pool slots), alive or not. */
  get threadCount(): number { return this.threads.length; }
  private get live(): number[] { return this.threads.filter((t) => !t.exited).map((t) => t.slot); }

  /** Thread slots not started by the kernel, for pool workers. */
  get poolSlots(): number[] {
    return Array.from({ length: this.plan.threads - this.threads.length }, (_, i) => this.threads.length + i);
  }

  /** A pool worker (its platform thread id `pid`) has exited: reap its slot and free it for a
   *  replacement. Returns the slot and what it had committed, or undefined if it held none. */
  reapPoolWorker(pid: number): Promise<{ slot: number; commits: number } | undefined> { return this.reaper.reapPoolWorker(pid, this.poolSlots); }

  /** What reaping found (Reaper.counts): for diagnostics and tests. */
  get reapCounts(): Readonly<Reaper['counts']> { return this.reaper.counts; }

  /** Kill a thread (whatever it is doing); resolves once its slot is reclaimed. */
  kill(slot: number): Promise<void> { return this.reaper.kill(this.thread(slot)); }

  private hostInstance(module: WebAssembly.Module): Promise<WebAssembly.Instance> {
    const never = () => { throw new UsageError('critical sections do not run on the main thread'); };
    return WebAssembly.instantiate(module, {
      env: { memory: this.memory, abort: never },
      'wasm-rseq@1': {
        thread: new WebAssembly.Global({ value: 'i32' }, 0), slow: never, inject: never, yield_now: never, stop_cpu: never, start_cpu: never,
        prctl: never, slice_yield: never, umcg_ctl: never, umcg_wait: never, umcg_kick: never, point: (p: number) => p,
      },
    });
  }

  /** What a thread needs to run on this kernel (slot -1: it claims a free pool slot itself). */
  threadData(slot: number, register: boolean): ThreadData {
    return {
      memory: this.memory, abi: this.abi, plan: this.plan, slot, register, sig: this.sig, policy: this.policy,
      modules: this.modules.map(({ id, module }) => ({ id, module })),
    };
  }

  private async spawn(slot: number, register: boolean): Promise<void> {
    const port = platform.spawn(hostFile('thread.js'), this.threadData(slot, register));
    const handle = new ThreadHandle(slot, port, (t) => { void this.reaper.reap(t.slot); });
    this.threads[slot] = handle;
    await handle.ready;
  }

  private async startSupervisor(options: SupervisorOptions): Promise<void> {
    const { view: v, abi } = this;
    writeSupervisorOptions(v, abi, options);
    v.store(abi.SCHED_SUPERVISOR, 1);
    const data: SupervisorData & { supervisor: true } = { memory: this.memory, abi, plan: this.plan, policy: this.policy, supervisor: true };
    const port = platform.spawn(hostFile('kernel/supervisor.js'), data);
    this.supervisorPort = port;
    await new Promise<void>((resolve, reject) => { port.onMessage(() => resolve()); port.onError(reject); });
    port.onError((e) => { this.supervisorError = e; });
    port.onExit((code) => {
      if (this.closed) return;
      // The threads go on without time slicing or injection; say so once.
      v.store(abi.SCHED_SUPERVISOR, 0);
      this.supervisorError ??= new Error(`supervisor exited with code ${code}`);
      platform.warn(`wasm-rseq: the supervisor died (${this.supervisorError.message}); time slicing and injection are off`);
    });
    port.unref();
  }

  private thread(slot: number): ThreadHandle {
    const t = this.threads[slot];
    if (!t) {
      const range = this.threads.length ? `0..${this.threads.length - 1}` : 'none: created with threads: 0';
      throw new UsageError(`thread ${slot} does not exist (kernel threads: ${range})`);
    }
    return t;
  }

  private async call(slot: number, req: Req): Promise<{ value: unknown; ms: number }> {
    const r = await this.thread(slot).request(req);
    if (!r.ok) throw reviveError(r.error);
    return { value: r.value, ms: r.ms };
  }

  /** Verify a wasm module built with the preset and instantiate it on every thread. */
  async load(source: string | URL | Uint8Array | WebAssembly.Module, opts?: string | LoadOptions): Promise<ModuleHandle> {
    const o: LoadOptions = typeof opts === 'string' ? { name: opts } : opts ?? {};
    const name = o.name;
    let bytes = typeof source === 'string' || source instanceof URL ? await platform.readBytes(source) : source;
    if (o.instrument) {
      if (bytes instanceof WebAssembly.Module) throw new UsageError('kernel.load: instrument needs the module\'s bytes, not a compiled WebAssembly.Module');
      bytes = (await instrument(bytes)).bytes;
    }
    const module = bytes instanceof WebAssembly.Module ? bytes : await WebAssembly.compile(bytes);
    const { abi } = this;
    const window: [number, number] = [abi.HOST_REGION_END, abi.HOST_REGION_END + abi.DATA_WINDOW * abi.DATA_WINDOWS];
    const data = verifyModule(module, bytes instanceof WebAssembly.Module ? undefined : bytes, this.dataRanges, window, o.threadLocalGlobals);
    this.dataRanges.push(...data);
    const id = this.modules.length;
    const entry = { id, name: name ?? (typeof source === 'string' ? source : `module${id}`), module, host: await this.hostInstance(module) };
    this.modules.push(entry);
    await Promise.all(this.live.map((slot) => this.call(slot, { op: 'load', module: id, wasm: module })));
    return { id, name: entry.name, exports: WebAssembly.Module.exports(module).map((e) => e.name) };
  }

  /** The core module's handle (ops callable one per call, counter_add, ...). */
  get coreModule(): ModuleHandle {
    return { id: 0, name: 'core', exports: WebAssembly.Module.exports(this.core).map((e) => e.name) };
  }

  /** Exports of a module instantiated on the main thread, for setup and reads (no critical sections). */
  host(m: ModuleHandle): WebAssembly.Exports {
    const entry = this.modules[m.id];
    if (!entry) throw new UsageError(`no module ${m.id} is loaded on this kernel`);
    return entry.host.exports;
  }

  async runOn<T = unknown>(slot: number, m: ModuleHandle, fn: string, ...args: (number | bigint)[]): Promise<CallResult<T>> {
    const { value, ms } = await this.call(slot, { op: 'call', module: m.id, fn, args, together: false });
    return { thread: slot, value: value as T, ms };
  }

  async runScript<T = unknown>(slot: number, url: string | URL, fn: string, ...args: unknown[]): Promise<CallResult<T>> {
    const { value, ms } = await this.call(slot, { op: 'script', url: String(url), fn, args });
    return { thread: slot, value: value as T, ms };
  }

  /** Run `fn` on several threads at once (default all live ones), released together from the start barrier. */
  async run<T = unknown>(
    m: ModuleHandle, fn: string, args: (slot: number) => (number | bigint)[] = () => [], slots?: number[],
  ): Promise<CallResult<T>[]> {
    return this.together<T>(slots ?? this.live, (slot) => ({ op: 'call', module: m.id, fn, args: args(slot), together: true }));
  }

  /** runScript on several threads at once, released together from the same start barrier as run(). */
  async runScripts<T = unknown>(
    slots: number[], url: string | URL, fn: string, args: (slot: number) => unknown[] = () => [],
  ): Promise<CallResult<T>[]> {
    return this.together<T>(slots, (slot) => ({ op: 'script', url: String(url), fn, args: args(slot), together: true }));
  }

  /** Post `req(slot)` to every slot of `which`, then release them all from the start barrier. */
  private async together<T>(which: number[], req: (slot: number) => Req): Promise<CallResult<T>[]> {
    if (which.length === 0) throw new UsageError('kernel.run: no threads to run on (created with threads: 0, or all have exited)');
    for (const slot of which) this.thread(slot);
    const bar = this.abi.SCHED_BARRIER >> 2;
    Atomics.store(this.view.i32, bar, 0);
    Atomics.store(this.view.i32, bar + 1, 0);
    const calls = which.map((slot) => this.call(slot, req(slot))
      .then(({ value, ms }) => ({ thread: slot, value: value as T, ms })));
    await Promise.race([this.whenArrived(which.length), Promise.allSettled(calls)]);
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

  /** prctl(option, a2, a3, a4, a5) on thread `slot`: resolves its value (>= 0) or rejects with an RseqError. */
  async prctl(slot: number, option: number, a2: number, a3 = 0, a4 = 0, a5 = 0): Promise<number> {
    const { value } = await this.call(slot, { op: 'prctl', args: [option, a2, a3, a4, a5] });
    const ret = value as number;
    if (ret >= 0) return ret;
    const code = errnoName(-ret) ?? 'EINVAL';
    throw new RseqError(code, `prctl(${option}, ${a2}, ${a3}, ${a4}, ${a5}) on thread ${slot}`);
  }

  /** debugfs rseq/slice_ext_nsec: the length of a time-slice extension grant (emulated ns, 5000..50000). */
  setSliceExtension(nsec: number): void {
    if (!Number.isInteger(nsec) || nsec < this.abi.SLICE_EXT_NSEC_MIN || nsec > this.abi.SLICE_EXT_NSEC_MAX) {
      throw new RseqError('ERANGE', `slice_ext_nsec ${nsec} outside [${this.abi.SLICE_EXT_NSEC_MIN}, ${this.abi.SLICE_EXT_NSEC_MAX}]`);
    }
    this.view.store(this.abi.SCHED_POLICY + this.abi.POL_SLICE_EXT_NSEC, nsec);
  }

  async sysRseq(slot: number, area: number, len: number, flags: number, sig: number): Promise<0> {
    const { value } = await this.call(slot, { op: 'sys_rseq', args: [area, len, flags, sig] });
    const ret = value as number;
    if (ret === 0) return 0;
    const code = errnoName(-ret) ?? 'EINVAL';
    throw new RseqError(code, `rseq(0x${(area >>> 0).toString(16)}, ${len}, ${flags}, 0x${(sig >>> 0).toString(16)}) on thread ${slot}`);
  }

  /** Start the explorer's loop (host/check/) on every live thread; each promise settles when it quits. */
  startCheck(spec: ExploreSpec, job: CheckJob): Promise<unknown>[] {
    return this.live.map((slot) => this.call(slot, { op: 'check', spec, job }).then((r) => r.value));
  }

  async inject(options: InjectionOptions | undefined, slots?: number[]): Promise<void> {
    const points = Object.entries(options?.loops ?? {}).filter(([, n]) => n !== 0).map(([p]) => Number(p));
    const has = (name: string) => this.modules.some((m) => WebAssembly.Module.imports(m.module).some((i) => i.module === 'wasm-rseq@1' && i.name === name));
    const missing = points.filter((p) => (p === 10 ? !has('point') : p !== 7 && !has('inject')));
    if (missing.length && !this.warnedInject) {
      this.warnedInject = true;
      platform.warn(`wasm-rseq: kernel.inject: no loaded module has injection point${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: `
        + (missing.includes(10) ? 'point 10 needs kernel.load(bytes, { instrument: true }); ' : '')
        + 'points 1..9 exist only in modules whose entry declares `@global const RSEQ_INJECT: bool = true;`');
    }
    const which = slots ?? this.live;
    await Promise.all(which.map((slot) => this.call(slot, { op: 'inject', options })));
  }

  async membarrier(cpu?: number): Promise<void> {
    if (cpu !== undefined && (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus)) {
      throw new RseqError('EINVAL', `membarrier: no vCPU ${cpu}`);
    }
    await membarrier(this.sched, cpu === undefined ? [...Array(this.cpus).keys()] : [cpu]);
  }

  defineCriticalSection(): number {
    if (this.nextDesc >= this.plan.nrDesc) {
      throw new RegionExhaustedError({ region: 'descriptor table', requested: this.abi.CS_SIZE, left: 0 });
    }
    return writeDescriptor(this.view, this.abi, this.plan, this.nextDesc++, this.sig);
  }

  alloc(size: number, align = 16): number {
    return this.heap.alloc(size, align);
  }

  allocPerCpu(size: number, align = 128): number {
    return this.pool.alloc(size, align);
  }

  /** Lay out the kernel's allocator on the heap (one per kernel until the allocations are reset). */
  allocator(o: AllocatorOptions): Allocator {
    return layoutAllocator(this, o);
  }

  resetAllocations(): void {
    this.view.store(this.abi.HEADER_ADDR + this.abi.HDR_ALLOC, 0);
    this.view.u8.fill(0, this.plan.poolBase, this.plan.heapBase + this.plan.heapSize);
    this.pool.reset();
    this.heap.reset();
  }

  /**
   * Every shared record back to its state right after create: vCPUs free with their first odd
   * sequence, statistics and clock zero, user descriptors and allocations gone, injection off;
   * threads keep their registration. Only between runs: rejects while a call is in flight.
   */
  async reset(): Promise<void> {
    const busy = this.threads.filter((t) => !t.exited && t.busy).map((t) => t.slot);
    if (busy.length) throw new UsageError(`kernel.reset: threads ${busy.join(', ')} are still running calls`);
    await this.inject(undefined);
    const { view: v, abi, plan } = this;
    await this.sched.lockAsync();
    try {
      const owned = [...Array(plan.cpus).keys()].filter((c) => v.load(this.sched.cpu(c) + abi.CPU_OWNER) !== 0);
      if (owned.length || this.sched.waiters() > 0) {
        throw new UsageError(`kernel.reset: vCPUs ${owned.join(', ')} are owned by pool workers; reset between tasks`);
      }
      resetRecords(v, abi, plan);
      if (plan.traceBase) resetTrace(v, abi, plan);
      this.nextDesc = abi.CSID_USER_FIRST;
      this.resetAllocations();
    } finally {
      this.sched.unlock();
    }
  }

  sumPerCpu(base: number): bigint {
    let sum = 0n;
    for (let c = 0; c < this.cpus; c++) sum += this.view.load64(base + c * this.plan.poolStride);
    return sum;
  }

  stats(): KernelStats {
    return readStats(this.view, this.abi, this.plan);
  }

  /** What the trace rings hold now, as Chrome Trace Event JSON. Throws UsageError when not tracing. */
  trace(): ChromeTrace {
    if (!this.plan.traceBase) throw new UsageError('kernel.trace: this kernel does not trace (create it with trace: true)');
    return kernelTrace(this.abi, readRings(this.view, this.abi, this.plan), this.plan.cpus, this.plan.traceCapacity);
  }

  get supervised(): boolean {
    return this.view.load(this.abi.SCHED_SUPERVISOR) === 1;
  }

  async supervise(options: SupervisorOptions): Promise<void> {
    validateSupervisor(options);
    if (!this.supervised) throw new UsageError('the supervisor is not running (created with supervisor: false, or it died)');
    const { view: v, abi } = this;
    writeSupervisorOptions(v, abi, options);
    const gen = v.add(abi.SCHED_SUP_GEN, 1) + 1;
    Atomics.notify(v.i32, abi.SCHED_SUPERVISOR >> 2);
    wakeIdle(v, abi);
    for (let ack = v.load(abi.SCHED_SUP_ACK); ack < gen; ack = v.load(abi.SCHED_SUP_ACK)) {
      if (!this.supervised) throw new UsageError(`the supervisor died: ${this.supervisorError?.message ?? 'unknown'}`);
      const w = Atomics.waitAsync(v.i32, abi.SCHED_SUP_ACK >> 2, ack, 50);
      if (w.async) await w.value;
    }
  }

  get supervisorFailure(): Error | undefined {
    return this.supervisorError;
  }

  /** Stop the supervisor as if it had crashed (for tests of the runtime without it). */
  async crashSupervisor(): Promise<void> {
    await this.supervisorPort?.terminate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.view.store(this.abi.SCHED_SUPERVISOR, 0);
    Atomics.notify(this.view.i32, this.abi.SCHED_SUPERVISOR >> 2);
    wakeIdle(this.view, this.abi);
    await Promise.all(this.threads.filter((t) => !t.exited).map((t) => t.port.terminate()));
    await this.supervisorPort?.terminate();
  }
}
