// The pool suite's baseline: a plain piscina worker whose task does `ops` Atomics.add of 1 on one
// shared Int32 word (every worker the same word, as a shared counter would be).
import { workerData } from 'node:worker_threads';

export interface AtomicsPoolData { word: SharedArrayBuffer }

const i32 = new Int32Array((workerData as AtomicsPoolData).word);

export default function add(t: { ops: number }): number {
  for (let i = 0; i < t.ops; i++) Atomics.add(i32, 0, 1);
  return t.ops;
}
