// The allocator's back end, shared by every thread: the page heap (a bitmap of pages, first fit,
// under one lock), the page map (which span and class a page belongs to), the central free list of
// each size class (under a lock per class) with batched transfers, and the checked mode's bitmap of
// objects handed out. Nothing here is a critical section: locks are test-and-test-and-set spinlocks
// (no wasm wait, see alloc_lock), taken only outside sections, never by the main thread while threads run.
import {
  ALLOC_CENTRAL, ALLOC_CHECKED, ALLOC_ERR_DOUBLE_FREE, ALLOC_ERR_DUPLICATE, ALLOC_ERR_FOREIGN, ALLOC_HW,
  ALLOC_LARGE, ALLOC_LIVEBITS, ALLOC_NPAGES, ALLOC_OK, ALLOC_PAGEBITS, ALLOC_PAGEMAP, ALLOC_PAGES_BASE,
  ALLOC_PAGE_LOCK, ALLOC_PAGE_SHIFT, ALLOC_SPANLEN, ALLOC_USED, CL_CARVED, CL_COUNT, CL_HEAD, CL_LOCK, CL_SIZE,
  CL_SPANS, PAGE_FREE, PAGE_LARGE,
} from "../abi";
import { alloc_class_size, alloc_span_pages } from "./size";

// --- lock: test-and-test-and-set with bounded exponential back-off ---------------------------------
// Measured on Node 20.20: a wasm memory.atomic.wait32 in this loop made threads run loop iterations
// twice (a lock-protected count ended ~2x too high with 4 threads; a pure spin lock is exact), so the
// lock never waits in wasm. Holders never block or enter a section while holding it.

export function alloc_lock(p: usize): void {
  if (atomic.cmpxchg<i32>(p, 0, 1) == 0) return;
  let spins = 1;
  while (true) {
    while (atomic.load<i32>(p) != 0) {
      for (let i = 0; i < spins; i++) atomic.load<i32>(p);
      if (spins < 1024) spins <<= 1;
    }
    if (atomic.cmpxchg<i32>(p, 0, 1) == 0) return;
  }
}

// @ts-ignore: decorator
@inline export function alloc_unlock(p: usize): void {
  atomic.store<i32>(p, 0);
}

// --- page heap ------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function pagebit(a: usize, pg: i32): bool {
  return (load<u32>(load<usize>(a, ALLOC_PAGEBITS) + (<usize>(pg >> 5) << 2)) >> (pg & 31) & 1) != 0;
}

function setpages(a: usize, first: i32, n: i32, on: bool): void {
  const bits = load<usize>(a, ALLOC_PAGEBITS);
  for (let pg = first; pg < first + n; pg++) {
    const w = bits + (<usize>(pg >> 5) << 2);
    const m: u32 = 1 << (pg & 31);
    store<u32>(w, on ? load<u32>(w) | m : load<u32>(w) & ~m);
  }
}

/** First fit of `n` free pages; marks them and their page map entries (`kind`). Returns the first page or -1. */
export function alloc_pages(a: usize, n: i32, kind: i32): i32 {
  const lock = a + ALLOC_PAGE_LOCK;
  alloc_lock(lock);
  const total = load<i32>(a, ALLOC_NPAGES);
  const bits = load<usize>(a, ALLOC_PAGEBITS);
  let first = -1;
  let run = 0;
  for (let pg = 0; pg < total; pg++) {
    if ((pg & 31) == 0 && load<u32>(bits + (<usize>(pg >> 5) << 2)) == 0xffffffff) { run = 0; pg += 31; continue; }
    if (pagebit(a, pg)) { run = 0; continue; }
    run++;
    if (run == n) { first = pg - n + 1; break; }
  }
  if (first >= 0) {
    setpages(a, first, n, true);
    const map = load<usize>(a, ALLOC_PAGEMAP);
    // The bitmap and the page map agree: a page in no span has a free entry (trap otherwise).
    for (let pg = first; pg < first + n; pg++) if (load<u32>(map + (<usize>pg << 2)) != PAGE_FREE) unreachable();
    for (let pg = first; pg < first + n; pg++) store<u32>(map + (<usize>pg << 2), <u32>kind | (<u32>first << 8));
    store<u32>(load<usize>(a, ALLOC_SPANLEN) + (<usize>first << 2), n);
    if (first + n > load<i32>(a, ALLOC_HW)) store<i32>(a, first + n, ALLOC_HW);
    store<i32>(a, load<i32>(a, ALLOC_USED) + n, ALLOC_USED);
    if (kind == PAGE_LARGE) store<i32>(a, load<i32>(a, ALLOC_LARGE) + 1, ALLOC_LARGE);
  }
  alloc_unlock(lock);
  return first;
}

