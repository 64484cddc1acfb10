/* common/factorial.c — factorial's command line, memory, cost-balanced ranges and independent check. */
#include "factorial.h"

#include "factorial_big.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Largest n: every factor must fit in 32 bits (the kernel multiplies factors
 * into 64-bit words), and (2^32 - 1)! has 2.05·10^9 limbs, just inside GMP's
 * limit of 2^31 - 1 (its sizes are ints). Memory runs out long before, and is
 * checked. */
#define MAX_N 4294967295UL
#define DEFAULT_N 1000000
/* --mode many's -n when none is given: tens of thousands of tasks, seconds of work. */
#define MANY_DEFAULT_N 20000UL
/* --mode many computes every k! up to n!: past this many tasks that is days
 * of work, so a larger n is a typo, not an experiment. */
#define MANY_MAX_N 1000000UL
/* More workers than this is a typo on any machine the suite targets; the
 * processes model also holds two pipe ends per worker, well inside the usual
 * limit of 1024 open files. */
#define MAX_WORKERS 256
/* --chunk: at most every task in one chunk. */
#define MAX_CHUNK MANY_MAX_N
/* Memory, in copies of n!: --mode big holds the numbers its stages make
 * (together about one n!), the pieces being multiplied and their products,
 * GMP's scratch for every multiplication running at once (in huge pages,
 * kept for reuse: common/factorial_memory.c), n! itself and, to check it,
 * the reference. Peak resident memory measured at n = 10^7: 9.4 copies
 * (serial), 14.2 (threads, tree, P = 2), 16.2 (threads, primes, P = 4),
 * 19.7 (threads, primes, P = 8), 19.8 (threads, split-tree, P = 4): a base,
 * and scratch for up to about four large multiplications at once (more
 * workers make smaller pieces). */
#define BIG_COPIES 10.0
#define BIG_COPIES_PER_WORKER 3.0
#define BIG_BUSY_WORKERS 4u
#define MANY_COPIES_PER_WORKER 3.0
/* Memory every worker holds whatever n is: its records and GMP's small numbers. */
#define WORKER_BYTES 4096.0
/* A residue no task ever produces (residues are below the prime): the poison
 * that shows a task nobody ran. */
#define UNSET_RESIDUE UINT64_MAX
/* Room for one stage's jobs and the numbers they make (common/factorial_big.c):
 * the primes kernel's first stage has one job per bit of the exponents (at
 * most 32) and per worker; the squarings at most 36. */
#define BIG_JOBS_PER_WORKER 34u
#define BIG_JOBS_EXTRA 64u

/* --mode's and --schedule's words (the order of enum factorial_mode and enum factorial_schedule). */
static const char *const mode_names[] = {"big", "many", NULL};
static const char *const schedule_names[] = {"static", "cyclic", "dynamic", NULL};
static const char *const big_kernel_names[] = {"primes", "tree", "split-tree", NULL};

static const struct flag factorial_flags[] = {
    {"--mode", "big|many", FLAG_CHOICE, OPTION(mode), 0, 0, 0, mode_names,
     "big: one n! (default); many: the factorials of 1..n as tasks (try -n 20000)"},
    {"--schedule", "static|cyclic|dynamic", FLAG_CHOICE, OPTION(schedule), offsetof(struct options, schedule_given),
     0, 0, schedule_names, "--mode many: one block per worker, chunks round-robin, or chunks on request (default)"},
    {"--chunk", "K", FLAG_COUNT, OPTION(chunk), offsetof(struct options, chunk_given), 1, MAX_CHUNK, NULL,
     "--mode many, cyclic and dynamic: tasks handed out at a time (default 1)"},
    {"--kernel", "primes|tree|split-tree", FLAG_CHOICE, OPTION(kernel), offsetof(struct options, kernel_given),
     0, 0, big_kernel_names, "--mode big: primes: by the primes' exponents and squarings (default); "
                             "tree: ranges multiplied up a tree; split-tree: its last multiplication cut over the workers"},
    {NULL, NULL, FLAG_SWITCH, 0, 0, 0, 0, 0, NULL, NULL},
};

/* log2_factorial: log2(m!), from the log-gamma function: the bits of m!, and
 * so the cost of multiplying it up, to a fraction of a bit. */
