// The shared-memory ABI: every offset, size and constant of wasm-rseq's memory, and nothing else.
// This file is the ONE source of truth for the layout. The host reads these values from the core
// module's exports at load time and checks them (host/abi.ts); no other file writes an offset.
// Writers and atomicity are noted per field: "owner" = the thread that owns the vCPU / record.

/** Bumped on any incompatible change of this file; user modules import "wasm-rseq@<ABI_VERSION>". */
export const ABI_VERSION: i32 = 1;
/** Magic at HDR_MAGIC: "RSEQ" little-endian. */
export const ABI_MAGIC: i32 = 0x51455352;

// ---------------------------------------------------------------------------------------------
// struct rseq (kernel uapi, Linux 7.0 layout). Aligned 32 (legacy) / ABI_RSEQ_ALIGN (extended).
//
//   0        4        8                16       20       24       28       32  33
//   +--------+--------+----------------+--------+--------+--------+--------+---+
//   |cpu_id_ |cpu_id  |rseq_cs (u64)   |flags   |node_id |mm_cid  |slice_  |rsv|
//   |start   |        |                |        |        |        |ctrl    |   |
//   +--------+--------+----------------+--------+--------+--------+--------+---+
// cpu_id_start, cpu_id, node_id, mm_cid: written by the emulated kernel on the thread itself
// (slow path), plain 32-bit stores; read by the thread. rseq_cs: written by the thread to enter a
// critical section, cleared by the kernel. flags: must stay 0 (deprecated NO_RESTART bits fault).
export const RSEQ_CPU_ID_START: i32 = 0;
export const RSEQ_CPU_ID: i32 = 4;
export const RSEQ_CS: i32 = 8;
export const RSEQ_FLAGS: i32 = 16;
export const RSEQ_NODE_ID: i32 = 20;
export const RSEQ_MM_CID: i32 = 24;
export const RSEQ_SLICE_CTRL: i32 = 28;
/** offsetof(struct rseq, end): what Linux 7.0 publishes as AT_RSEQ_FEATURE_SIZE. */
export const RSEQ_FEATURE_SIZE: i32 = 33;
/** AT_RSEQ_ALIGN for extended registrations (1 << get_count_order(feature size)). */
export const RSEQ_ALIGN: i32 = 64;
/** The original registration size (legacy mode, 32-byte alignment). */
export const RSEQ_ORIG_SIZE: i32 = 32;
export const RSEQ_CPU_ID_UNINITIALIZED: i32 = -1;
export const RSEQ_CPU_ID_REGISTRATION_FAILED: i32 = -2;
export const RSEQ_FLAG_UNREGISTER: i32 = 1;
export const RSEQ_FLAG_SLICE_EXT_DEFAULT_ON: i32 = 2;
/** Deprecated RSEQ_CS_FLAG_NO_RESTART_ON_{PREEMPT,SIGNAL,MIGRATE}: any set bit is a fault. */
export const RSEQ_CS_FLAG_NO_RESTART_MASK: i32 = 7;
/** The signature that must precede every abort_ip (x86's RSEQ_SIG, reused for wasm). */
export const RSEQ_SIG: i32 = 0x53053053;

// ---------------------------------------------------------------------------------------------
// struct rseq_cs (critical-section descriptor), 32 bytes, aligned 32.
//   0 version(u32)=0 | 4 flags(u32)=0 | 8 start_ip(u64) | 16 post_commit_offset(u64) | 24 abort_ip(u64)
// Instruction pointers are addresses in the "text" region: each section owns TEXT_STRIDE bytes,
// [start_ip, start_ip + CS_BODY) is the section, the signature is the u32 at abort_ip - 4.
export const CS_VERSION: i32 = 0;
export const CS_FLAGS: i32 = 4;
export const CS_START_IP: i32 = 8;
export const CS_POST_COMMIT_OFFSET: i32 = 16;
export const CS_ABORT_IP: i32 = 24;
export const CS_SIZE: i32 = 32;
export const TEXT_STRIDE: i32 = 16;
export const CS_BODY: i32 = 8;
export const CS_SIG_AT: i32 = 8;
export const CS_ABORT_AT: i32 = 12;

