// The internal entry: the engine behind a public Kernel, for the library's own pool, bench and
// tests. Not part of the package's public exports.
export { engineOf } from './kernel/kernel.js';
export type { Engine } from './kernel/engine.js';
export { addWithoutRecheck } from './objects/counter.js';
