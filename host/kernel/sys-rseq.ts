// sys_rseq(rseq, rseq_len, flags, sig) with the kernel's semantics and error order
// (Linux 7.0 with the 2026 legacy/extended split): 0 on success, a negated errno otherwise.
import { ABI, type Abi } from '../abi.js';
import { Errno } from '../errors.js';
import type { MemoryPlan, SharedView } from '../memory.js';
import { sliceAvailable } from './slice.js';

export interface RseqRegistration { area: number; len: number; sig: number }

/** What registration may point at: the thread's own area, or anywhere in the heap region. */
function accessible(plan: MemoryPlan, own: number, area: number, len: number): boolean {
  if (area === own && len <= ABI.T_AREA) return true;
  return area >= plan.heapBase && area + len <= plan.heapBase + plan.heapSize;
}

export function sysRseq(
  v: SharedView, abi: Abi, plan: MemoryPlan, t: number, area: number, len: number, flags: number, sig: number,
): number {
  const reg = registration(v, abi, t);
  area >>>= 0; len >>>= 0; sig >>>= 0;
  if (flags & abi.RSEQ_FLAG_UNREGISTER) {
    if (flags & ~abi.RSEQ_FLAG_UNREGISTER) return -Errno.EINVAL;
    if (!reg || reg.area !== area) return -Errno.EINVAL;
    if (reg.len !== len) return -Errno.EINVAL;
    if (reg.sig !== sig) return -Errno.EPERM;
    v.store(area + abi.RSEQ_CPU_ID_START, 0);
    v.store(area + abi.RSEQ_CPU_ID, abi.RSEQ_CPU_ID_UNINITIALIZED);
    v.store(area + abi.RSEQ_NODE_ID, 0);
    v.store(area + abi.RSEQ_MM_CID, 0);
    v.store(t + abi.T_REG_LEN, 0);
    v.store(t + abi.T_REG_SIG, 0);
    v.store(t + abi.T_SLICE, 0);
    v.f64[(t + abi.T_SLICE_DEADLINE) >> 3] = 0;
    v.store(t + abi.T_AREA, t);
    return 0;
  }
  if (flags & ~abi.RSEQ_FLAG_SLICE_EXT_DEFAULT_ON) return -Errno.EINVAL;
  if (reg) {
    if (reg.area !== area || reg.len !== len) return -Errno.EINVAL;
    return reg.sig !== sig ? -Errno.EPERM : -Errno.EBUSY;
  }
  if (len < abi.RSEQ_ORIG_SIZE) return -Errno.EINVAL;
  if (len === abi.RSEQ_ORIG_SIZE ? area % abi.RSEQ_ORIG_SIZE !== 0
    : area % abi.RSEQ_ALIGN !== 0 || len < abi.RSEQ_FEATURE_SIZE) return -Errno.EINVAL;
  if (!accessible(plan, t, area, len)) return -Errno.EFAULT;
  v.store64(area + abi.RSEQ_CS, 0n);
  // Time-slice extension (Linux 7.0): AVAILABLE for extended registrations when the kernel offers
  // it, ENABLED too with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON; slice_ctrl starts clear.
  const slice = len > abi.RSEQ_ORIG_SIZE && sliceAvailable(v, abi);
  const on = slice && (flags & abi.RSEQ_FLAG_SLICE_EXT_DEFAULT_ON) !== 0;
  v.store(area + abi.RSEQ_FLAGS, slice ? abi.RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | (on ? abi.RSEQ_CS_FLAG_SLICE_EXT_ENABLED : 0) : 0);
  v.store(area + abi.RSEQ_SLICE_CTRL, 0);
  v.store(t + abi.T_SLICE, on ? abi.SLICE_ENABLED : 0);
  v.f64[(t + abi.T_SLICE_DEADLINE) >> 3] = 0;
  v.store(t + abi.T_REG_LEN, len);
  v.store(t + abi.T_REG_SIG, sig | 0);
  v.store(t + abi.T_AREA, area);
  return 0;
}

export function registration(v: SharedView, abi: Abi, t: number): RseqRegistration | undefined {
  const len = v.load(t + abi.T_REG_LEN);
  if (len === 0) return undefined;
  return { area: v.load(t + abi.T_AREA) >>> 0, len, sig: v.load(t + abi.T_REG_SIG) >>> 0 };
}

/**
 * The kernel's check of an active descriptor (pre-6.19: whenever rseq_cs != 0). Returns why it is
 * invalid, or undefined. An invalid descriptor is a fault (SIGSEGV), never an error return.
 */
export function checkDescriptor(v: SharedView, abi: Abi, area: number, cs: number, sig: number, sliceFlags = 0): string | undefined {
  const size = BigInt(v.size);
  if (cs < 16 || cs + abi.CS_SIZE > v.size) return 'descriptor outside memory';
  const dv = (v.dv ??= new DataView(v.u8.buffer as ArrayBuffer));
  const version = dv.getUint32(cs + abi.CS_VERSION, true);
  const flags = dv.getUint32(cs + abi.CS_FLAGS, true);
  const start = dv.getBigUint64(cs + abi.CS_START_IP, true);
  const off = dv.getBigUint64(cs + abi.CS_POST_COMMIT_OFFSET, true);
  const abort = dv.getBigUint64(cs + abi.CS_ABORT_IP, true);
  if (start >= size) return `start_ip 0x${start.toString(16)} outside memory`;
  if (start + off < start || start + off >= size) return 'post_commit_offset overflows';
  if (abort >= size || abort < 4n) return `abort_ip 0x${abort.toString(16)} outside memory`;
  if (version !== 0) return `unknown version ${version}`;
  if (BigInt.asUintN(64, abort - start) < off) return 'abort_ip inside the critical section';
  const found = dv.getUint32(Number(abort) - 4, true);
  if (found !== sig >>> 0) {
    return `unexpected rseq signature 0x${found.toString(16)}, expecting 0x${(sig >>> 0).toString(16)}`;
  }
  if (flags !== 0) return `deprecated or unknown rseq_cs flags 0x${flags.toString(16)}`;
  const areaFlags = dv.getUint32(area + abi.RSEQ_FLAGS, true);
  const feature = abi.RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | abi.RSEQ_CS_FLAG_SLICE_EXT_ENABLED;
  if ((areaFlags & ~feature) !== 0) return `deprecated or unknown rseq flags 0x${areaFlags.toString(16)}`;
  if ((areaFlags & feature) !== sliceFlags) return `read-only rseq flags 0x${areaFlags.toString(16)} changed by user space (expected 0x${sliceFlags.toString(16)})`;
  return undefined;
}
