/*
 * UMCG (User Managed Concurrency Groups) after Zijlstra's RFC v2 (20 Jan 2022), as wasm-rseq
 * emulates it: one server, NW workers, the server's runnable_workers list, TF_COND_WAIT, -EAGAIN,
 * TF_PREEMPT + kick, block / wake detection, unregister. Checked by tests/model.test.ts (cases.txt,
 * section "umcg") and run.sh.
 *
 * Properties (safety run):
 *  - no lost wake-up: every execution ends with every worker unregistered and the server out of its
 *    loop (an invalid end state = someone waits forever: the missed wake-up);
 *  - a worker is never on the runnable list twice;
 *  - a blocked worker's state is only ever changed by itself (its wake), never by the server
 *    (next_tid naming a non-RUNNABLE task must fail with -EAGAIN; TF_PREEMPT is a cmpxchg on RUNNING);
 *  - a worker runs user code only while RUNNING.
 *
 * Variants: NO_COND_WAIT (notify_resume blocks a RUNNABLE server: a signal between
 * `state = RUNNABLE` and sys_umcg_wait loses the wake-up), DRAIN_FIRST (the server drains its list
 * before publishing RUNNABLE: a worker enqueued meanwhile is never seen), BROKEN_NEXT (sys_umcg_wait
 * does not check that next_tid is RUNNABLE), BROKEN_PREEMPT (TF_PREEMPT by a plain store, not a
 * cmpxchg on RUNNING: it loses to a concurrent block), BROKEN_UNREG (unregister does not wake the
 * server). STALE_NEXT lets the server name any worker in next_tid (a stale or buggy policy).
 */
#ifndef NW
#define NW 2
#endif
#ifndef MAXBLOCK
#define MAXBLOCK 1
#endif
#ifndef MAXPREEMPT
#define MAXPREEMPT 1
#endif

#define S 0
#define NONE 0
#define RUNNING 1
#define RUNNABLE 2
#define BLOCKED 3

byte state[NW + 1];     /* umcg_task::state of the server (0) and workers (1..NW), UMCG_TASK_MASK bits */
bool preempt[NW + 1];   /* UMCG_TF_PREEMPT in a worker's state word */
bool condwait;          /* UMCG_TF_COND_WAIT in the server's state word */
bool onlist[NW + 1];    /* on the server's runnable_workers_ptr list (push / xchg drain) */
byte listed;            /* the list, as a set of worker bits */
byte done;              /* workers unregistered */
byte preempts;          /* TF_PREEMPT attempts made */

/* The kernel's umcg_wake_server: cmpxchg(server.state, RUNNABLE, RUNNING); -EAGAIN tolerated. */
inline wake_server() {
  atomic { if :: state[S] == RUNNABLE -> state[S] = RUNNING :: else -> skip fi }
}

/* from -> RUNNABLE and the push on the server's list, then wake the server. wasm-rseq's kernel does
   the state change and the push as one step (under the server's list lock): a server that names the
   worker in next_tid in between (STALE_NEXT) would run it while it is being enqueued. SPLIT_ENQUEUE
   (Zijlstra's order: cmpxchg state, then the push loop) shows that race. */
inline enqueue(w, from) {
#ifdef SPLIT_ENQUEUE
  atomic { assert((state[w] & 3) == from); state[w] = RUNNABLE }
  atomic { assert(!onlist[w]); onlist[w] = true; listed = listed | (1 << w) }
#else
  atomic { assert(state[w] == from); state[w] = RUNNABLE; assert(!onlist[w]); onlist[w] = true; listed = listed | (1 << w) }
#endif
  wake_server()
}

proctype worker(byte w) {
  byte blocks = 0;
  /* umcg_ctl(REGISTER | WORKER): state BLOCKED, then "unblock and wait". */
  enqueue(w, BLOCKED);
  (state[w] == RUNNING);
  do
  :: /* user code */
     assert(state[w] == RUNNING);
     if
     :: blocks < MAXBLOCK ->
        /* a host call that parks it (block detection): RUNNING -> BLOCKED (clears TF_PREEMPT: a
           kick racing the block is BLOCK|PREEMPT), release the vCPU, wake the server. */
        atomic { assert(state[w] == RUNNING); state[w] = BLOCKED; preempt[w] = false }
        wake_server();
        blocks++;
        /* blocked in the host: nobody else may change its state */
        assert(state[w] == BLOCKED);
        /* wake detection: BLOCKED -> RUNNABLE, enqueue, wait for a server to run it */
        enqueue(w, BLOCKED);
        (state[w] == RUNNING)
     :: preempt[w] ->
        /* the kick: notify_resume sees TF_PREEMPT: RUNNING -> RUNNABLE, enqueue, wait */
        preempt[w] = false;
        enqueue(w, RUNNING);
        (state[w] == RUNNING)
     :: blocks == MAXBLOCK ->
        /* umcg_ctl(UNREGISTER) of a running worker: RUNNING -> NONE, wake its server */
        atomic { assert(state[w] == RUNNING); state[w] = NONE; preempt[w] = false; done++ }
#ifndef BROKEN_UNREG
        wake_server();
#endif
        break
     fi
  od
}

