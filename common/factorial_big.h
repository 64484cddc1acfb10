/* common/factorial_big.h — --mode big as stages of independent multiplications that any model can run.
 *
 * n! is built in steps. Some steps are many multiplications that do not
 * depend on each other (a stage): they can run at once, one worker each.
 * Between stages the coordinating worker (worker 0: the main thread, the
 * parent process, rank 0) joins what they made — puts parts together, starts the
 * next step. The model decides only how a stage's jobs run in parallel
 * (threads, fork()ed children, an OpenMP team, MPI ranks): factorial_big
 * hands it each stage, so the algorithm is the same in every model.
 *
 * Two kernels (--kernel):
 *   primes  (default) n! = 2^e2 · Π p^e_p over the odd primes p <= n, the way
 *           GMP's mpz_fac_ui works: the exponents' binary digits group the
 *           primes (P_b: the primes whose exponent has bit b set), and
 *           n!'s odd part = (((P_top)² · P_top-1)² · …)² · P_0 — squarings,
 *           which cost about half a multiplication. Stage by stage: the
 *           products P_b, split over the workers; then each squaring and
 *           each multiplication of the chain, cut into pieces.
 *   tree    the textbook way: 1..n cut into one range per worker of equal
 *           cost, each multiplied by binary splitting, the partial products
 *           multiplied pairwise up a tree. The last multiplication of the
 *           tree (two halves of n!) runs on one core while the others wait:
 *           Amdahl's serial part, in the phase combine.
 *   split-tree  the same tree, its last multiplication cut into pieces, one
 *           per worker: the serial part split.
 *
 * The stages that make n!'s parts (ranges, the products of primes) count
 * as compute; those that put it together (the tree's rounds, the chain of
 * squarings) as combine, cut or not.
 *
 * Cutting one multiplication x·y (or squaring x²) over two or three
 * workers: two jobs, x·y mod (B^m − 1) and x·y mod (B^m + 1) with
 * 2m >= the product's limbs, each about half the work of the whole
 * product; the coordinator puts x·y back together from them (the Chinese
 * remainder theorem: a few additions, common/halves.h). Over four or more
 * workers, or where the GMP linked lacks the internals the residues use:
 * y is cut into pieces of limbs, each worker multiplies x by its piece, and
 * the coordinator adds the products, each shifted to its piece's place; a
 * squaring x² is cut as (a·B + b)² = a²·B² + 2ab·B + b². Pieces cost more
 * in all than the whole product (two products of x by half of y cost more
 * than one by all of it), residues do not.
 */
#ifndef FACTORIAL_BIG_H
#define FACTORIAL_BIG_H

#include "factorial.h"

/* What a job computes. */
enum big_job_kind {
    JOB_RANGE,  /* the product of the odd parts of first..last (the tree kernel's ranges) */
    JOB_PRIMES, /* the product of primes[first..last) whose exponent in n! has bit `bit` set */
    JOB_MUL,    /* piece x times piece y */
    JOB_SQUARE, /* piece x squared */
    JOB_MINUS,  /* x·y mod (B^m − 1), m = first (common/halves.h; x and y the same piece: x²) */
    JOB_PLUS,   /* x·y mod (B^m + 1), likewise */
};

/* A piece of a number of the table f->number: limbs [from, from + limbs)
 * of number[slot] (limbs == 0 and from == 0: the whole number). */
struct big_piece {
    unsigned slot;
    size_t from, limbs;
};

/* One job of a stage: what it computes, who runs it, and where its product goes. */
struct big_job {
    enum big_job_kind kind;
    unsigned worker;           /* the worker that runs it: 0 is the coordinator */
    unsigned long first, last; /* JOB_RANGE: factors; JOB_PRIMES: indices into the prime table;
                                  JOB_MINUS, JOB_PLUS: first is m */
    unsigned bit;              /* JOB_PRIMES: which binary digit of the exponent selects a prime */
    struct big_piece x, y;     /* JOB_MUL, JOB_SQUARE, JOB_MINUS, JOB_PLUS: the operands */
    unsigned out;              /* the product goes to f->number[out] */
    double cost;               /* estimated, to share the jobs out evenly */
};

