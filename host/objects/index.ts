// Named per-vCPU objects for JavaScript: created on the main thread (kernel.counter / histogram /
// blockPool), found by name through the object table on every thread (kernel.objects on the main
// thread, ctx.objects or the module-level `objects` on kernel threads and pool workers).
import type { Abi } from '../abi.js';
import { KernelClosedError, ObjectError } from '../errors.js';
import type { Engine } from '../kernel/engine.js';
import type { ThreadKernel } from '../kernel/thread-kernel.js';
import type { MemoryPlan, SharedView } from '../memory.js';
import { BlockPool, blockPoolLayout, checkBlockPoolOptions, type BlockPoolOptions } from './block-pool.js';
import { Counter } from './counter.js';
import { Geometry, Histogram, type HistogramOptions } from './histogram.js';
import { ThreadSection } from './section.js';
import { appendEntry, findEntry, listEntries, nameBytes, type Entry, type NewEntry, type ObjEnv, type ObjectKind } from './table.js';

export { BlockPool, type BlockPoolOptions } from './block-pool.js';
export { Counter } from './counter.js';
export { Histogram, type HistogramOptions, type HistogramSnapshot, type HistogramBucket } from './histogram.js';
export type { ObjectKind } from './table.js';

/** Finding objects by name: kernel.objects (main thread), ctx.objects / `objects` (kernel threads, pool workers). */
export interface ObjectTable {
  /** The counter named `name`; ObjectError ENOENT (no such object) or EKIND (another kind). */
  counter(name: string): Counter;
  histogram(name: string): Histogram;
  blockPool(name: string): BlockPool;
  /** Every live object's name and kind. */
  list(): { name: string; kind: ObjectKind }[];
}

class Table implements ObjectTable {
  constructor(protected readonly env: ObjEnv) {}
  protected find(name: string, kind: ObjectKind): Entry {
    if (this.env.section === null) this.env.checkOpen(`objects.${kind}`);
    return findEntry(this.env.view, this.env.abi, this.env.plan, name, kind);
  }
  counter(name: string): Counter { return new Counter(this.env, this.find(name, 'counter')); }
  histogram(name: string): Histogram { return new Histogram(this.env, this.find(name, 'histogram')); }
  blockPool(name: string): BlockPool { return new BlockPool(this.env, this.find(name, 'blockPool')); }
  list(): { name: string; kind: ObjectKind }[] {
    if (this.env.section === null) this.env.checkOpen('objects.list');
    return listEntries(this.env.view, this.env.abi, this.env.plan).map((e) => ({ name: e.name, kind: e.kind }));
  }
}

/** The main thread's table of one kernel: it also creates objects. */
export class MainObjects extends Table {
  private nextToken = 1;
  constructor(private readonly engine: Engine) {
    super({
      view: engine.view, abi: engine.abi, plan: engine.plan, section: null,
      closed: () => engine.closed,
      checkOpen: (what) => { if (engine.closed) throw new KernelClosedError(what); },
    });
  }

  private create(name: string, kind: ObjectKind, size: number, extra: () => Partial<NewEntry>): Entry {
    const { view: v, abi, plan } = this.env;
    this.env.checkOpen(`kernel.${kind}`);
    nameBytes(abi, name);
    try {
      findEntry(v, abi, plan, name);
      throw new ObjectError('EEXIST', `an object named '${name}' already exists`);
    } catch (e) {
      if (!(e instanceof ObjectError) || e.code !== 'ENOENT') throw e;
    }
    if (listEntries(v, abi, plan).length >= abi.OBJ_MAX) throw new ObjectError('ENOSPC', `object table full (${abi.OBJ_MAX} objects)`);
    const space = <T>(what: string, f: () => T): T => {
      try { return f(); } catch (e) {
        throw new ObjectError('ENOSPC', `${kind} '${name}': ${what}: ${(e as Error).message} (raise Kernel.create({ poolStride }))`);
      }
    };
    const base = space('per-vCPU pool', () => this.engine.allocPerCpu(size, abi.LINE));
    const shard = space('heap', () => this.engine.alloc(size, abi.LINE));
    for (let c = 0; c < plan.cpus; c++) v.u8.fill(0, base + c * plan.poolStride, base + c * plan.poolStride + size);
    v.u8.fill(0, shard, shard + size);
    const more = extra();
    const token = this.nextToken++;
    if (this.nextToken > 0x7fffffff) this.nextToken = 1;
    return appendEntry(v, abi, plan, name, token, { kind, base, size, shard, ...more });
  }

