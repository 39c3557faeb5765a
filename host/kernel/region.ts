// A bump allocator over one region of the shared memory (the heap, or one stride of the per-vCPU
// pool). Host-side only: workers never allocate.

export class BumpRegion {
  private top: number;
  constructor(readonly name: string, readonly start: number, readonly end: number) {
    this.top = start;
  }

  alloc(size: number, align: number): number {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`${this.name}: size must be a positive integer, got ${size}`);
    const at = Math.ceil(this.top / align) * align;
    if (at + size > this.end) throw new RangeError(`${this.name} exhausted (${size} bytes requested, ${this.end - this.top} left)`);
    this.top = at + size;
    return at;
  }

  reset(): void {
    this.top = this.start;
  }
}
