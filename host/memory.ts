// The region map of the shared memory: where the header, vCPU records, thread records,
// descriptors, text, per-vCPU pool and heap live, computed from the ABI and the kernel options.
// Field offsets inside records come from the ABI (assembly/abi.ts); this file only places regions.
import type { Abi } from './abi.js';

export interface MemoryPlan {
  readonly cpus: number;
  readonly threads: number;
  readonly nodes: number;
  readonly cpuBase: number;
  readonly threadBase: number;
  readonly descBase: number;
  readonly nrDesc: number;
  readonly textBase: number;
  readonly poolBase: number;
  readonly poolStride: number;
  readonly heapBase: number;
  readonly heapSize: number;
  /** The object table (host/objects/): named per-vCPU objects for JavaScript. */
  readonly objTable: number;
  /** The trace rings' control block (host/kernel/trace-ring.ts), 0 when tracing is off. */
  readonly traceBase: number;
  /** Events per trace ring (0: tracing off). */
  readonly traceCapacity: number;
  /** Bytes of the whole memory (initial == maximum: it never grows). */
  readonly size: number;
}

const PAGE = 65536;
const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Bytes of one trace ring: its count line, then `capacity` events, rounded to a line. */
export const traceRingBytes = (abi: Abi, capacity: number) => alignUp(abi.TRING_EVENTS + capacity * abi.TEV_SIZE, abi.LINE);
/** Bytes of the trace region: the control block and a ring per thread slot plus the supervisor's. */
export const traceBytes = (abi: Abi, threads: number, capacity: number) =>
  capacity > 0 ? abi.TRACE_RING_BASE + (threads + 1) * traceRingBytes(abi, capacity) : 0;

export function planMemory(
  abi: Abi, o: { cpus: number; threads: number; nodes: number; poolStride: number; traceCapacity?: number },
): MemoryPlan {
  const descBase = abi.DESC_BASE;
  const cpuBase = alignUp(descBase + abi.NR_DESC * abi.CS_SIZE, abi.LINE);
  const threadBase = alignUp(cpuBase + o.cpus * abi.CPU_REC_SIZE, abi.LINE);
  const textBase = alignUp(threadBase + o.threads * abi.THREAD_REC_SIZE, abi.LINE);
  const poolBase = alignUp(textBase + abi.NR_DESC * abi.TEXT_STRIDE, o.poolStride);
  const objTable = alignUp(poolBase + o.cpus * o.poolStride, abi.LINE);
  const traceCapacity = o.traceCapacity ?? 0;
  const objEnd = alignUp(objTable + abi.OBJ_TABLE_ENTRIES + abi.OBJ_MAX * abi.OBJ_ENTRY_SIZE, abi.LINE);
  const traceBase = traceCapacity > 0 ? objEnd : 0;
  const heapBase = alignUp(objEnd + traceBytes(abi, o.threads, traceCapacity), abi.LINE);
  const heapSize = abi.HOST_REGION_END - heapBase;
  if (heapSize < 65536) {
    throw new RangeError(`per-vCPU pool (${o.cpus} x ${o.poolStride} bytes) and trace rings (${traceBytes(abi, o.threads, traceCapacity)} bytes) leave no heap`);
  }
  const size = alignUp(abi.HOST_REGION_END + abi.DATA_WINDOW * abi.DATA_WINDOWS, PAGE);
  return { ...o, cpuBase, threadBase, descBase, nrDesc: abi.NR_DESC, textBase, poolBase, heapBase, heapSize, objTable, traceBase, traceCapacity, size };
}

/** Typed access to the shared memory by byte address. */
export class SharedView {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly i64: BigInt64Array;
  readonly f64: Float64Array;
  /** A DataView of the memory, made on first use. */
  dv?: DataView;
  constructor(readonly memory: WebAssembly.Memory) {
    const buf = memory.buffer as unknown as SharedArrayBuffer;
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.i64 = new BigInt64Array(buf);
    this.f64 = new Float64Array(buf);
  }
  get size(): number { return this.u8.length; }
  load(addr: number): number { return Atomics.load(this.i32, addr >> 2); }
  /** Plain (unordered) access, for a thread's own words on hot paths; an Atomics op after it publishes it. */
  get(addr: number): number { return this.i32[addr >> 2]; }
  set(addr: number, v: number): void { this.i32[addr >> 2] = v; }
  store(addr: number, v: number): void { Atomics.store(this.i32, addr >> 2, v); }
  add(addr: number, v: number): number { return Atomics.add(this.i32, addr >> 2, v); }
  or(addr: number, v: number): number { return Atomics.or(this.i32, addr >> 2, v); }
  load64(addr: number): bigint { return Atomics.load(this.i64, addr >> 3); }
  store64(addr: number, v: bigint): void { Atomics.store(this.i64, addr >> 3, v); }
}

