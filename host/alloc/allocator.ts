// The allocator's host side: lay out its region on the kernel's heap (kernel.allocator), read its
// state back (cache bytes, heap high-water mark), drain it between runs and check it exactly.
// The layout is assembly/abi.ts's Allocator section; the code that runs on it is assembly/alloc/.
import type { Abi } from '../abi.js';
import { AllocError, UsageError } from '../errors.js';
import type { Engine } from '../kernel/engine.js';

export type Front = 'vcpu' | 'mmcid' | 'thread' | 'central';
export const FRONTS: readonly Front[] = ['vcpu', 'mmcid', 'thread', 'central'];

export interface AllocatorOptions {
  /** Front end: per-vCPU slabs by cpu_id, the same by mm_cid, per-thread caches, or none (central lists only). */
  front: Front;
  /** Bytes of pages (rounded up to whole pages; default 8 MiB). */
  heapBytes?: number;
  /** Checked mode: every free is validated (double free, foreign pointer) against a bitmap. Default false. */
  checked?: boolean;
  /** Cache capacity per (cache, size class), bytes; clamped to [ALLOC_SLOT_MIN, ALLOC_SLOT_MAX] objects. Default 16 KiB. */
  classBytes?: number;
}

export interface AllocatorStats {
  /** Bytes of free objects held in front-end caches (slabs + per-thread caches). */
  cacheBytes: number;
  /** Highest page ever in a span, in bytes from the heap's start. */
  heapHighWater: number;
  /** Bytes in spans now (small spans are never returned; large ones are). */
  heapUsed: number;
  /** Large allocations live. */
  largeLive: number;
  /** Per size class: objects carved from spans, and objects on the central list. */
  carved: number[];
  centralFree: number[];
}

interface Exports {
  alloc_cache_bytes(a: number): number;
  alloc_drain_idle(a: number): number;
  alloc_classify(a: number, p: number): number;
  alloc_class_size(cls: number): number;
}

export class Allocator {
  readonly front: Front;
  readonly checked: boolean;
  private readonly x: Exports;
  constructor(private readonly e: Engine, readonly address: number, readonly heapBytes: number, o: AllocatorOptions) {
    this.front = o.front;
    this.checked = !!o.checked;
    this.x = e.host(e.coreModule) as unknown as Exports;
  }
  private get abi(): Abi { return this.e.abi; }
  private word(off: number): number { return this.e.view.load(this.address + off); }

  /** Bytes held in front-end caches right now (a racy read while threads run). */
  cacheBytes(): number { return this.x.alloc_cache_bytes(this.address); }

  stats(): AllocatorStats {
    const { abi } = this;
    const central = this.word(abi.ALLOC_CENTRAL);
    const carved: number[] = [];
    const centralFree: number[] = [];
    for (let c = 0; c < abi.ALLOC_NCLASS; c++) {
      carved.push(this.e.view.load(central + c * abi.CL_SIZE + abi.CL_CARVED));
      centralFree.push(this.e.view.load(central + c * abi.CL_SIZE + abi.CL_COUNT));
    }
    return {
      cacheBytes: this.cacheBytes(), heapHighWater: this.word(abi.ALLOC_HW) * abi.ALLOC_PAGE,
      heapUsed: this.word(abi.ALLOC_USED) * abi.ALLOC_PAGE, largeLive: this.word(abi.ALLOC_LARGE), carved, centralFree,
    };
  }

  /** Every cache to the central lists. Only while no thread runs. Returns objects moved. */
  drainIdle(): number { return this.x.alloc_drain_idle(this.address); }

