/* common/matmul.c — matmul's inputs, memory, command line and independent check. */
#include "matmul.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mix.h"
#include "team.h"

/* Largest order accepted: 3 matrices of 32768² doubles are 24 GiB, and every
 * sum in the check stays below 2^53, so it stays exact. */
#define MAX_N 32768
#define DEFAULT_N 1024
/* More workers than this is a typo on any machine the suite targets. */
#define MAX_WORKERS 1024
/* Inputs are whole numbers in [-INPUT_RANGE, INPUT_RANGE]. */
#define INPUT_RANGE 8
/* Up to this order the check recomputes every element with an independent
 * loop; above it, Freivalds' test: O(n²) per round instead of O(n³). */
#define EXACT_CHECK_MAX_N 256
/* Freivalds' rounds, and the range [1, FREIVALDS_MAX_WEIGHT] of the random
 * weights; a wrong element is always caught (its weight is never zero) and
 * two wrong elements in one row cancel in a round with chance 1/1024 at most. */
#define FREIVALDS_ROUNDS 2
#define FREIVALDS_MAX_WEIGHT 1024
/* checksum=: the sum over i, j of C[i][j] · (i·n + j + 1), modulo this prime
 * (2^31 - 1): every product fits 64 bits, the sum of n² of them too, and a
 * single wrong element always changes it. The Python lane computes the same
 * figure (python/common/matmul.py), so the same n and seed give the same
 * checksum in both languages. */
#define CHECKSUM_PRIME ((UINT64_C(1) << 31) - 1)
/* Elements of C the checksum takes as whole numbers (|x| below 2^62); NaN
 * and anything larger count as 0. */
#define CHECKSUM_LIMIT 4611686018427387904.0
/* A double's exponent and fraction bits: all exponent bits set and a fraction
 * not zero is a NaN. */
#define EXPONENT_BITS UINT64_C(0x7ff0000000000000)
#define FRACTION_BITS UINT64_C(0x000fffffffffffff)
/* Streams of the input generator: A, B and the check's weights differ. */
enum stream { STREAM_A = 1, STREAM_B = 2, STREAM_WEIGHTS = 3 };

/* --kernel's words, and the names result lines give every enum matmul_kernel. */
static const char *const kernel_names[] = {"blocked", "naive", NULL};
static const char *const kernel_labels[] = {"blocked", "naive", "openblas"};

/* --isa's words: auto, then matmul_isa_names. */
static const char *const isa_words[] = {"auto", "portable", "avx2", "avx512", NULL};

static const struct flag matmul_flags[] = {
    {"--kernel", "blocked|naive", FLAG_CHOICE, OPTION(kernel), offsetof(struct options, kernel_given), 0, 0,
     kernel_names, "blocked: the cache-blocked kernel (default); naive: the textbook triple loop"},
    {"--isa", "auto|portable|avx2|avx512", FLAG_CHOICE, OPTION(isa), 0, 0, 0, isa_words,
     "the blocked kernel's build: auto (default) picks the widest this CPU runs; the others force one"},
    {NULL, NULL, FLAG_SWITCH, 0, 0, 0, 0, 0, NULL, NULL},
};

/* validate: --isa names a build this CPU can run, of the kernel that has
 * builds; the tuning variables are usable. */
static enum outcome validate(const struct options *opt)
{
    if (matmul_tuning_check() != OUTCOME_OK)
        return OUTCOME_USAGE;
    if (opt->isa > 0 && opt->kernel == KERNEL_NAIVE)
        return report_usage_error("--isa %s: only the blocked kernel has builds to choose from; --kernel naive is "
                                  "plain C, one build", matmul_isa_names[opt->isa - 1]);
    if (opt->isa > 0 && !matmul_isa_runs_here((enum matmul_isa)(opt->isa - 1)))
        return report_usage_error("--isa %s: this CPU cannot run that build (it runs up to %s)",
                                  matmul_isa_names[opt->isa - 1], matmul_isa_names[matmul_isa_detect()]);
    return OUTCOME_OK;
}

/* bytes_needed: A, B, C, the reference kept for the exact check, C's rows
 * once more (the processes model's children multiply into memory of their
 * own before copying into C: matmul_block_apart), and every worker's
 * scratch (at most one worker per row has rows to pack). Under MPI, the
 * host with rank 0 (matmul_prepare's MATMUL_RANK): A, B, C and the
 * reference on rank 0, B again in every other rank there, and each rank's
 * rows of A and of C. */
