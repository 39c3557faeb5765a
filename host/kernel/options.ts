// Kernel.create's options: their types, defaults and validation, in one place.
import { ABI } from '../abi.js';
import { UsageError } from '../errors.js';
import { platform } from '../platform/index.js';
import type { SupervisorOptions } from './policy.js';

export interface KernelOptions {
  /** Virtual CPUs (default: the machine's cores). At most 32. */
  cpus?: number;
  /** Worker threads (default: cpus). At most 256 with poolSlots. */
  threads?: number;
  /** Extra thread slots, not started, for piscina pool workers (createPool). Default 0. */
  poolSlots?: number;
  /** NUMA nodes; vCPUs are split into contiguous blocks (default 1). */
  nodes?: number;
  /** Explicit node of each vCPU (overrides `nodes`). */
  topology?: number[];
  /** Seed of every injection decision (default 1). */
  seed?: number;
  /** Register rseq on each thread at start (default true); a function decides per slot. */
  register?: boolean | ((slot: number) => boolean);
  /** Bytes of per-vCPU pool per vCPU, a power of two >= 4096 (default 65536). */
  poolStride?: number;
  /** The signature threads register with and descriptors carry (default RSEQ_SIG). */
  sig?: number;
  /** Supervisor (time slicing and injection); false for none. */
  supervisor?: SupervisorOptions | false;
  /** The rseq time-slice extension (Linux 7.0). */
  sliceExtension?: SliceExtensionOptions;
  /**
   * Record what the kernel does (vCPU spans, aborts by cause, requests, migrations, ...) into a
   * bounded ring per thread in the shared memory, read with kernel.trace(). Off by default.
   */
  trace?: boolean | TraceOptions;
}

export interface TraceOptions {
  /** Events each thread's ring keeps; older ones are overwritten (and counted as dropped).
   *  Default: what 4 MiB hold for all threads, between 256 and 16384. */
  eventsPerThread?: number;
}

/** The trace rings' default share of the host region (taken from the heap). */
const TRACE_BUDGET = 4 << 20;

export interface SliceExtensionOptions {
  /** Offered at all (default true; false = the kernel's rseq_slice_ext=off: prctl SET answers ENOTSUPP). */
  enabled?: boolean;
  /** Grant length in emulated ns, 5000..50000 (debugfs rseq/slice_ext_nsec; default 5000). */
  nsec?: number;
  /** Real ns per emulated ns (default 20: a 5 µs grant lasts 100 µs of wall time, above the
   *  emulator's timer resolution; 1 = real time). */
  scale?: number;
}

const int = (v: unknown, name: string, min: number, max: number): number => {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    throw new UsageError(`options.${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v as number;
};

/** Defaults filled in and every value checked; throws a UsageError naming the bad option. */
export function normalizeOptions(options: KernelOptions) {
  if (options === null || typeof options !== 'object') throw new UsageError('options must be an object');
  const cpus = int(options.cpus ?? Math.min(ABI.MAX_CPUS, platform.cpuCount()), 'cpus', 1, ABI.MAX_CPUS);
  const threads = int(options.threads ?? cpus, 'threads', 0, ABI.MAX_THREADS);
  const poolSlots = int(options.poolSlots ?? 0, 'poolSlots', 0, ABI.MAX_THREADS - threads);
  const nodes = int(options.nodes ?? 1, 'nodes', 1, cpus);
  const poolStride = int(options.poolStride ?? 65536, 'poolStride', 4096, 1 << 20);
  if ((poolStride & (poolStride - 1)) !== 0) throw new UsageError(`options.poolStride must be a power of two, got ${poolStride}`);
  const seed = int(options.seed ?? 1, 'seed', 0, 2 ** 32 - 1);
  const topology = options.topology ?? Array.from({ length: cpus }, (_, c) => Math.floor((c * nodes) / cpus));
  if (!Array.isArray(topology) || topology.length !== cpus || topology.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new UsageError(`options.topology must list a node (integer >= 0) for each of the ${cpus} vCPUs`);
  }
  const supervisor = options.supervisor ?? {};
  if (supervisor !== false) validateSupervisor(supervisor);
  const se = options.sliceExtension ?? {};
  if (typeof se !== 'object' || se === null) throw new UsageError('options.sliceExtension must be an object');
  const sliceExtension = {
    enabled: se.enabled ?? true,
    nsec: int(se.nsec ?? ABI.SLICE_EXT_NSEC_DEFAULT, 'sliceExtension.nsec', ABI.SLICE_EXT_NSEC_MIN, ABI.SLICE_EXT_NSEC_MAX),
    scale: se.scale ?? 20,
  };
  if (!(typeof sliceExtension.scale === 'number' && sliceExtension.scale > 0 && sliceExtension.scale <= 1e4)) {
    throw new UsageError(`options.sliceExtension.scale must be a number in (0, 10000], got ${String(se.scale)}`);
  }
  const traceCapacity = traceEvents(options.trace, threads + poolSlots);
  return { cpus, threads, poolSlots, nodes, poolStride, seed, topology, supervisor, register: options.register ?? true, sliceExtension, traceCapacity };
}

/** Events per trace ring for `options.trace` (0: off). */
function traceEvents(t: KernelOptions['trace'], slots: number): number {
  if (t === undefined || t === false) return 0;
  if (t !== true && (typeof t !== 'object' || t === null)) throw new UsageError(`options.trace must be a boolean or an object, got ${String(t)}`);
  const rings = slots + 1;
  const fallback = Math.min(16384, Math.max(256, Math.floor(TRACE_BUDGET / (rings * ABI.TEV_SIZE))));
  const n = t === true ? fallback : t.eventsPerThread ?? fallback;
  // The rings come out of the heap, which must keep room for the run's own data.
  return int(n, 'trace.eventsPerThread', 1, Math.floor((8 << 20) / (rings * ABI.TEV_SIZE)));
}

/** Throws UsageError unless `o` is a valid supervisor policy. */
export function validateSupervisor(o: SupervisorOptions): void {
  if (typeof o !== 'object' || o === null) throw new UsageError(`supervisor options must be an object, got ${String(o)}`);
  for (const key of ['sliceMs', 'preemptHz', 'migrateHz', 'signalHz'] as const) {
    const x = o[key];
    if (x !== undefined && !(typeof x === 'number' && x >= 0 && Number.isFinite(x))) {
      throw new UsageError(`options.supervisor.${key} must be a finite number >= 0, got ${String(x)}`);
    }
  }
  if (o.policy !== undefined && o.policy !== 'random' && o.policy !== 'periodic') {
    throw new UsageError(`options.supervisor.policy must be 'random' or 'periodic', got ${String(o.policy)}`);
  }
}
