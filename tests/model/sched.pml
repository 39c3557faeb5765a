/*
 * sched.pml -- SPIN model of host/kernel/sched.ts AS IMPLEMENTED: the
 * lock-free, wake-free uncontended take and release of a vCPU, and the
 * lock that guards only the wait queue, hand-offs and reaping.
 * (rseq.pml models the protocol with every scheduler operation under the
 * lock; this file refines the scheduler half of it. See README.md.)
 *
 *   owner[c]   CPU_OWNER: 0 free, t = thread t (slot + 1), RSV = -1
 *              (reserved by the lock holder handing vCPUs out)
 *   seq[c], request[c], data[c]   as in rseq.pml
 *   lk         SCHED_LOCK (the holder's id); qlen = SCHED_WAITERS,
 *              q[] the FIFO list (both changed only under the lock)
 *   grant[t]   T_GRANT (NONE = -1); awaitGrant blocks until it is set
 *   tv[t]      T_VCPU, tcid[t] T_CID, tlast[t] T_LAST_CID
 *   cidown[i]  CPU_CID_OWNER of vCPU record i = the owner word of mm_cid i:
 *              0 free, t = held by thread t (slot + 1); CAS 0 -> t claims
 *
 * Every access that a lock-free actor can observe (owner[], cidown[], qlen,
 * seq[], request[], grant[]) is its own step; purely thread-local work and
 * writes nobody reads concurrently are folded into it.
 *
 * Operations (names as in sched.ts): tryTake, takeCid, freeCid, drop,
 * makeOdd, dispatchLocked, grantTo (= grant), releaseLocked, acquire,
 * release, yield, migrate, took, acknowledge; the reaper = reapLocked.
 *
 * Switches: NCPU NTHR N MAXREQ MAXYIELD, NOKILL,
 *   BROKEN_RECHECK  lock-free release without the SCHED_WAITERS recheck
 *   BROKEN_RESCAN   a queueing thread does not rescan the owner words
 *   BROKEN_YIELD    yield queues after the hand-off without dispatching
 *   BROKEN_CIDORDER lock-free release frees the vCPU before the mm_cid
 *   DIE_ANYWHERE    the victim may die at ANY step it takes without the
 *                   lock (worker.terminate() while kill() holds the lock),
 *                   also inside the lock-free take / release, between an
 *                   owner-word CAS and its T_CID store. Without it a thread
 *                   dies only outside sched.ts calls.
 *   REAP_DISPATCH   reapLocked() ends with dispatchLocked() (as engine.ts)
 *   BROKEN_REAP_TCID the reaper frees the cid T_CID names (a plain store to
 *                   its owner word) instead of scanning the owner words for
 *                   the dead thread: the old bitmap code's bug class
 */

#ifndef NCPU
#define NCPU 1
#endif
#ifndef NTHR
#define NTHR 2
#endif
#ifndef N
#define N 2
#endif
#ifndef MAXREQ
#define MAXREQ 0
#endif
#ifndef MAXYIELD
#define MAXYIELD 1
#endif

#define NONE    255
#define RSV     254
#define REAPER  (NTHR + 1)
#define PREEMPT 1
#define MIGRATE 2

#define ODD(x)  (((x) & 1) == 1)
#define EVEN(x) (((x) & 1) == 0)

byte owner[NCPU];
byte seq[NCPU] = 1;
byte request[NCPU];
byte data[NCPU];

byte lk;
byte q[NTHR];
byte qlen;
byte grant[NTHR + 1] = NONE;
byte tv[NTHR + 1] = NONE;
byte tcid[NTHR + 1] = NONE;
byte tlast[NTHR + 1] = NONE;
byte cidown[NCPU];

byte mycpu[NTHR + 1] = NONE;   /* ghost: the vCPU the thread believes it owns */
bool alive[NTHR + 1] = true;
bool running[NTHR + 1] = true;
byte commits[NTHR + 1];
byte nfinished;
byte victim;
bool reaped;
byte yields;

/* ghost */
bool freeing[NTHR + 1];  /* between freeCid's owner-word CAS and T_CID = -1 */
bool taking[NTHR + 1];   /* between takeCid's successful CAS and the T_CID store */
bool insched[NTHR + 1];  /* inside a sched.ts call (no death there unless DIE_ANYWHERE) */
byte phase[NTHR + 1];
byte cpu0[NTHR + 1];
bool stale[NTHR + 1];
bool posted[NCPU];

inline SEQBUMP(c) {
  assert(seq[c] < 250);
  seq[c] = seq[c] + 1
}

#define TAKE_LOCK(id) atomic { lk == 0 -> lk = id }

