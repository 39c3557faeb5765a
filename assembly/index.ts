// wasm-rseq's AssemblyScript API: import { ... } from "wasm-rseq/assembly".
export * from "./abi";
export * from "./rseq";
export * from "./ops";
export * from "./percpu/pool";
export * from "./percpu/counter";
export * from "./percpu/spinlock";
export * from "./percpu/list";
export * from "./percpu/buffer";
export * from "./percpu/memcpy";
export * from "./alloc/index";
export * from "./umcg";