/** Descriptor slots used by the library's own operations (ops.ts); users get slots above. */
export const CSID_LOAD_CBNE_STORE: i32 = 0;
export const CSID_LOAD_ADD_STORE: i32 = 1;
export const CSID_LOAD_CBEQ_STORE_ADD_LOAD_STORE: i32 = 2;
export const CSID_LOAD_ADD_LOAD_LOAD_ADD_STORE: i32 = 3;
export const CSID_LOAD_CBNE_LOAD_CBNE_STORE: i32 = 4;
export const CSID_LOAD_CBNE_STORE_STORE: i32 = 5;
export const CSID_LOAD_CBNE_MEMCPY_STORE: i32 = 6;
export const CSID_USER_FIRST: i32 = 8;

// ---------------------------------------------------------------------------------------------
// Header at HEADER_ADDR: written once by the host before any worker starts, read-only after,
// except HDR_TICK (supervisor, atomic) and the scheduler words (under SCHED_LOCK, atomic).
export const HEADER_ADDR: i32 = 128;
/** Everything the host lays out lives in [16, HOST_REGION_END); modules' static data lives above it
 *  (the preset's memoryBase), each user module in its own DATA_WINDOW. */
export const HOST_REGION_END: i32 = 16 << 20;
export const DATA_WINDOW: i32 = 64 << 10;
export const DATA_WINDOWS: i32 = 16;
export const HDR_MAGIC: i32 = 0;
export const HDR_VERSION: i32 = 4;
export const HDR_FEATURE_SIZE: i32 = 8;
export const HDR_ALIGN: i32 = 12;
export const HDR_NR_CPUS: i32 = 16;
export const HDR_NR_THREADS: i32 = 20;
export const HDR_NR_NODES: i32 = 24;
export const HDR_CPU_BASE: i32 = 28;
export const HDR_THREAD_BASE: i32 = 32;
export const HDR_DESC_BASE: i32 = 36;
export const HDR_NR_DESC: i32 = 40;
export const HDR_TEXT_BASE: i32 = 44;
export const HDR_POOL_BASE: i32 = 48;
export const HDR_POOL_STRIDE: i32 = 52;
export const HDR_HEAP_BASE: i32 = 56;
export const HDR_HEAP_SIZE: i32 = 60;
export const HDR_MEM_SIZE: i32 = 64;
export const HDR_SIZE: i32 = 128;
/** Scheduler words, each on its own 128-byte line after the header. */
export const SCHED_LOCK: i32 = 256;
export const SCHED_WAITERS: i32 = 384;
export const SCHED_HEAD: i32 = 388;
export const SCHED_TAIL: i32 = 392;
export const SCHED_CID_MAP: i32 = 396;
export const SCHED_TICK: i32 = 512;
export const SCHED_SUPERVISOR: i32 = 516;
/** Supervisor policy changes: the host bumps GEN after posting new options, the supervisor echoes it in ACK. */
export const SCHED_SUP_GEN: i32 = 520;
export const SCHED_SUP_ACK: i32 = 524;
/** 1 while the supervisor sleeps because no vCPU is owned; whoever assigns a vCPU clears it and wakes
 *  the supervisor (notify on SCHED_SUPERVISOR). An idle kernel costs no wake-ups. */
export const SCHED_SUP_IDLE: i32 = 528;
/** Start barrier for runs that begin together (host/kernel/engine.ts run, host/thread.ts). */
export const SCHED_BARRIER: i32 = 640;
/** The supervisor's policy (host/kernel/policy.ts SupervisorOptions), written by the host before it
 *  bumps SCHED_SUP_GEN, read by the supervisor after it sees the new GEN. f64 rates, plain stores. */