function free_pages(a: usize, first: i32): void {
  const lock = a + ALLOC_PAGE_LOCK;
  alloc_lock(lock);
  const n = load<i32>(load<usize>(a, ALLOC_SPANLEN) + (<usize>first << 2));
  setpages(a, first, n, false);
  const map = load<usize>(a, ALLOC_PAGEMAP);
  for (let pg = first; pg < first + n; pg++) store<u32>(map + (<usize>pg << 2), PAGE_FREE);
  store<i32>(a, load<i32>(a, ALLOC_USED) - n, ALLOC_USED);
  store<i32>(a, load<i32>(a, ALLOC_LARGE) - 1, ALLOC_LARGE);
  alloc_unlock(lock);
}

// @ts-ignore: decorator
@inline export function alloc_page_addr(a: usize, pg: i32): usize {
  return load<usize>(a, ALLOC_PAGES_BASE) + (<usize>pg << ALLOC_PAGE_SHIFT);
}

/** A large allocation (whole pages). 0 when the heap is full. */
export function alloc_large(a: usize, size: usize): usize {
  const n = <i32>((size + (1 << ALLOC_PAGE_SHIFT) - 1) >> ALLOC_PAGE_SHIFT);
  const pg = alloc_pages(a, n, PAGE_LARGE);
  return pg < 0 ? 0 : alloc_page_addr(a, pg);
}

/** Page map entry of `ptr`'s page, or 0 (PAGE_FREE) when ptr is outside the heap. */
// @ts-ignore: decorator
@inline export function alloc_page_entry(a: usize, ptr: usize): u32 {
  const base = load<usize>(a, ALLOC_PAGES_BASE);
  if (ptr < base) return PAGE_FREE;
  const pg = (ptr - base) >> ALLOC_PAGE_SHIFT;
  if (pg >= <usize>load<i32>(a, ALLOC_NPAGES)) return PAGE_FREE;
  return load<u32>(load<usize>(a, ALLOC_PAGEMAP) + (pg << 2));
}

/**
 * What `ptr` is: its class (>= 0), -1 a large allocation's start, or ALLOC_ERR_FOREIGN (not in a
 * span, or not at an object's start). Exact: safe to call on any value.
 */
export function alloc_classify(a: usize, ptr: usize): i32 {
  if ((ptr & 7) != 0) return ALLOC_ERR_FOREIGN;
  const e = alloc_page_entry(a, ptr);
  const kind = <i32>(e & 255);
  if (kind == PAGE_FREE) return ALLOC_ERR_FOREIGN;
  const start = alloc_page_addr(a, <i32>(e >> 8));
  if (kind == PAGE_LARGE) return ptr == start ? -1 : ALLOC_ERR_FOREIGN;
  const cls = kind - 1;
  return (ptr - start) % alloc_class_size(cls) == 0 ? cls : ALLOC_ERR_FOREIGN;
}

/** Free a large allocation (its page map entry says so). */
export function alloc_free_large(a: usize, ptr: usize): void {
  free_pages(a, <i32>(alloc_page_entry(a, ptr) >> 8));
}

// --- checked mode: one bit per 8 heap bytes, set while the object is handed out --------------------

/** Mark `ptr` handed out (`on`) or free. ALLOC_OK, or the error the transition reveals. */
export function alloc_mark(a: usize, ptr: usize, on: bool): i32 {
  const off = (ptr - load<usize>(a, ALLOC_PAGES_BASE)) >> 3;
  const w = load<usize>(a, ALLOC_LIVEBITS) + ((off >> 5) << 2);
  const m: u32 = 1 << <u32>(off & 31);
  if (on) return (atomic.or<u32>(w, m) & m) != 0 ? ALLOC_ERR_DUPLICATE : ALLOC_OK;
  return (atomic.and<u32>(w, ~m) & m) == 0 ? ALLOC_ERR_DOUBLE_FREE : ALLOC_OK;
}