static double log2_factorial(unsigned long m)
{
    return lgamma((double)m + 1.0) / log(2.0);
}

/* factorial_bytes: the bytes of n! as a GMP integer. */
static double factorial_bytes(unsigned long n)
{
    return log2_factorial(n) / 8.0 + sizeof(mp_limb_t);
}

/* bytes_needed: --mode big's memory, which is also the least that either
 * mode needs; factorial_options checks --mode many's larger needs. */
static double bytes_needed(unsigned long n, unsigned workers)
{
    unsigned busy = workers < BIG_BUSY_WORKERS ? workers : BIG_BUSY_WORKERS;
    return (BIG_COPIES + BIG_COPIES_PER_WORKER * busy) * factorial_bytes(n) + (double)workers * WORKER_BYTES;
}

/* many_bytes_needed: --mode many's memory: every worker forming an n! at once, and the residues. */
static double many_bytes_needed(unsigned long n, unsigned workers)
{
    return (double)workers * (MANY_COPIES_PER_WORKER * factorial_bytes(n) + WORKER_BYTES) +
           ((double)n + 1.0) * sizeof(uint64_t);
}

const struct workload factorial_workload = {
    .name = "factorial",
    .summary = "Exact factorials with GMP: one huge n! (--mode big) or the factorials of 1..n as tasks (--mode many)",
    .n_meaning = "n of n! (--mode many: the last task, n!; default 20000 there)",
    .n_min = 0,
    .n_max = MAX_N,
    .n_default = DEFAULT_N,
    .max_workers = MAX_WORKERS,
    .flags = factorial_flags,
    .bytes_needed = bytes_needed,
};

/* chosen_schedule: --schedule, or dynamic when it was not given. */
static enum factorial_schedule chosen_schedule(const struct options *opt)
{
    return opt->schedule_given ? (enum factorial_schedule)opt->schedule : SCHEDULE_DYNAMIC;
}

enum outcome factorial_options(struct options *opt, int argc, char **argv, const char *model,
                               enum worker_policy policy)
{
    enum outcome o = options_parse(opt, argc, argv, &factorial_workload, model, policy);
    if (o != OUTCOME_OK)
        return o;
    if (opt->mode == MODE_MANY && opt->kernel_given)
        return report_usage_error("--kernel: only --mode big chooses how n! is computed");
    if (opt->mode == MODE_BIG) {
        if (opt->schedule_given)
            return report_usage_error("--schedule: only --mode many deals out tasks");
        if (opt->chunk_given)
            return report_usage_error("--chunk: only --mode many deals out tasks");
        return OUTCOME_OK;
    }
    if (!opt->n_given)
        opt->n = MANY_DEFAULT_N;
    if (opt->chunk_given && chosen_schedule(opt) == SCHEDULE_STATIC)
        return report_usage_error("--chunk %u: --schedule static deals each worker one block; "
                                  "chunks are for cyclic and dynamic", opt->chunk);
    if (opt->n > MANY_MAX_N)
        return report_usage_error("-n %lu: --mode many computes every k! up to n!; past %lu tasks "
                                  "that is days of work", opt->n, MANY_MAX_N);
    return cli_check_memory(many_bytes_needed(opt->n, opt->workers), "-n %lu: --mode many with %u workers",
                            opt->n, opt->workers);
}

/* cut_ranges: bound[0..parts]: bound[w] is the smallest m whose log2(m!)
 * reaches w/parts of log2(n!), so that every range's product has about as
 * many bits as every other's. Cut by count instead, the last range's factors
 * would be the largest and its product the longest. */
static void cut_ranges(unsigned long n, unsigned parts, unsigned long *bound)
{
    double total = log2_factorial(n);
    bound[0] = 0;
    for (unsigned w = 1; w < parts; w++) {
        double target = total * w / parts;
        unsigned long low = bound[w - 1], high = n;
        while (low < high) {
            unsigned long middle = low + (high - low) / 2;
            if (log2_factorial(middle) >= target)
                high = middle;
            else
                low = middle + 1;
        }
        bound[w] = low;
    }
    bound[parts] = n;
}

/* digits_from_log: the decimal digits of a number whose log10 is about
 * log10x, unless log10x is too near a whole number for a double to tell; 0 then. */