export function createSharedMemory(plan: MemoryPlan): WebAssembly.Memory {
  const pages = plan.size / PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** Address of vCPU c's record / thread slot t's record / descriptor id. */
export const cpuRec = (abi: Abi, plan: MemoryPlan, c: number) => plan.cpuBase + c * abi.CPU_REC_SIZE;
export const threadRec = (abi: Abi, plan: MemoryPlan, t: number) => plan.threadBase + t * abi.THREAD_REC_SIZE;
export const descAddr = (abi: Abi, plan: MemoryPlan, id: number) => plan.descBase + id * abi.CS_SIZE;

/** Write a valid descriptor `id` whose abort_ip is preceded by `sig`. Returns its address. */
export function writeDescriptor(v: SharedView, abi: Abi, plan: MemoryPlan, id: number, sig: number): number {
  const d = descAddr(abi, plan, id);
  const start = plan.textBase + id * abi.TEXT_STRIDE;
  v.store(d + abi.CS_VERSION, 0);
  v.store(d + abi.CS_FLAGS, 0);
  v.store64(d + abi.CS_START_IP, BigInt(start));
  v.store64(d + abi.CS_POST_COMMIT_OFFSET, BigInt(abi.CS_BODY));
  v.store64(d + abi.CS_ABORT_IP, BigInt(start + abi.CS_ABORT_AT));
  v.store(start + abi.CS_SIG_AT, sig);
  return d;
}

/** Lay the memory out: header, free vCPUs (odd sequence), unregistered threads, library descriptors. */
export function initMemory(v: SharedView, abi: Abi, plan: MemoryPlan, nodeOf: (cpu: number) => number, sig: number): void {
  const h = abi.HEADER_ADDR;
  const header: [number, number][] = [
    [abi.HDR_VERSION, abi.ABI_VERSION], [abi.HDR_FEATURE_SIZE, abi.RSEQ_FEATURE_SIZE], [abi.HDR_ALIGN, abi.RSEQ_ALIGN],
    [abi.HDR_NR_CPUS, plan.cpus], [abi.HDR_NR_THREADS, plan.threads], [abi.HDR_NR_NODES, plan.nodes],
    [abi.HDR_CPU_BASE, plan.cpuBase], [abi.HDR_THREAD_BASE, plan.threadBase], [abi.HDR_DESC_BASE, plan.descBase],
    [abi.HDR_NR_DESC, plan.nrDesc], [abi.HDR_TEXT_BASE, plan.textBase], [abi.HDR_POOL_BASE, plan.poolBase],
    [abi.HDR_POOL_STRIDE, plan.poolStride], [abi.HDR_HEAP_BASE, plan.heapBase], [abi.HDR_HEAP_SIZE, plan.heapSize],
    [abi.HDR_MEM_SIZE, plan.size], [abi.HDR_OBJ_TABLE, plan.objTable], [abi.HDR_TRACE, plan.traceBase],
  ];
  for (const [off, val] of header) v.store(h + off, val);
  for (let c = 0; c < plan.cpus; c++) resetCpu(v, abi, cpuRec(abi, plan, c), nodeOf(c));
  for (let t = 0; t < plan.threads; t++) resetThread(v, abi, threadRec(abi, plan, t));
  for (let id = 0; id < abi.CSID_USER_FIRST; id++) writeDescriptor(v, abi, plan, id, sig);
  v.store(h + abi.HDR_MAGIC, abi.ABI_MAGIC);
}

/** A vCPU record as the kernel starts it: free (owner 0, odd sequence), no requests, statistics zero. */
function resetCpu(v: SharedView, abi: Abi, r: number, node: number): void {
  v.u8.fill(0, r, r + abi.CPU_REC_SIZE);
  v.store(r + abi.CPU_SEQ, 1);
  v.store(r + abi.CPU_TARGET, -1);
  v.store(r + abi.CPU_NODE, node);
}

/**
 * Every vCPU and thread record, the scheduler words and the user descriptors back to their state
 * right after initMemory, except that threads keep their registration (struct rseq area, state,
 * length, signature, pid). The caller holds SCHED_LOCK and has checked that nobody owns or waits.
 */
export function resetRecords(v: SharedView, abi: Abi, plan: MemoryPlan): void {
  for (let c = 0; c < plan.cpus; c++) {
    const r = cpuRec(abi, plan, c);
    resetCpu(v, abi, r, v.load(r + abi.CPU_NODE));
  }
  for (let t = 0; t < plan.threads; t++) {
    const r = threadRec(abi, plan, t);
    const keep = [abi.T_AREA, abi.T_STATE, abi.T_REG_LEN, abi.T_REG_SIG, abi.T_PID].map((f) => [f, v.load(r + f)] as const);
    const area = v.u8.slice(r, r + abi.T_AREA);
    resetThread(v, abi, r);
    v.u8.set(area, r);
    for (const [f, x] of keep) v.store(r + f, x);
    if (keep[2][1] !== 0) {
      // Registered: the ids a thread that owns nothing reads (cpu_id_start 0, as after registration).
      const a = keep[0][1];
      v.store(a + abi.RSEQ_CPU_ID_START, 0); v.store(a + abi.RSEQ_CPU_ID, 0);
      v.store(a + abi.RSEQ_MM_CID, 0); v.store(a + abi.RSEQ_NODE_ID, v.load(cpuRec(abi, plan, 0) + abi.CPU_NODE));
      v.store64(a + abi.RSEQ_CS, 0n);
    }
  }
  for (const w of [abi.SCHED_WAITERS, abi.SCHED_HEAD, abi.SCHED_TAIL, abi.SCHED_TICK]) v.store(w, 0);
  v.u8.fill(0, descAddr(abi, plan, abi.CSID_USER_FIRST), descAddr(abi, plan, plan.nrDesc));
}

/** A thread slot as a new, unregistered thread finds it (cpu_id -1, owning nothing). */
export function resetThread(v: SharedView, abi: Abi, t: number): void {
  v.u8.fill(0, t, t + abi.THREAD_REC_SIZE);
  v.store(t + abi.RSEQ_CPU_ID, abi.RSEQ_CPU_ID_UNINITIALIZED);
  v.store(t + abi.T_AREA, t);
  for (const f of [abi.T_VCPU, abi.T_GRANT, abi.T_CID, abi.T_LAST_CPU, abi.T_LAST_CID]) v.store(t + f, -1);
}
