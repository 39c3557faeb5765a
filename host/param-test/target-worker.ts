// One thread of `param-test --target` (run on a kernel thread by target.ts): the user's check_op,
// step after step, in one synchronous loop on the worker, so the only JS between operations is this
// loop and no main-thread round trip (the check target contract: host/check/check.ts).
import type { ThreadContext } from '../thread-runtime.js';

type CheckOp = (thread: number, step: number, cs: number, base: number) => void;

/** Thread `thread`'s operations 0..ops-1 of module `module`; returns how many it ran. */
export function runCheckOps(ctx: ThreadContext, module: number, thread: number, ops: number, cs: number, base: number): number {
  const op = ctx.exports(module).check_op as CheckOp;
  for (let step = 0; step < ops; step++) op(thread, step, cs, base);
  return ops;
}
