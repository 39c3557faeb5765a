// Bounded multi-producer multi-consumer queue (Dmitry Vyukov's array queue): the atomic-instruction
// counterpart of the per-vCPU pointer buffer and memcpy buffer. One CAS on a shared position per
// push or pop, plus a per-cell sequence word that hands each cell from producer to consumer.
//
//   queue header (MPMC_*, assembly/abi.ts), each hot word on its own 128-byte line:
//   0 enqueue position (u32) | 128 dequeue position (u32) | 256 mask (u32, capacity - 1)
//   260 cell size (u32) | MPMC_CELLS.. cells
//   cell: 0 sequence (u32) | MPMC_PAYLOAD.. payload (a usize item, or item-size bytes)
//
// Cell i starts with sequence i. A producer at position p may fill the cell when its sequence is p
// and publishes p + 1; a consumer at p may empty it when it is p + 1 and frees it as p + capacity.
// Pushes and pops are split into claim / publish so the payload (pointer or memcpy) goes between.

import { MPMC_CELLS, MPMC_CELL_SIZE, MPMC_DEQ, MPMC_ENQ, MPMC_MASK, MPMC_PAYLOAD } from "../abi";

// @ts-ignore: decorator
@inline export function mpmc_cell(q: usize, pos: u32): usize {
  return q + MPMC_CELLS + <usize>(pos & load<u32>(q, MPMC_MASK)) * <usize>load<u32>(q, MPMC_CELL_SIZE);
}

/** Claim the next cell to fill. Returns its address, or 0 when the queue is full. Thread-safe. */
// @ts-ignore: decorator
@inline export function mpmc_claim_push(q: usize): usize {
  let pos = atomic.load<u32>(q, MPMC_ENQ);
  while (true) {
    const cell = mpmc_cell(q, pos);
    const dif = <i32>(atomic.load<u32>(cell) - pos);
    if (dif == 0) {
      const seen = atomic.cmpxchg<u32>(q + MPMC_ENQ, pos, pos + 1);
      if (seen == pos) return cell;
      pos = seen;
    } else if (dif < 0) {
      return 0;
    } else {
      pos = atomic.load<u32>(q, MPMC_ENQ);
    }
  }
}

/** Hand a filled cell (claimed by mpmc_claim_push) to consumers. */
// @ts-ignore: decorator
@inline export function mpmc_publish_push(cell: usize): void {
  atomic.store<u32>(cell, load<u32>(cell) + 1);
}

/** Claim the next cell to empty. Returns its address, or 0 when the queue is empty. Thread-safe. */
// @ts-ignore: decorator
@inline export function mpmc_claim_pop(q: usize): usize {
  let pos = atomic.load<u32>(q, MPMC_DEQ);
  while (true) {
    const cell = mpmc_cell(q, pos);
    const dif = <i32>(atomic.load<u32>(cell) - (pos + 1));
    if (dif == 0) {
      const seen = atomic.cmpxchg<u32>(q + MPMC_DEQ, pos, pos + 1);
      if (seen == pos) return cell;
      pos = seen;
    } else if (dif < 0) {
      return 0;
    } else {
      pos = atomic.load<u32>(q, MPMC_DEQ);
    }
  }
}

/** Give an emptied cell (claimed by mpmc_claim_pop) back to producers. */
// @ts-ignore: decorator
@inline export function mpmc_release_pop(q: usize, cell: usize): void {
  atomic.store<u32>(cell, load<u32>(cell) + load<u32>(q, MPMC_MASK));
}

/** Push a pointer item. Returns 1 pushed, 0 full. */
// @ts-ignore: decorator
@inline export function mpmc_push(q: usize, item: usize): i32 {
  const cell = mpmc_claim_push(q);
  if (cell == 0) return 0;
  store<usize>(cell, item, MPMC_PAYLOAD);
  mpmc_publish_push(cell);
  return 1;
}

/** Pop a pointer item. Returns it, or 0 when empty. */
// @ts-ignore: decorator
@inline export function mpmc_pop(q: usize): usize {
  const cell = mpmc_claim_pop(q);
  if (cell == 0) return 0;
  const item = load<usize>(cell, MPMC_PAYLOAD);
  mpmc_release_pop(q, cell);
  return item;
}

/** Copy `size` bytes from `src` into the queue. Returns 1 pushed, 0 full. */
// @ts-ignore: decorator
@inline export function mpmc_memcpy_push(q: usize, src: usize, size: usize): i32 {
  const cell = mpmc_claim_push(q);
  if (cell == 0) return 0;
  memory.copy(cell + MPMC_PAYLOAD, src, size);
  mpmc_publish_push(cell);
  return 1;
}

/** Copy the oldest item's `size` bytes to `dst`. Returns 1 popped, 0 empty. */
// @ts-ignore: decorator
@inline export function mpmc_memcpy_pop(q: usize, dst: usize, size: usize): i32 {
  const cell = mpmc_claim_pop(q);
  if (cell == 0) return 0;
  memory.copy(dst, cell + MPMC_PAYLOAD, size);
  mpmc_release_pop(q, cell);
  return 1;
}
