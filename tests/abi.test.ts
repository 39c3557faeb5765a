// The shared-memory ABI: kernel struct rseq offsets, published feature size / alignment, and the
// library modules' promise of no static data and no start function.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ABI, checkAbi, checkMatches, readAbi } from '../host/abi.js';
import { readWasm } from '../host/kernel/verify.js';
import { Kernel, UsageError, wasmPath } from '../host/index.js';
import { engineOf } from '../host/internal.js';
import { threadRec } from '../host/memory.js';

const core = new WebAssembly.Module(await readFile(wasmPath('rseq')));
const abi = readAbi(core);

/** The core module's exported number globals, read independently of host/abi.ts. */
function moduleConstants(m: WebAssembly.Module): Record<string, number> {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const i of WebAssembly.Module.imports(m)) {
    imports[i.module] ??= {};
    imports[i.module][i.name] = i.kind === 'function' ? () => { throw new Error('called'); }
      : i.kind === 'global' ? new WebAssembly.Global({ value: 'i32' }, 0)
      : new WebAssembly.Memory({ initial: 512, maximum: 65536, shared: true });
  }
  const out: Record<string, number> = {};
  for (const [name, g] of Object.entries(new WebAssembly.Instance(m, imports).exports)) {
    if (g instanceof WebAssembly.Global && typeof g.value === 'number') out[name] = g.value;
  }
  return out;
}

test('the generated ABI (host/generated/abi.ts) is exactly the core module\'s constants', () => {
  assert.deepEqual({ ...ABI }, moduleConstants(core));
  assert.equal(abi, ABI, 'readAbi returns the typed, generated ABI');
  assert.ok(Object.isFrozen(ABI));
});

test('a module whose constants differ from the generated ABI is a clear error (stale build)', () => {
  const stale = /differ \(stale build\? run `npm run build`\)/;
  assert.throws(() => checkMatches({ ...ABI, NODE_NEXT: ABI.NODE_NEXT + 4 }), (e: unknown) => e instanceof UsageError && stale.test(e.message) && /NODE_NEXT/.test(e.message));
  assert.throws(() => checkMatches({ ...ABI, T_NEW_FIELD: 1 }), /the host lacks T_NEW_FIELD/);
  const { MPMC_CELLS: _, ...missing } = ABI;
  assert.throws(() => checkMatches(missing), /the module lacks MPMC_CELLS/);
  // A wasm module exporting one constant global only: (global (export "ABI_VERSION") i32 (i32.const 2)).
  const tiny = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 6, 6, 1, 127, 0, 65, 2, 11,
    7, 15, 1, 11, ...new TextEncoder().encode('ABI_VERSION'), 3, 0]);
  assert.throws(() => readAbi(new WebAssembly.Module(tiny)), UsageError);
});

test('checkAbi catches a broken structure layout', () => {
  assert.doesNotThrow(() => checkAbi(ABI));
  assert.throws(() => checkAbi({ ...ABI, NODE_SIZE: 4 }), /list node/);
  assert.throws(() => checkAbi({ ...ABI, MPMC_DEQ: 4 }), /MPMC/);
  assert.throws(() => checkAbi({ ...ABI, MBUF_ARRAY: 12 }), /memcpy buffer/);
  assert.throws(() => checkAbi({ ...ABI, CPU_CID_OWNER: 72 }), /mm_cid owner word/);
  assert.throws(() => checkAbi({ ...ABI, CPU_CID_OWNER: 160 }), /mm_cid owner word/);
});

test('struct rseq has the kernel offsets (Linux 7.0 uapi)', () => {
  assert.deepEqual(
    [abi.RSEQ_CPU_ID_START, abi.RSEQ_CPU_ID, abi.RSEQ_CS, abi.RSEQ_FLAGS, abi.RSEQ_NODE_ID, abi.RSEQ_MM_CID, abi.RSEQ_SLICE_CTRL],
    [0, 4, 8, 16, 20, 24, 28],
  );
  assert.equal(abi.RSEQ_FEATURE_SIZE, 33);
  assert.equal(abi.RSEQ_ALIGN, 64);
  assert.equal(abi.RSEQ_CPU_ID_UNINITIALIZED, -1);
  assert.equal(abi.RSEQ_CPU_ID_REGISTRATION_FAILED, -2);
});

