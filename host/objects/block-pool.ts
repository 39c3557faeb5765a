// A pool of fixed-size blocks of the shared memory, handed out as Uint8Array views, with a free-list
// cache per vCPU (tcmalloc's per-CPU front end). acquire/release on a kernel thread pop/push its
// vCPU's cache in a JS critical section (one plain store commits); an empty cache takes from, and a
// full one gives to, a central stack under a spinlock (off the fast path). The main thread has its
// own cache (its shard) in front of the same central stack. Each block's state word (free / handed
// out) is switched by release with one compareExchange, which is what catches a double release.
import { ObjectError } from '../errors.js';
import { ObjectHandle, type Entry, type ObjEnv } from './table.js';

export interface BlockPoolOptions {
  /** Bytes per block (a multiple of 8, at most 1 MiB). */
  blockSize: number;
  /** Number of blocks (at least 1). */
  blocks: number;
  /** Blocks each vCPU (and the main thread) caches (default min(blocks, 64)). */
  cache?: number;
}

/** Where a pool's pieces are, from its options: the control data (lock, top, states, central stack). */
export function blockPoolLayout(abiBPD_STATE: number, blocks: number): { central: number; dataSize: number } {
  const central = Math.ceil((abiBPD_STATE + 4 * blocks) / 128) * 128;
  return { central, dataSize: central + 4 * blocks };
}

export function checkBlockPoolOptions(o: BlockPoolOptions): Required<BlockPoolOptions> {
  if (o === null || typeof o !== 'object') throw new ObjectError('EINVAL', 'block pool options must be an object ({ blockSize, blocks })');
  const { blockSize, blocks } = o;
  if (!Number.isInteger(blockSize) || blockSize < 8 || blockSize > 1 << 20 || blockSize % 8 !== 0) {
    throw new ObjectError('EINVAL', `blockSize must be a multiple of 8 in [8, 1 MiB], got ${String(blockSize)}`);
  }
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > 1 << 20) throw new ObjectError('EINVAL', `blocks must be an integer in [1, 2^20], got ${String(blocks)}`);
  const cache = o.cache ?? Math.min(blocks, 64);
  if (!Number.isInteger(cache) || cache < 1 || cache > blocks) throw new ObjectError('EINVAL', `cache must be an integer in [1, blocks], got ${String(cache)}`);
  return { blockSize, blocks, cache };
}

export class BlockPool extends ObjectHandle {
  readonly kind = 'blockPool' as const;
  readonly blockSize: number;
  readonly blocks: number;
  /** Blocks cached per vCPU. */
  readonly cache: number;
  private readonly base4: number;
  private readonly stride4: number;
  private readonly shard4: number;
  private readonly slots4: number;
  private readonly lock4: number;
  private readonly top4: number;
  private readonly state4: number;
  private readonly central4: number;
  private readonly storage: number;
  private readonly buffer: SharedArrayBuffer;
  private readonly views: (Uint8Array | undefined)[] = [];

  /** @internal */
  constructor(env: ObjEnv, entry: Entry) {
    super(env, entry);
    const { abi, plan } = env;
    this.blockSize = entry.p0;
    this.blocks = entry.p1;
    this.cache = entry.p2;
    this.storage = entry.p3;
    const { central, dataSize } = blockPoolLayout(abi.BPD_STATE, this.blocks);
    const heapEnd = plan.heapBase + plan.heapSize;
    if (!(Number.isInteger(this.blockSize) && this.blockSize > 0 && Number.isInteger(this.blocks) && this.blocks > 0
      && this.cache >= 1 && this.cache <= this.blocks && abi.BP_SLOTS + 4 * this.cache <= entry.size && dataSize <= entry.dataSize
      && this.storage >= plan.heapBase && this.storage + this.blockSize * this.blocks <= heapEnd)) {
      throw new ObjectError('EINVAL', `block pool '${entry.name}': table entry does not match its geometry`);
    }
    this.base4 = entry.base >> 2;
    this.stride4 = entry.stride >> 2;
    this.shard4 = entry.shard >> 2;
    this.slots4 = abi.BP_SLOTS >> 2;
    this.lock4 = (entry.data + abi.BPD_LOCK) >> 2;
    this.top4 = (entry.data + abi.BPD_TOP) >> 2;
    this.state4 = (entry.data + abi.BPD_STATE) >> 2;
    this.central4 = (entry.data + central) >> 2;
    this.buffer = env.view.i32.buffer as SharedArrayBuffer;
  }

  private view(b: number): Uint8Array {
    let u = this.views[b];
    if (u === undefined) this.views[b] = u = new Uint8Array(this.buffer, this.storage + b * this.blockSize, this.blockSize);
    return u;
  }

