/* common/factorial.h — exact factorials with GMP: the problem, the one kernel, the check.
 *
 * Two modes, two lessons:
 *   --mode big   one n!, in stages of independent multiplications that any
 *                model runs in parallel (common/factorial_big.h): by default
 *                from the primes' exponents and squarings, as GMP's
 *                mpz_fac_ui does it (--kernel primes); or 1..n cut into one
 *                range per worker of equal cost (bits of their products, not
 *                count of factors), each multiplied by binary splitting
 *                (factorial_odd_product), the partial products multiplied
 *                pairwise up a tree, whose last multiplication is Amdahl's
 *                serial part (--kernel tree), or that multiplication cut over
 *                the workers (--kernel split-tree).
 *   --mode many  the factorials of 1..n, each an independent task whose cost
 *                grows with k (factorial_tasks). How tasks are dealt out
 *                (--schedule, --chunk) decides the speed; tiny tasks show what
 *                dealing them out costs.
 * Every model (serial/, threads/, processes/, openmp/, mpi/factorial.c) runs
 * the same stages and the same kernel on a different split of the work, so a
 * difference in speed between models is the model's doing.
 *
 * Results are checked whole, against methods that share nothing with the
 * kernel: n! against GMP's own mpz_fac_ui, and each task's k! mod 2^61 - 1
 * against the residues multiplied up one by one in 64-bit arithmetic.
 *
 * The models, each serial/factorial.c plus one idea (diff -u serial/factorial.c MODEL/factorial.c):
 *   serial/factorial.c     one thread: the baseline
 *   threads/factorial.c    one POSIX thread per worker and stage, per task taker
 *   processes/factorial.c  a pool of fork()ed children, stages' numbers through memory files; a pool fed through pipes
 *   openmp/factorial.c     a parallel for over each stage's workers; the schedule clause for tasks
 *   mpi/factorial.c        ranks: stages handed out as messages; a master-worker task farm
 *   reference/factorial.c  GMP's mpz_fac_ui, what you would use instead
 * Each runs as bin/factorial-MODEL (bin/factorial-gmp for the reference).
 * What they share: common/factorial_big.c (--mode big's stages and kernels),
 * common/factorial_kernel.c (binary splitting, the tasks, the dealer),
 * common/factorial.c (ranges, the check), common/run.c (timing, result
 * lines), common/cli.c (flags); processes/ also common/child.c (forking and
 * reaping), common/pipe.c (pipes) and common/factorial_pipe.c (numbers
 * through memory files, chunks through pipes), mpi/ common/team_mpi.c
 * (barrier, max over ranks, leaving together).
 */
#ifndef FACTORIAL_H
#define FACTORIAL_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "cli.h"
#include "memory.h"
#include "pipe.h"
#include "run.h"

/* The prime results are reduced modulo, for the result line and the check:
 * 2^61 - 1, a Mersenne prime, so any tool with 128-bit products can check them. */
#define FACTORIAL_PRIME ((UINT64_C(1) << 61) - 1)

/* GMP's blocks from this size up are big blocks: common/factorial_memory.c
 * gives them huge pages, keeps them for reuse, and keeps them from fork()ed
 * children. */
#define FACTORIAL_BIG_BLOCK (2u << 20)

/* How many chunks a task farm (processes, MPI) keeps in a worker's hands,
 * so that the next ones are already there when one is done and asking for
 * more never leaves a worker idle. Three, not two: MPI's rank 0 computes too
 * and answers only between two of its own tasks, up to a task late. */
#define CHUNKS_AHEAD 3

/* A results message of the task farms, as 64-bit words: first, count, and
 * then count residues. The same layout travels through pipes and MPI. */
#define MESSAGE_HEADER 2

/* --mode's words, in this order. */
enum factorial_mode {
    MODE_BIG,  /* one n! */
    MODE_MANY, /* the factorials of 1..n, each an independent task */
};

