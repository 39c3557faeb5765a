// The shared-memory ABI: every offset, size and constant of wasm-rseq's memory, and nothing else.
// This file is the ONE source of truth for the layout. The build turns the core module's exports
// into the host's typed constants (scripts/build-wasm.mjs -> host/generated/abi.ts, so tsc checks
// every name); at load the host checks the module still has those values (host/abi.ts). No other
// file writes an offset.
// Writers and atomicity are noted per field: "owner" = the thread that owns the vCPU / record.
//
// Sections, in this order (each under a rule of dashes):
//   struct rseq · struct rseq_cs (descriptors) · header (with the scheduler and policy words) · per-vCPU
//   record · per-thread record · slow-path reasons · structure layouts (percpu/, atomic/) · object
//   table · kernel-run tracing · deterministic checking · allocator (stop_cpu, size classes, page
//   heap, caches, mempool) · time-slice extension · UMCG

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
/** vCPUs (and so mm_cids, one owner word per vCPU record: CPU_CID_OWNER). */
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
// Line 2: the owner word of mm_cid c (the record's index names the cid, not the vCPU): the thread
// slot + 1 that holds cid c, 0 = free. takeCid claims it by CAS 0 -> slot + 1 (for a waiter, the
// granter writes the waiter's slot + 1), then stores T_CID; freeCid CASes slot + 1 -> 0, then
// T_CID = -1. A thread stopped between the two (worker.terminate()) is still named here, so the
// reaper frees by this word, never by T_CID. On its own line: written by every take and release
// of cid c and read by nothing on the fast path; a thread that re-takes its last cid finds the
// line where it left it (no other thread touched it), unlike one word or bitmap all cids share.
export const CPU_CID_OWNER: i32 = 256; // i32 slot + 1 holding mm_cid <record index>, 0 = free
export const CPU_REC_SIZE: i32 = 384;

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
// Kernel-run tracing (Kernel.create({ trace }), host/kernel/trace-ring.ts): what the slow path,
// the scheduler calls around it, the supervisor and the reaper did, as events in one ring per
// thread slot plus one for the supervisor, so a dead or hung thread's events stay readable from
// the main thread. One region laid out by host/memory.ts, its address in HDR_TRACE (0: tracing
// off, and no thread looks further). Each ring has ONE writer: its thread (the supervisor for the
// last ring; the main thread writes a thread's ring only after confirming its exit). The writer
// stores an event's fields with plain stores, then publishes it by Atomics.store of TRING_COUNT;
// readers Atomics.load the count first. Event i lives at TRING_EVENTS + (i % capacity) * TEV_SIZE,
// so a full ring overwrites its oldest events: count - capacity of them were dropped.
//   control block: 0 f64 TRACE_T0 | 8 i32 TRACE_CAPACITY | 12 i32 TRACE_RINGS | ... | 128 ring 0
//   ring:          0 i32 TRING_COUNT (own line) | 128 events
//   event:   0                 8        12       16
//            +-----------------+--------+--------+
//            |ts (f64 µs)      |what    |arg     |   what = kind | (vCPU & 0xff) << 8 | aux << 16
//            +-----------------+--------+--------+   (vCPU 0xff: none); arg: kind-specific
export const HDR_TRACE: i32 = 112;         // header word: address of the trace control block, 0 = off
export const TRACE_T0: i32 = 0;            // f64 absolute ms (timeOrigin + now) events are timed from
export const TRACE_CAPACITY: i32 = 8;      // i32 events per ring
export const TRACE_RINGS: i32 = 12;        // i32 rings: thread slots + 1 (the supervisor's, last)
export const TRACE_RING_BASE: i32 = 128;   // ring 0; ring r at + r * ring bytes (TRING_EVENTS + capacity * TEV_SIZE, line-rounded)
export const TRING_COUNT: i32 = 0;         // u32 events ever written to this ring
export const TRING_EVENTS: i32 = 128;
export const TEV_TS: i32 = 0;
export const TEV_WHAT: i32 = 8;
export const TEV_ARG: i32 = 12;
export const TEV_SIZE: i32 = 16;
export const TEV_NO_CPU: i32 = 0xff;
/** Event kinds (aux / arg per kind). */
export const TEV_TAKE: i32 = 1;       // took vCPU (the event's vCPU)
export const TEV_RELEASE: i32 = 2;    // let it go; arg: commits made since TEV_TAKE
export const TEV_ABORT: i32 = 3;      // a section aborted in the slow path; aux: cause (T_ABORT_BY index)
export const TEV_ACT: i32 = 4;        // acted on requests; aux: the REQ_* bits
export const TEV_MIGRATE: i32 = 5;    // moved off the event's vCPU; arg: the vCPU it runs on now
export const TEV_YIELD: i32 = 6;      // sched_yield
export const TEV_SLEEP: i32 = 7;      // injected sleep; arg: ms
export const TEV_SLICE_GRANT: i32 = 8;  // time-slice extension granted
export const TEV_SLICE_END: i32 = 9;    // grant ended; aux: the T_SLICE_* counter offset it was counted under
export const TEV_REQUEST: i32 = 10;   // supervisor: requested on the event's vCPU; aux: REQ_* bits; arg: TEV_WHY_*
export const TEV_DEATH: i32 = 11;     // the thread's exit was confirmed (written by the main thread)
/** Why the supervisor requested (TEV_REQUEST's arg). */
export const TEV_WHY_INJECTED: i32 = 0;   // an injection rate (preempt / migrate / signal Hz)
export const TEV_WHY_SLICE: i32 = 1;      // the time slice ran out while threads wait
export const TEV_WHY_EXTENSION: i32 = 2;  // a time-slice extension grant ran out

