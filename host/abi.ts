// Reads the shared-memory ABI from the core module (assembly/abi.ts is the one source of truth)
// and checks that it is self-consistent before anything is laid out with it.
import { UsageError } from './errors.js';

/** Every exported i32 constant of the core module, by name (RSEQ_CPU_ID, T_SEQP, ...). */
export type Abi = Readonly<Record<string, number>>;

/** Instantiate `core` against a scratch memory only to read its constant globals. */
export function readAbi(core: WebAssembly.Module): Abi {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  let instance: WebAssembly.Instance;
  try {
    // The module's initial size is checked at link time; retry with what it asks for.
    instance = instantiateScratch(core, memory);
  } catch {
    instance = instantiateScratch(core, new WebAssembly.Memory({ initial: 512, maximum: 65536, shared: true }));
  }
  const abi: Record<string, number> = {};
  for (const [name, value] of Object.entries(instance.exports)) {
    if (value instanceof WebAssembly.Global && typeof value.value === 'number') abi[name] = value.value;
  }
  checkAbi(abi);
  return Object.freeze(abi);
}

function instantiateScratch(core: WebAssembly.Module, memory: WebAssembly.Memory): WebAssembly.Instance {
  const never = () => { throw new Error('scratch instance'); };
  return new WebAssembly.Instance(core, {
    env: { memory, abort: never },
    'wasm-rseq@1': { thread: new WebAssembly.Global({ value: 'i32' }, 0), slow: never, inject: never, yield_now: never },
  });
}

const must = (ok: boolean, what: string) => {
  if (!ok) throw new UsageError(`wasm-rseq ABI check failed: ${what}`);
};

/** Layout invariants the host relies on (field overlap, alignment, hot words on own lines). */
export function checkAbi(a: Record<string, number>): void {
  for (const k of ['ABI_VERSION', 'RSEQ_CPU_ID', 'RSEQ_MM_CID', 'T_SEQP', 'CPU_SEQ', 'THREAD_REC_SIZE', 'CPU_REC_SIZE']) {
    must(typeof a[k] === 'number', `missing ${k}`);
  }
  must(a.RSEQ_CS % 8 === 0, 'rseq_cs must be 8-aligned');
  must(a.RSEQ_SLICE_CTRL + 4 < a.RSEQ_FEATURE_SIZE + 1 && a.RSEQ_FEATURE_SIZE <= a.RSEQ_ALIGN, 'feature size within the area');
  must(a.T_AREA >= a.RSEQ_ALIGN, 'thread control words after the struct rseq area');
  must(a.THREAD_REC_SIZE % a.LINE === 0 && a.CPU_REC_SIZE % a.LINE === 0, 'records are whole lines');
  must(Math.floor(a.T_STATE / a.LINE) !== Math.floor(a.T_SEQP / a.LINE), 'fast-path words apart from control words');
  must(Math.floor(a.CPU_COMMITS / a.LINE) !== Math.floor(a.CPU_SEQ / a.LINE), 'vCPU statistics apart from the sequence word');
  must(a.T_ABORT_BY + 8 * 4 <= a.THREAD_REC_SIZE, 'thread record holds its statistics');
  must(a.HEADER_ADDR + a.HDR_SIZE <= a.SCHED_LOCK && a.SCHED_END <= 4096, 'header and scheduler words fit the first page');
  must(a.DESC_BASE >= a.SCHED_END && a.DESC_BASE % a.CS_SIZE === 0, 'descriptor table after the scheduler words, aligned');
  must(a.HDR_OBJ_TABLE > a.HDR_MEM_SIZE && a.HDR_OBJ_TABLE + 4 <= a.HDR_SIZE, 'object table word inside the header');
  must(a.OBJ_NAME + a.OBJ_NAME_MAX <= a.OBJ_ENTRY_SIZE && a.HIST_BUCKETS >= a.HIST_MAX + 8, 'object table entries hold their fields');
  must(a.CS_ABORT_AT - a.CS_SIG_AT === 4 && a.CS_ABORT_AT >= a.CS_BODY, 'signature right before abort_ip, outside the body');
}