test('struct rseq_cs has the kernel offsets, the signature sits right before abort_ip', () => {
  assert.deepEqual([abi.CS_VERSION, abi.CS_FLAGS, abi.CS_START_IP, abi.CS_POST_COMMIT_OFFSET, abi.CS_ABORT_IP, abi.CS_SIZE], [0, 4, 8, 16, 24, 32]);
  assert.equal(abi.CS_ABORT_AT - abi.CS_SIG_AT, 4);
});

test('hot words sit on their own 128-byte lines', () => {
  assert.equal(abi.LINE, 128);
  const line = (off: number) => Math.floor(off / abi.LINE);
  assert.notEqual(line(abi.CPU_SEQ), line(abi.CPU_COMMITS));
  assert.notEqual(line(abi.T_SEQP), line(abi.T_STATE));
  assert.equal(abi.CPU_REC_SIZE % abi.LINE, 0);
  assert.equal(abi.THREAD_REC_SIZE % abi.LINE, 0);
  assert.notEqual(line(abi.SCHED_LOCK), line(abi.SCHED_WAITERS));
  assert.notEqual(line(abi.SCHED_TICK), line(abi.SCHED_LOCK));
});

test('the kernel publishes feature size, alignment and layout in the header', async () => {
  const k = await Kernel.create({ cpus: 3, threads: 2, supervisor: false });
  try {
    const h = (off: number) => engineOf(k).view.load(abi.HEADER_ADDR + off);
    assert.equal(h(abi.HDR_MAGIC), abi.ABI_MAGIC);
    assert.equal(h(abi.HDR_FEATURE_SIZE), 33);
    assert.equal(h(abi.HDR_ALIGN), 64);
    assert.equal(h(abi.HDR_NR_CPUS), 3);
    assert.equal(h(abi.HDR_NR_THREADS), 2);
    for (let t = 0; t < 2; t++) {
      const rec = threadRec(abi, engineOf(k).plan, t);
      assert.equal(rec % abi.LINE, 0);
      assert.ok(engineOf(k).view.load(rec + abi.RSEQ_CPU_ID) >= 0, 'registered threads have a cpu_id');
    }
    for (let c = 0; c < 3; c++) assert.equal(engineOf(k).view.load(engineOf(k).plan.cpuBase + c * abi.CPU_REC_SIZE + abi.CPU_SEQ) & 1, 1, 'free vCPUs have an odd sequence');
  } finally {
    await k.close();
  }
});

test('library modules carry no static data and no start function', async () => {
  for (const name of ['rseq', 'param_test', 'bench']) {
    const facts = readWasm(new Uint8Array(await readFile(wasmPath(name))));
    assert.deepEqual(facts.data, [], `${name}.wasm has static data`);
    assert.equal(facts.hasStart, false, `${name}.wasm has a start function`);
    assert.equal(facts.memoryShared, true);
  }
});

/** The bench module's main-thread set-up / check helpers (bench/assembly/workloads.ts) used here. */
interface Helpers {
  ITEM_SIZE: WebAssembly.Global;
  list_build(head: number, nodes: number, n: number, stride: number, value0: number): void;
  list_sum(head: number, limit: number): bigint;
  buffer_build(b: number, cap: number, n: number, value0: number): void;
  buffer_sum(b: number): bigint;
  memcpy_build(b: number, cap: number, n: number, value0: number): void;
  memcpy_sum(b: number): bigint;
  mpmc_build(q: number, cap: number, payload: number): void;
  mpmc_fill(q: number, n: number, value0: number): number;
  mpmc_fill_items(q: number, scratch: number, n: number, value0: number): number;
  mpmc_sum(q: number, items: number): bigint;
}

