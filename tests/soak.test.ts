// The soak runner: replayable draws, and a short soak that must pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawRun, soak } from '../host/cli/soak.js';
import { replayLine } from '../host/param-test/run.js';
import { prng } from '../host/kernel/prng.js';

test('the same seed draws the same runs (replay)', () => {
  const draw = (seed: number) => { const r = prng(seed); return Array.from({ length: 20 }, (_, i) => replayLine(drawRun(r, 2, i))); };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
});

test('a short soak under random injection passes', { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const ok = await soak({ minutes: 0.15, seed: 11, cpus: 2, watchdogSeconds: 60, log: (l) => lines.push(l) });
  assert.ok(ok, lines.join('\n'));
  assert.match(lines.at(-1)!, /soak PASSED: \d+ runs/);
});