static double bytes_needed(unsigned long n, unsigned workers)
{
    double reference = n <= EXACT_CHECK_MAX_N ? 1.0 : 0.0, matrices = 4.0 + reference;
    struct matmul_blocking blocking = matmul_blocking(matmul_isa_detect());
    size_t most_rows = (n + workers - 1) / workers;
    int ranks = team_ranks_per_host();
    if (ranks > 0) {
        double rows = (double)ranks * (double)most_rows; /* the rows of the ranks there: at most all n */
        matrices = 3.0 + reference + (double)(ranks - 1) + 2.0 * (rows < (double)n ? rows : (double)n) / (double)n;
    }
    return matrices * (double)n * (double)n * sizeof(double) +
           (double)workers * (double)matmul_scratch_bytes(&blocking, n, most_rows);
}

const struct workload matmul_workload = {
    .name = "matmul",
    .summary = "Dense matrix multiply C = A·B (double, n×n)",
    .n_meaning = "order of the matrices",
    .n_min = 1,
    .n_max = MAX_N,
    .n_default = DEFAULT_N,
    .max_workers = MAX_WORKERS,
    .flags = matmul_flags,
    .bytes_needed = bytes_needed,
    .validate = validate,
};

/* generated: element index of a stream, a pure function of the seed, so any
 * process can produce any part of the inputs and get the same numbers. */
static uint64_t generated(unsigned long long seed, enum stream stream, size_t index)
{
    uint64_t stream_key = mix_finalize((seed ^ ((uint64_t)stream << 56)) + MIX_GOLDEN);
    return mix_finalize(stream_key + index + MIX_GOLDEN);
}

/* fill_input: count elements of a stream, whole numbers in [-INPUT_RANGE, INPUT_RANGE]. */
static void fill_input(double *x, size_t count, unsigned long long seed, enum stream stream)
{
    for (size_t i = 0; i < count; i++)
        x[i] = (double)(int)(generated(seed, stream, i) % (2 * INPUT_RANGE + 1)) - INPUT_RANGE;
}

/* children_c: C for fork()ed children, each copying its block of rows in:
 * shared, with a memory file per block where the blocks begin on pages
 * (memory_alloc_shared_blocks), so that the children's copies run side by
 * side instead of one after another. */
static double *children_c(size_t n, unsigned workers)
{
    size_t *block_start = malloc(workers * sizeof *block_start);
    if (!block_start) {
        report_error("out of memory for %u blocks' offsets", workers);
        return NULL;
    }
    for (unsigned w = 0; w < workers; w++) {
        size_t first, last;
        block_range(n, workers, w, &first, &last);
        block_start[w] = first * n * sizeof(double);
    }
    double *c = memory_alloc_shared_blocks(n * n * sizeof(double), workers, block_start);
    free(block_start);
    return c;
}

enum outcome matmul_prepare(struct matmul *m, const struct options *opt, enum memory c_memory,
                            enum matmul_part part)
{
    size_t n = opt->n, bytes = n * n * sizeof(double);
    int whole = part != MATMUL_RANK || team_rank() == 0;
    enum matmul_isa isa = opt->isa == 0 ? matmul_isa_detect() : (enum matmul_isa)(opt->isa - 1);
    *m = (struct matmul){.n = n, .kernel = (enum matmul_kernel)opt->kernel, .blocking = matmul_blocking(isa),
                         .workers = opt->workers,
                         .local = part != MATMUL_RANK ? opt->workers : 1,
                         .c_memory = c_memory, .seed = opt->seed};
    m->b = memory_alloc(bytes, MEMORY_PRIVATE);
    m->span = memory_alloc(m->local * sizeof(struct span), c_memory);
    m->copied = memory_alloc(m->local * sizeof(double), c_memory);
    m->scratch = calloc(m->local, sizeof *m->scratch);
    if (whole) {
        m->a = memory_alloc(bytes, MEMORY_PRIVATE);
        /* c_memory decides, for the children too: matmul_release frees C as that kind */
        m->c = part == MATMUL_CHILDREN && c_memory == MEMORY_SHARED ? children_c(n, m->workers)
                                                                   : memory_alloc(bytes, c_memory);
    }
    enum outcome o = m->b && m->span && m->copied && m->scratch && (!whole || (m->a && m->c)) ? OUTCOME_OK
                                                                                            : OUTCOME_FAILED;
    if (o == OUTCOME_OK && part == MATMUL_RANK && (o = rank_rows_prepare(&m->rows, n, n)) == OUTCOME_OK) {
        m->a_rows = memory_alloc(m->rows.count * n * sizeof(double), MEMORY_PRIVATE);
        m->c_rows = memory_alloc(m->rows.count * n * sizeof(double), MEMORY_PRIVATE);
        o = m->a_rows && m->c_rows ? OUTCOME_OK : OUTCOME_FAILED;
    }
    size_t most_rows = (n + m->workers - 1) / m->workers; /* the largest block */
    for (unsigned w = 0; w < m->local && o == OUTCOME_OK && part != MATMUL_CHILDREN; w++)
        o = matmul_scratch_alloc(&m->scratch[w], &m->blocking, n, most_rows);
    if (o != OUTCOME_OK) {
        if (!m->scratch)
            report_error("out of memory for %u workers' scratch records", m->local);
        matmul_release(m);
        return OUTCOME_FAILED;
    }
    memset(m->span, 0, m->local * sizeof(struct span)); /* no worker has run yet: no times */
    memset(m->copied, 0, m->local * sizeof(double));
    if (whole) {
        fill_input(m->a, n * n, opt->seed, STREAM_A);
        fill_input(m->b, n * n, opt->seed, STREAM_B);
    }
    return OUTCOME_OK;
}

