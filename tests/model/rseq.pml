/*
 * rseq.pml -- SPIN model of the wasm-rseq emulated kernel's vCPU
 * ownership / sequence protocol.
 *
 * What is modelled (see README.md in this directory):
 *   - NCPU vCPUs, each with owner[c] (0 = free, else thread id 1..NTHR),
 *     seq[c] (monotone counter: even = no request pending, odd = pending;
 *     a FREE vCPU always has an odd seq) and request[c] (bit mask).
 *   - The global scheduler lock `lk`, the FIFO wait queue q[] of threads
 *     waiting for a vCPU, per-thread grant words + futex-style sleep/wake,
 *     and mm_cid allocation, all under the lock.
 *   - NTHR worker threads, each running N rseq critical sections
 *     ("increment data[cpu]") with begin / optional mid-section yield /
 *     commit check / single committing store, the slow path, and parking.
 *   - A supervisor issuing up to MAXREQ requests (preempt / migrate /
 *     signal) at any time, a membarrier-style fence on one vCPU, and the
 *     death of (at most) one thread at any point followed by a reaper.
 *
 * Compile-time switches (spin -DNAME / cpp):
 *   NCPU, NTHR, N, MAXREQ, MAXYIELD   sizes (defaults below)
 *   NOKILL                            no thread death (smaller run)
 *   NOFENCE                           no membarrier fence process
 *   BROKEN          commit without comparing seq to s0      (must FAIL)
 *   BROKEN_RELEASE  release does not make seq odd           (must FAIL)
 *   BROKEN_REREQ    slow path does not self re-request      (must FAIL)
 *   BROKEN_WAKE     futex wake before the grant word store  (must FAIL,
 *                   as an invalid end state = lost wake-up)
 *   BROKEN_FENCE    the fence returns without waiting       (must FAIL)
 *   BROKEN_ACQ      a new owner bumps seq odd->even directly, without
 *                   the slow path's exchange/re-check       (must FAIL)
 *   SPLIT_CAS       request CAS as load + one CAS attempt (see below)
 *
 * Variants mirroring host/kernel/sched.ts as of writing (see README):
 *   IMPL_RELEASE    release: plain load, then Atomics.add if it was even
 *                   (races the request CAS: seq can end up EVEN on a
 *                   free vCPU)                    (parity check FAILS)
 *   IMPL_TOOK       new owner: exchange(request, 0), seq += 1, no
 *                   re-check (a request merged in between is stranded
 *                   under an even seq)            (no-stranding FAILS)
 *   TOOK_RECHECK    with IMPL_TOOK: re-request like stay() (passes)
 *   NO_PARITY       drop the parity assertions (checks that the data
 *                   properties survive IMPL_RELEASE)
 *   DIE_LOCKED      a thread may also die while holding the scheduler
 *                   lock, as worker.terminate() allows (deadlock: FAILS)
 *
 * Every check is an assert() or an invalid end state (deadlock), so a
 * plain safety run (pan without -E) checks everything; the non-progress
 * run (spin -DNP ... pan -l -f) additionally shows that no execution
 * loops forever.
 */

#ifndef NCPU
#define NCPU 1
#endif
#ifndef NTHR
#define NTHR 2
#endif
#ifndef N
#define N 2            /* increments per thread */
#endif
#ifndef MAXREQ
#define MAXREQ 1       /* supervisor requests (preempt/migrate/signal) */
#endif
#ifndef MAXYIELD
#define MAXYIELD 1     /* mid-section yields (injection points), global */
#endif

#define NONE    255
#define REAPER  (NTHR + 1)   /* lock id of the reaper */

/* request bits */
#define PREEMPT 1
#define MIGRATE 2
#define SIGNAL  4
#define FENCE   8

#define ODD(x)  (((x) & 1) == 1)
#define EVEN(x) (((x) & 1) == 0)

/* ------------------------------------------------------------------ */
/* Shared state of the emulated kernel (the SharedArrayBuffer).        */
/* ------------------------------------------------------------------ */
byte owner[NCPU];            /* 0 = free, else thread id                */
byte seq[NCPU] = 1;          /* free vCPUs start with an odd seq        */
byte request[NCPU];          /* pending request bits                    */
byte data[NCPU];             /* the per-vCPU counter the sections bump  */

