// Property tests (fast-check): sys_rseq with arbitrary arguments and descriptors with arbitrary
// fields never answer outside the kernel's errors, never write outside the registered area, and a
// bad descriptor is always reported (never accepted silently).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Kernel } from '../host/index.js';
import { checkDescriptor, sysRseq } from '../host/kernel/sys-rseq.js';

const k = await Kernel.create({ cpus: 2, threads: 2, register: false, supervisor: false });
const { view: v, abi, plan } = k;
const t0 = plan.threadBase;
const ERRORS = new Set([0, -22, -1, -16, -14]);
const SIG = abi.RSEQ_SIG >>> 0;

test.after(() => k.close());

const address = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, t0, t0 + 1, t0 + 32, plan.heapBase, plan.heapBase + 32, plan.cpuBase, v.size - 64, v.size),
  fc.integer({ min: 0, max: 4096 }).map((i) => plan.heapBase + i * 16),
);

test('sys_rseq: any arguments give 0 or a kernel errno, and touch nothing outside the area', () => {
  fc.assert(fc.property(address, fc.integer({ min: -1, max: 128 }), fc.integer({ min: -4, max: 8 }),
    fc.constantFrom(SIG, SIG + 1, 0), (area, len, flags, sig) => {
      const before = v.u8.slice(plan.cpuBase, plan.descBase);
      const ret = sysRseq(v, abi, plan, t0, area, len, flags, sig);
      assert.ok(ERRORS.has(ret), `unexpected result ${ret}`);
      const after = v.u8.slice(plan.cpuBase, plan.descBase);
      for (let i = 0; i < before.length; i++) {
        const a = plan.cpuBase + i;
        const inArea = ret === 0 && a >= (area >>> 0) && a < (area >>> 0) + len;
        const inOwnControl = a >= t0 + abi.T_AREA && a < t0 + abi.THREAD_REC_SIZE;
        if (!inArea && !inOwnControl && !(a >= t0 && a < t0 + 64)) assert.equal(after[i], before[i], `byte ${a} changed`);
      }
      if (ret === 0) {
        const again = sysRseq(v, abi, plan, t0, area, len, 0, sig);
        assert.equal(again, -16, 'identical re-registration answers EBUSY');
        assert.equal(sysRseq(v, abi, plan, t0, area, len, 1, sig), 0, 'it unregisters');
      }
    }), { numRuns: 2000, seed: 5 });
});

test('descriptors: any invalid field is caught, a valid one passes', () => {
  const cs = k.alloc(64, 32);
  const text = k.alloc(64, 16);
  v.store(text + 8, SIG | 0);
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 9 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.boolean(),
    (version, flags, start, off, abort, valid) => {
      if (valid) { version = 0; flags = 0; start = BigInt(text); off = 8n; abort = BigInt(text + 12); }
      v.store(cs, version); v.store(cs + 4, flags);
      v.store64(cs + 8, BigInt.asIntN(64, start)); v.store64(cs + 16, BigInt.asIntN(64, off)); v.store64(cs + 24, BigInt.asIntN(64, abort));
      const why = checkDescriptor(v, abi, t0, cs, SIG);
      const size = BigInt(v.size);
      const ok = version === 0 && flags === 0 && start < size && start + off >= start && start + off < size && abort < size
        && abort >= 4n && BigInt.asUintN(64, abort - start) >= off && v.u8.length > Number(abort) && new DataView(v.u8.buffer as ArrayBuffer).getUint32(Number(abort) - 4, true) === SIG;
      assert.equal(why === undefined, ok, `descriptor ${version} ${flags} ${start} ${off} ${abort}: ${why}`);
    }), { numRuns: 3000, seed: 9 });
});
