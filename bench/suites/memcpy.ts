// memcpy: per-vCPU ring of 16-byte items copied in and out (rseq) against an MPMC queue and a locked ring.
import { fail, itemsCheck, sum } from '../checks.js';
import { cpuCopies, perThread, wasmLoop } from '../harness.js';
import { line, lockedBytes, memcpyBytes, mpmcBytes } from '../layout.js';
import { COLUMNS, STANDARD } from '../metrics.js';
import type { Env, Impl, Suite } from '../suite.js';
import { PER_CPU, mpmcCap } from './common.js';

/** Bytes per item, as bench/assembly/workloads.ts builds them (a value and its check word). */
const itemSize = (env: Env) => env.x.ITEM_SIZE.value as number;

const impls: Impl[] = [
  {
    id: 'rseq', kind: 'rseq', baseline: 'mpmc-atomic',
    what: 'copy a 16-byte item out of the current vCPU\'s ring and back in (2 rseq sections)',
    prepare(env) {
      const total = env.k.cpus * PER_CPU;
      const buf = env.k.allocPerCpu(memcpyBytes(env.e.abi, total, itemSize(env)));
      const bufs = cpuCopies(env, buf);
      bufs.forEach((b, c) => env.x.memcpy_build(b, total, PER_CPU, c * PER_CPU + 1));
      const scratch = perThread(env);
      const check = itemsCheck(this.id, total, () => ({
        count: sum(bufs.map((b) => env.x.memcpy_count(b))),
        sum: bufs.reduce((a, b) => { const s = env.x.memcpy_sum(b); return a < 0n || s < 0n ? -1n : a + s; }, 0n),
      }));
      return wasmLoop(env, this.id, { fn: 'memcpy_rseq', args: (s) => [buf, scratch(s)], check });
    },
  },
  {
    id: 'mpmc-atomic', kind: 'atomic', baseline: 'mpmc-atomic',
    what: 'dequeue and enqueue a 16-byte item (memcpy) on one bounded MPMC queue',
    prepare(env) {
      const size = itemSize(env);
      const total = env.k.cpus * PER_CPU;
      const cap = mpmcCap(env, total);
      const q = env.k.alloc(mpmcBytes(env.e.abi, cap, size), line(env.e.abi));
      const scratch = perThread(env);
      env.x.mpmc_build(q, cap, size);
      if (env.x.mpmc_fill_items(q, scratch(0), total, 1) !== total) fail(this.id, 'queue full while filling');
      const check = itemsCheck(this.id, total, () => ({ count: env.x.mpmc_count(q), sum: env.x.mpmc_sum(q, 1) }));
      return wasmLoop(env, this.id, { fn: 'memcpy_mpmc', args: (s) => [q, scratch(s)], check });
    },
  },
  {
    id: 'locked', kind: 'lock', baseline: 'mpmc-atomic',
    what: 'copy an item out of one ring and back in under a global TTAS spinlock',
    prepare(env) {
      const total = env.k.cpus * PER_CPU;
      const lock = env.k.alloc(lockedBytes(env.e.abi, 0), line(env.e.abi));
      const buf = env.k.alloc(memcpyBytes(env.e.abi, total, itemSize(env)), line(env.e.abi));
      env.x.memcpy_build(buf, total, total, 1);
      const scratch = perThread(env);
      const check = itemsCheck(this.id, total, () => ({ count: env.x.memcpy_count(buf), sum: env.x.memcpy_sum(buf) }));
      return wasmLoop(env, this.id, { fn: 'memcpy_locked', args: (s) => [lock, buf, scratch(s)], check });
    },
  },
];

export const memcpy: Suite = {
  id: 'memcpy', title: 'per-vCPU memcpy ring (rseq) vs MPMC queue vs locked ring', impls, metrics: STANDARD, columns: COLUMNS,
};