byte lk;                     /* scheduler lock: 0 = free, else holder   */
byte q[NTHR];                /* FIFO wait queue (thread ids)            */
byte qlen;
byte grant[NTHR + 1] = NONE; /* grant word per thread (vCPU or NONE)    */
bool sleeping[NTHR + 1];     /* futex: thread blocked on its grant word */
byte cid[NTHR + 1] = NONE;   /* mm_cid of the thread (while owner)      */
byte cidmask;                /* allocated mm_cids                       */

/* Thread-side state. mycpu[t] is what thread t BELIEVES it owns (the
 * cpu_id field of its rseq area); kept global so the monitor can see it. */
byte mycpu[NTHR + 1] = NONE;
bool alive[NTHR + 1] = true;
bool running[NTHR + 1] = true;   /* not yet finished normally           */
byte commits[NTHR + 1];          /* commits each thread counted         */
byte nfinished;                  /* threads that finished or died       */

byte victim;                     /* 0 = nobody dies                      */
bool reaped;                     /* the reaper is done                   */
byte yields;                     /* injection-point yields used          */

/* ------------------------------------------------------------------ */
/* Ghost state (only for stating properties).                           */
/* ------------------------------------------------------------------ */
byte phase[NTHR + 1];    /* 0 = not in a section, 1 = in section (s0 read),
                            2 = commit check passed, store pending       */
byte cpu0[NTHR + 1];     /* cpu_at_begin of the current section          */
bool stale[NTHR + 1];    /* a request hit this section in phase 1        */
bool fencewait[NTHR + 1];/* the fence's request hit this section          */
bool fence_returned;
bool posted[NCPU];       /* a supervisor request is posted (bits set and
                            seq CAS attempted) and not yet consumed      */
bool before[(NTHR + 1) * (NTHR + 1)]; /* FIFO: before[a*(NTHR+1)+b] <=>
                            a joined the queue before b (both queued)    */
#define BEFORE(a, b) before[(a) * (NTHR + 1) + (b)]

/* The ONLY write to seq[]: +1. So seq never decreases (the assertion
 * also guards the byte against wrap-around). */
inline SEQBUMP(c) {
  assert(seq[c] < 250);
  seq[c] = seq[c] + 1
}


/* Parity assertions (free => odd, the new owner / acknowledger finds an
 * odd seq). -DNO_PARITY drops them, to see whether a variant that breaks
 * the parity invariant (IMPL_RELEASE) also breaks the data properties. */
#ifdef NO_PARITY
#define PARITY(x) true
#else
#define PARITY(x) (x)
#endif

/* IMPL_RELEASE: the release's "if seq even, seq += 1" is a plain load
 * then an atomic add (host/kernel/sched.ts releaseLocked), so a request
 * CAS can land in between. RELEASE_LOAD ends the locked atomic block
 * after the load (the lock is still held) and opens the next one. */
#ifdef IMPL_RELEASE
#define RELEASE_LOAD(c) e2 = seq[c] }; atomic {
#else
#define RELEASE_LOAD(c) skip;
#endif

/* ------------------------------------------------------------------ */
/* Invariants: asserted (INV_CHECK) after every step that changes owner[],
 * mycpu[], seq[] or mm_cids -- i.e. in every reachable state. -DMONITOR
 * adds an equivalent never claim evaluated in every state.            */
/* ------------------------------------------------------------------ */
#define BELIEF_OK(t) (!alive[t] || mycpu[t] == NONE || owner[mycpu[t]] == t)
#define FREE_ODD(c)  (owner[c] != 0 || PARITY(ODD(seq[c])))
#define CID_OK(c)    (owner[c] == 0 || (cid[owner[c]] < NCPU && (cidmask & (1 << cid[owner[c]])) != 0))

#if NTHR > 2
#define BELIEFS (BELIEF_OK(1) && BELIEF_OK(2) && BELIEF_OK(3))
#elif NTHR > 1
#define BELIEFS (BELIEF_OK(1) && BELIEF_OK(2))
#else
#define BELIEFS (BELIEF_OK(1))
#endif

#if NCPU > 1
#define CPUS (FREE_ODD(0) && FREE_ODD(1) && CID_OK(0) && CID_OK(1) && \
              (owner[0] == 0 || owner[0] != owner[1]) && \
              (owner[0] == 0 || owner[1] == 0 || cid[owner[0]] != cid[owner[1]]))
#else
#define CPUS (FREE_ODD(0) && CID_OK(0))
#endif
/* nobody waits while a vCPU is free (release hands off to the queue) */
#if NCPU > 1
#define NOIDLE (qlen == 0 || (owner[0] != 0 && owner[1] != 0))
#else
#define NOIDLE (qlen == 0 || owner[0] != 0)
#endif