void matmul_release(struct matmul *m)
{
    size_t bytes = m->n * m->n * sizeof(double);
    memory_free(m->a, bytes, MEMORY_PRIVATE);
    memory_free(m->b, bytes, MEMORY_PRIVATE);
    memory_free(m->c, bytes, m->c_memory);
    memory_free(m->span, m->local * sizeof(struct span), m->c_memory);
    memory_free(m->copied, m->local * sizeof(double), m->c_memory);
    for (unsigned w = 0; m->scratch && w < m->local; w++)
        matmul_scratch_free(&m->scratch[w]);
    free(m->scratch);
    memory_free(m->reference, bytes, MEMORY_PRIVATE);
    memory_free(m->a_rows, m->rows.count * m->n * sizeof(double), MEMORY_PRIVATE);
    memory_free(m->c_rows, m->rows.count * m->n * sizeof(double), MEMORY_PRIVATE);
    rank_rows_release(&m->rows);
    *m = (struct matmul){0};
}

void matmul_reset_rows(double *c, size_t rows, size_t n)
{
    for (size_t i = 0; i < rows * n; i++)
        c[i] = NAN;
}

/* is_nan: whether x is a NaN, from its bits: a build with -ffast-math (and
 * icx's default, fp-model fast) assumes no NaN ever occurs, and there isnan(x)
 * is false and a NaN compares equal to anything. */
static int is_nan(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (bits & EXPONENT_BITS) == EXPONENT_BITS && (bits & FRACTION_BITS) != 0;
}

/* ---- the task: what runs_repeat does around each timed multiplication ---- */

static void reset(void *work)
{
    struct matmul *m = work;
    if (m->c)
        matmul_reset_rows(m->c, m->n, m->n);
    if (m->c_rows)
        matmul_reset_rows(m->c_rows, m->rows.count, m->n);
}

/* reference_product: A·B by a loop written apart from the kernels (i-k-j
 * order, no blocking), kept for every later check. */
static double *reference_product(const struct matmul *m)
{
    size_t n = m->n;
    double *r = memory_alloc(n * n * sizeof(double), MEMORY_PRIVATE);
    if (!r)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            r[i * n + j] = 0.0;
        for (size_t k = 0; k < n; k++)
            for (size_t j = 0; j < n; j++)
                r[i * n + j] += m->a[i * n + k] * m->b[k * n + j];
    }
    return r;
}

/* check_exact: every element of C against the reference product. */
static enum outcome check_exact(struct matmul *m)
{
    size_t n = m->n;
    if (!m->reference && !(m->reference = reference_product(m)))
        return OUTCOME_FAILED;
    for (size_t i = 0; i < n * n; i++)
        if (!(m->c[i] == m->reference[i])) {
            report_error("wrong result: C[%zu][%zu] = %g, the reference loop gives %g", i / n,
                         i % n, m->c[i], m->reference[i]);
            return OUTCOME_FAILED;
        }
    return OUTCOME_OK;
}

/* times_vector: y = X·x for an n×n matrix X. */
static void times_vector(const double *x_matrix, const double *x, double *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (size_t k = 0; k < n; k++)
            sum += x_matrix[i * n + k] * x[k];
        y[i] = sum;
    }
}

