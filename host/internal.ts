// The internal entry: the engine behind a public Kernel, for the library's own pool, bench and
// tests. Not part of the package's public exports.
import type { Kernel } from './kernel/kernel.js';

/** The private machinery behind `kernel` (shared view, scheduler, ABI, memory plan, ...). */
export function engineOf(kernel: Kernel) {
  return kernel;
}