#define INV_CHECK assert(BELIEFS && CPUS && NOIDLE)

/* ------------------------------------------------------------------ */
/* The scheduler lock. A locked section is modelled as an atomic block  */
/* that starts with taking the lock (`lk == 0 -> lk = id`); only the    */
/* grant-word store, the futex wake and the unlock that end a release   */
/* are separate steps (that is where a lost wake-up could hide).        */
/* ------------------------------------------------------------------ */
#define TAKE_LOCK(id)  lk == 0 -> lk = id

/* mm_cid: lowest free id, allocated/freed together with the owner[]
 * store, under the lock */
inline CIDALLOC(t) {
  k = 0;
  do
  :: (cidmask & (1 << k)) != 0 -> k++
  :: else -> break
  od;
  assert(k < NCPU);
  cid[t] = k;
  cidmask = cidmask | (1 << k);
  k = 0
}
inline CIDFREE(t) {
  cidmask = cidmask & ~(1 << cid[t]); cid[t] = NONE
}

/* ------------------------------------------------------------------ */
/* release(c) = release_body(c) (inside the locked atomic block) then   */
/* release_tail(c) (grant word, wake, unlock). Used by a parking /      */
/* yielding / migrating / preempted owner and by the reaper.            */
/*   if seq even: seq++ (CAS even->odd; if a concurrent supervisor      */
/*   request already made it odd, that is kept: merge);                 */
/*   if the queue is non-empty: dequeue the head w, owner = w, write    */
/*   w's grant word, wake w; else owner = 0.                            */
/* ------------------------------------------------------------------ */
inline release_body(c) {
  assert(lk != 0 && owner[c] != 0);
#if defined(IMPL_RELEASE)
  if :: EVEN(e2) -> SEQBUMP(c) :: else -> skip fi;   /* Atomics.add */
  e2 = 0;
#elif !defined(BROKEN_RELEASE)
  if :: EVEN(seq[c]) -> SEQBUMP(c) :: else -> skip fi;  /* CAS even->odd */
#endif
  CIDFREE(owner[c]);
  if
  :: qlen > 0 ->
       w = q[0];
       k = 0;
       do
       :: k + 1 < qlen ->
            assert(BEFORE(w, q[k + 1]));   /* FIFO: grant in join order */
            BEFORE(w, q[k + 1]) = false;
            q[k] = q[k + 1]; k++
       :: else -> break
       od;
       qlen--; q[qlen] = 0; k = 0;
       owner[c] = w;
       CIDALLOC(w)
  :: else ->
       owner[c] = 0; w = 0
  fi;
  INV_CHECK
}

inline release_tail(c) {
  if
  :: w != 0 ->
#ifdef BROKEN_WAKE
       sleeping[w] = false;                    /* wake BEFORE the grant */
       d_step { grant[w] = c; w = 0; lk = 0 }
#else
       grant[w] = c;                           /* grant word under lock */
       d_step { sleeping[w] = false; w = 0; lk = 0 }  /* wake, unlock   */
#endif
  :: else ->
       lk = 0
  fi
}

