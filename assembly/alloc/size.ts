// Size classes, computed (no tables: the library has no static data). Class 0 is 8 bytes, classes
// 1..8 are 16..128 in steps of 16, then four classes per power of two: (2^k, 2^(k+1)] in steps of
// 2^(k-2), up to ALLOC_MAX_SMALL (class 28 = 4096). Objects are carved from page-aligned spans at
// multiples of their size: every object is 8-aligned, 16-aligned from 16 bytes, and a power-of-two
// size is aligned to itself.
import {
  ALLOC_BATCH_MAX, ALLOC_CLASS_BYTES, ALLOC_PAGE, ALLOC_SLOT_MAX, ALLOC_SLOT_MIN, ALLOC_SPAN_OBJECTS,
} from "../abi";

/** The class of a request of 1..ALLOC_MAX_SMALL bytes. */
// @ts-ignore: decorator
@inline export function alloc_size_class(size: usize): i32 {
  if (size <= 8) return 0;
  if (size <= 128) return <i32>((size + 15) >> 4);
  const k = <i32>(31 - clz<u32>(<u32>size - 1));
  return 9 + (k - 7) * 4 + <i32>((<u32>size - 1 - (1 << k)) >> (k - 2));
}

/** Bytes of an object of class `cls`. */
// @ts-ignore: decorator
@inline export function alloc_class_size(cls: i32): usize {
  if (cls == 0) return 8;
  if (cls <= 8) return <usize>cls << 4;
  const j = cls - 9;
  const k = 7 + (j >> 2);
  return (<usize>1 << k) + (<usize>((j & 3) + 1) << (k - 2));
}

/** Pages of a span of class `cls` (at least ALLOC_SPAN_OBJECTS objects). */
// @ts-ignore: decorator
@inline export function alloc_span_pages(cls: i32): i32 {
  const bytes = alloc_class_size(cls) * ALLOC_SPAN_OBJECTS;
  return <i32>((bytes + ALLOC_PAGE - 1) / ALLOC_PAGE);
}

/** Capacity in force of one cache's class: the control block's bytes per class / size, clamped. */
// @ts-ignore: decorator
@inline export function alloc_class_cap(a: usize, cls: i32): i32 {
  const n = <i32>(<usize>load<i32>(a, ALLOC_CLASS_BYTES) / alloc_class_size(cls));
  return n < ALLOC_SLOT_MIN ? ALLOC_SLOT_MIN : n > ALLOC_SLOT_MAX ? ALLOC_SLOT_MAX : n;
}

/** Objects moved per transfer between a cache and the central list: half the capacity. */
// @ts-ignore: decorator
@inline export function alloc_batch(a: usize, cls: i32): i32 {
  const n = alloc_class_cap(a, cls) >> 1;
  return n < 1 ? 1 : n > ALLOC_BATCH_MAX ? ALLOC_BATCH_MAX : n;
}