// @ts-ignore: decorator
@inline export function alloc_checked(a: usize): bool {
  return load<i32>(a, ALLOC_CHECKED) != 0;
}

// --- central free lists -----------------------------------------------------------------------------

// @ts-ignore: decorator
@inline export function alloc_central(a: usize, cls: i32): usize {
  return load<usize>(a, ALLOC_CENTRAL) + <usize>cls * CL_SIZE;
}

/** Carve a new span of class `cls` onto its list (the list's lock held). false: heap full. */
function carve(a: usize, cls: i32, cl: usize): bool {
  const pages = alloc_span_pages(cls);
  const pg = alloc_pages(a, pages, cls + 1);
  if (pg < 0) return false;
  const size = alloc_class_size(cls);
  const start = alloc_page_addr(a, pg);
  const n = <i32>((<usize>pages << ALLOC_PAGE_SHIFT) / size);
  let head = load<usize>(cl, CL_HEAD);
  for (let i = n - 1; i >= 0; i--) {
    const o = start + <usize>i * size;
    store<usize>(o, head);
    head = o;
  }
  store<usize>(cl, head, CL_HEAD);
  store<i32>(cl, load<i32>(cl, CL_COUNT) + n, CL_COUNT);
  store<i32>(cl, load<i32>(cl, CL_CARVED) + n, CL_CARVED);
  store<i32>(cl, load<i32>(cl, CL_SPANS) + 1, CL_SPANS);
  return true;
}

/** Take up to `want` objects of class `cls` into the usize array at `dst`. Returns how many (0: heap full). */
export function alloc_central_pop(a: usize, cls: i32, dst: usize, want: i32): i32 {
  const cl = alloc_central(a, cls);
  alloc_lock(cl + CL_LOCK);
  let got = 0;
  while (got < want) {
    let head = load<usize>(cl, CL_HEAD);
    if (head == 0) {
      if (!carve(a, cls, cl)) break;
      head = load<usize>(cl, CL_HEAD);
    }
    store<usize>(dst + (<usize>got << 2), head);
    store<usize>(cl, load<usize>(head), CL_HEAD);
    got++;
  }
  store<i32>(cl, load<i32>(cl, CL_COUNT) - got, CL_COUNT);
  alloc_unlock(cl + CL_LOCK);
  return got;
}

/** Give `n` objects of class `cls` (the usize array at `src`) back to the central list. */
export function alloc_central_push(a: usize, cls: i32, src: usize, n: i32): void {
  if (n <= 0) return;
  const cl = alloc_central(a, cls);
  alloc_lock(cl + CL_LOCK);
  let head = load<usize>(cl, CL_HEAD);
  for (let i = 0; i < n; i++) {
    const o = load<usize>(src + (<usize>i << 2));
    store<usize>(o, head);
    head = o;
  }
  store<usize>(cl, head, CL_HEAD);
  store<i32>(cl, load<i32>(cl, CL_COUNT) + n, CL_COUNT);
  alloc_unlock(cl + CL_LOCK);
}

/** One object from the central list (the central-only front end). 0: heap full. */
export function alloc_central_pop1(a: usize, cls: i32): usize {
  const cl = alloc_central(a, cls);
  alloc_lock(cl + CL_LOCK);
  let head = load<usize>(cl, CL_HEAD);
  if (head == 0 && carve(a, cls, cl)) head = load<usize>(cl, CL_HEAD);
  if (head != 0) {
    store<usize>(cl, load<usize>(head), CL_HEAD);
    store<i32>(cl, load<i32>(cl, CL_COUNT) - 1, CL_COUNT);
  }
  alloc_unlock(cl + CL_LOCK);
  return head;
}

export function alloc_central_push1(a: usize, cls: i32, o: usize): void {
  const cl = alloc_central(a, cls);
  alloc_lock(cl + CL_LOCK);
  store<usize>(o, load<usize>(cl, CL_HEAD));
  store<usize>(cl, o, CL_HEAD);
  store<i32>(cl, load<i32>(cl, CL_COUNT) + 1, CL_COUNT);
  alloc_unlock(cl + CL_LOCK);
}