/* ------------------------------------------------------------------ */
/* acquire(): a thread without a vCPU gets one (into mycpu[me]).        */
/* Locked: take the lowest free vCPU, else append to the FIFO queue;    */
/* then (unlocked) block until the grant word is set. futex_wait        */
/* re-checks the word atomically, so a wake cannot be lost.             */
/* The new owner finds seq odd; its next begin takes the slow path,     */
/* which moves seq odd -> even (outside the lock).                      */
/* ------------------------------------------------------------------ */
inline acquire() {
  atomic {
    TAKE_LOCK(me);
    assert(cpu == NONE);
    k = 0;
    do
    :: k < NCPU && owner[k] != 0 -> k++
    :: else -> break
    od;
    if
    :: k < NCPU ->
         assert(PARITY(ODD(seq[k])));  /* invariant: free => odd */
         owner[k] = me;
         cpu = k; mycpu[me] = k;
         CIDALLOC(me)              /* (clobbers k) */
    :: else ->
         grant[me] = NONE;
         k = 0;
         do
         :: k < qlen -> BEFORE(q[k], me) = true; k++
         :: else -> break
         od;
         q[qlen] = me; qlen++
    fi;
    k = 0;
    INV_CHECK;
    lk = 0
  }
  if
  :: cpu == NONE ->
       do
       :: atomic { grant[me] != NONE ->          /* woken and granted */
            assert(owner[grant[me]] == me);
            cpu = grant[me]; mycpu[me] = cpu;
            grant[me] = NONE;
            INV_CHECK
          } -> break
       :: atomic { grant[me] == NONE -> sleeping[me] = true };  /* futex_wait */
          !sleeping[me]                                          /* until woken */
       od
  :: else -> skip
  fi;
#ifdef IMPL_TOOK
  /* host/kernel/sched.ts took(): drop the pending request bits, then
   * seq += 1 (odd -> even) -- with no re-check afterwards unless
   * TOOK_RECHECK (then it re-requests like stay()/acknowledge()). */
  atomic {   /* (atomic: the wait loop's exit jumps here) */
    r = request[cpu]; request[cpu] = 0;
    if :: r != 0 -> posted[cpu] = false :: else -> skip fi;
    r = 0
  }
  atomic { assert(PARITY(ODD(seq[cpu])) && owner[cpu] == me); SEQBUMP(cpu) }
#ifdef TOOK_RECHECK
  d_step { if :: request[cpu] != 0 && EVEN(seq[cpu]) -> SEQBUMP(cpu) :: else -> skip fi }
#endif
#endif
#ifdef BROKEN_ACQ
  /* the new owner bumps seq odd -> even at once, without exchanging the
   * request bits (or re-checking them): a request merged while the vCPU
   * was changing hands stays pending under an even seq */
  atomic { assert(ODD(seq[cpu]) && owner[cpu] == me); SEQBUMP(cpu) }
#endif
  skip
}

/* ------------------------------------------------------------------ */
/* stay(c): acknowledge -- the owner moves seq odd -> even, then        */
/* re-requests itself if new bits arrived meanwhile (no lost request).  */
/* ------------------------------------------------------------------ */
inline stay(c) {
#ifdef NO_PARITY
  d_step { assert(owner[c] == me); if :: ODD(seq[c]) -> SEQBUMP(c) :: else -> skip fi }
#else
  d_step { assert(ODD(seq[c]) && owner[c] == me); SEQBUMP(c) }
#endif
#ifndef BROKEN_REREQ
  d_step { if :: request[c] != 0 && EVEN(seq[c]) -> SEQBUMP(c) :: else -> skip fi }
#endif
}

/* ------------------------------------------------------------------ */
/* Slow path (seq odd at begin):                                        */
/*   r = exchange(request[c], 0); migrate -> release and acquire again; */
/*   preempt with waiters -> hand off to the queue head and wait;       */
/*   signal / fence / nothing (or preempt without waiters) -> stay.     */
/* ------------------------------------------------------------------ */
inline slowpath(c) {
  d_step {
    r = request[c]; request[c] = 0;
    if :: r != 0 -> posted[c] = false :: else -> skip fi
  }
  if
  :: (r & MIGRATE) != 0 ->
       atomic { TAKE_LOCK(me); r = 0; cpu = NONE; mycpu[me] = NONE; RELEASE_LOAD(c) release_body(c) }
       release_tail(c);
       acquire()
  :: (r & MIGRATE) == 0 && (r & PREEMPT) != 0 ->
       atomic {
         TAKE_LOCK(me); r = 0;
         if
         :: qlen > 0 -> cpu = NONE; mycpu[me] = NONE   /* keep the lock */
         :: else -> lk = 0
         fi
       }
       if
       :: cpu == NONE ->
            atomic { RELEASE_LOAD(c) release_body(c) }
            release_tail(c); acquire()
       :: else -> stay(c)
       fi
  :: (r & (MIGRATE | PREEMPT)) == 0 ->
       r = 0; stay(c)
  fi
}