proctype server() {
  byte known = 0;   /* workers taken off the list, known RUNNABLE (umcg_server_add_runnable) */
  byte next;        /* next_tid */
  byte w;
  bool eagain;
  bool nr;
#ifdef STALE_NEXT
  bool stale = false;
#endif
  do
  :: /* for (;;) { self->state = RUNNABLE | TF_COND_WAIT; xchg(list); pick; sys_umcg_wait } */
#ifdef DRAIN_FIRST
     atomic { known = known | listed; for (w : 1 .. NW) { if :: (listed & (1 << w)) -> onlist[w] = false :: else fi }; listed = 0 }
     if :: done == NW && known == 0 -> break :: else fi;
#endif
     atomic {
       state[S] = RUNNABLE;
#ifdef NO_COND_WAIT
       condwait = false
#else
       condwait = true
#endif
     }
#ifndef DRAIN_FIRST
     /* checked after publishing RUNNABLE: the last unregister's wake cannot be missed */
     if :: done == NW && known == 0 && listed == 0 -> break :: else fi;
     atomic { known = known | listed; for (w : 1 .. NW) { if :: (listed & (1 << w)) -> onlist[w] = false :: else fi }; listed = 0 }
#endif
     /* the policy picks next_tid among the runnable ones (0: idle) */
     next = 0;
     for (w : 1 .. NW) { if :: (known & (1 << w)) -> next = w; break :: else -> skip fi }
#ifdef STALE_NEXT
     if :: !stale -> select(w : 1 .. NW); next = w; stale = true :: true -> skip fi;
#endif
     /* a signal / fault between `state = RUNNABLE` and sys_umcg_wait: umcg_notify_resume blocks a
        RUNNABLE task until RUNNING, unless TF_COND_WAIT says it *will* call sys_umcg_wait */
     nr = false;
     if
     :: atomic { state[S] == RUNNABLE && !condwait -> nr = true }
     :: true -> skip
     fi;
     if :: nr -> (state[S] == RUNNING) :: else -> skip fi;
     /* sys_umcg_wait(0, 0) */
     atomic {
       condwait = false;
       eagain = false;
       if
       :: state[S] != RUNNABLE -> eagain = true      /* concurrent wake-up: -EAGAIN */
       :: else ->
          if
          :: next != 0 ->
#ifdef BROKEN_NEXT
             state[next] = RUNNING; known = known & ~(1 << next)
#else
             if
             :: state[next] == RUNNABLE && !onlist[next] -> state[next] = RUNNING; known = known & ~(1 << next)
             :: else -> eagain = true                  /* next_tid not RUNNABLE: -EAGAIN, pick another */
             fi
#endif
          :: else -> skip
          fi
       fi
     }
     if :: !eagain -> (state[S] == RUNNING) :: else -> skip fi;
     /* woken (a worker blocked, was enqueued, or unregistered): maybe preempt a running worker:
        cmpxchg(&w->state, RUNNING, RUNNING | TF_PREEMPT), then umcg_kick(w) */
     if
     :: preempts < MAXPREEMPT ->
        select(w : 1 .. NW);
        preempts++;
#ifdef BROKEN_PREEMPT
        atomic { if :: state[w] != NONE -> state[w] = RUNNING; preempt[w] = true :: else fi }
#else
        atomic { if :: state[w] == RUNNING -> preempt[w] = true :: else -> skip fi }   /* lost to a block: restart */
#endif
     :: true -> skip
     fi
  od;
  assert(done == NW && listed == 0)
}

init {
  byte i;
  atomic {
    state[S] = RUNNING;             /* umcg_ctl(REGISTER): a server registers RUNNING */
    for (i : 1 .. NW) { state[i] = BLOCKED }   /* a worker registers BLOCKED */
    run server();
    for (i : 1 .. NW) { run worker(i) }
  }
}
