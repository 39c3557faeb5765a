// Native counterpart of the bench's counter suite, on the real kernel's rseq (x86-64, glibc 2.35+).
//
// Operations (one per row, impl ids as in the bench's JSON):
//   native-rseq             per-CPU add in a real rseq critical section: the rseq_cs descriptor lives in
//                           section __rseq_cs; the sequence stores its address in rseq->rseq_cs, compares
//                           rseq->cpu_id with the CPU read from cpu_id_start, and commits with one addq to
//                           that CPU's slot (slots 128 bytes apart). Abort handler in __rseq_failure, preceded
//                           by the RSEQ_SIG signature (librseq rseq_load_add_store__ptr / selftests rseq-x86.h).
//   native-lock-add-shared  lock addq on one shared word
//   native-lock-add-own     lock addq on the thread's own word (own 128-byte line)
//   native-plain            addq (no lock) on the thread's own word
//
// Each sample: the threads start from one barrier, run chunks of operations until the main thread
// raises a stop flag after --sample-ms, and report their operations and elapsed time. Every sample is
// checked (the slots hold exactly the increments done, else exit 1). Output: one JSON object on stdout.
// Exit 0 measured; 1 a check failed; 2 usage; 3 rseq unavailable ({"skip": why} on stdout).
//
// usage: rseq_bench [--sample-ms N] [--repeat N] [--threads 1,2] [--pin] [--probe]
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "rseq_bench: x86-64 only"
#endif

#define LINE 128
#define CHUNK 1024
#define MAX_THREADS 64

