// What makes a worker an emulated thread, shared by the kernel's own threads (thread.ts) and
// piscina pool workers (pool-worker.ts): its record, its instances of every loaded module with the
// kernel's imports, its rseq registration, and the context scripts and pool tasks receive.
import type { Abi } from './abi.js';
import type { PolicySpec } from './kernel/policy.js';
import { ThreadKernel } from './kernel/thread-kernel.js';
import { SharedView, type MemoryPlan } from './memory.js';
import { platform } from './platform/index.js';
import { abortImport } from './wasm-abort.js';
import { RseqError, UsageError, errnoName } from './errors.js';
import { threadObjects, type ObjectTable } from './objects/index.js';

export interface ThreadData {
  memory: WebAssembly.Memory;
  abi: Abi;
  plan: MemoryPlan;
  /** This thread's slot, or -1 for a pool worker that claims a free slot itself. */
  slot: number;
  register: boolean;
  sig: number;
  /** The kernel's policy, instantiated on this thread (injection points, who gets a freed vCPU). */
  policy: PolicySpec;
  modules: { id: number; module: WebAssembly.Module }[];
}

/**
 * What a script run on a kernel thread (Kernel.runScript) or a pool task receives first. `E` types
 * what exports(id) returns (the user's module's exports), `W` the pool's workerData.
 */
export interface ThreadContext<E = WebAssembly.Exports, W = unknown> {
  /** This thread's slot (kernel threads 0.., pool workers after them). */
  readonly slot: number;
  /** The vCPU this thread owns right now, -1 if none (it owns one only while running per-vCPU code). */
  readonly vcpu: number;
  readonly memory: WebAssembly.Memory;
  /** RseqPool's `workerData` option (undefined on kernel threads). */
  readonly workerData: W;
  /** The exports of loaded module `id` as instantiated on this thread (0 = core). */
  exports(id: number): E;
  /** Release this thread's vCPU now (also done at the next await, and after the script or task). */
  park(): void;
  /** The kernel's named per-vCPU objects (Counter, Histogram, BlockPool), found by name. */
  readonly objects: ObjectTable;
  /** Address of this thread's registered struct rseq (slice_ctrl.request at + 28, granted at + 29). */
  readonly rseqArea: number;
  /** prctl(option, ...) as a kernel call on this thread: the value, or a negated errno. */
  prctl(option: number, arg2: number, arg3?: number, arg4?: number, arg5?: number): number;
  /** rseq_slice_yield(): 1 if it yielded inside a granted extension, else 0. */
  sliceYield(): number;
  /** The emulated interrupt return: act now on a pending request on this thread's vCPU (take one if none). */
  checkpoint(): void;
  /** UMCG system calls on this thread (host/kernel/umcg.ts): 0 or a negated errno. tid = slot + 1. */
  readonly umcg: {
    ctl(flags: number, self: number, clock?: number): number;
    /** abs_timeout in absolute ms (performance.timeOrigin + performance.now()), 0 for none. */
    wait(flags: number, absTimeoutMs?: number): number;
    kick(flags: number, tid: number): number;
  };
}

export class ThreadRuntime {
  readonly view: SharedView;
  readonly abi: Abi;
  readonly kernel: ThreadKernel;
  readonly instances = new Map<number, WebAssembly.Instance>();
  readonly context: ThreadContext;
  private readonly env: WebAssembly.ModuleImports;

  /** `slot` must already be this thread's (claimed by the pool worker, or given by the kernel). */
  constructor(data: ThreadData, slot = data.slot, pid = 0, workerData?: unknown) {
    // The supervisor plays the timer interrupt: it must run promptly even while every core is busy
    // with threads, so threads run at a lower priority where the platform can do that.
    platform.lowerThreadPriority();
    this.view = new SharedView(data.memory);
    this.abi = data.abi;
    this.kernel = new ThreadKernel(this.view, this.abi, data.plan, slot, data.policy);
    this.env = { memory: data.memory, abort: abortImport(data.memory, slot) };
    for (const m of data.modules) this.load(m.id, m.module);
    const rec = this.kernel.rec;
    this.view.store(rec + this.abi.T_PID, pid);
    this.view.store(rec + this.abi.T_STATE, this.abi.THREAD_LIVE);
    if (data.register) {
      const ret = this.kernel.sysRseq(rec, this.abi.RSEQ_FEATURE_SIZE, 0, data.sig);
      if (ret !== 0) throw new RseqError(errnoName(-ret) ?? 'EINVAL', `thread ${slot}: rseq registration at start failed`);
    }
    const instances = this.instances;
    const objects = threadObjects(this.view, this.abi, data.plan, this.kernel);
    const kernel = this.kernel;
    this.context = {
      objects,
      slot,
      get vcpu() { return kernel.vcpu; },
      memory: data.memory,
      workerData,
      exports(id: number) {
        const inst = instances.get(id);
        if (!inst) throw new UsageError(`no module ${id} loaded on thread ${slot}`);
        return inst.exports;
      },
      park: () => this.kernel.park(),
      get rseqArea() { return kernel.v.get(kernel.rec + kernel.abi.T_AREA); },
      prctl: (o, a2, a3 = 0, a4 = 0, a5 = 0) => kernel.prctl(o, a2, a3, a4, a5),
      sliceYield: () => kernel.sliceYield(),
      checkpoint: () => kernel.checkpoint(),
      umcg: {
        ctl: (flags, self, clock = 1) => kernel.umcgCtl(flags, self, clock),
        wait: (flags, t = 0) => kernel.umcgWait(flags, t),
        kick: (flags, tid) => kernel.umcgKick(flags, tid),
      },
    };
  }

  load(id: number, module: WebAssembly.Module): void {
    this.instances.set(id, new WebAssembly.Instance(module, { env: this.env, 'wasm-rseq@1': this.kernel.imports() }));
  }
}
