// Worker bootstrap: one emulated thread. Instantiates every loaded module once on the shared
// memory with this thread's record, registers rseq (unless told not to), then runs calls posted by
// the kernel. After each call it parks (releases its vCPU), as a thread does before blocking.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Abi } from './abi.js';
import { RseqFault } from './errors.js';
import type { InjectionOptions } from './kernel/inject.js';
import { ThreadKernel } from './kernel/thread-kernel.js';
import { SharedView, type MemoryPlan } from './memory.js';

export interface ThreadData {
  memory: WebAssembly.Memory;
  abi: Abi;
  plan: MemoryPlan;
  slot: number;
  register: boolean;
  sig: number;
  modules: { id: number; module: WebAssembly.Module }[];
}

export type Request =
  | { op: 'call'; id: number; module: number; fn: string; args: (number | bigint)[]; together: boolean }
  | { op: 'load'; id: number; module: number; wasm: WebAssembly.Module }
  | { op: 'sys_rseq'; id: number; args: [number, number, number, number] }
  | { op: 'inject'; id: number; options?: InjectionOptions }
  | { op: 'script'; id: number; url: string; fn: string; args: unknown[] }
  | { op: 'exit'; id: number };

/** What a script run on a kernel thread (Kernel.runScript) receives as its first argument. */
export interface ThreadContext {
  readonly slot: number;
  readonly memory: WebAssembly.Memory;
  /** The exports of loaded module `id` as instantiated on this thread (0 = core). */
  exports(id: number): WebAssembly.Exports;
  /** Release this thread's vCPU (before blocking; done automatically after the script). */
  park(): void;
}

export type Reply =
  | { id: number; ok: true; value: unknown; ms: number }
  | { id: number; ok: false; error: { name: string; message: string; fault?: boolean } };

const data = workerData as ThreadData;
lowerPriority();

/**
 * The supervisor plays the timer interrupt: it must run promptly even while every core is busy
 * with threads. Threads therefore run at a lower priority (nice 10, per thread on Linux; an
 * unprivileged change). Elsewhere this is a no-op and injection is less punctual.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid)) setPriority(tid, 10);
  } catch { /* not Linux */ }
}
const v = new SharedView(data.memory);
const abi = data.abi;
const kernel = new ThreadKernel(v, abi, data.plan, data.slot);
const rec = kernel.rec;
const instances = new Map<number, WebAssembly.Instance>();
const env = { memory: data.memory, abort: () => { throw new Error('abort() called in wasm'); } };

function load(id: number, module: WebAssembly.Module): void {
  instances.set(id, new WebAssembly.Instance(module, { env, 'wasm-rseq@1': kernel.imports() }));
}

for (const m of data.modules) load(m.id, m.module);
v.store(rec + abi.T_PID, 0);
v.store(rec + abi.T_STATE, abi.THREAD_LIVE);
if (data.register) {
  const ret = kernel.sysRseq(rec, abi.RSEQ_FEATURE_SIZE, 0, data.sig);
  if (ret !== 0) throw new Error(`thread ${data.slot}: rseq registration failed (${ret})`);
}

/** Wait at the start barrier so that every thread of a run begins together. */
function startTogether(): void {
  const gen = abi.SCHED_BARRIER >> 2;
  Atomics.add(v.i32, gen + 1, 1);
  Atomics.notify(v.i32, gen + 1);
  while (Atomics.load(v.i32, gen) === 0) Atomics.wait(v.i32, gen, 0, 100);
}

const context: ThreadContext = {
  slot: data.slot,
  memory: data.memory,
  exports(id: number) {
    const inst = instances.get(id);
    if (!inst) throw new RangeError(`no module ${id} loaded on thread ${data.slot}`);
    return inst.exports;
  },
  park: () => kernel.park(),
};

async function handle(req: Request): Promise<Reply> {
  switch (req.op) {
    case 'call': {
      const fn = instances.get(req.module)?.exports[req.fn];
      if (typeof fn !== 'function') throw new TypeError(`module ${req.module} has no export '${req.fn}'`);
      if (req.together) startTogether();
      const t0 = performance.now();
      try {
        const value = (fn as (...a: unknown[]) => unknown)(...req.args);
        return { id: req.id, ok: true, value, ms: performance.now() - t0 };
      } finally {
        if (v.load(rec + abi.T_FAULT) === 0) kernel.park();
      }
    }
    case 'script': {
      const mod = (await import(req.url)) as Record<string, unknown>;
      const fn = mod[req.fn];
      if (typeof fn !== 'function') throw new TypeError(`${req.url} has no export '${req.fn}'`);
      const t0 = performance.now();
      try {
        const value = await (fn as (...a: unknown[]) => unknown)(context, ...req.args);
        return { id: req.id, ok: true, value, ms: performance.now() - t0 };
      } finally {
        if (v.load(rec + abi.T_FAULT) === 0) kernel.park();
      }
    }
    case 'load':
      load(req.module, req.wasm);
      return { id: req.id, ok: true, value: undefined, ms: 0 };
    case 'sys_rseq':
      return { id: req.id, ok: true, value: kernel.sysRseq(...req.args), ms: 0 };
    case 'inject':
      kernel.setInjection(req.options);
      return { id: req.id, ok: true, value: undefined, ms: 0 };
    case 'exit':
      kernel.park();
      return { id: req.id, ok: true, value: undefined, ms: 0 };
  }
}

parentPort!.on('message', async (req: Request) => {
  let reply: Reply;
  try {
    reply = await handle(req);
  } catch (e) {
    const err = e as Error;
    reply = { id: req.id, ok: false, error: { name: err.name, message: err.message, fault: e instanceof RseqFault } };
    if (e instanceof RseqFault) {
      // The kernel's SIGSEGV kills the thread: the kernel reaps its vCPU and slot when it exits.
      parentPort!.postMessage(reply);
      process.exit(139);
    }
  }
  parentPort!.postMessage(reply);
  if (req.op === 'exit') process.exit(0);
});
parentPort!.postMessage({ id: 0, ok: true, value: 'ready', ms: 0 } satisfies Reply);
