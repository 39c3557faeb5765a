// buffer: per-vCPU pointer ring (rseq) against an MPMC queue (atomics) and a locked ring.
import { fail, itemsCheck, sum } from '../checks.js';
import { cpuCopies, wasmLoop } from '../harness.js';
import { USIZE, bufferBytes, line, lockedBytes, mpmcBytes } from '../layout.js';
import { COLUMNS, STANDARD } from '../metrics.js';
import type { Impl, Suite } from '../suite.js';
import { PER_CPU, mpmcCap } from './common.js';

const impls: Impl[] = [
  {
    id: 'rseq', kind: 'rseq', baseline: 'mpmc-atomic',
    what: 'pop a pointer from the current vCPU\'s buffer and push it back (2 rseq sections)',
    prepare(env) {
      const total = env.k.cpus * PER_CPU;
      const buf = env.k.allocPerCpu(bufferBytes(env.e.abi, total));
      const bufs = cpuCopies(env, buf);
      bufs.forEach((b, c) => env.x.buffer_build(b, total, PER_CPU, c * PER_CPU + 1));
      const check = itemsCheck(this.id, total, () => ({
        count: sum(bufs.map((b) => env.x.buffer_count(b))), sum: bufs.reduce((a, b) => a + env.x.buffer_sum(b), 0n),
      }));
      return wasmLoop(env, this.id, { fn: 'buffer_rseq', args: () => [buf], check });
    },
  },
  {
    id: 'mpmc-atomic', kind: 'atomic', baseline: 'mpmc-atomic',
    what: 'dequeue and enqueue a pointer on one bounded MPMC queue (Vyukov, CAS per op)',
    prepare(env) {
      const total = env.k.cpus * PER_CPU;
      const cap = mpmcCap(env, total);
      const q = env.k.alloc(mpmcBytes(env.e.abi, cap, USIZE), line(env.e.abi));
      env.x.mpmc_build(q, cap, USIZE);
      if (env.x.mpmc_fill(q, total, 1) !== total) fail(this.id, 'queue full while filling');
      const check = itemsCheck(this.id, total, () => ({ count: env.x.mpmc_count(q), sum: env.x.mpmc_sum(q, 0) }));
      return wasmLoop(env, this.id, { fn: 'buffer_mpmc', args: () => [q], check });
    },
  },
  {
    id: 'locked', kind: 'lock', baseline: 'mpmc-atomic',
    what: 'pop and push back on one pointer buffer under a global TTAS spinlock',
    prepare(env) {
      const total = env.k.cpus * PER_CPU;
      const lock = env.k.alloc(lockedBytes(env.e.abi, 0), line(env.e.abi));
      const buf = env.k.alloc(bufferBytes(env.e.abi, total), line(env.e.abi));
      env.x.buffer_build(buf, total, total, 1);
      const check = itemsCheck(this.id, total, () => ({ count: env.x.buffer_count(buf), sum: env.x.buffer_sum(buf) }));
      return wasmLoop(env, this.id, { fn: 'buffer_locked', args: () => [lock, buf], check });
    },
  },
];

export const buffer: Suite = {
  id: 'buffer', title: 'per-vCPU pointer ring (rseq) vs MPMC queue vs locked ring', impls, metrics: STANDARD, columns: COLUMNS,
};