// ---------------------------------------------------------------------------------------------
// Deterministic checking (host/check/, `wasm-rseq check`): the explorer's control block, allocated
// in the heap by the checker's main thread. Exactly one kernel thread runs at a time: the one whose
// index is in CHK_TOKEN. Every word is written by the token holder only (plain stores), except
// CHK_GEN / CHK_FINISHED (main <-> workers, Atomics + notify). Per-thread words at
// CHK_THREADS + t * CHK_THREAD_SIZE.
export const CHK_TOKEN: i32 = 0;        // i32 index of the thread that may run (Atomics + notify)
export const CHK_GEN: i32 = 128;        // i32 schedule generation: the main thread bumps it to start one
export const CHK_QUIT: i32 = 132;       // i32 1: the workers leave their loop
export const CHK_FINISHED: i32 = 256;   // i32 generation of the last finished schedule (workers -> main)
export const CHK_STATUS: i32 = 260;     // i32 CHK_OK / CHK_FAILED / CHK_DIVERGED / CHK_ERROR
export const CHK_VERIFY: i32 = 264;     // i32 what check_verify returned
export const CHK_POS: i32 = 384;        // i32 decision points passed in this schedule
export const CHK_NCHOICE: i32 = 388;    // i32 entries in CHK_CHOICES (the schedule being replayed)
export const CHK_NEXT: i32 = 392;       // i32 next entry of CHK_CHOICES to apply
export const CHK_DONE: i32 = 396;       // i32 threads that finished their operations
export const CHK_SWITCHES: i32 = 400;   // i32 non-continue decisions taken
export const CHK_NEVENT: i32 = 404;     // i32 entries in CHK_EVENTS (only with CHK_TRACING)
export const CHK_TRACING: i32 = 408;    // i32 1: record events for --trace
export const CHK_NTHREADS: i32 = 412;   // i32 threads in the check
export const CHK_SETUP: i32 = 416;      // i32 1 once check_setup ran in this schedule
export const CHK_THREADS: i32 = 512;    // per-thread words
export const CHK_THREAD_SIZE: i32 = 32;
export const CHK_T_STEP: i32 = 0;       // i32 operations done
export const CHK_T_WANT: i32 = 4;       // i32 1 while the thread holds no vCPU and needs one to go on
export const CHK_T_PREFER: i32 = 8;     // i32 vCPU it prefers when it takes one (-1 none)
export const CHK_T_PENDING: i32 = 12;   // i32 deferred decision for its next checkpoint (CHK_PEND_*)
export const CHK_T_PHASE: i32 = 16;     // i32 CHK_PH_*: where it is in its section
export const CHK_T_SEQP: i32 = 20;      // i32 sequence word its section snapshotted
export const CHK_T_DONE: i32 = 24;      // i32 1 once its operations are done
export const CHK_PEND_NONE: i32 = 0;
export const CHK_PEND_HANDOFF: i32 = 1; // + (target << 8): release the vCPU to thread target
export const CHK_PEND_MIGRATE: i32 = 2;
export const CHK_PH_OUT: i32 = 0;       // outside a section (or after its commit)
export const CHK_PH_BEGUN: i32 = 1;     // rseq_cs stored, sequence not yet snapshotted
export const CHK_PH_IN: i32 = 2;        // snapshotted: preparing
export const CHK_PH_CHECKED: i32 = 3;   // commit check read: the next store to data commits
export const CHK_OK: i32 = 0;
export const CHK_FAILED: i32 = 1;
export const CHK_DIVERGED: i32 = 2;
export const CHK_ERROR: i32 = 3;
export const CHK_CHOICES: i32 = 8192;   // i32 pairs (decision index, CHK_C_* code), CHK_MAX_CHOICES of them
export const CHK_MAX_CHOICES: i32 = 64;
export const CHK_ALTS: i32 = 9216;      // per decision point: i32 alternatives mask | thread << 24
export const CHK_MAX_POINTS: i32 = 16384;
export const CHK_EVENTS: i32 = 75776;   // trace events, CHK_EVENT_SIZE each: i32 kind, thread, cpu, arg
export const CHK_EVENT_SIZE: i32 = 16;
export const CHK_MAX_EVENTS: i32 = 16384;
export const CHK_SIZE: i32 = 337920;    // CHK_EVENTS + CHK_MAX_EVENTS * CHK_EVENT_SIZE
/** Decision codes: 0 continue; 1 + u switch to thread u (both go on in parallel); 1 + MAX + u
 *  preempt: this section is doomed and u runs (on this vCPU if it needs one); then migrate, signal. */
