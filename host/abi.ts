// The shared-memory ABI (assembly/abi.ts is the one source of truth): the typed constants generated
// from it at build time, checked against the core module at load and for self-consistency.
import { ModuleError, UsageError } from './errors.js';
import { ABI, type Abi } from './generated/abi.js';

export { ABI, type Abi };

/**
 * Read the constant globals of `core` and check them against the generated ABI (a stale build or a
 * module of another version is a UsageError) and against the layout invariants. Returns the typed ABI.
 */
export function readAbi(core: WebAssembly.Module): Abi {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  let instance: WebAssembly.Instance;
  try {
    // The module's initial size is checked at link time; retry with what it asks for.
    instance = instantiateScratch(core, memory);
  } catch {
    instance = instantiateScratch(core, new WebAssembly.Memory({ initial: 512, maximum: 65536, shared: true }));
  }
  const found: Record<string, number> = {};
  for (const [name, value] of Object.entries(instance.exports)) {
    if (value instanceof WebAssembly.Global && typeof value.value === 'number') found[name] = value.value;
  }
  checkMatches(found);
  checkAbi(ABI);
  return ABI;
}

function instantiateScratch(core: WebAssembly.Module, memory: WebAssembly.Memory): WebAssembly.Instance {
  const never = () => { throw new ModuleError('the core module called the host while its ABI was being read'); };
  return new WebAssembly.Instance(core, {
    env: { memory, abort: never },
    'wasm-rseq@1': { thread: new WebAssembly.Global({ value: 'i32' }, 0), slow: never, inject: never, yield_now: never, stop_cpu: never, start_cpu: never,
      prctl: never, slice_yield: never, umcg_ctl: never, umcg_wait: never, umcg_kick: never },
  });
}

const must = (ok: boolean, what: string) => {
  if (!ok) throw new UsageError(`wasm-rseq ABI check failed: ${what}`);
};

/** The module's constants are exactly the generated ones (same names, same values). */
export function checkMatches(found: Readonly<Record<string, number>>): void {
  const stale = 'the core module and host/generated/abi.ts differ (stale build? run `npm run build`)';
  for (const [k, want] of Object.entries(ABI)) {
    must(k in found, `${stale}: the module lacks ${k}`);
    must(found[k] === want, `${stale}: ${k} is ${found[k]} in the module, ${want} in the host`);
  }
  for (const k of Object.keys(found)) must(k in ABI, `${stale}: the host lacks ${k}`);
}

