// The object table in shared memory (layout: assembly/abi.ts "Object table"): named entries the
// main thread appends and every worker finds by name. Entries are read once per lookup, checked
// against the region map, and a handle keeps only what the checked entry says (never user input).
import type { Abi } from '../abi.js';
import { ObjectError } from '../errors.js';
import type { MemoryPlan, SharedView } from '../memory.js';
import type { ThreadSection } from './section.js';

export type ObjectKind = 'counter' | 'histogram' | 'blockPool';

/** One table entry as a handle sees it (addresses are byte addresses in the shared memory). */
export interface Entry {
  readonly index: number;
  /** Byte address of the entry. */
  readonly addr: number;
  readonly token: number;
  readonly kind: ObjectKind;
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly stride: number;
  readonly shard: number;
  readonly data: number;
  readonly dataSize: number;
  readonly p0: number;
  readonly p1: number;
  readonly p2: number;
  readonly p3: number;
}

/** What every handle is built on: the memory, and on a worker its section (null on the main thread). */
export interface ObjEnv {
  readonly view: SharedView;
  readonly abi: Abi;
  readonly plan: MemoryPlan;
  readonly section: ThreadSection | null;
  /** Main thread: whether the kernel is closed (checked on every call). */
  readonly closed: () => boolean;
  /** Main thread: throws KernelClosedError naming `what` once the kernel is closed. */
  readonly checkOpen: (what: string) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function kindCode(abi: Abi, kind: ObjectKind): number {
  return kind === 'counter' ? abi.OBJ_KIND_COUNTER : kind === 'histogram' ? abi.OBJ_KIND_HISTOGRAM : abi.OBJ_KIND_BLOCK_POOL;
}

function kindName(abi: Abi, code: number): ObjectKind | undefined {
  return code === abi.OBJ_KIND_COUNTER ? 'counter' : code === abi.OBJ_KIND_HISTOGRAM ? 'histogram'
    : code === abi.OBJ_KIND_BLOCK_POOL ? 'blockPool' : undefined;
}

/** The UTF-8 bytes of a valid name (1..OBJ_NAME_MAX bytes), or an ObjectError EINVAL. */
export function nameBytes(abi: Abi, name: unknown): Uint8Array {
  if (typeof name !== 'string' || name.length === 0) throw new ObjectError('EINVAL', `an object name must be a non-empty string, got ${String(name)}`);
  const b = encoder.encode(name);
  if (b.length > abi.OBJ_NAME_MAX) throw new ObjectError('EINVAL', `object name '${name}' is ${b.length} bytes of UTF-8 (at most ${abi.OBJ_NAME_MAX})`);
  return b;
}

/** FNV-1a, 32-bit. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const x of bytes) h = Math.imul(h ^ x, 0x01000193);
  return h | 0;
}

const entryAddr = (abi: Abi, plan: MemoryPlan, i: number) => plan.objTable + abi.OBJ_TABLE_ENTRIES + i * abi.OBJ_ENTRY_SIZE;

export function tableCount(v: SharedView, abi: Abi, plan: MemoryPlan): number {
  return Math.min(abi.OBJ_MAX, Math.max(0, v.load(plan.objTable + abi.OBJ_TABLE_COUNT)));
}

/** Entry i, checked against the region map; undefined when free or destroyed. */
export function readEntry(v: SharedView, abi: Abi, plan: MemoryPlan, i: number): Entry | undefined {
  const a = entryAddr(abi, plan, i);
  const token = v.load(a + abi.OBJ_LIVE);
  if (token === 0) return undefined;
  const len = v.load(a + abi.OBJ_NAME_LEN);
  const kind = kindName(abi, v.load(a + abi.OBJ_KIND));
  const f = (off: number) => v.load(a + off);
  const e: Entry = {
    index: i, addr: a, token, kind: kind!, name: len > 0 && len <= abi.OBJ_NAME_MAX ? decoder.decode(v.u8.slice(a + abi.OBJ_NAME, a + abi.OBJ_NAME + len)) : '',
    base: f(abi.OBJ_BASE), size: f(abi.OBJ_SIZE), stride: f(abi.OBJ_STRIDE), shard: f(abi.OBJ_SHARD),
    data: f(abi.OBJ_DATA), dataSize: f(abi.OBJ_DATA_SIZE),
    p0: v.f64[(a + abi.OBJ_PARAM0) >> 3], p1: v.f64[(a + abi.OBJ_PARAM1) >> 3], p2: f(abi.OBJ_PARAM2), p3: f(abi.OBJ_PARAM3),
  };
  const inPool = e.base >= plan.poolBase && e.size > 0 && e.base + e.size <= plan.poolBase + plan.poolStride && e.stride === plan.poolStride;
  const inHeap = (at: number, n: number) => n === 0 || (at >= plan.heapBase && at + n <= plan.heapBase + plan.heapSize);
  if (!kind || !e.name || !inPool || !inHeap(e.shard, e.size) || !inHeap(e.data, e.dataSize) || e.base % 8 !== 0 || e.shard % 8 !== 0) {
    throw new ObjectError('EINVAL', `object table entry ${i} is corrupt`);
  }
  return e;
}

/** The live entry named `name`, checked to be of `kind`; ObjectError ENOENT / EKIND otherwise. */
export function findEntry(v: SharedView, abi: Abi, plan: MemoryPlan, name: string, kind?: ObjectKind): Entry {
  const bytes = nameBytes(abi, name);
  const hash = fnv1a(bytes);
  for (let i = tableCount(v, abi, plan) - 1; i >= 0; i--) {
    const a = entryAddr(abi, plan, i);
    if (v.load(a + abi.OBJ_LIVE) === 0 || v.load(a + abi.OBJ_HASH) !== hash) continue;
    const e = readEntry(v, abi, plan, i);
    if (!e || e.name !== name) continue;
    if (kind && e.kind !== kind) throw new ObjectError('EKIND', `object '${name}' is a ${e.kind}, not a ${kind}`);
    return e;
  }
  throw new ObjectError('ENOENT', `no object named '${name}' (create it on the main thread first)`);
}

/** Every live entry, for listings. */
export function listEntries(v: SharedView, abi: Abi, plan: MemoryPlan): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < tableCount(v, abi, plan); i++) {
    const e = readEntry(v, abi, plan, i);
    if (e) out.push(e);
  }
  return out;
}

