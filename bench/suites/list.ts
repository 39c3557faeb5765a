// list: per-vCPU push/pop (rseq) against a Treiber stack and a spinlock-protected list.
import { analysisHelpers as h, type TargetDef } from '../analysis.js';
import { itemsCheck, sum } from '../checks.js';
import { cpuCopies, wasmLoop } from '../harness.js';
import { I64, USIZE, line, lockedBytes, lockedData, nodeStride } from '../layout.js';
import { COLUMNS, STANDARD } from '../metrics.js';
import type { Env, Impl, Suite } from '../suite.js';
import { PER_CPU } from './common.js';

/** Build `n` nodes numbered value0.. onto the list at `head`, one line each (layout.nodeStride). */
function nodes(env: Env, head: number, n: number, value0: number): void {
  const stride = nodeStride(env.e.abi);
  env.x.list_build(head, env.k.alloc(n * stride, line(env.e.abi)), n, stride, value0);
}

/** Count and checksum of the lists at `heads` (a cycle reads as a wrong count). */
const listsCheck = (env: Env, id: string, heads: number[], total: number) => itemsCheck(id, total, () => ({
  count: sum(heads.map((hd) => env.x.list_count(hd, total + 1))),
  sum: heads.reduce((a, hd) => a + env.x.list_sum(hd, total + 1), 0n),
}));

export const listRseq: Impl = {
  id: 'rseq', kind: 'rseq', baseline: 'treiber',
  what: 'pop a node from the current vCPU\'s list and push it back (2 rseq sections)',
  prepare(env) {
    const head = env.k.allocPerCpu(USIZE);
    const heads = cpuCopies(env, head);
    heads.forEach((hd, c) => nodes(env, hd, PER_CPU, c * PER_CPU + 1));
    return wasmLoop(env, this.id, { fn: 'list_rseq', args: () => [head], check: listsCheck(env, this.id, heads, heads.length * PER_CPU) });
  },
};

const impls: Impl[] = [
  listRseq,
  {
    id: 'treiber', kind: 'atomic', baseline: 'treiber',
    what: 'pop and push back on one Treiber stack (tagged 64-bit CAS, ABA-safe)',
    prepare(env) {
      const head = env.k.alloc(I64, line(env.e.abi));
      const total = env.k.cpus * PER_CPU;
      nodes(env, head, total, 1);
      return wasmLoop(env, this.id, { fn: 'list_treiber', args: () => [head], check: listsCheck(env, this.id, [head], total) });
    },
  },
  {
    id: 'locked', kind: 'lock', baseline: 'treiber',
    what: 'pop and push back on one list under a global TTAS spinlock',
    prepare(env) {
      const lock = env.k.alloc(lockedBytes(env.e.abi, USIZE), line(env.e.abi));
      const head = lockedData(env.e.abi, lock);
      const total = env.k.cpus * PER_CPU;
      nodes(env, head, total, 1);
      return wasmLoop(env, this.id, { fn: 'list_locked', args: () => [lock, head], check: listsCheck(env, this.id, [head], total) });
    },
  },
];

const targets: TargetDef[] = [
  {
    id: 'list-2t', text: 'list, 2 threads: rseq push/pop >= 5x Treiber stack', target: 5, bound: 'min', unit: 'x',
    eval(all) {
      const a = h.find(all, 'list', 'rseq', 2);
      const b = h.find(all, 'list', 'treiber', 2);
      if (!a || !b) return 'needs list at 2 threads';
      return { measured: a.opsPerSec / b.opsPerSec, detail: `rseq ${h.mops(a.opsPerSec)} vs Treiber ${h.mops(b.opsPerSec)} (pop+push pairs)` };
    },
  },
];

export const list: Suite = {
  id: 'list', title: 'per-vCPU list push/pop (rseq) vs Treiber stack vs locked list', impls, metrics: STANDARD, columns: COLUMNS, targets,
};
