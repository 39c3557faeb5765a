// Load-time check of a module before it is instantiated on the shared memory (instantiation
// already writes its data segments): imports, the ABI version, no start function, and data only
// inside its own window above the host region, overlapping no other loaded module's data.
import { ModuleError } from '../errors.js';
import { ABI } from '../abi.js';

const ALLOWED = new Map<string, Set<string>>([
  ['env', new Set(['memory', 'abort', 'trace', 'seed'])],
  ['wasm-rseq@1', new Set(['thread', 'slow', 'inject', 'yield_now', 'point', 'stop_cpu', 'start_cpu', 'prctl', 'slice_yield', 'umcg_ctl', 'umcg_wait', 'umcg_kick'])],
]);

/** A global the module defines (not imports): its index in the global index space. */
export interface DefinedGlobal { index: number; type: string; mutable: boolean; name?: string }

export interface WasmFacts {
  hasStart: boolean; data: [number, number][]; memoryShared: boolean | undefined;
  globals: DefinedGlobal[];
  /** The global AssemblyScript's varargs trampoline sets (`__setArgumentsLength`), if any. */
  argumentsLength: number | undefined;
}

const VALTYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };

/** A small reader of the sections that matter here (import, global, export, start, code, data, names). */
export function readWasm(bytes: Uint8Array): WasmFacts {
  let p = 8;
  const u8 = () => bytes[p++];
  const leb = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
  const sleb = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return s < 32 && (b & 0x40) ? r | (-1 << s) : r; };
  const name = () => { const n = leb(); p += n; };
  const str = () => { const n = leb(); p += n; return new TextDecoder().decode(bytes.subarray(p - n, p)); };
  /** Skip a constant expression (a global's initialiser) up to its `end`. */
  const constExpr = () => {
    for (let op = u8(); op !== 0x0b; op = u8()) {
      if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) leb();
      else if (op === 0x43) p += 4;
      else if (op === 0x44) p += 8;
      else if (op === 0xd0) u8();
      else throw new ModuleError(`unsupported opcode 0x${op.toString(16)} in a global's initialiser`);
    }
  };
  const facts: WasmFacts = { hasStart: false, data: [], memoryShared: undefined, globals: [], argumentsLength: undefined };
  let importedFuncs = 0, importedGlobals = 0, setArgsFunc = -1;
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new ModuleError('not a wasm binary');
  while (p < bytes.length) {
    const id = u8();
    const size = leb();
    const end = p + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        name(); name();
        const kind = u8();
        if (kind === 0) { leb(); importedFuncs++; }
        else if (kind === 1) { u8(); const f = leb(); leb(); if (f & 1) leb(); }
        else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); facts.memoryShared = (f & 2) !== 0; }
        else if (kind === 3) { u8(); u8(); importedGlobals++; }
      }
    } else if (id === 6) {
      for (let n = leb(), i = 0; i < n; i++) {
        const type = VALTYPES[u8()] ?? 'ref';
        const mutable = u8() === 1;
        constExpr();
        facts.globals.push({ index: importedGlobals + i, type, mutable });
      }
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const field = str();
        const kind = u8();
        const index = leb();
        if (kind === 0 && field === '__setArgumentsLength') setArgsFunc = index;
      }
    } else if (id === 8) {
      facts.hasStart = true;
    } else if (id === 10 && setArgsFunc >= importedFuncs) {
      // The trampoline's body is `local.get 0; global.set g; end`: g is per call, not state.
      for (let n = leb(), i = 0; i < n; i++) {
        const size = leb();
        const next = p + size;
        if (i === setArgsFunc - importedFuncs) {
          for (let locals = leb(); locals > 0; locals--) { leb(); u8(); }
          if (u8() === 0x20 && leb() === 0 && u8() === 0x24) facts.argumentsLength = leb();
        }
        p = next;
      }
    } else if (id === 0 && str() === 'name') {
      // Present when built with --debug: the globals' names (subsection 7) for the error messages.
      while (p < end) {
        const sub = u8();
        const subEnd = leb() + p;
        if (sub === 7) {
          for (let n = leb(); n > 0; n--) {
            const index = leb();
            const g = facts.globals.find((x) => x.index === index);
            const gname = str();
            if (g) g.name = gname;
          }
        }
        p = subEnd;
      }
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
  threadLocalGlobals = false,
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
  const mutable = facts.globals.filter((g) => g.mutable && g.index !== facts.argumentsLength);
  if (mutable.length && !threadLocalGlobals) {
    const names = mutable.map((g) => (g.name ? `$${g.name}` : `global ${g.index}`) + ` (mut ${g.type})`).join(', ');
    throw new ModuleError(
      `module defines mutable globals: ${names}. A wasm global belongs to its instance, so each thread would silently `
      + 'get its own copy: keep shared state in kernel memory (kernel.alloc / allocPerCpu, passed in as arguments) and '
      + 'constants as `const`'
      + (facts.hasStart ? '; a module that allocates (new, strings, arrays) also has the runtime\'s heap offset, and every thread would hand out the same addresses' : '')
      + (mutable.some((g) => g.name) ? '' : ' (build with --debug to see their names)')
      + '. Deliberately per-thread state: kernel.load(bytes, { threadLocalGlobals: true }).',
    );
  }
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
