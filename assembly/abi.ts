// The shared-memory ABI: every offset, size and constant of wasm-rseq's memory, and nothing else.
// This file is the ONE source of truth for the layout. The build turns the core module's exports
// into the host's typed constants (scripts/build-wasm.mjs -> host/generated/abi.ts, so tsc checks
// every name); at load the host checks the module still has those values (host/abi.ts). No other
// file writes an offset.
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
// CPU_SEQ sits mid-line, not at the line's start: per-vCPU objects are 128-aligned (allocPerCpu)
// and the pool is stride-aligned, so a counter's word would otherwise share its address bits 11:0
// with the sequence word. A store to one then delays the next load of the other ("4K aliasing": the
// CPU cannot tell them apart until the full addresses resolve), and every rseq add pays for it.
export const CPU_SEQ: i32 = 64;       // u32; even = no request; supervisor CAS even->odd, owner odd->even
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

// ---------------------------------------------------------------------------------------------
// Structure layouts: the objects of the per-vCPU structures (percpu/*.ts) and their atomic / lock
// baselines (atomic/*.ts), as the host lays them out and reads them back (param-test, bench).
// All words are plain i32 / usize (wasm32: 4 bytes) unless noted; the rseq sections or the lock
// that own a structure are its only writers once the threads run.
//
/** Bytes of a usize (a pointer in shared memory: list heads, buffer entries, node links); wasm32. */
export const PTR_SIZE: i32 = 4;

// List node (percpu/list.ts, atomic/treiber.ts, atomic/locked.ts), anywhere in shared memory;
// a list is one usize head pointer (per vCPU, or one global), 0 = empty:
//   0        4        8
//   +--------+--------+
//   |data    |next    |      data: isize, written before the node is pushed, read-only after
//   +--------+--------+      next: usize node address, 0 = end; written by the pushing section
export const NODE_DATA: i32 = 0;
export const NODE_NEXT: i32 = 4;
export const NODE_SIZE: i32 = 8;

// Pointer buffer (percpu/buffer.ts, atomic/locked.ts), used as a stack:
//   0        4        8                                    8 + BUF_ENTRY * buflen
//   +--------+--------+--------+--------+-- ... --+--------+
//   |offset  |buflen  |array[0]|array[1]|         |        |
//   +--------+--------+--------+--------+-- ... --+--------+
// offset: i32 entries in use, the commit store of push and pop. buflen: i32 capacity, set up by
// the host. array: usize items, [0, offset) live; a push stores its slot speculatively first.
export const BUF_OFFSET: i32 = 0;
export const BUF_LEN: i32 = 4;
export const BUF_ARRAY: i32 = 8;
/** Bytes of one array entry (a usize item). */
export const BUF_ENTRY: i32 = PTR_SIZE;

// memcpy buffer (percpu/memcpy.ts, atomic/locked.ts): a stack of fixed-size items copied in and out.
//   0        4        8        16                        16 + item * buflen
//   +--------+--------+--------+----+--------+-- ... --+
//   |offset  |buflen  |item    |pad |item 0  |         |
//   +--------+--------+--------+----+--------+-- ... --+
// offset: i32 items in use, the commit store. buflen: i32 capacity and item: i32 bytes per item,
// both set up by the host. Items start 8-aligned at MBUF_ARRAY.
export const MBUF_OFFSET: i32 = 0;
export const MBUF_LEN: i32 = 4;
export const MBUF_ITEM: i32 = 8;
export const MBUF_ARRAY: i32 = 16;

// The 16-byte item param-test (-T m) and the bench copy through memcpy buffers and queues:
//   0        4        8                16
//   +--------+--------+----------------+
//   |data1   |pad     |data2 (i64)     |      param-test: i32 j and i64 j + 1;
//   +--------+--------+----------------+      bench: i64 value (over data1 and pad), i64 check word
export const MITEM_DATA1: i32 = 0;
export const MITEM_DATA2: i32 = 8;
export const MITEM_SIZE: i32 = 16;