/** Layout invariants the host relies on (field overlap, alignment, hot words on own lines). */
export function checkAbi(a: Readonly<Record<keyof Abi, number>>): void {
  for (const k of ['ABI_VERSION', 'RSEQ_CPU_ID', 'RSEQ_MM_CID', 'T_SEQP', 'CPU_SEQ', 'THREAD_REC_SIZE', 'CPU_REC_SIZE'] as const) {
    must(typeof a[k] === 'number', `missing ${k}`);
  }
  must(a.RSEQ_CS % 8 === 0, 'rseq_cs must be 8-aligned');
  must(a.RSEQ_SLICE_CTRL + 4 < a.RSEQ_FEATURE_SIZE + 1 && a.RSEQ_FEATURE_SIZE <= a.RSEQ_ALIGN, 'feature size within the area');
  must(a.T_AREA >= a.RSEQ_ALIGN, 'thread control words after the struct rseq area');
  must(a.THREAD_REC_SIZE % a.LINE === 0 && a.CPU_REC_SIZE % a.LINE === 0, 'records are whole lines');
  must(Math.floor(a.T_STATE / a.LINE) !== Math.floor(a.T_SEQP / a.LINE), 'fast-path words apart from control words');
  must(Math.floor(a.CPU_COMMITS / a.LINE) !== Math.floor(a.CPU_SEQ / a.LINE), 'vCPU statistics apart from the sequence word');
  must(a.CPU_SEQ % a.LINE !== 0 && a.CPU_SEQ < a.LINE, 'the sequence word mid-line, off the page offsets of 128-aligned objects (4K aliasing)');
  must(a.T_ABORT_BY + 8 * 4 <= a.THREAD_REC_SIZE, 'thread record holds its statistics');
  must(a.HEADER_ADDR + a.HDR_SIZE <= a.SCHED_LOCK && a.SCHED_END <= 4096, 'header and scheduler words fit the first page');
  must(a.DESC_BASE >= a.SCHED_END && a.DESC_BASE % a.CS_SIZE === 0, 'descriptor table after the scheduler words, aligned');
  must(a.HDR_OBJ_TABLE > a.HDR_MEM_SIZE && a.HDR_OBJ_TABLE + 4 <= a.HDR_SIZE, 'object table word inside the header');
  must(a.OBJ_NAME + a.OBJ_NAME_MAX <= a.OBJ_ENTRY_SIZE && a.HIST_BUCKETS >= a.HIST_MAX + 8, 'object table entries hold their fields');
  must(a.CS_ABORT_AT - a.CS_SIG_AT === 4 && a.CS_ABORT_AT >= a.CS_BODY, 'signature right before abort_ip, outside the body');
  must(Math.floor(a.CPU_CID_OWNER / a.LINE) !== Math.floor(a.CPU_SEQ / a.LINE) && Math.floor(a.CPU_CID_OWNER / a.LINE) !== Math.floor(a.CPU_COMMITS / a.LINE)
    && a.CPU_CID_OWNER + 4 <= a.CPU_REC_SIZE, 'the mm_cid owner word on its own line of the vCPU record (apart from the sequence word and the statistics)');
  must(a.NODE_NEXT >= a.NODE_DATA + 4 && a.NODE_SIZE >= a.NODE_NEXT + 4, 'list node fields apart, inside the node');
  must(a.BUF_ARRAY >= Math.max(a.BUF_OFFSET, a.BUF_LEN) + 4 && a.BUF_ENTRY === 4, 'pointer buffer header before its usize array');
  must(a.MBUF_ARRAY >= a.MBUF_ITEM + 4 && a.MBUF_ARRAY % 8 === 0, 'memcpy buffer header before its 8-aligned items');
  must(a.MITEM_DATA2 % 8 === 0 && a.MITEM_DATA2 + 8 <= a.MITEM_SIZE, 'memcpy item holds an aligned i64');
  const lines = [a.MPMC_ENQ, a.MPMC_DEQ, a.MPMC_MASK].map((o) => Math.floor(o / a.LINE));
  must(new Set(lines).size === 3 && a.MPMC_CELL_SIZE === a.MPMC_MASK + 4 && a.MPMC_CELLS >= a.MPMC_CELL_SIZE + 4
    && a.MPMC_CELLS % a.LINE === 0, 'MPMC positions on their own lines, cells after the header');
  must(a.MPMC_PAYLOAD % a.MPMC_CELL_ALIGN === 0, 'MPMC payload aligned in its cell');
  // Allocator (assembly/alloc/).
  must(a.CPU_STOP + 4 <= a.CPU_SEQ && ![a.CPU_REQUEST, a.CPU_OWNER, a.CPU_TARGET, a.CPU_NODE, a.CPU_SINCE].includes(a.CPU_STOP),
    'the stop word is its own field of the vCPU record\'s line 0');
  must(a.HDR_ALLOC + 4 <= a.HDR_OBJ_TABLE && a.HDR_ALLOC > a.HDR_MEM_SIZE, 'allocator word inside the header');
  must(a.CACHE_SLOTS >= a.CACHE_COUNTS + 4 * a.ALLOC_NCLASS && a.CACHE_SLOTS % a.LINE === 0 && a.CACHE_SIZE % a.LINE === 0,
    'cache counts before the slots, whole lines');
  must(a.TB_ERROR >= a.TB_STAGING + a.ALLOC_BATCH_MAX * a.PTR_SIZE && a.TB_CACHE >= a.TB_ERROR + 8 && a.TB_SIZE === a.TB_CACHE + a.CACHE_SIZE,
    'thread block: staging, error, cache');
  must(a.ALLOC_PAGE === 1 << a.ALLOC_PAGE_SHIFT && a.ALLOC_MAX_SMALL <= a.ALLOC_PAGE * a.ALLOC_SPAN_OBJECTS, 'page size and small classes');
  must(Math.floor(a.ALLOC_PAGE_LOCK / a.LINE) !== 0 && a.ALLOC_LARGE + 4 <= a.ALLOC_CTRL_SIZE, 'page lock on its own line of the control block');
  must(a.CL_SPANS + 4 <= a.CL_SIZE && a.CL_SIZE % a.LINE === 0, 'central lists one line each');
  must(a.ALLOC_SLOT_MIN <= a.ALLOC_SLOT_MAX && a.ALLOC_BATCH_MAX >= a.ALLOC_SLOT_MAX / 2, 'a batch holds half a cache');
  must(a.MP_LIVE + 4 <= a.MP_SIZE, 'mempool control block holds its fields');
}