/* check_freivalds: C·w == A·(B·w) for random whole-number weights w, exactly. */
static enum outcome check_freivalds(struct matmul *m)
{
    size_t n = m->n, bytes = n * sizeof(double);
    double *w = memory_alloc(bytes, MEMORY_PRIVATE), *bw = memory_alloc(bytes, MEMORY_PRIVATE);
    double *abw = memory_alloc(bytes, MEMORY_PRIVATE), *cw = memory_alloc(bytes, MEMORY_PRIVATE);
    enum outcome verdict = w && bw && abw && cw ? OUTCOME_OK : OUTCOME_FAILED;
    for (int round = 0; round < FREIVALDS_ROUNDS && verdict == OUTCOME_OK; round++) {
        for (size_t k = 0; k < n; k++)
            w[k] = (double)(1 + generated(m->seed + (unsigned)round, STREAM_WEIGHTS, k) % FREIVALDS_MAX_WEIGHT);
        times_vector(m->b, w, bw, n);
        times_vector(m->a, bw, abw, n);
        times_vector(m->c, w, cw, n);
        for (size_t i = 0; i < n; i++)
            if (!(cw[i] == abw[i])) {
                report_error("wrong result: row %zu of C fails Freivalds' check ((C·w)[%zu] = %g, "
                             "(A·(B·w))[%zu] = %g)", i, i, cw[i], i, abw[i]);
                verdict = OUTCOME_FAILED;
                break;
            }
    }
    memory_free(w, bytes, MEMORY_PRIVATE);
    memory_free(bw, bytes, MEMORY_PRIVATE);
    memory_free(abw, bytes, MEMORY_PRIVATE);
    memory_free(cw, bytes, MEMORY_PRIVATE);
    return verdict;
}

/* check_written: no element of C is still the NaN matmul_reset_rows put there. */
static enum outcome check_written(const struct matmul *m)
{
    size_t n = m->n;
    for (size_t i = 0; i < n * n; i++)
        if (is_nan(m->c[i])) {
            report_error("wrong result: C[%zu][%zu] was never written (it is still the NaN it was reset to)",
                         i / n, i % n);
            return OUTCOME_FAILED;
        }
    return OUTCOME_OK;
}

static enum outcome verify(void *work)
{
    struct matmul *m = work;
    if (check_written(m) != OUTCOME_OK)
        return OUTCOME_FAILED;
    return m->n <= EXACT_CHECK_MAX_N ? check_exact(m) : check_freivalds(m);
}

static void corrupt(void *work)
{
    struct matmul *m = work;
    m->c[(m->n / 2) * m->n + m->n / 3] += 1.0;
}

/* checksum: the sum over i, j of C[i][j] · (i·n + j + 1) mod CHECKSUM_PRIME,
 * each C[i][j] taken as a whole number toward zero. */
static uint64_t checksum(const struct matmul *m)
{
    size_t count = m->n * m->n;
    uint64_t total = 0; /* below n² · 2^31 <= 2^61: no reduction needed until the end */
    for (size_t i = 0; i < count; i++) {
        double x = m->c[i];
        int64_t whole = !is_nan(x) && fabs(x) < CHECKSUM_LIMIT ? (int64_t)x : 0;
        uint64_t residue = (uint64_t)(whole % (int64_t)CHECKSUM_PRIME + (int64_t)CHECKSUM_PRIME) % CHECKSUM_PRIME;
        total += residue * ((i + 1) % CHECKSUM_PRIME) % CHECKSUM_PRIME;
    }
    return total % CHECKSUM_PRIME;
}

static void figures(void *work, double seconds, FILE *out)
{
    struct matmul *m = work;
    double flops = 2.0 * (double)m->n * (double)m->n * (double)m->n;
    fprintf(out, " gflops=%.3f kernel=%s checksum=%llu", seconds > 0 ? flops / seconds / 1e9 : 0.0,
            kernel_labels[m->kernel], (unsigned long long)checksum(m));
    if (m->kernel == KERNEL_BLOCKED)
        fprintf(out, " isa=%s", matmul_isa_names[m->blocking.isa]);
    if (m->c_memory == MEMORY_SHARED) /* the processes model: what its children copy C's rows into */
        fprintf(out, " c_files=%u", memory_shared_files(m->c, m->n * m->n * sizeof(double)));
}

const struct task matmul_task = {reset, verify, corrupt, figures};