export const SCHED_POLICY: i32 = 768;
export const POL_SLICE_MS: i32 = 0;     // f64
export const POL_PREEMPT_HZ: i32 = 8;   // f64
export const POL_MIGRATE_HZ: i32 = 16;  // f64
export const POL_SIGNAL_HZ: i32 = 24;   // f64
export const POL_PERIODIC: i32 = 32;    // i32: 1 periodic, 0 random
/** i32: 1 when some injection rate is > 0 (then taking a vCPU wakes an idle supervisor), else 0. */
export const POL_ACTIVE: i32 = 36;
export const SCHED_END: i32 = 896;
/** The descriptor table sits at a fixed address so a section's descriptor is a constant. */
export const DESC_BASE: i32 = 4096;
export const NR_DESC: i32 = 256;
/** mm_cid bitmap capacity: one i32 word, so at most 32 vCPUs. */
export const MAX_CPUS: i32 = 32;
export const MAX_THREADS: i32 = 256;
export const LINE: i32 = 128;

// ---------------------------------------------------------------------------------------------
// Per-vCPU record, CPU_REC_SIZE bytes, 128-aligned, one per vCPU.
// Line 0 is read by the owner on every operation (CPU_SEQ) and written rarely by others.
export const CPU_SEQ: i32 = 0;        // u32; even = no request; supervisor CAS even->odd, owner odd->even
export const CPU_REQUEST: i32 = 4;    // u32 bitmask of REQ_*; supervisor atomic.or, owner atomic.xchg
export const CPU_OWNER: i32 = 8;      // i32 thread slot + 1, 0 = free, -1 reserved (under SCHED_LOCK); CAS 0 -> slot + 1 takes it
export const CPU_TARGET: i32 = 12;    // i32 migration target vCPU or -1
export const CPU_NODE: i32 = 16;      // i32 emulated NUMA node; header-time constant
export const CPU_SINCE: i32 = 20;     // i32 SCHED_TICK when the owner took it
// Line 1: statistics, written by the owner in its slow path (atomic add) or by the supervisor.
export const CPU_COMMITS: i32 = 128;  // u64
export const CPU_ABORTS: i32 = 136;   // u64
export const CPU_PREEMPTS: i32 = 144; // u32 requests made on this vCPU, by cause
export const CPU_MIGRATES: i32 = 148;
export const CPU_SIGNALS: i32 = 152;
export const CPU_FENCES: i32 = 156;
export const CPU_REC_SIZE: i32 = 256;

export const REQ_PREEMPT: i32 = 1;
export const REQ_MIGRATE: i32 = 2;
export const REQ_SIGNAL: i32 = 4;
export const REQ_FENCE: i32 = 8;
export const REQ_YIELD: i32 = 16;     // injected sched_yield (thread-local, never stored in CPU_REQUEST)
export const REQ_SLEEP: i32 = 32;     // injected sleep
export const REQ_MISMATCH: i32 = 64;  // cpu argument stale at begin (the op's cpu compare)

// ---------------------------------------------------------------------------------------------
// Per-thread record, THREAD_REC_SIZE bytes, 128-aligned, one per thread slot.
// [0, 64): the thread's own struct rseq area (registered by default).
// Line 0 after the area: words the thread's fast path reads/writes (thread-private, plain).
export const T_AREA: i32 = 64;        // usize: registered struct rseq; own area when unregistered
export const T_SEQP: i32 = 68;        // usize: &CPU_SEQ of the owned vCPU, 0 while not owning
export const T_INJECT: i32 = 72;      // i32: nonzero = injection points call the host
export const T_COMMITS: i32 = 80;     // u64: committed sections (thread-private plain adds)
export const T_ABORTS: i32 = 88;      // u64: sections that returned -1
export const T_MISMATCH: i32 = 96;    // u64: aborts at the cpu compare (stale cpu argument)
export const T_SCRATCH: i32 = 104;    // 16 bytes: out-parameters of list pop / memcpy pop
// Line 1: kernel-private control words (host only, atomics).
export const T_STATE: i32 = 128;      // i32 THREAD_*
export const T_VCPU: i32 = 132;       // i32 owned vCPU or -1
export const T_GRANT: i32 = 136;      // i32 vCPU handed to this waiter, -1 none (futex word)
export const T_CID: i32 = 140;        // i32 mm_cid while owning, -1
export const T_LAST_CPU: i32 = 144;   // i32 last vCPU owned (affinity), -1
export const T_LAST_CID: i32 = 148;
export const T_REG_LEN: i32 = 152;    // u32 registered rseq_len, 0 = not registered
export const T_REG_SIG: i32 = 156;    // u32 registered signature
export const T_EVENTS: i32 = 160;     // u32 REQ_* bits handled since the last abort accounting
export const T_FAULT: i32 = 164;      // i32 nonzero once the thread faulted (SIGSEGV)
export const T_PID: i32 = 168;        // i32 worker threadId (diagnostics)
export const T_NEXT: i32 = 172;       // i32 FIFO queue link (slot + 1, 0 = none)
// Line 2: statistics kept by the slow path (host), atomics.
export const T_SLOWPATHS: i32 = 256;  // u32
export const T_PREEMPTED: i32 = 260;  // u32 requests acted on, by cause
export const T_MIGRATED: i32 = 264;   // u32 vCPU actually changed
export const T_SIGNALLED: i32 = 268;
export const T_FENCED: i32 = 272;
export const T_YIELDS: i32 = 276;
export const T_SLEEPS: i32 = 280;
export const T_WAITS: i32 = 284;      // times it queued for a vCPU
export const T_ABORT_BY: i32 = 288;   // u32[8]: aborts by cause bit index (REQ_* order)
export const THREAD_REC_SIZE: i32 = 384;

