// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ [, FLAG_CPU, cpu]): a request on each target
// vCPU, then wait until its owner has passed a checkpoint (the sequence word moved on) or nobody
// owns it. After it returns, no critical section that began before it can commit.
import { Sched } from './sched.js';

function post(s: Sched, cpus: number[]): { c: number; marker: number }[] {
  return cpus.map((c) => {
    Atomics.add(s.v.i32, (s.cpu(c) + s.abi.CPU_FENCES) >> 2, 1);
    return { c, marker: s.request(c, s.abi.REQ_FENCE) };
  });
}

function passed(s: Sched, c: number, marker: number, self: number): boolean {
  const owner = s.v.load(s.cpu(c) + s.abi.CPU_OWNER);
  return s.v.load(s.seqAddr(c)) !== marker || owner === 0 || owner === self + 1;
}

/** Blocking form, for worker threads (`self`: the calling thread's slot, or -1). */
export function membarrierSync(s: Sched, cpus: number[], self = -1): void {
  for (const { c, marker } of post(s, cpus)) {
    while (!passed(s, c, marker, self)) Atomics.wait(s.v.i32, s.seqAddr(c) >> 2, marker, 1);
  }
}

/** Non-blocking form, for the main thread. */
export async function membarrier(s: Sched, cpus: number[]): Promise<void> {
  for (const { c, marker } of post(s, cpus)) {
    while (!passed(s, c, marker, -1)) {
      const w = Atomics.waitAsync(s.v.i32, s.seqAddr(c) >> 2, marker, 1);
      if (w.async) await w.value;
    }
  }
}
