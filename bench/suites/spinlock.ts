// spinlock: the per-vCPU lock (rseq) against one global TTAS lock around the same add.
import { counterCheck } from '../checks.js';
import { wasmLoop } from '../harness.js';
import { I64, line, lockedBytes } from '../layout.js';
import { COLUMNS, STANDARD } from '../metrics.js';
import type { Impl, Suite } from '../suite.js';

const impls: Impl[] = [
  {
    id: 'rseq-percpu-lock', kind: 'rseq', baseline: 'global-ttas',
    what: 'lock the current vCPU\'s lock (rseq compare-and-store), add 1 to its data, unlock',
    prepare(env) {
      const lock = env.k.allocPerCpu(lockedBytes(env.e.abi, I64));
      return wasmLoop(env, this.id, {
        fn: 'spinlock_rseq', args: () => [lock], exact: true,
        check: counterCheck(this.id, () => env.x.spinlock_sum(lock, env.k.cpus)),
      });
    },
  },
  {
    id: 'global-ttas', kind: 'lock', baseline: 'global-ttas',
    what: 'one global test-and-test-and-set CAS lock around the same add',
    prepare(env) {
      const lock = env.k.alloc(lockedBytes(env.e.abi, I64), line(env.e.abi));
      return wasmLoop(env, this.id, {
        fn: 'spinlock_global', args: () => [lock], exact: true,
        check: counterCheck(this.id, () => env.x.spinlock_sum(lock, 1)),
      });
    },
  },
];

export const spinlock: Suite = {
  id: 'spinlock', title: 'per-vCPU lock (rseq) vs one global TTAS lock', impls, metrics: STANDARD, columns: COLUMNS,
};