  /**
   * The exact invariant once everything is freed and drained (no thread running): every object
   * ever carved is on its class's central list exactly once, at an object start of its class, and no
   * large span is live. Throws AllocError ('lost', 'duplicate', 'corrupt') naming the first violation.
   */
  checkAllFree(): void {
    const { abi, e: { view: v } } = this;
    const central = this.word(abi.ALLOC_CENTRAL);
    if (this.cacheBytes() !== 0) throw new AllocError('corrupt', 0, undefined, 'caches not empty: drain before checking');
    for (let cls = 0; cls < abi.ALLOC_NCLASS; cls++) {
      const cl = central + cls * abi.CL_SIZE;
      const carved = v.load(cl + abi.CL_CARVED);
      const count = v.load(cl + abi.CL_COUNT);
      const seen = new Set<number>();
      for (let p = v.load(cl + abi.CL_HEAD) >>> 0; p !== 0; p = v.load(p) >>> 0) {
        if (seen.has(p)) throw new AllocError('duplicate', p, undefined, `class ${cls}: 0x${p.toString(16)} is twice on the central list`);
        if (this.x.alloc_classify(this.address, p) !== cls) throw new AllocError('corrupt', p, undefined, `class ${cls}: 0x${p.toString(16)} on its central list is not an object of the class`);
        seen.add(p);
        if (seen.size > carved) break;
      }
      if (seen.size !== carved || count !== carved) {
        throw new AllocError('lost', 0, undefined,
          `class ${cls} (${this.x.alloc_class_size(cls)} B): ${carved} objects carved, ${seen.size} on the central list (count ${count}): ${carved - seen.size} lost`);
      }
    }
    const large = this.word(abi.ALLOC_LARGE);
    if (large !== 0) throw new AllocError('lost', 0, undefined, `${large} large allocations still live`);
  }

  /**
   * Return every small span whose objects are all free to the page heap (only while no thread
   * runs; after drainIdle). Returns the pages released. After a run that freed everything, the page
   * heap is then empty again: `stats().heapUsed === 0`.
   */
  releaseIdle(): number {
    const { abi, e: { view: v } } = this;
    const central = this.word(abi.ALLOC_CENTRAL);
    const pagesBase = this.word(abi.ALLOC_PAGES_BASE) >>> 0;
    const map = this.word(abi.ALLOC_PAGEMAP), spanlen = this.word(abi.ALLOC_SPANLEN), bits = this.word(abi.ALLOC_PAGEBITS);
    let released = 0;
    for (let cls = 0; cls < abi.ALLOC_NCLASS; cls++) {
      const cl = central + cls * abi.CL_SIZE;
      const size = this.x.alloc_class_size(cls);
      const perSpan = new Map<number, number>();
      const objs: number[] = [];
      for (let p = v.load(cl + abi.CL_HEAD) >>> 0; p !== 0 && objs.length <= v.load(cl + abi.CL_CARVED); p = v.load(p) >>> 0) {
        objs.push(p);
        const first = v.load(map + 4 * ((p - pagesBase) >>> abi.ALLOC_PAGE_SHIFT)) >>> 8;
        perSpan.set(first, (perSpan.get(first) ?? 0) + 1);
      }
      const full = new Set<number>();
      for (const [first, n] of perSpan) {
        const pages = v.load(spanlen + 4 * first);
        if (n === Math.floor((pages * abi.ALLOC_PAGE) / size)) full.add(first);
      }
      if (full.size === 0) continue;
      let head = 0, count = 0;
      for (let i = objs.length - 1; i >= 0; i--) {
        const p = objs[i];
        if (full.has(v.load(map + 4 * ((p - pagesBase) >>> abi.ALLOC_PAGE_SHIFT)) >>> 8)) continue;
        v.store(p, head);
        head = p;
        count++;
      }
      v.store(cl + abi.CL_HEAD, head);
      v.store(cl + abi.CL_CARVED, v.load(cl + abi.CL_CARVED) - (v.load(cl + abi.CL_COUNT) - count));
      v.store(cl + abi.CL_COUNT, count);
      for (const first of full) {
        const pages = v.load(spanlen + 4 * first);
        for (let pg = first; pg < first + pages; pg++) {
          v.store(map + 4 * pg, abi.PAGE_FREE);
          Atomics.and(v.i32, (bits + 4 * (pg >> 5)) >> 2, ~(1 << (pg & 31)));
        }
        v.store(cl + abi.CL_SPANS, v.load(cl + abi.CL_SPANS) - 1);
        v.store(this.address + abi.ALLOC_USED, this.word(abi.ALLOC_USED) - pages);
        released += pages;
      }
    }
    return released;
  }

