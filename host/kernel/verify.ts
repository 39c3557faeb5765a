// Load-time check of a module before it is instantiated on the shared memory (instantiation
// already writes its data segments): imports, the ABI version, no start function, and data only
// inside its own window above the host region, overlapping no other loaded module's data.
import { ModuleError } from '../errors.js';
import { ABI } from '../abi.js';

const ALLOWED = new Map<string, Set<string>>([
  ['env', new Set(['memory', 'abort', 'trace', 'seed'])],
  ['wasm-rseq@1', new Set(['thread', 'slow', 'inject', 'yield_now', 'point', 'stop_cpu', 'start_cpu', 'prctl', 'slice_yield', 'umcg_ctl', 'umcg_wait', 'umcg_kick'])],
]);

export interface WasmFacts { hasStart: boolean; data: [number, number][]; memoryShared: boolean | undefined }

/** A small reader of the sections that matter here (import, start, data). */
export function readWasm(bytes: Uint8Array): WasmFacts {
  let p = 8;
  const u8 = () => bytes[p++];
  const leb = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
  const sleb = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return s < 32 && (b & 0x40) ? r | (-1 << s) : r; };
  const name = () => { const n = leb(); p += n; };
  const facts: WasmFacts = { hasStart: false, data: [], memoryShared: undefined };
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new ModuleError('not a wasm binary');
  while (p < bytes.length) {
    const id = u8();
    const size = leb();
    const end = p + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        name(); name();
        const kind = u8();
        if (kind === 0) leb();
        else if (kind === 1) { u8(); const f = leb(); leb(); if (f & 1) leb(); }
        else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); facts.memoryShared = (f & 2) !== 0; }
        else if (kind === 3) { u8(); u8(); }
      }
    } else if (id === 8) {
      facts.hasStart = true;
    } else if (id === 11) {
      for (let n = leb(); n > 0; n--) {
        const flag = leb();
        if (flag === 1) { p += leb(); continue; }
        if (flag === 2) leb();
        if (u8() !== 0x41) throw new ModuleError('data segment offset is not an i32.const');
        const at = sleb() >>> 0;
        u8();
        const len = leb();
        p += len;
        facts.data.push([at, at + len]);
      }
    }
    p = end;
  }
  return facts;
}

export function verifyModule(
  module: WebAssembly.Module, bytes: Uint8Array | undefined, loaded: [number, number][], window: [number, number],
): [number, number][] {
  let memory = false;
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === 'env' && imp.name === 'memory' && imp.kind === 'memory') { memory = true; continue; }
    if (imp.module.startsWith('wasm-rseq@') && imp.module !== 'wasm-rseq@1') {
      throw new ModuleError(`module built against ABI ${imp.module}, this kernel speaks wasm-rseq@1: rebuild it`);
    }
    if (!ALLOWED.get(imp.module)?.has(imp.name)) {
      throw new ModuleError(`module imports ${imp.module}.${imp.name}, which the kernel does not provide`);
    }
  }
  if (!memory) throw new ModuleError('module must import env.memory: build it with "extends": "wasm-rseq/asconfig.preset.json"');
  if (!bytes) return [];
  const facts = readWasm(bytes);
  if (facts.memoryShared === false) throw new ModuleError('module memory is not shared: build with the preset (sharedMemory)');
  if (facts.hasStart) throw new ModuleError('module has a start function (top-level statements): it would run on every thread');
  for (const [a, b] of facts.data) {
    if (a < window[0] || b > window[1]) {
      throw new ModuleError(`static data [${a}, ${b}) outside the module's window [${window[0]}, ${window[1]}): build with --memoryBase ${window[0]}`);
    }
    for (const [c, d] of loaded) {
      if (a < d && c < b) {
        // Each module's read-only data needs its own window: name the next free one.
        const end = Math.max(...loaded.map(([, e]) => e));
        const next = window[0] + Math.ceil((end - window[0]) / ABI.DATA_WINDOW) * ABI.DATA_WINDOW;
        throw new ModuleError(`static data [${a}, ${b}) overlaps another loaded module's [${c}, ${d}): build this module with --memoryBase ${next} (its own ${ABI.DATA_WINDOW >> 10} KiB data window)`);
      }
    }
  }
  return facts.data;
}
