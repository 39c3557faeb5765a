// wasm-rseq: Linux restartable sequences for WebAssembly threads. Public API.
export { Kernel, type KernelOptions, type ModuleHandle, type CallResult } from './kernel/kernel.js';
export type { SupervisorOptions, InjectionOptions, SchedulingPolicy, PolicySpec } from './kernel/policy.js';
export { ABORT_CAUSES, type KernelStats, type ThreadStats, type CpuStats, type AbortCause } from './kernel/stats.js';
export { Errno, RseqError, RseqFault, UsageError, ModuleError, ThreadDiedError, KernelClosedError, PoolClosedError, type ErrnoName } from './errors.js';
export type { Abi } from './abi.js';
export type { ThreadContext } from './thread.js';
export { wasmPath } from './paths.js';
