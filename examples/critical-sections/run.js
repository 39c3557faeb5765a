// Run the counter's section on 12 threads sharing 2 vCPUs under injected preemption and migration,
// then check the stack's sections deterministically (the same as `npm run check`).
import { Kernel, check } from 'wasm-rseq';

const kernel = await Kernel.create({ cpus: 2, threads: 12, supervisor: { preemptHz: 1000, migrateHz: 100 } });
try {
  const counter = await kernel.load(new URL('./build/counter.wasm', import.meta.url).pathname, 'counter');
  const base = kernel.allocPerCpu(8);                     // one i64 per vCPU, 128-byte lines apart
  await kernel.run(counter, 'add', () => [base, 100_000]); // all 12 threads at once
  const s = kernel.stats();
  console.log(`counter: ${kernel.sumPerCpu(base)} (expected 1200000), ${s.commits} commits, ${s.aborts} aborts, ${s.migrations} migrations`);
} finally {
  await kernel.close();
}

const r = await check({ module: new URL('./build/stack.wasm', import.meta.url).pathname, threads: 2, ops: 3, cpus: 2, bound: 2 });
console.log(r.ok ? `stack: no failure in ${r.schedules} schedules (${r.perSecond.toFixed(0)}/s)` : `stack FAILED: ${r.failure?.replay}`);
process.exitCode = r.ok ? 0 : 1;
