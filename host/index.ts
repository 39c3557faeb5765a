// wasm-rseq: Linux restartable sequences for WebAssembly threads. Public API.
export { Kernel, type KernelOptions, type ModuleHandle, type CallResult, type TraceOptions, type ChromeTrace, type TraceEvent } from './kernel/kernel.js';
export type { SupervisorOptions, InjectionOptions, SchedulingPolicy, PolicySpec } from './kernel/policy.js';
export { ABORT_CAUSES, type KernelStats, type ThreadStats, type CpuStats, type AbortCause } from './kernel/stats.js';
export {
  Errno, ErrorCode, WasmRseqError, RseqError, RseqFault, UsageError, ModuleError, ThreadDiedError, KernelClosedError, PoolClosedError,
  RegionExhaustedError, WasmAbortError, ObjectError, WatchdogError, AllocError, type AllocErrorKind, serializeError, reviveError,
  type ErrnoName, type ErrorCodeString, type ErrorFields, type SerializedError, type WasmAbortFields, type ObjectErrorCode,
} from './errors.js';
export type { Abi } from './abi.js';
export type { ThreadContext } from './thread.js';
export { wasmPath } from './paths.js';
export { check, encodeSchedule, decodeSchedule, type CheckOptions, type CheckResult, type CheckFailure } from './check/check.js';
export { instrument, type Instrumented } from './check/instrument.js';
export { timelineHtml, type TimelineOptions } from './trace/timeline.js';
export { runParamTest, type ParamTestOptions, type ParamTestResult, type TraceSink } from './param-test/run.js';
export { runTargetTest, type TargetTestOptions, type TargetTestResult } from './param-test/target.js';
export type { LoadOptions } from './kernel/kernel.js';
export {
  objects, Counter, Histogram, BlockPool, type ObjectTable, type ObjectKind, type HistogramOptions, type HistogramSnapshot,
  type HistogramBucket, type BlockPoolOptions,
} from './objects/index.js';
export { Allocator, FRONTS, type Front, type AllocatorOptions, type AllocatorStats } from './alloc/allocator.js';
export {
  FifoPolicy, PriorityPolicy, umcgPreempt, umcgRegisterWorker, umcgServe, umcgUnregister,
  type ServeOptions, type ServeStats, type UmcgPolicy,
} from './umcg.js';