  /** Create a counter (ObjectError EEXIST if the name is taken). */
  createCounter(name: string): Counter {
    return new Counter(this.env, this.create(name, 'counter', this.env.abi.CTR_SIZE, () => ({})));
  }

  createHistogram(name: string, o?: HistogramOptions): Histogram {
    const g = Geometry.of(o);
    const size = this.env.abi.HIST_BUCKETS + 8 * g.buckets;
    return new Histogram(this.env, this.create(name, 'histogram', size, () => ({ p0: g.lowest, p1: g.highest, p2: g.bits, p3: g.buckets })));
  }

  createBlockPool(name: string, o: BlockPoolOptions): BlockPool {
    const { blockSize, blocks, cache } = checkBlockPoolOptions(o);
    const { abi, view: v } = this.env;
    const { central, dataSize } = blockPoolLayout(abi.BPD_STATE, blocks);
    const e = this.create(name, 'blockPool', abi.BP_SLOTS + 4 * cache, () => {
      const space = <T>(f: () => T): T => {
        try { return f(); } catch (err) { throw new ObjectError('ENOSPC', `blockPool '${name}': heap: ${(err as Error).message}`); }
      };
      const data = space(() => this.engine.alloc(dataSize, abi.LINE));
      const storage = space(() => this.engine.alloc(blockSize * blocks, 64));
      v.u8.fill(0, data, data + dataSize);
      // Every block starts on the central stack, block 0 on top.
      for (let b = 0; b < blocks; b++) v.i32[((data + central) >> 2) + b] = blocks - 1 - b;
      v.i32[(data + abi.BPD_TOP) >> 2] = blocks;
      return { data, dataSize, p0: blockSize, p1: blocks, p2: cache, p3: storage };
    });
    return new BlockPool(this.env, e);
  }
}

const mains = new WeakMap<Engine, MainObjects>();

/** The main-thread object table of an engine (one per kernel). */
export function mainObjects(engine: Engine): MainObjects {
  let m = mains.get(engine);
  if (!m) mains.set(engine, (m = new MainObjects(engine)));
  return m;
}

/** A kernel thread's or pool worker's table: handles run the JS protocol through `kernel`. */
export function threadObjects(view: SharedView, abi: Abi, plan: MemoryPlan, kernel: ThreadKernel): ObjectTable {
  const section = new ThreadSection(view, abi, plan.cpus, kernel);
  const t = new Table({ view, abi, plan, section, closed: () => false, checkOpen: () => {} });
  current = t;
  return t;
}

let current: ObjectTable | undefined;

const mainThreadError = () =>
  new ObjectError('EINVAL', 'the module-level `objects` works on kernel threads and pool workers; on the main thread use kernel.objects');

/**
 * The object table of the kernel thread or pool worker this code runs on (a kernel's worker runs one
 * thread, so a module can `import { objects } from 'wasm-rseq'`). On the main thread every call
 * throws ObjectError EINVAL: use kernel.objects there.
 */
export const objects: ObjectTable = Object.freeze({
  counter: (name: string) => (current ?? throwMain()).counter(name),
  histogram: (name: string) => (current ?? throwMain()).histogram(name),
  blockPool: (name: string) => (current ?? throwMain()).blockPool(name),
  list: () => (current ?? throwMain()).list(),
});

function throwMain(): never {
  throw mainThreadError();
}
