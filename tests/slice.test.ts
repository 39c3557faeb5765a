// The rseq time-slice extension (Linux 7.0): registration flags, prctl and its errors, the grant /
// yield / revoke / expiry protocol (a port of the kernel's slice_test.c), the user-set-granted fault.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kernel, RseqError, RseqFault } from '../host/index.js';
import { engineOf } from '../host/internal.js';
import { threadRec } from '../host/memory.js';
import { VARIANTS, runSliceTest } from '../host/slice-test/run.js';

const SCRIPT = new URL('./fixtures/slice-script.js', import.meta.url);
const SIG = 0x53053053;
let k: Kernel;
before(async () => { k = await Kernel.create({ cpus: 2, threads: 4, register: false, supervisor: false }); });
after(() => k.close());

const flagsOf = (t: number) => engineOf(k).view.load(threadRec(engineOf(k).abi, engineOf(k).plan, t) + 16);
const rejects = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: unknown) => e instanceof RseqError && e.code === code);

test('registration: AVAILABLE (0x10) for extended registrations, ENABLED (0x20) too with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON, none for legacy', async () => {
  const rec = (t: number) => threadRec(engineOf(k).abi, engineOf(k).plan, t);
  await k.sysRseq(0, rec(0), 33, 0, SIG);
  assert.equal(flagsOf(0), 0x10);
  assert.equal(await k.prctl(0, 79, 1), 0);
  await k.sysRseq(1, rec(1), 33, 2, SIG);
  assert.equal(flagsOf(1), 0x30);
  assert.equal(await k.prctl(1, 79, 1), 1);
  await k.sysRseq(2, rec(2), 32, 0, SIG);
  assert.equal(flagsOf(2), 0);
  await rejects(k.prctl(2, 79, 2, 1), 'EINVAL'); // legacy: not available
});

test('prctl(PR_RSEQ_SLICE_EXTENSION): SET / GET and EINVAL, ENXIO in the kernel order', async () => {
  await rejects(k.prctl(3, 79, 2, 1), 'ENXIO');         // no rseq area registered
  await rejects(k.prctl(0, 78, 1), 'EINVAL');           // other option
  await rejects(k.prctl(0, 79, 2, 1, 1), 'EINVAL');     // arg4 != 0
  await rejects(k.prctl(0, 79, 2, 1, 0, 1), 'EINVAL');  // arg5 != 0
  await rejects(k.prctl(0, 79, 1, 1), 'EINVAL');        // GET with arg3
  await rejects(k.prctl(0, 79, 2, 2), 'EINVAL');        // unknown arg3 bits
  await rejects(k.prctl(0, 79, 3, 0), 'EINVAL');        // neither GET nor SET
  assert.equal(await k.prctl(0, 79, 2, 1), 0);
  assert.equal(flagsOf(0), 0x30);
  assert.equal(await k.prctl(0, 79, 1), 1);
  assert.equal(await k.prctl(0, 79, 2, 0), 0);
  assert.equal(flagsOf(0), 0x10);
  assert.equal(await k.runScript(0, SCRIPT, 'prctl', 79, 2, 1, 0, 0).then((r) => r.value), 0); // from JS on the thread
  assert.equal(flagsOf(0), 0x30);
});

test('prctl answers ENOTSUPP when the kernel has the extension disabled (rseq_slice_ext=off)', async () => {
  const off = await Kernel.create({ cpus: 1, threads: 1, supervisor: false, sliceExtension: { enabled: false } });
  try {
    await rejects(off.prctl(0, 79, 2, 1), 'ENOTSUPP');
    assert.equal(engineOf(off).view.load(threadRec(engineOf(off).abi, engineOf(off).plan, 0) + 16), 0);
  } finally { await off.close(); }
});

test('slice_ext_nsec: 5000..50000, ERANGE outside; bad options are usage errors', async () => {
  assert.throws(() => k.setSliceExtension(4999), (e: unknown) => e instanceof RseqError && e.code === 'ERANGE');
  assert.throws(() => k.setSliceExtension(50001), (e: unknown) => e instanceof RseqError && e.code === 'ERANGE');
  k.setSliceExtension(50000);
  k.setSliceExtension(5000);
  await assert.rejects(Kernel.create({ cpus: 1, threads: 0, sliceExtension: { nsec: 100 } }), /sliceExtension.nsec/);
});

test('no interruption: request stays set, no grant, rseq_slice_yield answers 0; sections still commit with the flags set', async () => {
  const r = await k.runScript(0, SCRIPT, 'quietRound');
  assert.deepEqual(r.value, { request: 1, granted: 0, yielded: 0 });
  const base = k.allocPerCpu(8);
  for (let i = 0; i < 10; i++) assert.equal((await k.runOn(0, k.coreModule, 'counter_add', base, 1n)).value, 0);
  assert.equal(k.sumPerCpu(base), 10n);
  // The same from wasm: rseq_slice_enable is prctl SET ENABLE (already on: 0), slice_round uncontended succeeds.
  assert.equal((await k.runOn(0, k.coreModule, 'rseq_slice_enable')).value, 0);
  assert.equal((await k.runOn(0, k.coreModule, 'slice_round', 1000)).value, 0);
});

test('a thread that sets slice_ctrl.granted itself gets the fault (RseqFault), others go on', async () => {
  await assert.rejects(k.runScript(1, SCRIPT, 'setGranted'), (e: unknown) => e instanceof RseqFault && /granted set by user space/.test((e as Error).message));
  await assert.rejects(k.runScript(0, SCRIPT, 'scribbleFlags'), (e: unknown) => e instanceof RseqFault && /read-only/.test((e as Error).message));
});

for (const variant of VARIANTS) {
  test(`slice_test ${variant.name}: grants happen, counts add up`, { timeout: 30_000 }, async () => {
    const r = await runSliceTest({ variant, seconds: 0.4 });
    assert.equal(r.success + r.yielded + r.aborted + r.scheduled, r.total);
    assert.ok(r.kernel.granted > 0, `no grant: ${JSON.stringify(r)}`);
    if (variant.noYield) {
      assert.equal(r.yielded, 0);
      assert.ok(r.aborted > 0 && r.kernel.aborted > 0, `another syscall must revoke: ${JSON.stringify(r)}`);
    } else if (variant.sliceNs < 5000) {
      assert.ok(r.yielded > 0 && r.kernel.yielded > 0, `must yield inside grants: ${JSON.stringify(r)}`);
    } else {
      // 50 µs of work under a 5 µs extension: grants run out, the thread is preempted.
      assert.ok(r.kernel.expired > 0, `grants must expire: ${JSON.stringify(r)}`);
    }
  });
}
