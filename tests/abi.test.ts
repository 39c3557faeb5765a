// The shared-memory ABI: kernel struct rseq offsets, published feature size / alignment, and the
// library modules' promise of no static data and no start function.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { readAbi } from '../host/abi.js';
import { readWasm } from '../host/kernel/verify.js';
import { Kernel, wasmPath } from '../host/index.js';
import { engineOf } from '../host/internal.js';

const core = new WebAssembly.Module(await readFile(wasmPath('rseq')));
const abi = readAbi(core);

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
  const line = (off: number) => Math.floor(off / 128);
  assert.notEqual(line(abi.CPU_SEQ), line(abi.CPU_COMMITS));
  assert.notEqual(line(abi.T_SEQP), line(abi.T_STATE));
  assert.equal(abi.CPU_REC_SIZE % 128, 0);
  assert.equal(abi.THREAD_REC_SIZE % 128, 0);
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
      const rec = engineOf(k).plan.threadBase + t * abi.THREAD_REC_SIZE;
      assert.equal(rec % 128, 0);
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