/* --schedule's words, in this order: how the tasks of --mode many are dealt out. */
enum factorial_schedule {
    SCHEDULE_STATIC,  /* one contiguous block of tasks per worker, the same count each */
    SCHEDULE_CYCLIC,  /* chunks of --chunk tasks dealt round-robin, fixed in advance */
    SCHEDULE_DYNAMIC, /* chunks of --chunk tasks, to whichever worker asks first */
};

/* --kernel's words, in this order: how --mode big computes n! (common/factorial_big.h). */
enum big_kernel {
    BIG_KERNEL_PRIMES,     /* the primes' exponents, bit by bit, with squarings (default) */
    BIG_KERNEL_TREE,       /* ranges multiplied by binary splitting, then pairwise up a tree */
    BIG_KERNEL_SPLIT_TREE, /* the same, the tree's last multiplication cut over the workers */
};

struct big_job;
struct big_stage;

/* How a factorial is computed, and so what checks it (the other one). */
enum factorial_kernel {
    KERNEL_PRODUCT, /* factorial_product, binary splitting: the five models; checked by mpz_fac_ui */
    KERNEL_FAC_UI,  /* GMP's mpz_fac_ui: the reference lane; checked by factorial_product */
};

/* Consecutive tasks of --mode many: the factorials of first, ..., first + count - 1. */
struct chunk {
    unsigned long first, count;
};

/* One run's problem, its result, and the bookkeeping of its workers. */
struct factorial {
    unsigned long n;
    enum factorial_mode mode;
    unsigned workers;        /* -p: ranges (big) or task takers (many) */
    enum memory memory;      /* where span and comm live (shared for fork()ed children) */
    struct span *span;       /* per worker: its range (big); its first task to its last (many) */
    double *comm;            /* per worker: seconds spent receiving numbers (processes, MPI) */
    /* --mode big */
    unsigned long *bound;    /* workers + 1 of them: worker w multiplies bound[w] + 1 .. bound[w + 1] */
    mpz_t result;            /* n! */
    mpz_t reference;         /* n! by the other kernel, made on the first check */
    int have_reference;
    enum factorial_kernel kernel;
    enum big_kernel big_kernel; /* --kernel */
    mpz_t *number;           /* the numbers the stages make and use (factorial_big.c) */
    unsigned numbers, numbers_used; /* the table's size, and how much of it this run has taken */
    struct big_job *jobs;    /* room for one stage's jobs */
    const struct big_stage *stage; /* the stage being run */
    unsigned job_room;
    double *busy;            /* per worker: seconds in the current stage's jobs (shared for fork()ed children) */
    uint32_t *prime, *exponent; /* the odd primes <= n and their exponents in n! */
    size_t primes, prime_room;  /* how many there are; room for as many as there can be */
    unsigned char *composite;   /* the sieve: composite[i] for 2i + 3 (factorial_sieve_bytes of them) */
    int primes_ready;
    /* --mode many */
    enum factorial_schedule schedule;
    unsigned long chunk;     /* tasks per chunk: --chunk (cyclic, dynamic), a block (static) */
    unsigned long most_tasks; /* the largest chunk any worker is dealt */
    unsigned long next_task; /* the dealer, dynamic: the first task nobody has taken */
    unsigned long *taken;    /* the dealer, static and cyclic: chunks each worker has taken */
    uint64_t *residue;       /* residue[k] = k! mod FACTORIAL_PRIME for k = 1..n */
    uint64_t *outbox;        /* a results message on its way (processes, MPI) */
    uint64_t checksum;       /* the sum of k * residue[k] mod the prime: ((n+1)! - 1) mod it */
    unsigned long n_digits;  /* decimal digits of n!, the largest task's result */
};

extern const struct workload factorial_workload;

/* factorial_options: options_parse for this workload, then what depends on
 * --mode: --schedule and --chunk only with --mode many, --chunk not with
 * static, and the memory --mode many needs with this many workers. */
enum outcome factorial_options(struct options *opt, int argc, char **argv, const char *model,
                               enum worker_policy policy);

/* factorial_memory_use: GMP's memory from now on comes from
 * common/factorial_memory.c (big blocks of huge pages, not inherited by
 * fork()ed children); factorial_prepare calls it first. */