// Bounded MPMC queue (atomic/mpmc.ts, Vyukov's array queue), each hot word on its own LINE:
//   0          128        256    260        384
//   +----------+----------+------+----------+--------+--------+-- ...
//   |enq (u32) |deq (u32) |mask  |cell size |cell 0  |cell 1  |
//   +----------+----------+------+----------+--------+--------+-- ...
//   cell: 0 sequence (u32) | MPMC_PAYLOAD.. payload (a usize item, or item-size bytes)
// enq / deq: positions, CAS by producers / consumers. mask: u32 capacity - 1 (capacity a power of
// two) and cell size: u32 bytes per cell, both set up by the host. Cell i starts with sequence i;
// the cell size is MPMC_PAYLOAD + payload rounded up to MPMC_CELL_ALIGN.
export const MPMC_ENQ: i32 = 0;
export const MPMC_DEQ: i32 = 128;
export const MPMC_MASK: i32 = 256;
export const MPMC_CELL_SIZE: i32 = 260;
export const MPMC_CELLS: i32 = 384;
export const MPMC_PAYLOAD: i32 = 8;
export const MPMC_CELL_ALIGN: i32 = 8;

// Spinlock word (percpu/spinlock.ts, atomic/spinlock.ts): one i32, 0 free, 1 held; taken by a
// section (per vCPU) or a CAS (global), released by an atomic store of 0. A lock object (bench,
// locked baselines) keeps what the lock protects on the same line, 8-aligned after the word:
//   0        4        8
//   +--------+--------+------------- ...
//   |lock    |pad     |data (i64 counter, list head, buffer, ...)
//   +--------+--------+------------- ...
export const LOCK_SIZE: i32 = 4;
export const LOCK_DATA: i32 = 8;
/** A per-vCPU counter slot (percpu/counter.ts): one i64, added to by rseq sections. */
export const COUNTER_SIZE: i32 = 8;

// ---------------------------------------------------------------------------------------------
// Object table: named per-vCPU objects used from JavaScript (host/objects/). One region laid out by
// host/memory.ts (its address in the header word HDR_OBJ_TABLE). Written only by the main thread:
// an entry's fields first, then OBJ_LIVE (Atomics.store), then OBJ_TABLE_COUNT; workers read them
// with Atomics.load when they look an object up by name, never on an operation's hot path.
export const HDR_OBJ_TABLE: i32 = 120;     // header word: address of the object table
export const OBJ_MAX: i32 = 64;            // entries (destroyed ones are not reused until a reset)
export const OBJ_TABLE_COUNT: i32 = 0;     // i32 entries in use, on the table's first line
export const OBJ_TABLE_ENTRIES: i32 = 128; // entry 0; entry i at + i * OBJ_ENTRY_SIZE
export const OBJ_ENTRY_SIZE: i32 = 128;
export const OBJ_LIVE: i32 = 0;            // i32 token, nonzero while the object lives; 0 destroyed
export const OBJ_KIND: i32 = 4;            // i32 OBJ_KIND_*
export const OBJ_HASH: i32 = 8;            // u32 FNV-1a of the UTF-8 name
export const OBJ_NAME_LEN: i32 = 12;       // i32 bytes of the name
export const OBJ_BASE: i32 = 16;           // i32 cpu 0's copy in the per-vCPU pool
export const OBJ_SIZE: i32 = 20;           // i32 bytes of one vCPU's copy
export const OBJ_STRIDE: i32 = 24;         // i32 bytes between vCPU copies (the pool stride)
export const OBJ_SHARD: i32 = 28;          // i32 the main-thread shard (heap), laid out as one copy
export const OBJ_DATA: i32 = 32;           // i32 shared data in the heap (block pool control), 0 none
export const OBJ_DATA_SIZE: i32 = 36;      // i32
export const OBJ_PARAM0: i32 = 40;         // f64 kind-specific parameters (below)
export const OBJ_PARAM1: i32 = 48;         // f64
export const OBJ_PARAM2: i32 = 56;         // i32
export const OBJ_PARAM3: i32 = 60;         // i32
export const OBJ_NAME: i32 = 64;           // UTF-8 name bytes
export const OBJ_NAME_MAX: i32 = 64;
export const OBJ_KIND_COUNTER: i32 = 1;
export const OBJ_KIND_HISTOGRAM: i32 = 2;
export const OBJ_KIND_BLOCK_POOL: i32 = 3;
// Counter copy (one line): the f64 value, written by the vCPU's owner with one plain store.
export const CTR_VALUE: i32 = 0;
export const CTR_SIZE: i32 = 128;
// Histogram copy: f64 count, sum, min, max, then f64 bucket counts. PARAM0 lowest, PARAM1 highest
// (f64), PARAM2 sub-bucket bits, PARAM3 bucket count. Committed by plain stores after the check.
export const HIST_COUNT: i32 = 0;
export const HIST_SUM: i32 = 8;
export const HIST_MIN: i32 = 16;
export const HIST_MAX: i32 = 24;
export const HIST_BUCKETS: i32 = 32;
// Block pool copy: i32 cached blocks, then i32 block indices (a stack). PARAM0 block size, PARAM1
// blocks (f64), PARAM2 cache capacity per vCPU, PARAM3 address of the block storage (heap).
// Its OBJ_DATA: a central stack under a spinlock, and each block's state (Atomics, off the fast path).
export const BP_COUNT: i32 = 0;
export const BP_SLOTS: i32 = 128;
export const BPD_LOCK: i32 = 0;            // i32 spinlock word (Atomics.compareExchange)
export const BPD_TOP: i32 = 4;             // i32 blocks on the central stack (under the lock)
export const BPD_STATE: i32 = 128;         // i32 per block: 0 free, 1 handed out (Atomics CAS on release)