test('structure layouts: what the AS code writes the host reads with the ABI offsets, and back', async () => {
  const k = await Kernel.create({ cpus: 1, threads: 0, supervisor: false });
  try {
    const v = engineOf(k).view;
    const x = k.host(await k.load(wasmPath('bench'), 'bench')) as unknown as Helpers;
    const pt = k.host(await k.load(wasmPath('param_test'), 'param_test')) as unknown as { node_data(n: number): number };
    const n = 5;

    // List: AS links nodes 10..14 (pushed, so the head is the last); the host walks NODE_NEXT.
    const head = k.alloc(abi.PTR_SIZE, abi.LINE);
    const nodes = k.alloc(n * abi.NODE_SIZE, abi.NODE_SIZE);
    x.list_build(head, nodes, n, abi.NODE_SIZE, 10);
    const seen: number[] = [];
    for (let p = v.load(head); p !== 0; p = v.load(p + abi.NODE_NEXT)) seen.push(v.load(p + abi.NODE_DATA));
    assert.deepEqual(seen, [14, 13, 12, 11, 10]);
    // ... and a node the host writes reads back in AS.
    v.store(nodes + abi.NODE_DATA, 99);
    assert.equal(pt.node_data(nodes), 99);
    assert.equal(x.list_sum(head, n), BigInt(14 + 13 + 12 + 11 + 99));

    // Pointer buffer: AS fills, the host reads offset, capacity and entries; the host fills, AS sums.
    const buf = k.alloc(abi.BUF_ARRAY + abi.BUF_ENTRY * 8, abi.LINE);
    x.buffer_build(buf, 8, n, 100);
    assert.equal(v.load(buf + abi.BUF_OFFSET), n);
    assert.equal(v.load(buf + abi.BUF_LEN), 8);
    assert.deepEqual(Array.from({ length: n }, (_, i) => v.load(buf + abi.BUF_ARRAY + abi.BUF_ENTRY * i)), [100, 101, 102, 103, 104]);
    v.store(buf + abi.BUF_ARRAY + abi.BUF_ENTRY * n, 1000);
    v.store(buf + abi.BUF_OFFSET, n + 1);
    assert.equal(x.buffer_sum(buf), BigInt(100 + 101 + 102 + 103 + 104 + 1000));

    // memcpy buffer of 16-byte items: header and items at MBUF_* / MITEM_*.
    assert.equal(x.ITEM_SIZE.value, abi.MITEM_SIZE);
    const mbuf = k.alloc(abi.MBUF_ARRAY + abi.MITEM_SIZE * 8, abi.LINE);
    x.memcpy_build(mbuf, 8, n, 7);
    assert.deepEqual([v.load(mbuf + abi.MBUF_OFFSET), v.load(mbuf + abi.MBUF_LEN), v.load(mbuf + abi.MBUF_ITEM)], [n, 8, abi.MITEM_SIZE]);
    const item = (i: number) => mbuf + abi.MBUF_ARRAY + abi.MITEM_SIZE * i;
    for (let i = 0; i < n; i++) {
      assert.equal(v.load64(item(i) + abi.MITEM_DATA1), BigInt(7 + i));
      assert.equal(v.load64(item(i) + abi.MITEM_DATA2), BigInt(7 + i) ^ 0x5a5a_5a5a_5a5a_5a5an, 'check word at MITEM_DATA2');
    }
    v.store64(item(0) + abi.MITEM_DATA2, 0n);
    assert.equal(x.memcpy_sum(mbuf), -1n, 'a torn item (its data2 at MITEM_DATA2) is seen by AS');

    // MPMC queue of pointers and of items: header words, cell size and payloads at MPMC_*.
    const cap = 4;
    const cellOf = (payload: number) => Math.ceil((abi.MPMC_PAYLOAD + payload) / abi.MPMC_CELL_ALIGN) * abi.MPMC_CELL_ALIGN;
    for (const [payload, items] of [[abi.PTR_SIZE, 0], [abi.MITEM_SIZE, 1]] as const) {
      const cell = cellOf(payload);
      const q = k.alloc(abi.MPMC_CELLS + cap * cell, abi.LINE);
      x.mpmc_build(q, cap, payload);
      assert.deepEqual([v.load(q + abi.MPMC_MASK), v.load(q + abi.MPMC_CELL_SIZE)], [cap - 1, cell]);
      const filled = items ? x.mpmc_fill_items(q, k.alloc(abi.MITEM_SIZE, 8), 3, 20) : x.mpmc_fill(q, 3, 20);
      assert.equal(filled, 3);
      assert.deepEqual([v.load(q + abi.MPMC_ENQ), v.load(q + abi.MPMC_DEQ)], [3, 0]);
      for (let i = 0; i < cap; i++) {
        const c = q + abi.MPMC_CELLS + i * cell;
        assert.equal(v.load(c), i < 3 ? i + 1 : i, `cell ${i}'s sequence`);
        if (i < 3) assert.equal(v.load(c + abi.MPMC_PAYLOAD), 20 + i, `cell ${i}'s payload`);
      }
      assert.equal(x.mpmc_sum(q, items), BigInt(20 + 21 + 22));
    }
  } finally {
    await k.close();
  }
});
