// Entry of build/alloc_test.wasm: alloc-test's workloads (alloc_workloads.ts) with injection points
// (-1..-9); see rseq_inject_on in assembly/rseq.ts.
// @ts-ignore: decorator
@global const RSEQ_INJECT: bool = true;
export * from "./alloc_workloads";