enum outcome factorial_memory_use(void);

/* factorial_prepare: allocate everything a run uses, and cut 1..n into
 * ranges of equal cost; all outside any timed region. */
enum outcome factorial_prepare(struct factorial *f, const struct options *opt, enum memory memory);

/* factorial_release: free what factorial_prepare allocated. */
void factorial_release(struct factorial *f);

/* ---- the kernel: common/factorial_kernel.c ---- */

/* factorial_product: out = first · (first + 1) · … · last (1 when last < first),
 * by binary splitting: the kernel under factorial_range and factorial_tasks. */
void factorial_product(mpz_t out, unsigned long first, unsigned long last);

/* factorial_odd_product: out = the product of the odd parts of first..last
 * (1 when last < first), by binary splitting; n!'s factors of 2 go back in
 * at the end, as one shift (factorial_twos). */
void factorial_odd_product(mpz_t out, unsigned long first, unsigned long last);

/* factorial_twos: the exponent of 2 in m!. */
unsigned long factorial_twos(unsigned long m);

/* factorial_tasks: the chunk's tasks in order: residues[i] = (first + i)! mod
 * FACTORIAL_PRIME, each k! computed whole by f's kernel; stamps the worker's
 * span (from its first task to its last). */
void factorial_tasks(const struct factorial *f, unsigned worker, struct chunk c, uint64_t *residues);

/* factorial_deal: the dealer: the next chunk for this worker under f's
 * schedule; 0 when there is none left for it. Not thread-safe: one dealer,
 * asked by one thread at a time. */
int factorial_deal(struct factorial *f, unsigned worker, struct chunk *c);

/* factorial_checksum: the sum of k * residue[k] over all tasks, mod the prime. */
void factorial_checksum(struct factorial *f);

/* factorial_store: a results message (MESSAGE_HEADER words, then residues)
 * into f->residue; OUTCOME_FAILED if it names tasks that do not exist. */
enum outcome factorial_store(struct factorial *f, const uint64_t *message, size_t words, const char *from);

/* ---- numbers through memory files, the pool's messages through pipes: common/factorial_pipe.c ---- */

/* factorial_send: x to another process: its limbs into the memory file
 * (memory_file_open) at byte *at, which moves past them, then a header
 * down the pipe: the count of limbs and where they are. A pipe moves a few
 * pages at a time, taking turns between the two processes, and the kernel
 * allocates and frees its pages every time; the file keeps its pages, and
 * holds a number of megabytes whole. */
enum outcome factorial_send(int pipe, int file, uint64_t *at, const mpz_t x, const char *who);

/* factorial_receive: a number factorial_send sent, into x: its header from
 * the pipe, its limbs from the file; the time from the header to the last
 * limb (not the wait before the header) is added to *comm. */
enum outcome factorial_receive(int pipe, int file, mpz_t x, double *comm, const char *who);

/* The chunks a child of the pool was sent and has not answered yet, oldest first. */
struct in_hand {
    struct chunk chunk[CHUNKS_AHEAD];
    unsigned first, count;
};

/* factorial_order: the dealer's next chunk for worker w, down its orders
 * pipe (MESSAGE_HEADER words: first, count) and into its hand; or, when the
 * dealer has none left for it, the end of its orders (the pipe closed).
 * The time in write is added to *comm. */
enum outcome factorial_order(struct factorial *f, struct pipe_child *child, struct in_hand *hand, unsigned w,
                             double *comm);

/* factorial_results: worker w's message for its oldest chunk, from its
 * results pipe into f->residue, and its next chunk ordered; or, at the end
 * of the pipe after its last chunk, its departure (the pipe closed). A
 * child answers its chunks in order, so the message's length is known. */
enum outcome factorial_results(struct factorial *f, struct pipe_child *child, struct in_hand *hand, unsigned w,
                               double *comm);

/* The factorial task for runs_repeat: reset, verify, corrupt, figures
 * (mode= digits= mod61=, and in --mode many schedule= chunk= tasks= per_task_us=). */
extern const struct task factorial_task;

#endif