export const CHK_C_SWITCH: i32 = 1;
export const CHK_C_PREEMPT: i32 = 9;
export const CHK_C_MIGRATE: i32 = 17;
export const CHK_C_SIGNAL: i32 = 18;
export const CHK_MAX_THREADS: i32 = 8;
/** Trace event kinds. */
export const CHK_EV_BEGIN: i32 = 1;
export const CHK_EV_COMMIT: i32 = 2;
export const CHK_EV_ABORT: i32 = 3;
export const CHK_EV_REQUEST: i32 = 4;
export const CHK_EV_MIGRATE: i32 = 5;
export const CHK_EV_RUN: i32 = 6;
export const CHK_EV_OP: i32 = 7;
export const CHK_EV_OP_END: i32 = 8;
export const CHK_EV_TAKE: i32 = 9;
export const CHK_EV_RELEASE: i32 = 10;

// ---------------------------------------------------------------------------------------------
// Allocator (assembly/alloc/, host/alloc/): a size-class allocator over a region the host carves
// from the heap (kernel.allocator), with four interchangeable front ends on one back end.
//
// Stopping a vCPU (tcmalloc's StopCpu + FenceCpu; host imports wasm-rseq@1.stop_cpu / start_cpu):
// a word in the per-vCPU record (line 0), the stopper's thread slot + 1, 0 = running. Written under
// SCHED_LOCK by the stopper; while it is set the scheduler assigns the vCPU to nobody, and its owner
// releases it at its next checkpoint (the stopper's request forces one). stop_cpu returns once the
// vCPU is owned by nobody: no section on it can commit until start_cpu.
export const CPU_STOP: i32 = 24;
/** Header word: address of the allocator's control block (0: no allocator laid out). */
export const HDR_ALLOC: i32 = 116;

