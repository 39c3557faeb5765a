// Counter baselines for the per-vCPU counter (percpu/counter.ts): wasm atomic.add on one word
// (shared by every thread, or one word per thread on its own 128-byte line) and the plain
// load/add/store on a per-thread word, which is the floor any counter can reach.
// Node 20 compiles atomic.add to a lock cmpxchg retry loop (~17 ns uncontended), not lock xadd.

/** Atomically add `inc` to the i64 at `word` (any thread, any time). Returns the old value. */
// @ts-ignore: decorator
@inline export function atomic_counter_add(word: usize, inc: i64): i64 {
  return atomic.add<i64>(word, inc);
}

/** Plain add to a word only this thread writes (racy if shared: it loses updates). */
// @ts-ignore: decorator
@inline export function plain_counter_add(word: usize, inc: i64): void {
  store<i64>(word, load<i64>(word) + inc);
}

/** Read the i64 at `word` (the read side of the atomic counter: one load). */
// @ts-ignore: decorator
@inline export function atomic_counter_read(word: usize): i64 {
  return atomic.load<i64>(word);
}