/* ---------------- invariants (checked in every state by `monitor`) ---- */
#define BELIEF_OK(t) (!alive[t] || mycpu[t] == NONE || owner[mycpu[t]] == t)
/* a live thread's T_CID is allocated to it: its owner word names it (except inside freeCid) */
#define CIDSET(t)    (!alive[t] || tcid[t] == NONE || freeing[t] || \
                      (tcid[t] < NCPU && cidown[tcid[t]] == t))
/* an owner word that names a live thread is its T_CID (except inside takeCid,
 * between the CAS and the T_CID store): a live thread holds at most one cid */
#define HELD(i)      (cidown[i] == 0 || !alive[cidown[i]] || tcid[cidown[i]] == i || taking[cidown[i]])
#define CIDNE(a, b)  (!alive[a] || !alive[b] || freeing[a] || freeing[b] || tcid[a] == NONE || tcid[a] != tcid[b])
#define FREE_ODD(c)  (owner[c] != 0 || ODD(seq[c]))

#if NTHR > 2
#define THREADS (BELIEF_OK(1) && BELIEF_OK(2) && BELIEF_OK(3) && CIDSET(1) && CIDSET(2) && CIDSET(3) && \
                 CIDNE(1, 2) && CIDNE(1, 3) && CIDNE(2, 3))
#else
#define THREADS (BELIEF_OK(1) && BELIEF_OK(2) && CIDSET(1) && CIDSET(2) && CIDNE(1, 2))
#endif
#if NCPU > 1
#define CPUS (FREE_ODD(0) && FREE_ODD(1))
#else
#define CPUS (FREE_ODD(0))
#endif
#if NCPU > 1
#define HELDS (HELD(0) && HELD(1))
#else
#define HELDS (HELD(0))
#endif
#define INV (THREADS && CPUS && HELDS)

/* ---------------- mm_cid owner words (CAS) ----------------------------- */
/* takeCid(t): its last cid if that owner word is 0 (CAS 0 -> t), else the
 * lowest free one: CAS 0 -> t on each owner word in turn, the scan repeated
 * until one succeeds (a load that reads nonzero and a failed CAS are the
 * same step here). One is free at the start of every pass: owners <= vCPUs
 * and every holder of a cid owns a vCPU. Then store T_CID. The granter runs
 * this for the waiter w, so the word names w. Clobbers k, m. */
inline takeCid(t) {
  k = NONE;
  if
  :: d_step { tlast[t] != NONE && cidown[tlast[t]] == 0 -> cidown[tlast[t]] = t; k = tlast[t]; taking[t] = true }
  :: d_step { !(tlast[t] != NONE && cidown[tlast[t]] == 0) -> skip }
  fi;
  do
  :: k != NONE -> break
  :: else ->
       d_step {     /* ghost check: a free mm_cid exists */
         m = 0;
         do
         :: m < NCPU && cidown[m] != 0 -> m++
         :: else -> break
         od;
         assert(m < NCPU);
         m = 0
       };
       do
       :: m < NCPU ->
            if
            :: d_step { cidown[m] == 0 -> cidown[m] = t; k = m; m = NCPU; taking[t] = true }
            :: d_step { cidown[m] != 0 -> m++ }
            fi
       :: else -> break
       od;
       m = 0
  od;
  atomic { tcid[t] = k; k = 0; taking[t] = false }
}

/* freeCid(t): CAS the owner word t -> 0 (a stale T_CID clears nothing),
 * then T_LAST_CID = T_CID, T_CID = -1 (and, in drop, T_VCPU = -1) */
inline freeCid(t) {
  d_step {
    if
    :: tcid[t] != NONE && cidown[tcid[t]] == t -> cidown[tcid[t]] = 0; freeing[t] = true
    :: else -> skip
    fi
  };
  d_step { tlast[t] = tcid[t]; tcid[t] = NONE; freeing[t] = false; tv[t] = NONE }
}

/* makeOdd(c): CAS seq even -> odd unless a request already made it odd */
inline makeOdd(c) {
  d_step { if :: EVEN(seq[c]) -> SEQBUMP(c) :: else -> skip fi }
}

/* dequeue the head into w (under the lock, qlen > 0) */
inline dequeue() {
  d_step {
    w = q[0]; k = 0;
    do
    :: k + 1 < qlen -> q[k] = q[k + 1]; k++
    :: else -> break
    od;
    qlen--; q[qlen] = 0; k = 0
  }
}