export const THREAD_FREE: i32 = 0;
export const THREAD_LIVE: i32 = 1;
export const THREAD_DEAD: i32 = 2;

// ---------------------------------------------------------------------------------------------
// Slow-path reasons (argument of the host import "slow").
export const SLOW_BEGIN: i32 = 0;     // not owning a vCPU, or a request is pending
export const SLOW_ABORT: i32 = 1;     // the commit check failed
export const SLOW_PARK: i32 = 2;      // release the vCPU (blocking, task end)

/** Index modes of the per-CPU operations (librseq's enum rseq_percpu_mode). */
export const PERCPU_CPU_ID: i32 = 0;
export const PERCPU_MM_CID: i32 = 1;
/** Memory orders accepted for the commit store (librseq's enum rseq_mo). */
export const MO_RELAXED: i32 = 0;
export const MO_RELEASE: i32 = 3;

/** Injection points, after param_test's -1..-9. */
export const INJECT_POINTS: i32 = 9;

// (bench: provisional, merged with the ABI branch)
// Layouts of the library's structures, as assembly/percpu/list.ts, buffer.ts, memcpy.ts and
// assembly/atomic/mpmc.ts use them today, so that host code (bench/layout.ts) reads them here.
/** List node (percpu/list.ts, atomic/treiber.ts): 0 data (isize) | 4 next (usize). */
export const NODE_DATA: i32 = 0;
export const NODE_NEXT: i32 = 4;
export const NODE_SIZE: i32 = 8;
/** Pointer buffer (percpu/buffer.ts): 0 offset (i32) | 4 buflen (i32) | 8.. usize array. */
export const BUF_OFFSET: i32 = 0;
export const BUF_LEN: i32 = 4;
export const BUF_ARRAY: i32 = 8;
/** memcpy buffer (percpu/memcpy.ts): 0 offset (i32) | 4 buflen (i32) | 8 item size (i32) | 16.. items. */
export const MBUF_OFFSET: i32 = 0;
export const MBUF_LEN: i32 = 4;
export const MBUF_ITEM: i32 = 8;
export const MBUF_ARRAY: i32 = 16;
/** MPMC queue (atomic/mpmc.ts): hot words on their own lines, then cells (sequence u32 | payload). */
export const MPMC_ENQ: i32 = 0;
export const MPMC_DEQ: i32 = 128;
export const MPMC_MASK: i32 = 256;
export const MPMC_CELL_SIZE: i32 = 260;
export const MPMC_CELLS: i32 = 384;
export const MPMC_PAYLOAD: i32 = 8;
/** A global spinlock word with its padding: what it protects starts LOCK_SIZE bytes after it. */
export const LOCK_SIZE: i32 = 8;