static inline struct rseq *rseq_area(void) {
  return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* *v += count on `cpu`'s slot, committed only if the thread is still on `cpu` and was not preempted,
 * migrated or signalled since the descriptor was stored. 0: committed; -1: aborted (retry). */
static inline __attribute__((always_inline)) int rseq_percpu_add(struct rseq *rs, int64_t *v, int64_t count, int cpu) {
  __asm__ __volatile__ goto(
      ".pushsection __rseq_cs, \"aw\"\n\t"
      ".balign 32\n\t"
      "3:\n\t"
      ".long 0x0, 0x0\n\t"                 /* version, flags */
      ".quad 1f, (2f - 1f), 4f\n\t"        /* start_ip, post_commit_offset, abort_ip */
      ".popsection\n\t"
      "leaq 3b(%%rip), %%rax\n\t"
      "movq %%rax, %[rseq_cs]\n\t"         /* arm the critical section */
      "1:\n\t"                             /* start_ip */
      "cmpl %[cpu_id], %[current_cpu_id]\n\t"
      "jnz 4f\n\t"
      "addq %[count], %[v]\n\t"            /* commit */
      "2:\n\t"                             /* post_commit_ip */
      ".pushsection __rseq_failure, \"ax\"\n\t"
      ".byte 0x0f, 0xb9, 0x3d\n\t"         /* ud1 <sig>(%rip), %edi: the signature */
      ".long 0x53053053\n\t"
      "4:\n\t"                             /* abort_ip */
      "jmp %l[abort]\n\t"
      ".popsection\n\t"
      : /* no outputs (asm goto) */
      : [cpu_id] "r"(cpu), [current_cpu_id] "m"(rs->cpu_id), [rseq_cs] "m"(rs->rseq_cs), [v] "m"(*v), [count] "er"(count)
      : "memory", "cc", "rax"
      : abort);
  return 0;
abort:
  return -1;
}

enum op { OP_RSEQ, OP_LOCK_SHARED, OP_LOCK_OWN, OP_PLAIN, OP_COUNT };
static const char *const IMPL[OP_COUNT] = { "native-rseq", "native-lock-add-shared", "native-lock-add-own", "native-plain" };

static int nr_cpus;
static int64_t *percpu;        /* nr_cpus slots, LINE apart */
static int64_t *perthread;     /* MAX_THREADS words, LINE apart */
static int64_t *shared;
static volatile int stop;
static pthread_barrier_t barrier;
static int pin;
static int ncpu_allowed, cpu_allowed[1024];

#define SLOT(base, i) ((int64_t *)((char *)(base) + (size_t)(i) * LINE))

struct worker { int op, slot; uint64_t ops, aborts; double ns; pthread_t t; };

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *work(void *arg) {
  struct worker *w = arg;
  if (pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu_allowed[w->slot % ncpu_allowed], &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  struct rseq *rs = rseq_area();
  int64_t *own = SLOT(perthread, w->slot);
  uint64_t ops = 0, aborts = 0;
  pthread_barrier_wait(&barrier);
  double t0 = now_ns();
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    switch (w->op) {
    case OP_RSEQ:
      for (int i = 0; i < CHUNK; i++) {
        for (;;) {
          int cpu = (int)__atomic_load_n(&rs->cpu_id_start, __ATOMIC_RELAXED);
          if (rseq_percpu_add(rs, SLOT(percpu, cpu), 1, cpu) == 0) break;
          aborts++;
        }
      }
      break;
    case OP_LOCK_SHARED:
      for (int i = 0; i < CHUNK; i++) __asm__ __volatile__("lock addq $1, %0" : "+m"(*shared) : : "memory", "cc");
      break;
    case OP_LOCK_OWN:
      for (int i = 0; i < CHUNK; i++) __asm__ __volatile__("lock addq $1, %0" : "+m"(*own) : : "memory", "cc");
      break;
    case OP_PLAIN:
      for (int i = 0; i < CHUNK; i++) __asm__ __volatile__("addq $1, %0" : "+m"(*own) : : "memory", "cc");
      break;
    }
    ops += CHUNK;
  }
  w->ns = now_ns() - t0;
  w->ops = ops;
  w->aborts = aborts;
  return NULL;
}

/* One sample of `op` at `threads`: aggregate ops/s; the structure is checked (exit 1 if wrong). */
static double sample(int op, int threads, int sample_ms, uint64_t *aborts, uint64_t *done) {
  struct worker w[MAX_THREADS];
  memset(percpu, 0, (size_t)nr_cpus * LINE);
  memset(perthread, 0, (size_t)MAX_THREADS * LINE);
  *shared = 0;
  stop = 0;
  pthread_barrier_init(&barrier, NULL, threads + 1);
  for (int i = 0; i < threads; i++) {
    w[i] = (struct worker){ .op = op, .slot = i };
    if (pthread_create(&w[i].t, NULL, work, &w[i])) { perror("pthread_create"); exit(1); }
  }
  pthread_barrier_wait(&barrier);
  struct timespec d = { sample_ms / 1000, (long)(sample_ms % 1000) * 1000000L };
  nanosleep(&d, NULL);
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  uint64_t total = 0;
  double wall = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(w[i].t, NULL);
    total += w[i].ops;
    *aborts += w[i].aborts;
    if (w[i].ns > wall) wall = w[i].ns;
  }
  pthread_barrier_destroy(&barrier);
  *done += total;
  int64_t got = 0;
  if (op == OP_RSEQ) for (int c = 0; c < nr_cpus; c++) got += *SLOT(percpu, c);
  else if (op == OP_LOCK_SHARED) got = *shared;
  else for (int i = 0; i < threads; i++) got += *SLOT(perthread, i);
  if ((uint64_t)got != total) {
    fprintf(stderr, "rseq_bench: %s x%d: counter reads %lld, expected %llu (increments lost or duplicated)\n",
            IMPL[op], threads, (long long)got, (unsigned long long)total);
    exit(1);
  }
  return total / (wall / 1e9);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void cpu_model(char *out, size_t n) {
  snprintf(out, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      char *p = strchr(line, ':');
      if (p) {
        p += 1 + (p[1] == ' ');
        p[strcspn(p, "\n")] = 0;
        size_t j = 0;
        for (; *p && j + 2 < n; p++) if (*p != '"' && *p != '\\') out[j++] = *p;
        out[j] = 0;
      }
      break;
    }
  }
  fclose(f);
}

/* Is rseq usable here? NULL if so, else why not. */
static const char *probe(void) {
  if (__rseq_size == 0) {
    long r = syscall(__NR_rseq, NULL, 0, 0, 0);
    if (r == -1 && errno == ENOSYS) return "the kernel has no rseq (ENOSYS)";
    return "glibc did not register rseq (__rseq_size is 0; GLIBC_TUNABLES=glibc.pthread.rseq=0?)";
  }
  if ((int32_t)rseq_area()->cpu_id < 0) return "rseq registration failed (cpu_id < 0)";
  return NULL;
}