/* grant(c, w): under the lock; vCPU c (the caller's or reserved) goes to w */
inline grantTo(c, w) {
  d_step { owner[c] = w; tv[w] = c };
  takeCid(w);
  grant[w] = c          /* + Atomics.notify: awaitGrant re-checks the word */
}

/* dispatchLocked(): every free vCPU, while someone waits, is reserved (-1)
 * by CAS and granted to the queue head. qlen only changes under the lock,
 * so reading it together with the CAS is exact. Uses c2, w. */
inline dispatchLocked() {
  c2 = 0;
  do
  :: c2 < NCPU ->
       if
       :: d_step { qlen > 0 && owner[c2] == 0 -> owner[c2] = RSV };
          dequeue(); grantTo(c2, w); w = 0
       :: d_step { !(qlen > 0 && owner[c2] == 0) -> skip }
       fi;
       c2++
  :: else -> break
  od;
  c2 = 0
}

/* releaseLocked(t) for t's vCPU c: drop (seq odd, mm_cid freed, T_VCPU -1),
 * then the queue head gets c, or owner 0 */
inline releaseLocked(t, c) {
  assert(lk != 0);
  makeOdd(c);
  freeCid(t);
  if
  :: qlen > 0 -> dequeue(); grantTo(c, w); w = 0
  :: else -> owner[c] = 0
  fi
}

/* tryTake(): a CAS 0 -> me on each owner word in turn; assign on success */
inline tryTake() {
  k = 0;
  do
  :: k < NCPU ->
       if
       :: d_step { owner[k] == 0 -> owner[k] = me; c = k; k = NCPU }
       :: d_step { owner[k] != 0 -> k++ }
       fi
  :: else -> break
  od;
  k = 0;
  if
  :: c != NONE -> tv[me] = c; takeCid(me)
  :: else -> skip
  fi
}

/* took(c): the new owner drops stale requests, seq odd -> even (add),
 * re-requests if bits merged in between */
inline took(c) {
  d_step {
    assert(owner[c] == me && tv[me] == c && ODD(seq[c]));
    r = request[c]; request[c] = 0;
    if :: r != 0 -> posted[c] = false :: else -> skip fi;
    r = 0
  };
  d_step { SEQBUMP(c) };
  d_step { if :: request[c] != 0 && EVEN(seq[c]) -> SEQBUMP(c) :: else -> skip fi };
  d_step { cpu = c; mycpu[me] = c; c = NONE }
}

/* acquire(): lock-free take when nobody waits; else under the lock: take,
 * or queue, rescan the owner words (dispatchLocked), unlock, await grant */
inline acquire() {
  insched[me] = true;
  c = NONE;
  if
  :: qlen == 0 -> tryTake()
  :: qlen != 0 -> skip
  fi;
  if
  :: c == NONE ->
       TAKE_LOCK(me);
       if
       :: qlen == 0 -> tryTake()
       :: qlen != 0 -> skip
       fi;
       if
       :: c != NONE -> lk = 0
       :: else ->
            d_step { grant[me] = NONE; q[qlen] = me; qlen++ };   /* enqueue */
#ifndef BROKEN_RESCAN
            dispatchLocked();
#endif
            lk = 0;
            insched[me] = false;   /* blocked: may be killed here */
            d_step { grant[me] != NONE -> c = grant[me]; grant[me] = NONE; insched[me] = true }  /* awaitGrant */
       fi
  :: else -> skip
  fi;
  took(c);
  insched[me] = false
}

/* release() (park): locked if someone waits; else lock-free: drop (mm_cid
 * first), owner 0, then recheck SCHED_WAITERS and dispatch under the lock */
inline release() {
  insched[me] = true;
  d_step { c = cpu; cpu = NONE; mycpu[me] = NONE };
  if
  :: qlen > 0 ->
       TAKE_LOCK(me); releaseLocked(me, c); lk = 0
  :: qlen == 0 ->
       makeOdd(c);
#ifdef BROKEN_CIDORDER
       d_step { tv[me] = NONE };
       owner[c] = 0;
       freeCid(me);
#else
       freeCid(me);
       owner[c] = 0;
#endif
#ifndef BROKEN_RECHECK
       if
       :: qlen > 0 -> TAKE_LOCK(me); dispatchLocked(); lk = 0
       :: qlen == 0 -> skip
       fi
#endif
  fi;
  c = NONE;
  insched[me] = false
}

/* yield(): under the lock: nobody waits -> keep the vCPU; else hand it to
 * the head, queue behind, dispatch free vCPUs, unlock, await grant */
