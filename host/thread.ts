// Worker bootstrap: one emulated thread. Instantiates every loaded module once on the shared
// memory with this thread's record, registers rseq (unless told not to), then runs calls posted by
// the kernel. After each call it parks (releases its vCPU), as a thread does before blocking.
import { RseqFault, UsageError, serializeError, type SerializedError } from './errors.js';
import type { ExploreSpec, InjectionOptions } from './kernel/policy.js';
import type { CheckJob } from './check/runtime.js';
import { platform } from './platform/index.js';
import { ThreadRuntime, type ThreadData } from './thread-runtime.js';

export type { ThreadContext, ThreadData } from './thread-runtime.js';

export type Request =
  | { op: 'call'; id: number; module: number; fn: string; args: (number | bigint)[]; together: boolean }
  | { op: 'load'; id: number; module: number; wasm: WebAssembly.Module }
  | { op: 'sys_rseq'; id: number; args: [number, number, number, number] }
  | { op: 'prctl'; id: number; args: [number, number, number, number, number] }
  | { op: 'inject'; id: number; options?: InjectionOptions }
  | { op: 'script'; id: number; url: string; fn: string; args: unknown[]; together?: boolean }
  | { op: 'check'; id: number; spec: ExploreSpec; job: CheckJob };

export type Reply =
  | { id: number; ok: true; value: unknown; ms: number }
  | { id: number; ok: false; error: SerializedError };

const data = platform.threadData<ThreadData>();
const parent = platform.parent();
const rt = new ThreadRuntime(data);
const { view: v, abi, kernel, instances, context } = rt;
const rec = kernel.rec;

/** Wait at the start barrier so that every thread of a run begins together. */
function startTogether(): void {
  const gen = abi.SCHED_BARRIER >> 2;
  Atomics.add(v.i32, gen + 1, 1);
  Atomics.notify(v.i32, gen + 1);
  while (Atomics.load(v.i32, gen) === 0) Atomics.wait(v.i32, gen, 0, 100);
}

/** Run a call or script, timed; afterwards the thread parks, unless it faulted (then it dies). */
async function timed(id: number, run: () => unknown): Promise<Reply> {
  const t0 = performance.now();
  try {
    const value = await run();
    return { id, ok: true, value, ms: performance.now() - t0 };
  } finally {
    if (v.load(rec + abi.T_FAULT) === 0) kernel.park();
  }
}

async function handle(req: Request): Promise<Reply> {
  switch (req.op) {
    case 'call': {
      const exports = instances.get(req.module)?.exports;
      const fn = exports?.[req.fn];
      if (typeof fn !== 'function') throw new UsageError(`module ${req.module} has no export '${req.fn}'`);
      // Exports with optional parameters read the argument count from AssemblyScript's trampoline
      // global (as @assemblyscript/loader sets it): without it they trap.
      (exports!.__setArgumentsLength as ((n: number) => void) | undefined)?.(req.args.length);
      if (req.together) startTogether();
      return timed(req.id, () => (fn as (...a: unknown[]) => unknown)(...req.args));
    }
    case 'script': {
      const fn = ((await import(req.url)) as Record<string, unknown>)[req.fn];
      if (typeof fn !== 'function') throw new UsageError(`${req.url} has no export '${req.fn}'`);
      if (req.together) startTogether();
      return timed(req.id, () => (fn as (...a: unknown[]) => unknown)(context, ...req.args));
    }
    case 'check': {
      const inst = instances.get(req.job.module);
      if (!inst) throw new UsageError(`module ${req.job.module} is not loaded`);
      return timed(req.id, () => kernel.runCheck(req.spec, inst.exports, req.job));
    }
    case 'load':
      rt.load(req.module, req.wasm);
      return { id: req.id, ok: true, value: undefined, ms: 0 };
    case 'sys_rseq':
      return { id: req.id, ok: true, value: kernel.sysRseq(...req.args), ms: 0 };
    case 'prctl':
      return { id: req.id, ok: true, value: kernel.prctl(...req.args), ms: 0 };
    case 'inject':
      kernel.setInjection(req.options);
      return { id: req.id, ok: true, value: undefined, ms: 0 };
  }
}

parent.onMessage(async (message) => {
  const req = message as Request;
  let reply: Reply;
  try {
    reply = await handle(req);
  } catch (e) {
    reply = { id: req.id, ok: false, error: serializeError(e) };
    if (e instanceof RseqFault) {
      // The kernel's SIGSEGV kills the thread: the kernel reaps its vCPU and slot when it exits.
      parent.post(reply);
      platform.exitThread(139);
    }
  }
  parent.post(reply);
});
parent.post({ id: 0, ok: true, value: 'ready', ms: 0 } satisfies Reply);
