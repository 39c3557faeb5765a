// A bump allocator over one region of the shared memory (the heap, or one stride of the per-vCPU
// pool). Host-side only: workers never allocate.
import { RegionExhaustedError, UsageError } from '../errors.js';

export class BumpRegion {
  private top: number;
  constructor(readonly name: string, readonly start: number, readonly end: number) {
    this.top = start;
  }

  alloc(size: number, align: number): number {
    if (!Number.isInteger(size) || size <= 0) throw new UsageError(`${this.name}: size must be a positive integer, got ${size}`);
    const at = Math.ceil(this.top / align) * align;
    if (at + size > this.end) throw new RegionExhaustedError({ region: this.name, requested: size, left: this.end - this.top });
    this.top = at + size;
    return at;
  }

  reset(): void {
    this.top = this.start;
  }
}