static unsigned long digits_from_log(double log10x)
{
    double whole = floor(log10x), margin = 1e-6 + 1e-13 * log10x;
    if (log10x - whole > margin && whole + 1 - log10x > margin)
        return (unsigned long)whole + 1;
    return 0;
}

/* decimal_digits: the exact number of decimal digits of x (1 for 0):
 * mpz_sizeinbase(x, 10) may be one too many, so it is settled from x's
 * leading bits, or where they cannot tell, by comparing x with a power of 10. */
static unsigned long decimal_digits(const mpz_t x)
{
    if (mpz_sgn(x) <= 0)
        return 1;
    long exponent;
    double mantissa = mpz_get_d_2exp(&exponent, x); /* x = mantissa · 2^exponent */
    unsigned long digits = digits_from_log(log10(mantissa) + (double)exponent * log10(2.0));
    if (digits != 0)
        return digits;
    digits = mpz_sizeinbase(x, 10);
    mpz_t power;
    mpz_init(power);
    mpz_ui_pow_ui(power, 10, digits - 1);
    if (mpz_cmp(x, power) < 0)
        digits--;
    mpz_clear(power);
    return digits;
}

/* factorial_digits: the decimal digits of n!, from log10(n!) or, where that
 * cannot tell, from n! itself. */
static unsigned long factorial_digits(unsigned long n)
{
    unsigned long digits = digits_from_log(lgamma((double)n + 1.0) / log(10.0));
    if (digits != 0)
        return digits;
    mpz_t x;
    mpz_init(x);
    mpz_fac_ui(x, n);
    digits = decimal_digits(x);
    mpz_clear(x);
    return digits;
}

/* prime_table_alloc: the primes kernel's table and sieve, allocated and
 * touched once, here, outside the timed region: every run sieves again into
 * the same pages. Made afresh by each run, they cost a page fault per 4 KiB
 * (on a virtual machine, a trip out of it too), and in a fork()ed child
 * again: the sieve took more than half of a processes run's page faults. */
static enum outcome prime_table_alloc(struct factorial *f)
{
    f->prime_room = factorial_prime_bound(f->n);
    f->prime = memory_alloc(f->prime_room * sizeof *f->prime, MEMORY_PRIVATE);
    f->exponent = memory_alloc(f->prime_room * sizeof *f->exponent, MEMORY_PRIVATE);
    f->composite = memory_alloc(factorial_sieve_bytes(f->n), MEMORY_PRIVATE);
    if (!f->prime || !f->exponent || !f->composite)
        return OUTCOME_FAILED; /* memory_alloc said why */
    memset(f->prime, 0, f->prime_room * sizeof *f->prime);
    memset(f->exponent, 0, f->prime_room * sizeof *f->exponent);
    memset(f->composite, 0, factorial_sieve_bytes(f->n));
    return OUTCOME_OK;
}