int main(int argc, char **argv) {
  int sample_ms = 150, repeat = 5, nthreads = 0, threads[MAX_THREADS], probe_only = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--sample-ms") && i + 1 < argc) sample_ms = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--pin")) pin = 1;
    else if (!strcmp(argv[i], "--probe")) probe_only = 1;
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      for (char *s = strtok(argv[++i], ","); s && nthreads < MAX_THREADS; s = strtok(NULL, ",")) threads[nthreads++] = atoi(s);
    } else {
      fprintf(stderr, "usage: rseq_bench [--sample-ms N] [--repeat N] [--threads 1,2] [--pin] [--probe]\n");
      return 2;
    }
  }
  if (nthreads == 0) { threads[0] = 1; threads[1] = 2; nthreads = 2; }
  for (int i = 0; i < nthreads; i++) {
    if (threads[i] < 1 || threads[i] > MAX_THREADS) { fprintf(stderr, "rseq_bench: threads must be 1..%d\n", MAX_THREADS); return 2; }
  }
  if (sample_ms < 1 || repeat < 1 || repeat > 1000) { fprintf(stderr, "rseq_bench: bad --sample-ms or --repeat\n"); return 2; }
  const char *why = probe();
  if (why) { printf("{\"skip\": \"%s\"}\n", why); return 3; }
  if (probe_only) { printf("{\"ok\": true, \"rseqSize\": %u}\n", __rseq_size); return 0; }

  cpu_set_t allowed;
  sched_getaffinity(0, sizeof allowed, &allowed);
  for (int c = 0; c < CPU_SETSIZE && ncpu_allowed < 1024; c++) if (CPU_ISSET(c, &allowed)) cpu_allowed[ncpu_allowed++] = c;
  nr_cpus = (int)sysconf(_SC_NPROCESSORS_CONF);
  if (nr_cpus < 1) nr_cpus = 1;
  if (posix_memalign((void **)&percpu, LINE, (size_t)nr_cpus * LINE) || posix_memalign((void **)&perthread, LINE, (size_t)MAX_THREADS * LINE)
      || posix_memalign((void **)&shared, LINE, LINE)) { perror("posix_memalign"); return 1; }

  char model[256];
  cpu_model(model, sizeof model);
  printf("{\"cpuModel\": \"%s\", \"cpus\": %d, \"pinned\": %s, \"rseqSize\": %u, \"sampleMs\": %d, \"repeat\": %d, \"rows\": [",
         model, nr_cpus, pin ? "true" : "false", __rseq_size, sample_ms, repeat);
  int first = 1;
  for (int t = 0; t < nthreads; t++) {
    double rates[OP_COUNT][1000];
    uint64_t aborts[OP_COUNT] = { 0 };
    uint64_t ops[OP_COUNT] = { 0 };
    /* Samples interleaved (sample 1 of every op, then sample 2, ...), so drifting load hits them alike. */
    for (int r = 0; r < repeat; r++) {
      for (int op = 0; op < OP_COUNT; op++) {
        rates[op][r] = sample(op, threads[t], sample_ms, &aborts[op], &ops[op]);
      }
    }
    for (int op = 0; op < OP_COUNT; op++) {
      qsort(rates[op], repeat, sizeof(double), cmp);
      double med = repeat % 2 ? rates[op][repeat / 2] : (rates[op][repeat / 2 - 1] + rates[op][repeat / 2]) / 2;
      printf("%s\n  {\"impl\": \"%s\", \"threads\": %d, \"opsPerSec\": %.1f, \"nsPerOp\": %.4f, \"abortsPerOp\": %.3g, "
             "\"samples\": %d, \"spread\": [%.1f, %.1f]}",
             first ? "" : ",", IMPL[op], threads[t], med, 1e9 / med, ops[op] > 0 ? (double)aborts[op] / (double)ops[op] : 0.0,
             repeat, rates[op][0], rates[op][repeat - 1]);
      first = 0;
    }
  }
  printf("\n]}\n");
  return 0;
}