/** Front ends (ALLOC_FRONT). */
export const FRONT_VCPU: i32 = 0;     // per-vCPU slabs indexed by cpu_id (rseq sections)
export const FRONT_MMCID: i32 = 1;    // the same slabs indexed by mm_cid
export const FRONT_THREAD: i32 = 2;   // per-thread caches in the thread's own block (plain)
export const FRONT_CENTRAL: i32 = 3;  // none: every operation on the central lists

// Size classes (computed, no tables): class 0 = 8 bytes; classes 1..8 = 16..128 by 16; then four
// classes per power of two up to ALLOC_MAX_SMALL: (2^k, 2^(k+1)] in steps of 2^(k-2). Larger
// requests are whole pages straight from the page heap.
export const ALLOC_NCLASS: i32 = 29;
export const ALLOC_MAX_SMALL: i32 = 4096;
export const ALLOC_PAGE: i32 = 4096;
export const ALLOC_PAGE_SHIFT: i32 = 12;
/** A small span holds at least this many objects (span pages = ceil(size * N / PAGE)). */
export const ALLOC_SPAN_OBJECTS: i32 = 8;
/** Slots per (cache, class): the hard bound; the capacity in force is ALLOC_CLASS_BYTES / size clamped. */
export const ALLOC_SLOT_MAX: i32 = 128;
export const ALLOC_SLOT_MIN: i32 = 8;
/** Objects moved per central transfer at most (the staging buffer's entries). */
export const ALLOC_BATCH_MAX: i32 = 64;

// Control block, at the region's start (one line of parameters, then hot words on own lines):
export const ALLOC_FRONT: i32 = 0;        // i32 FRONT_*
export const ALLOC_CHECKED: i32 = 4;      // i32 1: double-free / foreign-pointer checks (bitmap)
export const ALLOC_PAGES_BASE: i32 = 8;   // usize first page (ALLOC_PAGE-aligned)
export const ALLOC_NPAGES: i32 = 12;      // i32 pages
export const ALLOC_PAGEMAP: i32 = 16;     // usize u32 per page: kind | span first page << 8
export const ALLOC_SPANLEN: i32 = 20;     // usize u32 per page: pages of the span starting there
export const ALLOC_LIVEBITS: i32 = 24;    // usize checked mode: 1 bit per 8 heap bytes, set while handed out
export const ALLOC_SLABS: i32 = 28;       // usize slab 0 (per-vCPU / per-mm_cid caches)
export const ALLOC_NSLABS: i32 = 32;      // i32 slabs (= vCPUs)
export const ALLOC_TBLOCKS: i32 = 36;     // usize thread slot 0's block (staging + per-thread cache)
export const ALLOC_NTBLOCKS: i32 = 40;    // i32 thread slots with a block
export const ALLOC_CENTRAL: i32 = 44;     // usize central list of class 0 (one line per class)
export const ALLOC_CLASS_BYTES: i32 = 48; // i32 cache capacity per (cache, class) in bytes
export const ALLOC_PAGEBITS: i32 = 52;    // usize page heap: 1 bit per page, set while in a span
export const ALLOC_PAGE_LOCK: i32 = 128;  // i32 spinlock of the page heap (own line)
export const ALLOC_HW: i32 = 132;         // i32 high-water mark, pages (under the page lock)
export const ALLOC_USED: i32 = 136;       // i32 pages in spans now (under the page lock)
export const ALLOC_LARGE: i32 = 140;      // i32 large spans live (under the page lock)
export const ALLOC_CTRL_SIZE: i32 = 256;

