// Property tests (fast-check): sys_rseq with arbitrary arguments and descriptors with arbitrary
// fields never answer outside the kernel's errors, never write outside the registered area, and a
// bad descriptor is always reported (never accepted silently).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ABI } from '../host/abi.js';
import { Kernel, UsageError } from '../host/index.js';
import { DEFAULTS, validate, type ParamTestOptions } from '../host/param-test/run.js';
import { checkDescriptor, sysRseq } from '../host/kernel/sys-rseq.js';
import { engineOf } from '../host/internal.js';

const k = await Kernel.create({ cpus: 2, threads: 2, register: false, supervisor: false });
const { view: v, abi, plan } = engineOf(k);
const t0 = plan.threadBase;
const ERRORS = new Set([0, -22, -1, -16, -14]);
const SIG = abi.RSEQ_SIG >>> 0;

test.after(() => k.close());

const address = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, t0, t0 + 1, t0 + abi.RSEQ_ORIG_SIZE, plan.heapBase, plan.heapBase + abi.RSEQ_ORIG_SIZE, plan.cpuBase,
    v.size - abi.RSEQ_ALIGN, v.size),
  // Steps of half the legacy alignment: aligned and misaligned areas alike.
  fc.integer({ min: 0, max: 4096 }).map((i) => plan.heapBase + (i * abi.RSEQ_ORIG_SIZE) / 2),
);

test('sys_rseq: any arguments give 0 or a kernel errno, and touch nothing outside the area', () => {
  fc.assert(fc.property(address, fc.integer({ min: -1, max: 128 }), fc.integer({ min: -4, max: 8 }),
    fc.constantFrom(SIG, SIG + 1, 0), (area, len, flags, sig) => {
      const before = v.u8.slice(plan.descBase, plan.textBase);
      const ret = sysRseq(v, abi, plan, t0, area, len, flags, sig);
      assert.ok(ERRORS.has(ret), `unexpected result ${ret}`);
      const after = v.u8.slice(plan.descBase, plan.textBase);
      for (let i = 0; i < before.length; i++) {
        const a = plan.descBase + i;
        const inArea = ret === 0 && a >= (area >>> 0) && a < (area >>> 0) + len;
        const inOwnControl = a >= t0 + abi.T_AREA && a < t0 + abi.THREAD_REC_SIZE;
        if (!inArea && !inOwnControl && !(a >= t0 && a < t0 + abi.T_AREA)) assert.equal(after[i], before[i], `byte ${a} changed`);
      }
      if (ret === 0) {
        const again = sysRseq(v, abi, plan, t0, area, len, 0, sig);
        assert.equal(again, -16, 'identical re-registration answers EBUSY');
        assert.equal(sysRseq(v, abi, plan, t0, area, len, 1, sig), 0, 'it unregisters');
      }
    }), { numRuns: 2000, seed: 5 });
});

test('descriptors: any invalid field is caught, a valid one passes', () => {
  const cs = k.alloc(2 * abi.CS_SIZE, abi.CS_SIZE);
  const text = k.alloc(4 * abi.TEXT_STRIDE, abi.TEXT_STRIDE);
  v.store(text + abi.CS_SIG_AT, SIG | 0);
  // The area's read-only slice flags as the kernel left them (the sys_rseq property registers it).
  const sliceFlags = v.load(t0 + abi.RSEQ_FLAGS) & (abi.RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | abi.RSEQ_CS_FLAG_SLICE_EXT_ENABLED);
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 9 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.boolean(),
    (version, flags, start, off, abort, valid) => {
      if (valid) { version = 0; flags = 0; start = BigInt(text); off = BigInt(abi.CS_BODY); abort = BigInt(text + abi.CS_ABORT_AT); }
      v.store(cs + abi.CS_VERSION, version); v.store(cs + abi.CS_FLAGS, flags);
      v.store64(cs + abi.CS_START_IP, BigInt.asIntN(64, start));
      v.store64(cs + abi.CS_POST_COMMIT_OFFSET, BigInt.asIntN(64, off));
      v.store64(cs + abi.CS_ABORT_IP, BigInt.asIntN(64, abort));
      const why = checkDescriptor(v, abi, t0, cs, SIG, sliceFlags);
      const size = BigInt(v.size);
      const ok = version === 0 && flags === 0 && start < size && start + off >= start && start + off < size && abort < size
        && abort >= 4n && BigInt.asUintN(64, abort - start) >= off && v.u8.length > Number(abort) && new DataView(v.u8.buffer as ArrayBuffer).getUint32(Number(abort) - 4, true) === SIG;
      assert.equal(why === undefined, ok, `descriptor ${version} ${flags} ${start} ${off} ${abort}: ${why}`);
    }), { numRuns: 3000, seed: 9 });
});

test('Kernel.create: arbitrary invalid options are UsageErrors, never a hang or a half-started kernel', async () => {
  const bad = fc.oneof(
    fc.record({ cpus: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: ABI.MAX_CPUS + 1 }), fc.double({ noInteger: true }), fc.string()) }),
    fc.record({ threads: fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: ABI.MAX_THREADS + 1 }), fc.constant(NaN)) }),
    fc.record({ poolStride: fc.integer({ min: 4097, max: 1 << 20 }).filter((n) => (n & (n - 1)) !== 0) }),
    fc.record({ cpus: fc.constant(2), topology: fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 4 }).filter((t) => t.length !== 2 || t.some((n) => n < 0)) }),
    fc.record({ supervisor: fc.record({ preemptHz: fc.oneof(fc.integer({ max: -1 }), fc.constant(Infinity), fc.constant(NaN)) }) }),
    fc.record({ seed: fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true })) }),
  );
  await fc.assert(fc.asyncProperty(bad, async (o) => {
    await assert.rejects(Kernel.create({ threads: 1, ...o } as never), (e: unknown) => e instanceof UsageError);
  }), { numRuns: 150, seed: 3 });
});

test('param-test options: arbitrary invalid values are usage errors', () => {
  fc.assert(fc.property(
    fc.record({
      threads: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: ABI.MAX_THREADS + 1 })),
      reps: fc.integer({ max: -1 }),
      cpus: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: ABI.MAX_CPUS + 1 })),
      point: fc.oneof(fc.constant('0'), fc.constant('10'), fc.constant('x')),
      loops: fc.integer({ max: -2 }),
    }),
    fc.constantFrom('threads', 'reps', 'cpus', 'point', 'loops'),
    (bad, which) => {
      const o: ParamTestOptions = { ...DEFAULTS, threads: 12, reps: 10, cpus: 2 };
      if (which === 'threads') o.threads = bad.threads;
      if (which === 'reps') o.reps = bad.reps;
      if (which === 'cpus') o.cpus = bad.cpus;
      if (which === 'point') o.loops = { [bad.point]: 1 } as Record<number, number>;
      if (which === 'loops') o.loops = { 3: bad.loops };
      assert.throws(() => validate(o), UsageError);
    }), { numRuns: 300, seed: 4 });
});