  /** A free block (its contents are whatever its last holder left), or null when every block is out. */
  acquire(): Uint8Array | null {
    if (this.i32[this.liveIdx] !== this.token) this.checkHandle('acquire');
    const s = this.section;
    const i32 = this.i32;
    let b = -1;
    if (s === null) {
      this.checkHandle('acquire');
      const n = i32[this.shard4];
      if (n > 0) { b = i32[this.shard4 + this.slots4 + n - 1]; i32[this.shard4] = n - 1; }
    } else {
      for (;;) {
        const c = this.base4 + s.begin() * this.stride4;
        const n = i32[c];
        if (n === 0) break;
        const x = i32[c + this.slots4 + n - 1];
        if (s.check()) {
          i32[c] = n - 1;
          s.committed();
          b = x;
          break;
        }
      }
    }
    if (b < 0) b = this.centralPop();
    if (b < 0) return null;
    i32[this.state4 + b] = 1;
    return this.view(b);
  }

  /**
   * Give a block back. ObjectError EFOREIGN when `block` is not one of this pool's blocks (wrong
   * memory, offset or length), EDOUBLE when it is not handed out (released twice).
   */
  release(block: Uint8Array): void {
    if (this.i32[this.liveIdx] !== this.token) this.checkHandle('release');
    const b = this.indexOf(block);
    const i32 = this.i32;
    if (Atomics.compareExchange(i32, this.state4 + b, 1, 0) !== 1) {
      throw new ObjectError('EDOUBLE', `block pool '${this.name}': block ${b} released twice (it is not handed out)`);
    }
    const s = this.section;
    if (s === null) {
      this.checkHandle('release');
      const n = i32[this.shard4];
      if (n < this.cache) { i32[this.shard4 + this.slots4 + n] = b; i32[this.shard4] = n + 1; return; }
    } else {
      for (;;) {
        const c = this.base4 + s.begin() * this.stride4;
        const n = i32[c];
        if (n >= this.cache) break;
        i32[c + this.slots4 + n] = b; // speculative: beyond the count, on the vCPU this thread owns
        if (s.check()) {
          i32[c] = n + 1;
          s.committed();
          return;
        }
      }
    }
    this.centralPush(b);
  }

  /** Blocks on the free lists (vCPU caches, main cache, central): a racy count, exact when quiescent. */
  free(): number {
    this.checkHandle('free');
    let n = this.i32[this.shard4] + Atomics.load(this.i32, this.top4);
    for (let c = 0; c < this.cpus; c++) n += this.i32[this.base4 + c * this.stride4];
    return n;
  }

  /** Diagnostics: every block index on a free list (vCPU caches, main cache, central); racy, exact when quiescent. */
  freeList(): number[] {
    this.checkHandle('freeList');
    const i32 = this.i32;
    const out: number[] = [];
    const cache = (c: number) => { for (let i = 0; i < i32[c]; i++) out.push(i32[c + this.slots4 + i]); };
    cache(this.shard4);
    for (let c = 0; c < this.cpus; c++) cache(this.base4 + c * this.stride4);
    for (let i = 0; i < Atomics.load(i32, this.top4); i++) out.push(i32[this.central4 + i]);
    return out;
  }

  private indexOf(block: Uint8Array): number {
    const foreign = (why: string) => new ObjectError('EFOREIGN', `block pool '${this.name}': not one of its blocks (${why})`);
    if (!(block instanceof Uint8Array)) throw foreign('not a Uint8Array');
    const buf = block.buffer;
    // A view posted from another thread has another SharedArrayBuffer object over the same memory.
    if (buf !== this.buffer && !(buf instanceof SharedArrayBuffer && buf.byteLength === this.buffer.byteLength)) throw foreign('another memory');
    const off = block.byteOffset - this.storage;
    if (block.byteLength !== this.blockSize || off < 0 || off % this.blockSize !== 0 || off / this.blockSize >= this.blocks) {
      throw foreign(`offset ${block.byteOffset}, length ${block.byteLength}`);
    }
    return off / this.blockSize;
  }

  private lock(): void {
    const i32 = this.i32;
    for (let spins = 0; Atomics.compareExchange(i32, this.lock4, 0, 1) !== 0; spins++) {
      if (spins > 1000 && this.section !== null) Atomics.wait(i32, this.lock4, 1, 1);
    }
  }

  private unlock(): void {
    Atomics.store(this.i32, this.lock4, 0);
  }

  private centralPop(): number {
    this.lock();
    const top = this.i32[this.top4];
    const b = top > 0 ? this.i32[this.central4 + top - 1] : -1;
    if (top > 0) this.i32[this.top4] = top - 1;
    this.unlock();
    return b;
  }

  private centralPush(b: number): void {
    this.lock();
    const top = this.i32[this.top4];
    this.i32[this.central4 + top] = b;
    this.i32[this.top4] = top + 1;
    this.unlock();
  }
}
