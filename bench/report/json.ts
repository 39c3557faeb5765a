// JSON report: { meta, results: [ { suite, impl, threads, vcpus, injectHz, opsPerSec, nsPerOp,
// abortsPerOp, ...the suite's other metrics, native?, counterpartRatio? } ], targets } - everything a later report needs.
import { writeFile } from 'node:fs/promises';
import { counterpartRatioOf, evaluateTargets, ratioOf, type TargetOutcome } from '../analysis.js';
import type { Measurement, Meta, Result } from '../result.js';

export interface JsonReport {
  meta: Meta;
  /** ratio: ops/s over the baseline's; counterpartRatio: ns/op over the counterpart's (rows that have one). */
  results: (Result & { ratio: number | null; counterpartRatio?: number | null })[];
  targets: TargetOutcome[];
}

export function toJson(m: Measurement): JsonReport {
  return {
    meta: m.meta,
    results: m.results.map((r) => ({
      ...r, ratio: ratioOf(r, m.results) ?? null, ...(r.counterpart ? { counterpartRatio: counterpartRatioOf(r, m.results) ?? null } : {}),
    })),
    targets: evaluateTargets(m.results, m.suites, m.meta),
  };
}

export async function writeJson(file: string, m: Measurement): Promise<void> {
  await writeFile(file, JSON.stringify(toJson(m), null, 2) + '\n');
}