  /** The error a thread's checked mode recorded (TB_ERROR of slot t), or undefined. */
  threadError(t: number): AllocError | undefined {
    const { abi } = this;
    const tb = this.word(abi.ALLOC_TBLOCKS) + t * abi.TB_SIZE;
    const code = this.e.view.load(tb + abi.TB_ERROR);
    if (code === 0) return undefined;
    return allocError(abi, code, this.e.view.load(tb + abi.TB_ERROR + 4) >>> 0, t);
  }
}

/** The typed error of a checked-mode code (ALLOC_ERR_*). */
export function allocError(abi: Abi, code: number, ptr: number, thread?: number): AllocError {
  const kind = code === abi.ALLOC_ERR_DOUBLE_FREE ? 'double-free' : code === abi.ALLOC_ERR_FOREIGN ? 'foreign-pointer'
    : code === abi.ALLOC_ERR_DUPLICATE ? 'duplicate' : 'corrupt';
  return new AllocError(kind, ptr, thread);
}

/** Lay out an allocator on the engine's heap and publish it in the header (HDR_ALLOC). */
export function layoutAllocator(e: Engine, o: AllocatorOptions): Allocator {
  const { abi, view: v, plan } = e;
  if (!o || !FRONTS.includes(o.front)) throw new UsageError(`allocator: front must be one of ${FRONTS.join(', ')} (got ${String(o?.front)})`);
  if (v.load(abi.HEADER_ADDR + abi.HDR_ALLOC) !== 0) throw new UsageError('allocator: this kernel already has one (reset or resetAllocations first)');
  const heapBytes = Math.ceil((o.heapBytes ?? 8 << 20) / abi.ALLOC_PAGE) * abi.ALLOC_PAGE;
  if (!Number.isInteger(heapBytes) || heapBytes < abi.ALLOC_PAGE * 16) throw new UsageError(`allocator: heapBytes must be >= ${abi.ALLOC_PAGE * 16}`);
  const classBytes = o.classBytes ?? 16384;
  if (!Number.isInteger(classBytes) || classBytes < 8) throw new UsageError('allocator: classBytes must be an integer >= 8');
  const npages = heapBytes / abi.ALLOC_PAGE;
  const a = e.alloc(abi.ALLOC_CTRL_SIZE, abi.LINE);
  const front = [abi.FRONT_VCPU, abi.FRONT_MMCID, abi.FRONT_THREAD, abi.FRONT_CENTRAL][FRONTS.indexOf(o.front)];
  const slabs = o.front === 'vcpu' || o.front === 'mmcid' ? plan.cpus : 0;
  const words: [number, number][] = [
    [abi.ALLOC_FRONT, front], [abi.ALLOC_CHECKED, o.checked ? 1 : 0], [abi.ALLOC_NPAGES, npages],
    [abi.ALLOC_CLASS_BYTES, classBytes], [abi.ALLOC_NSLABS, slabs], [abi.ALLOC_NTBLOCKS, plan.threads],
    [abi.ALLOC_CENTRAL, e.alloc(abi.ALLOC_NCLASS * abi.CL_SIZE, abi.LINE)],
    [abi.ALLOC_SLABS, slabs ? e.alloc(slabs * abi.CACHE_SIZE, abi.LINE) : 0],
    [abi.ALLOC_TBLOCKS, e.alloc(plan.threads * abi.TB_SIZE, abi.LINE)],
    [abi.ALLOC_PAGEMAP, e.alloc(npages * 4, 4)], [abi.ALLOC_SPANLEN, e.alloc(npages * 4, 4)],
    [abi.ALLOC_PAGEBITS, e.alloc(Math.ceil(npages / 32) * 4, 4)],
    [abi.ALLOC_LIVEBITS, o.checked ? e.alloc(Math.ceil(heapBytes / 256) * 4, 4) : 0],
    [abi.ALLOC_PAGES_BASE, e.alloc(heapBytes, abi.ALLOC_PAGE)],
  ];
  for (const [off, val] of words) v.store(a + off, val);
  v.store(abi.HEADER_ADDR + abi.HDR_ALLOC, a);
  return new Allocator(e, a, heapBytes, o);
}