// ---------------------------------------------------------------------------------------------
// rseq time-slice extension (Linux 7.0; host/kernel/slice.ts). struct rseq_slice_ctrl sits at
// RSEQ_SLICE_CTRL (byte 28): `request` (u8, set by user space, cleared by user space or the kernel)
// and `granted` (u8, set and cleared by the kernel only: a thread that sets it faults).
//   28        29        30
//   +---------+---------+------------------+
//   |request  |granted  |__reserved (u16)  |
//   +---------+---------+------------------+
// All of it is written by the thread itself or by its own kernel calls (the emulated kernel runs
// on the thread): plain byte / word stores, as the kernel's "strictly CPU local" protocol.
export const RSEQ_SLICE_REQUEST: i32 = 28;
export const RSEQ_SLICE_GRANTED: i32 = 29;
/** slice_ctrl.all when the kernel grants: request 0, granted 1. */
export const RSEQ_SLICE_ALL_GRANTED: i32 = 0x100;
/** Bits of struct rseq::flags (user read-only): the extension is available / enabled for this thread. */
export const RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE: i32 = 0x10;
export const RSEQ_CS_FLAG_SLICE_EXT_ENABLED: i32 = 0x20;
/** prctl(PR_RSEQ_SLICE_EXTENSION, PR_RSEQ_SLICE_EXTENSION_SET | _GET, PR_RSEQ_SLICE_EXT_ENABLE, 0, 0). */
export const PR_RSEQ_SLICE_EXTENSION: i32 = 79;
export const PR_RSEQ_SLICE_EXTENSION_GET: i32 = 1;
export const PR_RSEQ_SLICE_EXTENSION_SET: i32 = 2;
export const PR_RSEQ_SLICE_EXT_ENABLE: i32 = 1;
/** debugfs rseq/slice_ext_nsec: default 5 µs (the minimum), at most 50 µs (emulated time). */
export const SLICE_EXT_NSEC_DEFAULT: i32 = 5000;
export const SLICE_EXT_NSEC_MIN: i32 = 5000;
export const SLICE_EXT_NSEC_MAX: i32 = 50000;
// Per-thread record, after T_ABORT_BY: the kernel's slice state of the thread (written by the
// thread's own kernel calls; T_SLICE_DEADLINE also read by the supervisor, which enforces it).
export const T_SLICE: i32 = 320;          // i32 SLICE_* bits
export const T_SLICE_DEADLINE: i32 = 328; // f64 absolute ms (timeOrigin + now) the active grant ends; 0 none
export const T_SLICE_GRANTS: i32 = 336;   // u32 s_granted
export const T_SLICE_YIELDED: i32 = 340;  // u32 s_yielded: rseq_slice_yield inside the grant
export const T_SLICE_ABORTED: i32 = 344;  // u32 s_aborted: revoked by another syscall
export const T_SLICE_EXPIRED: i32 = 348;  // u32 s_expired: preempted when the grant ran out
export const T_SLICE_REVOKED: i32 = 352;  // u32 s_revoked: rescheduled while granted (any cause)
export const SLICE_ENABLED: i32 = 1;
export const SLICE_ACTIVE: i32 = 2;
// Scheduler policy words (after POL_ACTIVE): the extension's length and switch, written by the host
// at create (and by Kernel.setSliceExtension), read by threads when they grant.
export const POL_SLICE_EXT_NSEC: i32 = 40;  // i32 emulated ns a grant lasts
export const POL_SLICE_EXT_OFF: i32 = 44;   // i32 1: disabled ("rseq_slice_ext=off": prctl answers ENOTSUPP)
export const POL_SLICE_EXT_SCALE: i32 = 48; // f64 real ns per emulated ns (a grant lasts NSEC * SCALE real ns)