// Page map entry: bits 0..7 kind, bits 8..31 the span's first page.
export const PAGE_FREE: i32 = 0;          // kind 0: not in a span; 1..NCLASS: small span of class kind-1
export const PAGE_LARGE: i32 = 255;       // a large allocation's span

// Central free list of a class, one line each: objects linked through their first word.
export const CL_LOCK: i32 = 0;            // i32 spinlock: 0 free, 1 held
export const CL_HEAD: i32 = 4;            // usize first free object, 0 = empty
export const CL_COUNT: i32 = 8;           // i32 objects on the list
export const CL_CARVED: i32 = 12;         // i32 objects ever carved from spans (all owned by someone)
export const CL_SPANS: i32 = 16;          // i32 spans carved
export const CL_SIZE: i32 = 128;

// Cache (a slab of the per-vCPU / per-mm_cid front end, or a thread's cache), CACHE_SIZE bytes:
//   0 .. 4*NCLASS      i32 count per class: entries in use, the committing store of push and pop
//   CACHE_SLOTS ..     per class ALLOC_SLOT_MAX usize slots; [0, count) hold free objects
// Push: rseq_load_cbne_store_store (speculative slot store, commit count + 1); pop:
// rseq_load_cbne_load_cbne_store (count and the slot read unchanged, commit count - 1); batches:
// rseq_load_cbne_memcpy_store (copy in or out, commit the count).
export const CACHE_COUNTS: i32 = 0;
export const CACHE_SLOTS: i32 = 128;
export const CACHE_CLASS_BYTES: i32 = ALLOC_SLOT_MAX * PTR_SIZE;
export const CACHE_SIZE: i32 = CACHE_SLOTS + ALLOC_NCLASS * CACHE_CLASS_BYTES;

// Thread block: the thread's staging buffer (batches in flight) and its per-thread cache.
export const TB_STAGING: i32 = 0;         // ALLOC_BATCH_MAX usize
export const TB_ERROR: i32 = 256;         // i32 last error code (checked mode), u32 pointer at +4
export const TB_CACHE: i32 = 384;
export const TB_SIZE: i32 = TB_CACHE + CACHE_SIZE;

/** Results of rseq_free (and error codes of the checked mode). */
export const ALLOC_OK: i32 = 0;
export const ALLOC_ERR_FOREIGN: i32 = -2;     // not an object of this heap (or not its start)
export const ALLOC_ERR_DOUBLE_FREE: i32 = -3; // freed while not handed out
export const ALLOC_ERR_DUPLICATE: i32 = -4;   // handed out while already handed out (allocator bug)

// Per-vCPU memory pool (assembly/alloc/mempool.ts, librseq's rseq_mempool): fixed-size items, each
// present once per vCPU, vCPU c's copy of an item at item + c * stride. One allocation or free acts
// on every vCPU at once. The ranges (stride x vCPUs) and this control block come from the kernel's
// allocator; free items are linked through their vCPU-0 copy. All fields under MP_LOCK.
export const MP_LOCK: i32 = 0;       // i32 spinlock
export const MP_ITEM: i32 = 4;       // i32 item bytes (a power of two, >= 8, <= stride)
export const MP_STRIDE: i32 = 8;     // i32 bytes per vCPU (a power of two, >= ALLOC_PAGE)
export const MP_NCPUS: i32 = 12;     // i32 vCPUs with a range
export const MP_BASE: i32 = 16;      // usize vCPU 0's range
export const MP_CAP: i32 = 20;       // i32 items per range (stride / item)
export const MP_FREE: i32 = 24;      // usize first free item (vCPU 0's copy), 0 none
export const MP_NEXT: i32 = 28;      // i32 items ever handed out: bytes touched per vCPU = NEXT * ITEM
export const MP_LIVE: i32 = 32;      // i32 items handed out now
export const MP_SIZE: i32 = 64;

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