/* A stage: jobs that depend on nothing made in the same stage. */
struct big_stage {
    struct big_job *job;
    unsigned count;
    int combining; /* part of putting n! together (phase combine), not of making its parts (compute) */
};

/* The model's part: run every job of the stage on the worker it names, so
 * that afterwards f->number[job.out] holds each product in the coordinating
 * process. It adds its costs to the phases: setup (starting workers), comm
 * (moving numbers), compute (the slowest worker's time in the stage's
 * jobs: factorial_stage_compute). */
typedef enum outcome (*big_runner)(struct factorial *f, const struct big_stage *stage, struct phases *phases);

/* factorial_big: n! into f->result by f's kernel, handing every stage to run;
 * the coordinator's own work between stages is the phases' combine. */
enum outcome factorial_big(struct factorial *f, big_runner run, struct phases *phases);

/* factorial_split_name: how f's kernel splits its large multiplications over
 * the workers, for the result line: halves (the remainders), pieces, or none
 * (one worker, or the plain tree). */
const char *factorial_split_name(const struct factorial *f);

/* factorial_job: one job, in this worker: f->number[job->out] = its product;
 * returns the seconds it took. Operands are read from f->number (a model
 * that moves numbers between address spaces puts them there first, see
 * factorial_job_operands). */
double factorial_job(struct factorial *f, const struct big_job *job);

/* factorial_job_operands: how many numbers a job reads (0: ranges and
 * primes; 1: a square, whose x and y are one piece; 2), for a model that
 * moves them between address spaces. */
int factorial_job_operands(const struct big_job *job);

/* factorial_job_product: a job that reads numbers, on operands x and y
 * (the same pointer for a square): out = the product, or its residue. */
void factorial_job_product(const struct big_job *job, mpz_ptr out, mpz_srcptr x, mpz_srcptr y);

/* factorial_run_jobs: every job of the stage that worker runs, one after
 * another; records the seconds they took in f->busy[worker] and when it
 * began and ended them in f->span[worker]. */
void factorial_run_jobs(struct factorial *f, const struct big_stage *stage, unsigned worker);

/* factorial_operands_make: room for the operands of a stage's jobs (two
 * per job, each an initialised number) in a worker that receives them;
 * NULL after saying so when memory runs out. factorial_operands_free gives
 * it back. */
mpz_t *factorial_operands_make(const struct factorial *f);
void factorial_operands_free(const struct factorial *f, mpz_t *operand);

/* factorial_run_received: the same for a worker with an address space of its
 * own, which has received its jobs' operands from the coordinator: job j's
 * x in operand[2j] and its y in operand[2j + 1] (a square's one operand in
 * operand[2j]); jobs that read no number (ranges, primes) run as in
 * factorial_run_jobs. */
void factorial_run_received(struct factorial *f, const struct big_stage *stage, unsigned worker, mpz_t *operand);

/* factorial_stage_phases: a shared-memory stage that began at start and has
 * just ended, into the phases: setup until the last worker began its jobs,
 * compute the longest any worker was busy, combine from the last worker's
 * end until now (joining). */
void factorial_stage_phases(const struct factorial *f, double start, struct phases *phases);

/* factorial_prime_table: the odd primes <= n and their exponents in n!, made
 * again by every run (as mpz_fac_ui does), in the table factorial_prepare
 * allocated and touched once; a no-op once made in this run. A model whose
 * workers have their own memory makes it in each (MPI), or before fork() so
 * the children read the parent's (processes). OUTCOME_FAILED when there is
 * no table. */
enum outcome factorial_prime_table(struct factorial *f);

/* factorial_sieve_bytes: the sieve's size for n: a byte per odd number from 3. */
size_t factorial_sieve_bytes(unsigned long n);

/* factorial_prime_bound: room enough for the odd primes up to n. */
size_t factorial_prime_bound(unsigned long n);

/* factorial_piece_view: a read-only view of a piece (no copy). */
void factorial_piece_view(const struct factorial *f, const struct big_piece *piece, mpz_t view);

#endif