/* ------------------------------------------------------------------ */
/* A worker thread: N critical sections "data[cpu]++", then park.       */
/* It may die at any point (the `unless` escape) except while holding   */
/* the scheduler lock.                                                   */
/* ------------------------------------------------------------------ */
proctype thread(byte me) {
  byte c0, s0, d, r, k, w, e2, done;
  byte cpu = NONE;   /* the vCPU this thread believes it owns (mirrored
                        in mycpu[me] for the invariants) */
  {
    do
    :: done < N ->
begin:
       if
       :: cpu == NONE -> acquire()
       :: else -> skip
       fi;
       /* rseq_start: cpu_at_begin = cpu; s0 = seq[cpu]; and the load of
        * the non-atomic read-modify-write (the load happens before the
        * commit check: the widest window). Not a d_step only because
        * acquire()'s loop exit jumps here. */
       atomic {
         c0 = cpu;
         s0 = seq[c0];
         if
         :: EVEN(s0) ->
              /* no request may be posted-and-unconsumed on c0 here */
              assert(!posted[c0]);
              phase[me] = 1; cpu0[me] = c0;
              stale[me] = false; fencewait[me] = false;
              d = data[c0]
         :: else -> skip
         fi
       }
       if
       :: ODD(s0) -> s0 = 0; slowpath(c0); goto begin
       :: else -> skip
       fi;
       /* injection point: the owner may yield its vCPU mid-section */
       if
       :: atomic { yields < MAXYIELD && lk == 0 -> lk = me;
            yields++; cpu = NONE; mycpu[me] = NONE; RELEASE_LOAD(c0) release_body(c0) }
          release_tail(c0);
          acquire()
       :: skip
       fi;
#ifndef BROKEN
       /* commit check: seq[cpu_at_begin] must still be s0, else abort */
       if
       :: d_step { seq[c0] != s0 -> phase[me] = 0; d = 0; s0 = 0 };
          goto begin
       :: d_step { seq[c0] == s0 -> phase[me] = 2 }
       fi;
#endif
       /* the single committing store (atomic, not d_step: with -DBROKEN
        * the yield's exits jump straight here) */
       atomic {
         assert(owner[c0] == me);                   /* store by the owner */
         assert(cpu == c0 && mycpu[me] == c0);
         assert(!stale[me]);                        /* no commit after a request */
         assert(!(fencewait[me] && fence_returned));/* fence semantics */
         data[c0] = d + 1;
         commits[me]++;
         done++;
         phase[me] = 0; d = 0; s0 = 0; c0 = 0
       }
    :: else -> break
    od;
    /* park: release the vCPU */
    atomic {
      TAKE_LOCK(me);
      c0 = cpu;
      assert(c0 != NONE);
      cpu = NONE; mycpu[me] = NONE;
      RELEASE_LOAD(c0)
      release_body(c0)
    }
    release_tail(c0);
    d_step { running[me] = false; nfinished++; c0 = 0 }
  }
#ifndef NOKILL
  unless {
    /* death: any time, except while holding the scheduler lock (unless
     * DIE_LOCKED: worker.terminate() can hit a thread inside a locked
     * section; the reaper then waits for the lock forever) */
#ifdef DIE_LOCKED
    d_step { victim == me ->
#else
    d_step { victim == me && lk != me ->
#endif
             alive[me] = false; phase[me] = 0; nfinished++ }
  }
#endif
}

/* ------------------------------------------------------------------ */
/* post_request(c, bits): supervisor side. Set the bits (Atomics.or),   */
/* then CAS seq even->odd (if seq is odd the request merges with the    */
/* pending one). Default: the CAS is one atomic step "if even, +1"      */
/* (= a CAS retried until it succeeds or sees odd). -DSPLIT_CAS: load   */
/* seq, then ONE CAS attempt from that value, no retry (the cheaper     */
/* real-world form; bigger state space). The first step (setting the    */
/* bits) is done by the caller, folded with its choice of c and bits.   */
/* ------------------------------------------------------------------ */
inline post_request(c, bits, isfence) {
#ifdef SPLIT_CAS
  e = seq[c];
  d_step {
    if :: EVEN(e) && seq[c] == e -> SEQBUMP(c) :: else -> skip fi;
#else
  d_step {
    if :: EVEN(seq[c]) -> SEQBUMP(c) :: else -> skip fi;
#endif
    e = seq[c];     /* the value the CAS leaves/returns (fence uses it) */
    /* ghost bookkeeping */
    posted[c] = posted[c] || ((request[c] & bits) != 0);
    if
    :: ODD(seq[c]) ->
         k = 1;
         do
         :: k <= NTHR ->
              if
              :: cpu0[k] == c && phase[k] == 1 -> stale[k] = true
              :: else -> skip
              fi;
              if
              :: isfence && cpu0[k] == c && phase[k] != 0 -> fencewait[k] = true
              :: else -> skip
              fi;
              k++
         :: else -> break
         od;
         k = 0
    :: else -> skip
    fi;
    INV_CHECK
  }
}

inline pickcpu(c) {
  if
  :: c = 0
#if NCPU > 1
  :: c = 1
#endif
  fi
}

/* supervisor: MAXREQ requests, each at any time (a request that comes
 * after everything else stands for "no request") */
proctype supervisor() {
  byte n, c, bits, e, k;
  do
  :: n < MAXREQ ->
       atomic {
         pickcpu(c);
         if
         :: bits = PREEMPT
         :: bits = MIGRATE
         :: bits = SIGNAL
         fi;
         request[c] = request[c] | bits
       }
       post_request(c, bits, false);
       n++; c = 0; bits = 0; e = 0
  :: else -> break
  od
}

/* membarrier fence on vCPU c: request; s = seq; if s is odd, wait      */
/* until seq moved past s or the vCPU is free.                          */
proctype fencer() {
  byte c, s, e, k;
#ifndef NOFENCE
  /* one fence, at any time (a fence after everything else stands for
   * "no fence") */
  atomic { pickcpu(c); request[c] = request[c] | FENCE };
  post_request(c, FENCE, true);
  s = e; e = 0;     /* seq as left/returned by the CAS */
#ifdef BROKEN_FENCE
  fence_returned = true;     /* returns without waiting */
#else
  if
  :: atomic { ODD(s) && (seq[c] != s || owner[c] == 0) -> fence_returned = true }
  :: atomic { EVEN(s) -> fence_returned = true }
  fi;
#endif
  c = 0; s = 0
#endif
}

/* Thread death and the reaper. Thread 1 may die at any time (the       */
/* threads are symmetric, so killing thread 1 stands for any thread).   */
/* After the death is confirmed, under the lock: drop it from the wait  */
/* queue, then release the vCPU it owns (held, or granted while it      */
/* waited -- a thread owns at most one).                                 */
proctype killer() {
  byte c, k, w, e2;
#ifndef NOKILL
  /* thread 1 dies at any time while it runs -- or never (end label) */
end_nokill:
  atomic { running[1] -> victim = 1 };
  if
  :: victim != 0 ->
       !alive[victim];            /* death confirmed */
       atomic {
         TAKE_LOCK(REAPER);
         k = 0;
         do
         :: k < qlen && q[k] != victim -> k++
         :: k < qlen && q[k] == victim -> break
         :: k >= qlen -> break
         od;
         if
         :: k < qlen ->
              do
              :: k + 1 < qlen ->
                   BEFORE(victim, q[k + 1]) = false;
                   q[k] = q[k + 1]; k++
              :: else -> break
              od;
              qlen--; q[qlen] = 0;
              k = 0;
              do   /* threads queued ahead of the victim */
              :: k < qlen -> BEFORE(q[k], victim) = false; k++
              :: else -> break
              od
         :: else -> skip
         fi;
         k = 0;
         c = 0;
         do
         :: c < NCPU && owner[c] != victim -> c++
         :: else -> break
         od;
         if :: c >= NCPU -> lk = 0 :: else -> skip fi   /* nothing owned */
       }
       if
       :: c < NCPU ->
            atomic { RELEASE_LOAD(c) release_body(c) }
            release_tail(c)
       :: else -> skip
       fi;
       d_step { c = 0; reaped = true }
  :: else -> skip
  fi;
#endif
}

#ifdef MONITOR
/* optional: check the invariant in every state with a never claim   */
never {
  do
  :: (BELIEFS && CPUS && NOIDLE)
  :: else -> break
  od
}
#endif

/* End-of-run checks; if the system deadlocks this process never gets   */
/* past its guard and pan reports an invalid end state.                 */
proctype checker() {
  byte k, sum, total;
  (nfinished == NTHR && (victim == 0 || reaped));
  d_step {
    k = 0;
    do
    :: k < NCPU ->
         assert(owner[k] == 0 && PARITY(ODD(seq[k])));
         sum = sum + data[k]; k++
    :: else -> break
    od;
    k = 1;
    do
    :: k <= NTHR ->
         total = total + commits[k];
         assert(!alive[k] || commits[k] == N);   /* survivors finish */
         k++
    :: else -> break
    od;
    assert(sum == total);                        /* no lost increment */
    assert(lk == 0 && qlen == 0 && cidmask == 0)
  }
}

init {
  atomic {
    run checker();
    run supervisor();
    run fencer();
    run killer();
    run thread(1);
#if NTHR > 1
    run thread(2);
#endif
#if NTHR > 2
    run thread(3);
#endif
  }
}
