// Entry of build/alloc_bench.wasm: alloc-test's workloads (alloc_workloads.ts) without injection
// points, for `npm run bench -- --suite alloc`.
export * from "./alloc_workloads";