inline yield() {
  insched[me] = true;
  TAKE_LOCK(me);
  if
  :: d_step { qlen == 0 -> lk = 0 }
  :: d_step { qlen > 0 -> c = cpu; cpu = NONE; mycpu[me] = NONE };
       releaseLocked(me, c);
       d_step { grant[me] = NONE; q[qlen] = me; qlen++; c = NONE };   /* enqueue */
#ifndef BROKEN_YIELD
       dispatchLocked();
#endif
       lk = 0;
       insched[me] = false;   /* blocked: may be killed here */
            d_step { grant[me] != NONE -> c = grant[me]; grant[me] = NONE; insched[me] = true };
       took(c)
  fi;
  c = NONE;
  insched[me] = false
}

/* migrate(): under the lock claim a free vCPU by CAS, release the old one
 * (to the queue or free), assign the new; none free -> yield() */
inline migrate() {
  insched[me] = true;
  TAKE_LOCK(me);
  to = NONE; k = 0;
  do
  :: k < NCPU ->
       if
       :: d_step { k != cpu && owner[k] == 0 -> owner[k] = me; to = k; k = NCPU }
       :: d_step { !(k != cpu && owner[k] == 0) -> k++ }
       fi
  :: else -> break
  od;
  k = 0;
  if
  :: to != NONE ->
       d_step { c = cpu; cpu = NONE; mycpu[me] = NONE };
       releaseLocked(me, c);
       tv[me] = to; takeCid(me);
       lk = 0;
       c = to; to = NONE;
       took(c)
  :: else -> lk = 0; yield()
  fi;
  insched[me] = false
}

/* acknowledge(c): consume all bits, seq odd -> even, re-request */
inline acknowledge(c) {
  d_step {
    assert(owner[c] == me);
    r = request[c]; request[c] = 0;
    if :: r != 0 -> posted[c] = false :: else -> skip fi; r = 0
  };
  d_step { if :: ODD(seq[c]) -> SEQBUMP(c) :: else -> skip fi };
  d_step { if :: request[c] != 0 && EVEN(seq[c]) -> SEQBUMP(c) :: else -> skip fi }
}

/* the slow path (thread-kernel.ts handleRequest) for an odd seq on c */
inline slowpath(c) {
  d_step { r = request[c] };
  if
  :: (r & MIGRATE) != 0 ->
       d_step { request[c] = request[c] & ~MIGRATE;
                if :: request[c] == 0 -> posted[c] = false :: else -> skip fi; r = 0 };
       migrate()
  :: (r & MIGRATE) == 0 && (r & PREEMPT) != 0 && qlen > 0 ->
       d_step { request[c] = request[c] & ~PREEMPT;
                if :: request[c] == 0 -> posted[c] = false :: else -> skip fi; r = 0 };
       yield()
  :: else -> r = 0; acknowledge(c)
  fi
}

