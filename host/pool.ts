// piscina integration: a pool whose workers are emulated threads of a kernel, so tasks can run
// per-vCPU critical sections on the kernel's shared memory. Import from "wasm-rseq/pool".
import { Piscina } from 'piscina';
import { UsageError } from './errors.js';
import { engineOf } from './internal.js';
import type { Kernel } from './kernel/kernel.js';
import { hostFile } from './paths.js';
import type { PoolWorkerData } from './pool-worker.js';

export type { PoolHandler } from './pool-worker.js';

export interface RseqPoolOptions {
  /** ES module exporting `default (ctx: ThreadContext, task) => result` (path or file URL). */
  handler: string | URL;
  /** Workers (default: every pool slot of the kernel, see Kernel.create({ poolSlots })). */
  threads?: number;
  /** Register rseq on each worker (default true). */
  register?: boolean;
  /** Further piscina options (filename, workerData and thread counts are set here). */
  piscina?: Record<string, unknown>;
}

/**
 * A piscina pool of kernel threads. Modules must be loaded on the kernel before the pool is created;
 * a worker that dies is reaped by the kernel (vCPU, mm_cid, slot) and its slot can be reused.
 */
export class RseqPool {
  readonly piscina: Piscina;

  constructor(readonly kernel: Kernel, o: RseqPoolOptions) {
    const engine = engineOf(kernel, 'createPool');
    const slots = engine.poolSlots;
    const n = o.threads ?? slots.length;
    if (!Number.isInteger(n) || n < 1 || n > slots.length) {
      throw new UsageError(`pool threads must be an integer in [1, ${slots.length}] (the kernel's poolSlots), got ${n}`);
    }
    const handler = o.handler instanceof URL ? o.handler.href : new URL(o.handler, `file://${process.cwd()}/`).href;
    const workerData: PoolWorkerData = { ...engine.threadData(-1, o.register ?? true), handler, slots };
    this.piscina = new Piscina({
      ...o.piscina, filename: hostFile('pool-worker.js').href, minThreads: n, maxThreads: n, idleTimeout: Infinity, workerData,
    });
    this.piscina.on('workerDestroy', (w: { id: number }) => void engine.reapPoolWorker(w.id));
  }

  run<R = unknown>(task: unknown, options?: Parameters<Piscina['run']>[1]): Promise<R> {
    return this.piscina.run(task, options) as Promise<R>;
  }

  async destroy(): Promise<void> {
    await this.piscina.destroy();
  }
}

export function createPool(kernel: Kernel, options: RseqPoolOptions): RseqPool {
  return new RseqPool(kernel, options);
}
