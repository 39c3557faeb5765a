// Load-time instrumentation of a user's module with binaryen: before every load, store, atomic
// read-modify-write and compare-exchange to memory, a call to the import wasm-rseq@1.point(ptr,
// meta) that returns ptr unchanged (meta = (static offset << 2) | kind). The host's handler decides
// whether that access is a point where the scheduler may preempt, migrate or signal (only inside a
// section: host/check/phase.ts). No hand-placed points needed.
import { ModuleError, UsageError } from '../errors.js';
import { ACCESS_LOAD, ACCESS_RMW, ACCESS_STORE } from './phase.js';

// binaryen.js's typings miss the expression classes (Load.setPtr, ...): typed loosely here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Binaryen = any;
let loaded: Binaryen | undefined;

async function binaryen(): Promise<Binaryen> {
  if (loaded) return loaded;
  try {
    // binaryen ships with assemblyscript (a devDependency / optional peer): load it lazily.
    loaded = ((await import('binaryen')) as { default: Binaryen }).default;
    if (!loaded.readBinary) throw new Error('not binaryen');
    return loaded;
  } catch {
    throw new UsageError('instrumenting a module needs the binaryen package (npm install binaryen, or assemblyscript)');
  }
}

export interface Instrumented { bytes: Uint8Array<ArrayBuffer>; points: number }

/** The module `bytes` with a point before every memory access. */
export async function instrument(bytes: Uint8Array): Promise<Instrumented> {
  const b = await binaryen();
  let mod;
  try {
    mod = b.readBinary(bytes);
  } catch (e) {
    throw new ModuleError(`cannot read the module to instrument it: ${(e as Error).message}`);
  }
  mod.setFeatures(b.Features.All);
  const POINT = '__wasm_rseq_point';
  mod.addFunctionImport(POINT, 'wasm-rseq@1', 'point', b.createType([b.i32, b.i32]), b.i32);
  const ids = {
    Block: b.BlockId, If: b.IfId, Loop: b.LoopId, Break: b.BreakId, Switch: b.SwitchId, Call: b.CallId,
    CallIndirect: b.CallIndirectId, LocalSet: b.LocalSetId, GlobalSet: b.GlobalSetId, Load: b.LoadId,
    Store: b.StoreId, Unary: b.UnaryId, Binary: b.BinaryId, Select: b.SelectId, Drop: b.DropId,
    Return: b.ReturnId, MemoryGrow: b.MemoryGrowId, AtomicRMW: b.AtomicRMWId, AtomicCmpxchg: b.AtomicCmpxchgId,
    AtomicWait: b.AtomicWaitId, AtomicNotify: b.AtomicNotifyId, MemoryCopy: b.MemoryCopyId, MemoryFill: b.MemoryFillId,
  };
  const leaves = new Set([b.NopId, b.LocalGetId, b.GlobalGetId, b.ConstId, b.UnreachableId, b.MemorySizeId, b.AtomicFenceId]);
  const childKeys = new Map<number, string[]>([
    [ids.Block, ['children']], [ids.If, ['condition', 'ifTrue', 'ifFalse']], [ids.Loop, ['body']],
    [ids.Break, ['condition', 'value']], [ids.Switch, ['condition', 'value']], [ids.Call, ['operands']],
    [ids.CallIndirect, ['target', 'operands']], [ids.LocalSet, ['value']], [ids.GlobalSet, ['value']],
    [ids.Load, ['ptr']], [ids.Store, ['ptr', 'value']], [ids.Unary, ['value']], [ids.Binary, ['left', 'right']],
    [ids.Select, ['ifTrue', 'ifFalse', 'condition']], [ids.Drop, ['value']], [ids.Return, ['value']],
    [ids.MemoryGrow, ['delta']], [ids.AtomicRMW, ['ptr', 'value']], [ids.AtomicCmpxchg, ['ptr', 'expected', 'replacement']],
    [ids.AtomicWait, ['ptr', 'expected', 'timeout']], [ids.AtomicNotify, ['ptr', 'notifyCount']],
    [ids.MemoryCopy, ['dest', 'source', 'size']], [ids.MemoryFill, ['dest', 'value', 'size']],
  ]);
  let points = 0;
  const wrap = (ptr: number, offset: number, kind: number): number => {
    if (offset >= 2 ** 29) throw new ModuleError(`a memory access with offset ${offset} is too large to instrument`);
    points++;
    return mod.call(POINT, [ptr, mod.i32.const(offset * 4 + kind)], b.i32);
  };
  let func = 0;
  // A store's value is evaluated after its pointer: so that the point comes after both (right
  // before the store itself), both go to fresh locals inside the pointer operand, which then calls
  // the point; the value operand reads its local.
  const late = (e: number, ptr: number, value: number, offset: number, kind: number, setPtr: (e: number, x: number) => void, setValue: (e: number, x: number) => void) => {
    const vt = b.getExpressionType(value);
    const pl = b._BinaryenFunctionAddVar(func, b.i32);
    const vl = b._BinaryenFunctionAddVar(func, vt);
    setPtr(e, mod.block(null, [mod.local.set(pl, ptr), mod.local.set(vl, value), wrap(mod.local.get(pl, b.i32), offset, kind)], b.i32));
    setValue(e, mod.local.get(vl, vt));
  };
  const walk = (e: number): void => {
    if (!e) return;
    const id = b.getExpressionId(e);
    if (leaves.has(id)) return;
    const keys = childKeys.get(id);
    if (!keys) throw new ModuleError(`cannot instrument expression kind ${id} (a feature the instrumenter does not know)`);
    const info = b.getExpressionInfo(e) as unknown as Record<string, number | number[]>;
    for (const k of keys) {
      const c = info[k];
      if (Array.isArray(c)) c.forEach(walk);
      else walk(c);
    }
    if (id === ids.Load) b.Load.setPtr(e, wrap(info.ptr as number, info.offset as number, ACCESS_LOAD));
    else if (id === ids.Store) late(e, info.ptr as number, info.value as number, info.offset as number, ACCESS_STORE, b.Store.setPtr, b.Store.setValue);
    else if (id === ids.AtomicRMW) late(e, info.ptr as number, info.value as number, info.offset as number, ACCESS_RMW, b.AtomicRMW.setPtr, b.AtomicRMW.setValue);
    else if (id === ids.AtomicCmpxchg) b.AtomicCmpxchg.setPtr(e, wrap(info.ptr as number, info.offset as number, ACCESS_RMW));
  };
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const f = mod.getFunctionByIndex(i);
    const fi = b.getFunctionInfo(f);
    if (fi.module) continue; // an import
    func = f;
    walk(fi.body);
  }
  if (!mod.validate()) throw new ModuleError('the instrumented module does not validate');
  const out = mod.emitBinary();
  mod.dispose();
  return { bytes: new Uint8Array(out), points };
}