proctype thread(byte me) {
  byte c0, s0, d, r, k, m, w, c, c2, to, done;
  byte cpu = NONE;
  {
    do
    :: done < N ->
begin:
       if
       :: cpu == NONE -> acquire()
       :: else -> skip
       fi;
       atomic {
         c0 = cpu;
         s0 = seq[c0];
         if
         :: EVEN(s0) ->
              assert(!posted[c0]);                 /* no stranded request */
              assert(tcid[me] < NCPU && tv[me] == c0);  /* refresh(): mm_cid, cpu_id */
              phase[me] = 1; cpu0[me] = c0; stale[me] = false;
              d = data[c0]
         :: else -> skip
         fi
       }
       if
       :: ODD(s0) -> s0 = 0; slowpath(c0); c0 = 0; goto begin
       :: else -> skip
       fi;
       /* injection point: yieldNow() (a no-op unless someone waits) */
       if
       :: d_step { yields < MAXYIELD && qlen > 0 -> yields++ }; yield()
       :: skip
       fi;
       if
       :: d_step { seq[c0] != s0 -> phase[me] = 0; d = 0; s0 = 0; c0 = 0 }; goto begin
       :: d_step { seq[c0] == s0 -> phase[me] = 2 }
       fi;
       d_step {
         assert(owner[c0] == me && tv[me] == c0);   /* store by the owner */
         assert(cpu == c0 && mycpu[me] == c0);
         assert(!stale[me]);
         data[c0] = d + 1;
         commits[me]++;
         done++;
         phase[me] = 0; d = 0; s0 = 0; c0 = 0
       }
    :: else -> break
    od;
    release();
    d_step { running[me] = false; nfinished++ }
  }
#ifndef NOKILL
  unless {
#if defined(DIE_ANYWHERE) && defined(NO_DIE_IN_TAKECID)
    d_step { victim == me && lk != me && !taking[me] ->
#elif defined(DIE_ANYWHERE)
    d_step { victim == me && lk != me ->
#else
    d_step { victim == me && lk != me && !insched[me] ->
#endif
             alive[me] = false; phase[me] = 0; nfinished++ }
  }
#endif
}

inline pickcpu(c) {
  if
  :: c = 0
#if NCPU > 1
  :: c = 1
#endif
  fi
}

proctype supervisor() {
  byte n, c, bits, k;
  do
  :: n < MAXREQ ->
       atomic {
         pickcpu(c);
         if
         :: bits = PREEMPT
         :: bits = MIGRATE
         fi;
         request[c] = request[c] | bits
       };
       d_step {
         if :: EVEN(seq[c]) -> SEQBUMP(c) :: else -> skip fi;
         posted[c] = posted[c] || ((request[c] & bits) != 0);
         k = 1;
         do
         :: k <= NTHR ->
              if :: cpu0[k] == c && phase[k] == 1 -> stale[k] = true :: else -> skip fi;
              k++
         :: else -> break
         od;
         k = 0
       };
       n++; c = 0; bits = 0
  :: else -> break
  od
}

/* reapLocked's freeCidsOfLocked(1): every owner word naming thread 1 -> 0,
 * T_CID = -1 (BROKEN_REAP_TCID: free the cid T_CID names instead) */
inline reapCids() {
  d_step {
#ifdef BROKEN_REAP_TCID
    /* trusts T_CID: frees the cid it names, whoever holds it now */
    if
    :: tcid[1] != NONE -> cidown[tcid[1]] = 0
    :: else -> skip
    fi;
#else
    k = 0;
    do
    :: k < NCPU ->
         if :: cidown[k] == 1 -> cidown[k] = 0 :: else -> skip fi;
         k++
    :: else -> break
    od;
    k = 0;
#endif
    tcid[1] = NONE
  }
}

/* Thread 1 may die (kill(): the main thread holds the lock, terminates the
 * worker, then reapLocked): unqueue, T_GRANT = -1, free every mm_cid whose
 * owner word names it and clear T_CID (freeCidsOfLocked: only thread 1 --
 * dead -- and lock holders write a word naming thread 1, so one step), then
 * release every vCPU whose owner word names it (its freeCid is a no-op). */
proctype killer() {
  byte c, k, m, w, c2;
#ifndef NOKILL
end_nokill:
  atomic { running[1] -> victim = 1 };
  !alive[1];
  TAKE_LOCK(REAPER);
  d_step {
    k = 0;
    do
    :: k < qlen && q[k] != 1 -> k++
    :: else -> break
    od;
    if
    :: k < qlen ->
         do
         :: k + 1 < qlen -> q[k] = q[k + 1]; k++
         :: else -> break
         od;
         qlen--; q[qlen] = 0
    :: else -> skip
    fi;
    k = 0;
    grant[1] = NONE
  };
#ifndef BROKEN_REAP_ORDER
  reapCids();
#endif
  c = 0;
  do
  :: c < NCPU ->
       if
       :: d_step { owner[c] == 1 -> tv[1] = c }; releaseLocked(1, c)
       :: d_step { owner[c] != 1 -> skip }
       fi;
       c++
  :: else -> break
  od;
#ifdef BROKEN_REAP_ORDER
  skip;
  reapCids();
#endif
#ifdef REAP_DISPATCH
  dispatchLocked();
#endif
  atomic { tv[1] = NONE; c = 0; lk = 0; reaped = true }
#endif
}

/* the invariants, in every state (blocked -- a valid end state -- while they hold) */
proctype monitor() {
end: atomic { !(INV) -> assert(INV) }
}

proctype checker() {
  byte k, sum, total;
  (nfinished == NTHR && (victim == 0 || reaped));
  d_step {
    k = 0;
    do
    :: k < NCPU ->
         assert(owner[k] == 0 && ODD(seq[k]));
         sum = sum + data[k]; k++
    :: else -> break
    od;
    k = 1;
    do
    :: k <= NTHR ->
         total = total + commits[k];
         assert(!alive[k] || commits[k] == N);
         k++
    :: else -> break
    od;
    assert(sum == total);
    assert(lk == 0 && qlen == 0);
    k = 0;
    do
    :: k < NCPU -> assert(cidown[k] == 0); k++     /* no mm_cid leaked */
    :: else -> break
    od
  }
}

init {
  atomic {
    run monitor();
    run checker();
    run supervisor();
    run killer();
    run thread(1);
    run thread(2);
#if NTHR > 2
    run thread(3);
#endif
  }
}