// ---------------------------------------------------------------------------------------------
// UMCG (User Managed Concurrency Groups) after Zijlstra's RFC v2 (20 Jan 2022; host/kernel/umcg.ts).
// struct umcg_task, one per registered thread, anywhere in shared memory, UMCG_TASK_ALIGN-aligned:
//   0        4         8          12      16            24             32                     40     64
//   +--------+---------+----------+-------+-------------+--------------+----------------------+------+
//   |state   |next_tid |server_tid|hole   |blocked_ts   |runnable_ts   |runnable_workers_ptr  |zero  |
//   +--------+---------+----------+-------+-------------+--------------+----------------------+------+
// state: r/w by user and kernel (atomics: the kernel's transitions are CAS). next_tid: set by a
// server before umcg_wait; the kernel ORs in UMCG_TID_RUNNING when it switched to it. server_tid:
// the worker's server (a server names itself). blocked_ts / runnable_ts: u64 ns, kernel-written.
// runnable_workers_ptr: a server's list head / a worker's next link (the low 32 bits: wasm32
// addresses), pushed by the kernel with a CAS, drained by the server with an exchange.
// tid = thread slot + 1.
export const UMCG_STATE: i32 = 0;
export const UMCG_NEXT_TID: i32 = 4;
export const UMCG_SERVER_TID: i32 = 8;
export const UMCG_HOLE: i32 = 12;
export const UMCG_BLOCKED_TS: i32 = 16;
export const UMCG_RUNNABLE_TS: i32 = 24;
export const UMCG_RUNNABLE_WORKERS_PTR: i32 = 32;
export const UMCG_ZERO: i32 = 40;
export const UMCG_TASK_SIZE: i32 = 64;
export const UMCG_TASK_ALIGN: i32 = 64;
export const UMCG_TASK_NONE: i32 = 0;
export const UMCG_TASK_RUNNING: i32 = 1;
export const UMCG_TASK_RUNNABLE: i32 = 2;
export const UMCG_TASK_BLOCKED: i32 = 3;
export const UMCG_TASK_MASK: i32 = 0xff;
export const UMCG_TF_PREEMPT: i32 = 0x100;
export const UMCG_TF_COND_WAIT: i32 = 0x200;
export const UMCG_TF_MASK: i32 = 0xff00;
export const UMCG_TID_RUNNING: i32 = 0x80000000;
export const UMCG_TID_MASK: i32 = 0x3fffffff;
export const UMCG_CTL_REGISTER: i32 = 0x1;
export const UMCG_CTL_UNREGISTER: i32 = 0x2;
export const UMCG_CTL_WORKER: i32 = 0x10000;
// Per-thread record: the kernel's UMCG state of the thread (after the slice words).
export const T_UMCG_TASK: i32 = 356;  // usize: registered struct umcg_task, 0 none
export const T_UMCG_ROLE: i32 = 360;  // i32 UMCG_ROLE_*
export const T_UMCG_LOCK: i32 = 364;  // i32 a server's list lock (spin, CAS 0 -> 1)
export const UMCG_ROLE_NONE: i32 = 0;
export const UMCG_ROLE_SERVER: i32 = 1;
export const UMCG_ROLE_WORKER: i32 = 2;
/** T_GRANT value a hand-off leaves when the hander owned no vCPU: take one the usual way. */
export const GRANT_ACQUIRE: i32 = -2;
