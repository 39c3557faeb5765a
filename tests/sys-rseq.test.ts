// sys_rseq's errors in the kernel's order (syscall_errors_test and more), and what registration
// does to struct rseq.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kernel, RseqError } from '../host/index.js';
import { engineOf } from '../host/internal.js';
import { threadRec } from '../host/memory.js';

let k: Kernel;
before(async () => { k = await Kernel.create({ cpus: 2, threads: 3, register: false, supervisor: false }); });
after(() => k.close());

const rejects = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: unknown) => e instanceof RseqError && e.code === code);
const rec = (t: number) => threadRec(engineOf(k).abi, engineOf(k).plan, t);
const SIG = 0x53053053;

test('cpu_id is -1 (RSEQ_CPU_ID_UNINITIALIZED) before registration', () => {
  assert.equal(engineOf(k).view.load(rec(0) + engineOf(k).abi.RSEQ_CPU_ID), -1);
  assert.equal(engineOf(k).view.load(rec(0) + engineOf(k).abi.RSEQ_CPU_ID_START), 0);
});

test('rseq(NULL, 0, 0, 0) answers EINVAL: the availability probe', () => rejects(k.sysRseq(0, 0, 0, 0, 0), 'EINVAL'));

test('syscall_errors_test, in order', async () => {
  const area = rec(0);
  await rejects(k.sysRseq(0, area, 33, -1, SIG), 'EINVAL');          // unknown flags
  await rejects(k.sysRseq(0, area + 1, 33, 0, SIG), 'EINVAL');       // misaligned
  await rejects(k.sysRseq(0, area, 31, 0, SIG), 'EINVAL');           // shorter than the original size
  await rejects(k.sysRseq(0, -4096, 33, 0, SIG), 'EFAULT');          // outside memory
  assert.equal(await k.sysRseq(0, area, 33, 0, SIG), 0);             // valid
  assert.ok(engineOf(k).view.load(area + engineOf(k).abi.RSEQ_CPU_ID) >= 0);
  await rejects(k.sysRseq(0, area, 33, 0, SIG), 'EBUSY');            // identical again
  await rejects(k.sysRseq(0, area, 33, 0, SIG + 1), 'EPERM');        // same area, other signature
  await rejects(k.sysRseq(0, area, 64, 0, SIG), 'EINVAL');           // other length
  await rejects(k.sysRseq(0, area + 64, 33, 0, SIG), 'EINVAL');      // other area
  await rejects(k.sysRseq(0, area, 33, 1, SIG + 1), 'EPERM');        // unregister, wrong signature
  await rejects(k.sysRseq(0, area, 32, 1, SIG), 'EINVAL');           // unregister, wrong length
  await rejects(k.sysRseq(0, area, 33, 3, SIG), 'EINVAL');           // unregister with other flags
  assert.equal(await k.sysRseq(0, area, 33, 1, SIG), 0);             // unregister
  assert.equal(engineOf(k).view.load(area + engineOf(k).abi.RSEQ_CPU_ID), -1);
  await rejects(k.sysRseq(0, area, 33, 1, SIG), 'EINVAL');           // not registered any more
});

test('length and alignment rules: 32 = legacy (32-aligned), larger = extended (64-aligned, >= feature size)', async () => {
  const heap = k.alloc(256, 128);
  await rejects(k.sysRseq(1, heap + 32, 33, 0, SIG), 'EINVAL');      // extended needs AT_RSEQ_ALIGN (64)
  assert.equal(await k.sysRseq(1, heap + 32, 32, 0, SIG), 0);        // legacy: 32-aligned is enough
  assert.equal(await k.sysRseq(1, heap + 32, 32, 1, SIG), 0);
  assert.equal(await k.sysRseq(1, heap + 64, 64, 0, SIG), 0);        // extended, larger than feature size
  assert.equal(await k.sysRseq(1, heap + 64, 64, 1, SIG), 0);
  await rejects(k.sysRseq(1, rec(2), 33, 0, SIG), 'EFAULT');         // another thread's record: not user memory
  await rejects(k.sysRseq(1, engineOf(k).plan.cpuBase, 33, 0, SIG), 'EFAULT'); // kernel region
  await rejects(k.sysRseq(1, engineOf(k).view.size, 64, 0, SIG), 'EFAULT');         // past the end of memory
});