enum outcome factorial_prepare(struct factorial *f, const struct options *opt, enum memory memory)
{
    unsigned workers = opt->workers;
    *f = (struct factorial){.n = opt->n, .mode = (enum factorial_mode)opt->mode, .workers = workers,
                            .memory = memory, .kernel = KERNEL_PRODUCT, .schedule = chosen_schedule(opt),
                            .big_kernel = (enum big_kernel)opt->kernel,
                            .chunk = opt->chunk_given ? opt->chunk : 1};
    if (factorial_memory_use() != OUTCOME_OK)
        return OUTCOME_FAILED;
    mpz_init(f->result);
    mpz_init(f->reference);
    f->span = memory_alloc(workers * sizeof(struct span), memory);
    f->comm = memory_alloc(workers * sizeof(double), memory);
    f->bound = calloc(workers + 1, sizeof *f->bound);
    f->taken = calloc(workers, sizeof *f->taken);
    f->busy = memory_alloc(workers * sizeof(double), memory);
    f->job_room = BIG_JOBS_PER_WORKER * workers + BIG_JOBS_EXTRA;
    f->jobs = calloc(f->job_room, sizeof *f->jobs);
    f->number = calloc(f->job_room, sizeof *f->number);
    for (unsigned i = 0; f->number && i < f->job_room; i++)
        mpz_init(f->number[i]);
    f->numbers = f->number ? f->job_room : 0;
    if (f->schedule == SCHEDULE_STATIC)
        f->chunk = (f->n + workers - 1) / workers;
    f->most_tasks = f->chunk < f->n ? f->chunk : f->n;
    if (f->mode == MODE_MANY) {
        f->residue = memory_alloc((f->n + 1) * sizeof(uint64_t), MEMORY_PRIVATE);
        f->outbox = memory_alloc((MESSAGE_HEADER + f->most_tasks) * sizeof(uint64_t), MEMORY_PRIVATE);
    }
    int primes = f->mode == MODE_BIG && f->big_kernel == BIG_KERNEL_PRIMES;
    if (primes && prime_table_alloc(f) != OUTCOME_OK) {
        factorial_release(f);
        return OUTCOME_FAILED;
    }
    int have_all = f->span && f->comm && f->bound && f->taken && f->busy && f->jobs && f->number &&
                   (f->mode == MODE_BIG || (f->residue && f->outbox));
    if (!have_all) {
        if (!f->bound || !f->taken || !f->jobs || !f->number)
            report_error("out of memory for %u workers' records", workers);
        factorial_release(f);
        return OUTCOME_FAILED;
    }
    cut_ranges(f->n, workers, f->bound);
    if (f->mode == MODE_MANY)
        f->n_digits = factorial_digits(f->n);
    return OUTCOME_OK;
}

void factorial_release(struct factorial *f)
{
    for (unsigned i = 0; i < f->numbers; i++)
        mpz_clear(f->number[i]);
    free(f->number);
    free(f->jobs);
    memory_free(f->prime, f->prime_room * sizeof *f->prime, MEMORY_PRIVATE);
    memory_free(f->exponent, f->prime_room * sizeof *f->exponent, MEMORY_PRIVATE);
    memory_free(f->composite, factorial_sieve_bytes(f->n), MEMORY_PRIVATE);
    memory_free(f->busy, f->workers * sizeof(double), f->memory);
    free(f->bound);
    free(f->taken);
    memory_free(f->span, f->workers * sizeof(struct span), f->memory);
    memory_free(f->comm, f->workers * sizeof(double), f->memory);
    memory_free(f->residue, (f->n + 1) * sizeof(uint64_t), MEMORY_PRIVATE);
    memory_free(f->outbox, (MESSAGE_HEADER + f->most_tasks) * sizeof(uint64_t), MEMORY_PRIVATE);
    mpz_clear(f->result);
    mpz_clear(f->reference);
    *f = (struct factorial){0};
}

/* times_mod: a · b mod the prime, exactly, through a 128-bit product. */
static uint64_t times_mod(uint64_t a, uint64_t b)
{
    return (uint64_t)((unsigned __int128)a * b % FACTORIAL_PRIME);
}

void factorial_checksum(struct factorial *f)
{
    uint64_t sum = 0;
    for (unsigned long k = 1; k <= f->n; k++)
        sum = (sum + times_mod(k, f->residue[k])) % FACTORIAL_PRIME;
    f->checksum = sum;
}

enum outcome factorial_store(struct factorial *f, const uint64_t *message, size_t words, const char *from)
{
    uint64_t first = message[0], count = message[1];
    if (words != MESSAGE_HEADER + count || (count > 0 && (first < 1 || first > f->n || count > f->n - first + 1))) {
        report_error("%s sent results for tasks that do not exist (first %llu, count %llu, %zu words)", from,
                     (unsigned long long)first, (unsigned long long)count, words);
        return OUTCOME_FAILED;
    }
    if (count > 0)
        memcpy(f->residue + first, message + MESSAGE_HEADER, count * sizeof(uint64_t));
    return OUTCOME_OK;
}

/* ---- the task: what runs_repeat does around each timed run ---- */

/* reset: poison every result (0 is no product; UNSET_RESIDUE no residue),
 * so a worker that skipped its part is caught, and rewind the dealer. */
