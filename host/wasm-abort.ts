// AssemblyScript's abort(message, file, line, column) as a WasmAbortError with those fields.
//
// The strings are read with @assemblyscript/loader's __getString (it checks the object header and
// reads UTF-16 from a SharedArrayBuffer: its TextDecoder path refuses shared views, so it falls
// back to String.fromCharCode chunks). Our modules import their memory and do not export it
// (noExportMemory), so the loader cannot find it on the module itself: it is handed the memory
// through a tiny module that imports env.memory and exports it again.
//
// thread-runtime.ts: `env.abort: abortImport(data.memory, slot)` (one env for every module of the
// thread); or instantiate each module with `instantiateWithAbort(module, imports, slot)`.
import { instantiateSync, type ASUtil } from '@assemblyscript/loader';
import { UsageError, WasmAbortError } from './errors.js';

/** (module (import "env" "memory" (memory 0 65536 [shared])) (export "memory" (memory 0))) */
function memoryModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const limits = shared ? [0x03, 0x00, 0x80, 0x80, 0x04] : [0x00, 0x00];
  const imp = [0x01, 0x03, ...Buffer.from('env'), 0x06, ...Buffer.from('memory'), 0x02, ...limits];
  const exp = [0x01, 0x06, ...Buffer.from('memory'), 0x02, 0x00];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, imp.length, ...imp, 0x07, exp.length, ...exp]);
}

const memoryModules = new Map<boolean, WebAssembly.Module>();
const readers = new WeakMap<WebAssembly.Memory, (ptr: number) => string | null>();

/**
 * The loader's `__getString` on `memory`: the AssemblyScript string at `ptr` (null for 0). Throws
 * if `ptr` does not point at a string object.
 */
export function stringReader(memory: WebAssembly.Memory): (ptr: number) => string | null {
  let read = readers.get(memory);
  if (!read) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    let module = memoryModules.get(shared);
    if (!module) memoryModules.set(shared, (module = new WebAssembly.Module(memoryModuleBytes(shared))));
    const { exports } = instantiateSync<Record<string, unknown>>(module, { env: { memory } });
    const util: ASUtil = exports;
    read = (ptr: number) => (ptr === 0 ? null : util.__getString(ptr >>> 0));
    readers.set(memory, read);
  }
  return read;
}

/** Like the reader, but never throws: an unreadable pointer becomes a placeholder. */
function readSafely(read: (ptr: number) => string | null, ptr: number): string | null {
  try {
    return read(ptr);
  } catch {
    return `<unreadable string at 0x${(ptr >>> 0).toString(16)}>`;
  }
}

/** The `env.abort` import for modules on `memory`: throws WasmAbortError (with `thread` if given). */
export function abortImport(memory: WebAssembly.Memory, thread?: number): (msg: number, file: number, line: number, column: number) => never {
  return (msg: number, file: number, line: number, column: number): never => {
    const read = stringReader(memory);
    throw new WasmAbortError({
      abortMessage: readSafely(read, msg), file: readSafely(read, file), line: line >>> 0, column: column >>> 0, thread,
    });
  };
}

/**
 * Instantiate `module` with `imports`, its `env.abort` replaced by one that throws WasmAbortError
 * (message, file, line, column, thread). `imports.env.memory` must be the module's memory.
 */
export function instantiateWithAbort(module: WebAssembly.Module, imports: WebAssembly.Imports, thread?: number): WebAssembly.Instance {
  const env = imports.env ?? {};
  const memory = env.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new UsageError('instantiateWithAbort: imports.env.memory must be the module\'s WebAssembly.Memory');
  }
  return new WebAssembly.Instance(module, { ...imports, env: { ...env, abort: abortImport(memory, thread) } });
}
