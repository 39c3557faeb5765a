// slice_test (Linux 7.0, tools/testing/selftests/rseq/slice_test.c) on the emulated kernel: one
// vCPU (the selftest pins to one CPU), the test thread asking for time-slice extensions while a
// noise thread wakes up, busy-loops and sleeps. Emulated times are scaled to wall time by `scale`
// (the kernel option sliceExtension.scale): a 2 µs spin at scale 20 spins 40 µs of wall time.
import { Kernel } from '../kernel/kernel.js';
import { engineOf } from '../internal.js';
import { hostFile } from '../paths.js';
import type { NoiseOptions, SliceCounts, SliceLoopOptions } from './threads.js';

export interface SliceVariant { name: string; sliceNs: number; noiseNs: number; sleepNs: number; noYield: boolean }

/** The selftest's three variants (FIXTURE_VARIANT_ADD(slice_ext, ...)). */
export const VARIANTS: readonly SliceVariant[] = [
  { name: 'n2_2_50', sliceNs: 2000, noiseNs: 2000, sleepNs: 50000, noYield: false },
  { name: 'n50_2_50', sliceNs: 50000, noiseNs: 2000, sleepNs: 50000, noYield: false },
  { name: 'n2_2_50_no_yield', sliceNs: 2000, noiseNs: 2000, sleepNs: 50000, noYield: true },
];

export interface SliceTestOptions {
  variant: SliceVariant;
  /** Wall seconds per variant (the selftest runs 5). */
  seconds: number;
  /** Real ns per emulated ns (default 20). */
  scale?: number;
  /** slice_ext_nsec, emulated (default 5000). */
  extNs?: number;
  seed?: number;
}

export interface SliceTestResult extends SliceCounts {
  variant: string;
  noiseRounds: number;
  /** The kernel's statistics of the test thread (CONFIG_RSEQ_STATS' s_granted ...). */
  kernel: { granted: number; yielded: number; aborted: number; expired: number; revoked: number };
}

export async function runSliceTest(o: SliceTestOptions): Promise<SliceTestResult> {
  const scale = o.scale ?? 20;
  const k = await Kernel.create({
    cpus: 1, threads: 2, seed: o.seed ?? 1,
    // A waiting thread preempts at the next tick (the noise thread's wake-up preemption).
    supervisor: { sliceMs: 0 },
    sliceExtension: { nsec: o.extNs ?? 5000, scale },
  });
  try {
    const url = hostFile('slice-test/threads.js');
    const runMs = o.seconds * 1000;
    const ms = (ns: number) => (ns * scale) / 1e6;
    const loop: SliceLoopOptions = { spinMs: ms(o.variant.sliceNs), runMs, noYield: o.variant.noYield };
    const noise: NoiseOptions = { busyMs: ms(o.variant.noiseNs), sleepMs: ms(o.variant.sleepNs), runMs };
    const [test, nz] = await Promise.all([
      k.runScript<SliceCounts>(0, url, 'sliceLoop', loop),
      k.runScript<number>(1, url, 'noise', noise),
    ]);
    const e = engineOf(k);
    const rec = e.sched.thread(0);
    const u = (f: number) => e.view.load(rec + f) >>> 0;
    return {
      variant: o.variant.name, ...test.value, noiseRounds: nz.value,
      kernel: {
        granted: u(e.abi.T_SLICE_GRANTS), yielded: u(e.abi.T_SLICE_YIELDED), aborted: u(e.abi.T_SLICE_ABORTED),
        expired: u(e.abi.T_SLICE_EXPIRED), revoked: u(e.abi.T_SLICE_REVOKED),
      },
    };
  } finally {
    await k.close();
  }
}

/** The selftest's output lines for one variant. */
export function formatSliceTest(r: SliceTestResult): string[] {
  const k = r.kernel;
  return [
    `# ${r.variant}`,
    `# Total     ${r.total}`, `# Success   ${r.success}`, `# Yielded   ${r.yielded}`, `# Aborted   ${r.aborted}`,
    `# Scheduled ${r.scheduled}`, `# Raced     ${r.raced}`,
    `# kernel: granted=${k.granted} yielded=${k.yielded} aborted=${k.aborted} expired=${k.expired} revoked=${k.revoked} noise rounds=${r.noiseRounds}`,
  ];
}