static void reset(void *work)
{
    struct factorial *f = work;
    memset(f->span, 0, f->workers * sizeof(struct span));
    memset(f->comm, 0, f->workers * sizeof(double));
    mpz_set_ui(f->result, 0);
    for (unsigned w = 0; w < f->workers; w++)
        f->taken[w] = 0;
    f->next_task = 1;
    f->primes_ready = 0; /* every run finds its primes again, as mpz_fac_ui does */
    for (unsigned long k = 1; f->residue && k <= f->n; k++)
        f->residue[k] = UNSET_RESIDUE;
    f->checksum = UNSET_RESIDUE;
}

/* check_big: n! against the reference, made once by the other kernel:
 * mpz_fac_ui (GMP's own algorithm, which shares nothing with the binary
 * splitting but the multiplication), or for the mpz_fac_ui lane the binary
 * splitting. */
static enum outcome check_big(struct factorial *f)
{
    const char *method = f->kernel == KERNEL_PRODUCT ? "mpz_fac_ui" : "the binary-splitting product";
    if (!f->have_reference) {
        if (f->kernel == KERNEL_PRODUCT)
            mpz_fac_ui(f->reference, f->n);
        else
            factorial_product(f->reference, 1, f->n);
        f->have_reference = 1;
    }
    if (mpz_cmp(f->result, f->reference) == 0)
        return OUTCOME_OK;
    report_error("wrong result: %lu! differs from %s's (%zu bits against %zu; mod 2^61-1: %lu against %lu)",
                 f->n, method, mpz_sizeinbase(f->result, 2), mpz_sizeinbase(f->reference, 2),
                 mpz_fdiv_ui(f->result, FACTORIAL_PRIME), mpz_fdiv_ui(f->reference, FACTORIAL_PRIME));
    return OUTCOME_FAILED;
}

/* check_many: every task's residue against k! mod p multiplied up one k at a
 * time in 64-bit arithmetic (no GMP), and the checksum against its closed
 * form: the sum of k · k! over k = 1..n telescopes to (n+1)! - 1. */
static enum outcome check_many(struct factorial *f)
{
    uint64_t expected = 1;
    for (unsigned long k = 1; k <= f->n; k++) {
        expected = times_mod(expected, k);
        if (f->residue[k] != expected) {
            report_error("wrong result: task %lu gave %lu! mod 2^61-1 = %llu, the 64-bit recurrence gives %llu",
                         k, k, (unsigned long long)f->residue[k], (unsigned long long)expected);
            return OUTCOME_FAILED;
        }
    }
    uint64_t closed_form = (times_mod(expected, f->n + 1) + FACTORIAL_PRIME - 1) % FACTORIAL_PRIME;
    if (f->checksum != closed_form) {
        report_error("wrong result: checksum %llu, but ((n+1)! - 1) mod 2^61-1 = %llu",
                     (unsigned long long)f->checksum, (unsigned long long)closed_form);
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

static enum outcome verify(void *work)
{
    struct factorial *f = work;
    return f->mode == MODE_BIG ? check_big(f) : check_many(f);
}

/* corrupt: flip one bit in the middle of n!, or change one task's residue
 * (the checksum when there are no tasks). */
static void corrupt(void *work)
{
    struct factorial *f = work;
    if (f->mode == MODE_BIG)
        mpz_combit(f->result, mpz_sizeinbase(f->result, 2) / 2);
    else if (f->n >= 1)
        f->residue[(f->n + 1) / 2] ^= 1;
    else
        f->checksum ^= 1;
}

static void figures(void *work, double seconds, FILE *out)
{
    struct factorial *f = work;
    if (f->mode == MODE_BIG) {
        fprintf(out, " mode=big digits=%lu mod61=%lu kernel=%s split=%s", decimal_digits(f->result),
                mpz_fdiv_ui(f->result, FACTORIAL_PRIME),
                f->kernel == KERNEL_FAC_UI ? "mpz_fac_ui" : big_kernel_names[f->big_kernel],
                f->kernel == KERNEL_FAC_UI ? "none" : factorial_split_name(f));
        return;
    }
    fprintf(out, " mode=many digits=%lu mod61=%llu schedule=%s chunk=%lu tasks=%lu per_task_us=%.3f",
            f->n_digits, (unsigned long long)f->checksum, schedule_names[f->schedule], f->chunk, f->n,
            f->n > 0 ? seconds / (double)f->n * 1e6 : 0.0);
}

const struct task factorial_task = {reset, verify, corrupt, figures};