export interface NewEntry {
  kind: ObjectKind; base: number; size: number; shard: number; data?: number; dataSize?: number;
  p0?: number; p1?: number; p2?: number; p3?: number;
}

/** Main thread: append an entry (fields first, then its token, then the count). Returns it. */
export function appendEntry(v: SharedView, abi: Abi, plan: MemoryPlan, name: string, token: number, n: NewEntry): Entry {
  const bytes = nameBytes(abi, name);
  const i = tableCount(v, abi, plan);
  if (i >= abi.OBJ_MAX) throw new ObjectError('ENOSPC', `object table full (${abi.OBJ_MAX} objects; destroyed ones are reclaimed by kernel.resetAllocations)`);
  const a = entryAddr(abi, plan, i);
  v.u8.fill(0, a, a + abi.OBJ_ENTRY_SIZE);
  v.store(a + abi.OBJ_KIND, kindCode(abi, n.kind));
  v.store(a + abi.OBJ_HASH, fnv1a(bytes));
  v.store(a + abi.OBJ_NAME_LEN, bytes.length);
  v.u8.set(bytes, a + abi.OBJ_NAME);
  v.store(a + abi.OBJ_BASE, n.base);
  v.store(a + abi.OBJ_SIZE, n.size);
  v.store(a + abi.OBJ_STRIDE, plan.poolStride);
  v.store(a + abi.OBJ_SHARD, n.shard);
  v.store(a + abi.OBJ_DATA, n.data ?? 0);
  v.store(a + abi.OBJ_DATA_SIZE, n.dataSize ?? 0);
  v.f64[(a + abi.OBJ_PARAM0) >> 3] = n.p0 ?? 0;
  v.f64[(a + abi.OBJ_PARAM1) >> 3] = n.p1 ?? 0;
  v.store(a + abi.OBJ_PARAM2, n.p2 ?? 0);
  v.store(a + abi.OBJ_PARAM3, n.p3 ?? 0);
  v.store(a + abi.OBJ_LIVE, token);
  v.store(plan.objTable + abi.OBJ_TABLE_COUNT, i + 1);
  return readEntry(v, abi, plan, i)!;
}

/**
 * What every handle shares: its checked entry, the typed views, and the handle check run by every
 * call (destroyed object: EDESTROYED; closed kernel: KernelClosedError, on the main thread).
 */
export abstract class ObjectHandle {
  readonly name: string;
  abstract readonly kind: ObjectKind;
  protected readonly i32: Int32Array;
  protected readonly f64: Float64Array;
  protected readonly section: ThreadSection | null;
  protected readonly liveIdx: number;
  protected readonly token: number;
  protected readonly cpus: number;

  constructor(protected readonly env: ObjEnv, protected readonly entry: Entry) {
    this.name = entry.name;
    this.i32 = env.view.i32;
    this.f64 = env.view.f64;
    this.section = env.section;
    this.liveIdx = (entry.addr + env.abi.OBJ_LIVE) >> 2;
    this.token = entry.token;
    this.cpus = env.plan.cpus;
  }

  /** Whether this handle's object still lives (false once destroyed or reset). */
  get alive(): boolean {
    return this.i32[this.liveIdx] === this.token && !(this.section === null && this.env.closed());
  }

  /** Throws unless the object lives (and, on the main thread, the kernel is open). */
  protected checkHandle(what: string): void {
    if (this.i32[this.liveIdx] !== this.token) throw new ObjectError('EDESTROYED', `${this.kind} '${this.name}': ${what} on a destroyed object`);
    if (this.section === null) this.env.checkOpen(`${this.kind}.${what}`);
  }

  /** Main thread: destroy the object; every handle to it, on every thread, then throws EDESTROYED. Its memory is reclaimed only by kernel.resetAllocations. */
  destroy(): void {
    this.checkHandle('destroy');
    if (this.section !== null) throw new ObjectError('EINVAL', `${this.kind} '${this.name}': objects are destroyed on the main thread`);
    Atomics.store(this.i32, this.liveIdx, 0);
  }
}
