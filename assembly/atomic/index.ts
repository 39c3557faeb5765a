// The atomic-instruction and lock-based baselines the benchmarks compare the per-vCPU structures with.
export * from "./counter";
export * from "./spinlock";
export * from "./treiber";
export * from "./locked";
export * from "./mpmc";
