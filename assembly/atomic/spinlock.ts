// Global test-and-test-and-set spinlock, the lock-based counterpart of percpu/spinlock.ts.
//   lock word (i32, on its own 128-byte line): 0 free, 1 held
// Acquire spins on a plain-compiled atomic.load until the word reads free, then tries one CAS;
// release is an atomic store. No back-off, no futex: what a hand-written wasm spinlock does.

/** Take the lock at `lock`, spinning until it is free. */
// @ts-ignore: decorator
@inline export function spin_lock(lock: usize): void {
  while (true) {
    if (atomic.load<i32>(lock) == 0 && atomic.cmpxchg<i32>(lock, 0, 1) == 0) return;
    while (atomic.load<i32>(lock) != 0) {}
  }
}

/** Release the lock at `lock` (held by the caller). */
// @ts-ignore: decorator
@inline export function spin_unlock(lock: usize): void {
  atomic.store<i32>(lock, 0);
}
