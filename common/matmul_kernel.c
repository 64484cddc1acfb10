/* common/matmul_kernel.c — the one matrix-multiply kernel every model calls, and the naive one.
 *
 * The blocked kernel is the GotoBLAS/BLIS layering. C = A·B is cut three ways,
 * so that each piece of data is read from the cache level that can hold it:
 *
 *   for each NC-wide column block of B              (jc)
 *     for each KC-deep stretch of k                 (pc)
 *       pack B[pc.., jc..] (KC × NC) into slivers   -> stays in L3 / L2
 *       for each MC-tall row block of A             (ic)
 *         pack A[ic.., pc..] (MC × KC) into slivers -> stays in L2
 *         for each NR-wide sliver of packed B       (jr) -> stays in L1
 *           for each MR-tall sliver of packed A     (ir) -> streams from L2
 *             the micro-tile: C[MR × NR] += A sliver · B sliver, in registers
 *
 * Packing copies a block once into the exact order the micro-tile reads it
 * (contiguous, no stride), so every load in the innermost loop is a
 * sequential one from a cache that holds it. The micro-tile keeps MR × NR
 * sums of C in vector registers for the whole KC-long stretch: per step of
 * k it loads NR/W vectors of B (W doubles to a vector), broadcasts MR values
 * of A, and issues MR·NR/W fused multiply-adds — enough independent sums to
 * keep both FMA units busy through their latency.
 *
 * The micro-tile comes in three builds, picked at run time from what the CPU
 * can do (matmul_isa_detect): AVX-512 (8 rows × 3 vectors of 8 = 24 zmm
 * sums), AVX2 (6 rows × 2 vectors of 4 = 12 ymm sums, BLIS's Haswell shape),
 * and portable C that any C11 compiler builds and vectorizes as it can. The
 * x86 builds are written with intrinsics, not left to the compiler: gcc's
 * -march=native on Intel AVX-512 cores prefers 256-bit vectors, which halves
 * the work per instruction and spills the sums. KC, MC and NC come from the
 * caches' sizes at run time (matmul_blocking).
 */
#include "matmul.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define X86_PATHS 1
#include <immintrin.h>
#else
#define X86_PATHS 0
#endif

/* The largest tile of any path: the edge tile's scratch is this big. */
#define MR_MAX 8
#define NR_MAX 24
/* Cache sizes assumed when the system does not say (small, common ones). */
#define L1_FALLBACK (32u << 10)
#define L2_FALLBACK (256u << 10)
/* Shares of a cache a packed block may fill. A B sliver may fill L1: the A
 * sliver and C stream past it and are not reused. The A block takes less
 * than half of L2, which also holds the B slivers on their way to L1.
 * (Tuned on AMD Zen 5: 48 KiB L1d, 1 MiB L2 -> KC = 256, MC = 192.) */
#define L1_SHARE 1.0
#define L2_SHARE 0.375
/* Limits on the blocking, whatever the caches say. */
#define KC_MIN 64
#define KC_MAX 512
#define MC_MAX 1024
/* Columns of B packed at a time: a multiple of every NR, large enough that
 * packing B is a small part of the work, small enough to stay near the core. */
#define NC_DEFAULT 2064
/* Where B's packing buffer starts after A's, in the one block they share: a cache line. */
#define SCRATCH_ALIGNMENT 64

/* ISA names as the result line and --isa say them (the order of enum matmul_isa). */
const char *const matmul_isa_names[] = {"portable", "avx2", "avx512", NULL};

/* ---- the micro-tiles -------------------------------------------------------- */

/* Each tile: the MR×NR block of C at c (row stride ldc) gets, or with
 * accumulate gets added, the product of a packed A sliver (kc steps of MR
 * values) and a packed B sliver (kc steps of NR values). */
typedef void (*tile_fn)(size_t kc, const double *restrict ap, const double *restrict bp, double *restrict c,
                        size_t ldc, int accumulate);

/* The portable tile: fixed trip counts, so the compiler unrolls and vectorizes along NR. */
#define PORTABLE_MR 4
#define PORTABLE_NR 8
static void tile_portable(size_t kc, const double *restrict ap, const double *restrict bp,
                          double *restrict c, size_t ldc, int accumulate)
{
    double acc[PORTABLE_MR][PORTABLE_NR] = {{0}};
    for (size_t p = 0; p < kc; p++)
        for (int i = 0; i < PORTABLE_MR; i++)
            for (int j = 0; j < PORTABLE_NR; j++)
                acc[i][j] += ap[p * PORTABLE_MR + i] * bp[p * PORTABLE_NR + j];
    for (int i = 0; i < PORTABLE_MR; i++)
        for (int j = 0; j < PORTABLE_NR; j++)
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

#if X86_PATHS
/* The x86 tiles name each sum as its own variable (ROWS() repeats a line per
 * row): held in an array, gcc keeps a copy in memory and stores it on every
 * step of k. */

/* AVX2 + FMA: 6 rows × 2 ymm vectors = 12 sums, 2 loads of B and 1 broadcast
 * of A in flight: 15 of the 16 ymm registers. */
#define AVX2_MR 6
#define AVX2_NR 8
#define AVX2_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
__attribute__((target("avx2,fma"))) static void tile_avx2(size_t kc, const double *restrict ap,
                                                           const double *restrict bp, double *restrict c,
                                                           size_t ldc, int accumulate)
{
#define AVX2_SUMS(i) __m256d c##i##0 = _mm256_setzero_pd(), c##i##1 = _mm256_setzero_pd();
    AVX2_ROWS(AVX2_SUMS)
    for (size_t p = 0; p < kc; p++) {
        __m256d b0 = _mm256_loadu_pd(bp + p * AVX2_NR), b1 = _mm256_loadu_pd(bp + p * AVX2_NR + 4);
#define AVX2_STEP(i)                                                                                          \
    {                                                                                                         \
        __m256d a = _mm256_broadcast_sd(ap + p * AVX2_MR + i);                                                \
        c##i##0 = _mm256_fmadd_pd(a, b0, c##i##0);                                                            \
        c##i##1 = _mm256_fmadd_pd(a, b1, c##i##1);                                                            \
    }
        AVX2_ROWS(AVX2_STEP)
    }
#define AVX2_STORE(i)                                                                                         \
    {                                                                                                         \
        double *row = c + i * ldc;                                                                            \
        if (accumulate) {                                                                                     \
            c##i##0 = _mm256_add_pd(_mm256_loadu_pd(row), c##i##0);                                          \
            c##i##1 = _mm256_add_pd(_mm256_loadu_pd(row + 4), c##i##1);                                      \
        }                                                                                                     \
        _mm256_storeu_pd(row, c##i##0);                                                                       \
        _mm256_storeu_pd(row + 4, c##i##1);                                                                   \
    }
    AVX2_ROWS(AVX2_STORE)
}

/* AVX-512: 8 rows × 3 zmm vectors = 24 sums, 3 loads of B and 1 broadcast of
 * A in flight: 28 of the 32 zmm registers. */
#define AVX512_MR 8
#define AVX512_NR 24
#define AVX512_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
__attribute__((target("avx512f"))) static void tile_avx512(size_t kc, const double *restrict ap,
                                                            const double *restrict bp, double *restrict c,
                                                            size_t ldc, int accumulate)
{
#define AVX512_SUMS(i) __m512d c##i##0 = _mm512_setzero_pd(), c##i##1 = c##i##0, c##i##2 = c##i##0;
    AVX512_ROWS(AVX512_SUMS)
    for (size_t p = 0; p < kc; p++) {
        const double *b = bp + p * AVX512_NR;
        __m512d b0 = _mm512_loadu_pd(b), b1 = _mm512_loadu_pd(b + 8), b2 = _mm512_loadu_pd(b + 16);
#define AVX512_STEP(i)                                                                                        \
    {                                                                                                         \
        __m512d a = _mm512_set1_pd(ap[p * AVX512_MR + i]);                                                    \
        c##i##0 = _mm512_fmadd_pd(a, b0, c##i##0);                                                            \
        c##i##1 = _mm512_fmadd_pd(a, b1, c##i##1);                                                            \
        c##i##2 = _mm512_fmadd_pd(a, b2, c##i##2);                                                            \
    }
        AVX512_ROWS(AVX512_STEP)
    }
#define AVX512_STORE(i)                                                                                       \
    {                                                                                                         \
        double *row = c + i * ldc;                                                                            \
        if (accumulate) {                                                                                     \
            c##i##0 = _mm512_add_pd(_mm512_loadu_pd(row), c##i##0);                                           \
            c##i##1 = _mm512_add_pd(_mm512_loadu_pd(row + 8), c##i##1);                                       \
            c##i##2 = _mm512_add_pd(_mm512_loadu_pd(row + 16), c##i##2);                                      \
        }                                                                                                     \
        _mm512_storeu_pd(row, c##i##0);                                                                       \
        _mm512_storeu_pd(row + 8, c##i##1);                                                                   \
        _mm512_storeu_pd(row + 16, c##i##2);                                                                  \
    }
    AVX512_ROWS(AVX512_STORE)
}
#endif

/* A path: its tile and the tile's shape. */
struct path {
    tile_fn tile;
    size_t mr, nr;
};

static const struct path paths[] = {
    [MATMUL_ISA_PORTABLE] = {tile_portable, PORTABLE_MR, PORTABLE_NR},
#if X86_PATHS
    [MATMUL_ISA_AVX2] = {tile_avx2, AVX2_MR, AVX2_NR},
    [MATMUL_ISA_AVX512] = {tile_avx512, AVX512_MR, AVX512_NR},
#endif
};

/* ---- choosing the path and the blocks ----------------------------------------- */

enum matmul_isa matmul_isa_detect(void)
{
#if X86_PATHS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return MATMUL_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return MATMUL_ISA_AVX2;
#endif
    return MATMUL_ISA_PORTABLE;
}

int matmul_isa_runs_here(enum matmul_isa isa)
{
    return isa <= matmul_isa_detect();
}

/* cache_bytes: a cache's size as the system says it (sysconf), or fallback. */
static size_t cache_bytes(int name, size_t fallback)
{
    long bytes = sysconf(name);
    return bytes > 0 ? (size_t)bytes : fallback;
}

/* round_down: x rounded down to a multiple of step, but at least step. */
static size_t round_down(size_t x, size_t step)
{
    return x < step ? step : x / step * step;
}

/* The tuning variables, and the largest block they may ask for: far past any
 * cache (4096 × 4096 doubles are 128 MiB), small enough that no size made
 * from them can overflow. */
static const char *const tuning_names[] = {"MATMUL_KC", "MATMUL_MC", "MATMUL_NC"};
#define TUNING_MAX 4096

/* env_size: a whole number from 1 to TUNING_MAX from the environment, or
 * fallback where it is unset or empty (for tuning by hand); 0 where it is
 * anything else (matmul_tuning_check refuses it). */
static size_t env_size(const char *name, size_t fallback)
{
    const char *text = getenv(name);
    if (!text || !*text)
        return fallback;
    unsigned long long value;
    return cli_parse_count(text, 1, TUNING_MAX, &value) == 0 ? (size_t)value : 0;
}

enum outcome matmul_tuning_check(void)
{
    for (size_t i = 0; i < sizeof tuning_names / sizeof *tuning_names; i++)
        if (env_size(tuning_names[i], 1) == 0)
            return report_usage_error("%s=%s: a whole number from 1 to %d, or unset (the caches then decide)",
                                      tuning_names[i], getenv(tuning_names[i]), TUNING_MAX);
    return OUTCOME_OK;
}

struct matmul_blocking matmul_blocking(enum matmul_isa isa)
{
    const struct path *path = &paths[isa];
    size_t l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, L1_FALLBACK);
    size_t l2 = cache_bytes(_SC_LEVEL2_CACHE_SIZE, L2_FALLBACK);
    struct matmul_blocking b;
    b.isa = isa;
    b.mr = path->mr;
    b.nr = path->nr;
    /* a B sliver (KC × NR) in L1, reused by every A sliver of the row block */
    b.kc = round_down((size_t)(L1_SHARE * (double)l1) / (b.nr * sizeof(double)), 8);
    b.kc = b.kc < KC_MIN ? KC_MIN : b.kc > KC_MAX ? KC_MAX : b.kc;
    /* the packed A block (MC × KC) in L2, read once per B sliver */
    b.mc = round_down((size_t)(L2_SHARE * (double)l2) / (b.kc * sizeof(double)), b.mr);
    b.mc = b.mc > MC_MAX ? round_down(MC_MAX, b.mr) : b.mc;
    b.nc = round_down(NC_DEFAULT, b.nr);
    b.kc = env_size(tuning_names[0], b.kc);
    b.mc = round_down(env_size(tuning_names[1], b.mc), b.mr);
    b.nc = round_down(env_size(tuning_names[2], b.nc), b.nr);
    return b;
}

/* ---- the layers around the tile ------------------------------------------------ */

/* min_size: the smaller of two sizes. */
static size_t min_size(size_t x, size_t y)
{
    return x < y ? x : y;
}

/* round_up: x rounded up to a multiple of step. */
static size_t round_up(size_t x, size_t step)
{
    return (x + step - 1) / step * step;
}

/* pack_b: copy B's kc×nc block at (pc, jc) into slivers of nr columns, each
 * stored row after row, with zeros past the last column. */
static void pack_b(const double *b, size_t n, size_t pc, size_t kc, size_t jc, size_t nc, size_t nr,
                   double *bp)
{
    for (size_t jr = 0; jr < nc; jr += nr) {
        double *sliver = bp + jr * kc;
        size_t cols = min_size(nr, nc - jr);
        for (size_t p = 0; p < kc; p++) {
            const double *row = b + (pc + p) * n + jc + jr;
            memcpy(sliver + p * nr, row, cols * sizeof(double));
            for (size_t j = cols; j < nr; j++)
                sliver[p * nr + j] = 0.0;
        }
    }
}

/* pack_a: copy A's mc×kc block at (ic, pc) into slivers of mr rows, each
 * stored column after column, with zeros past the last row. */
static void pack_a(const double *a, size_t n, size_t ic, size_t mc, size_t pc, size_t kc, size_t mr,
                   double *ap)
{
    for (size_t ir = 0; ir < mc; ir += mr) {
        double *sliver = ap + ir * kc;
        size_t rows = min_size(mr, mc - ir);
        for (size_t i = 0; i < rows; i++) {
            const double *row = a + (ic + ir + i) * n + pc;
            for (size_t p = 0; p < kc; p++)
                sliver[p * mr + i] = row[p];
        }
        for (size_t i = rows; i < mr; i++)
            for (size_t p = 0; p < kc; p++)
                sliver[p * mr + i] = 0.0;
    }
}

/* edge_tile: a tile that hangs over the last rows or columns: computed whole
 * into a scratch tile (the padding is zeros), then only its valid part kept.
 * The same tile does the arithmetic, so edge values are summed exactly as
 * inner ones are, whichever rows a worker was given. */
static void edge_tile(const struct path *path, size_t kc, const double *ap, const double *bp, double *c,
                      size_t ldc, size_t rows, size_t cols, int accumulate)
{
    double scratch[MR_MAX * NR_MAX];
    path->tile(kc, ap, bp, scratch, path->nr, 0);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + scratch[i * path->nr + j] : scratch[i * path->nr + j];
}

/* blocked: c = a·b for rows rows (a, c at their first row), with packing buffers ap, bp. */
static void blocked(const struct matmul_blocking *blk, const double *a, const double *b, double *c, size_t n,
                    size_t rows, double *ap, double *bp)
{
    const struct path *path = &paths[blk->isa];
    size_t mr = blk->mr, nr = blk->nr;
    for (size_t jc = 0; jc < n; jc += blk->nc) {
        size_t nc = min_size(blk->nc, n - jc);
        for (size_t pc = 0; pc < n; pc += blk->kc) {
            size_t kc = min_size(blk->kc, n - pc);
            int accumulate = pc > 0; /* the first stretch of k writes C, later ones add to it */
            pack_b(b, n, pc, kc, jc, nc, nr, bp);
            for (size_t ic = 0; ic < rows; ic += blk->mc) {
                size_t mc = min_size(blk->mc, rows - ic);
                pack_a(a, n, ic, mc, pc, kc, mr, ap);
                for (size_t jr = 0; jr < nc; jr += nr)
                    for (size_t ir = 0; ir < mc; ir += mr) {
                        double *ct = c + (ic + ir) * n + jc + jr;
                        if (ir + mr <= mc && jr + nr <= nc)
                            path->tile(kc, ap + ir * kc, bp + jr * kc, ct, n, accumulate);
                        else
                            edge_tile(path, kc, ap + ir * kc, bp + jr * kc, ct, n, min_size(mr, mc - ir),
                                      min_size(nr, nc - jr), accumulate);
                    }
            }
        }
    }
}

/* naive: the textbook triple loop; its inner loop walks B down a column,
 * touching a new cache line at every step. */
static void naive(const double *a, const double *b, double *c, size_t n, size_t rows)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < n; j++) {
            double sum = 0.0;
            for (size_t k = 0; k < n; k++)
                sum += a[i * n + k] * b[k * n + j];
            c[i * n + j] = sum;
        }
}

size_t matmul_scratch_bytes(const struct matmul_blocking *blk, size_t n, size_t rows)
{
    size_t a_bytes = blk->kc * round_up(min_size(blk->mc, rows), blk->mr) * sizeof(double);
    size_t b_bytes = blk->kc * round_up(min_size(blk->nc, n), blk->nr) * sizeof(double);
    return a_bytes + b_bytes;
}

enum outcome matmul_scratch_alloc(struct matmul_scratch *scratch, const struct matmul_blocking *blk, size_t n,
                                  size_t rows)
{
    scratch->a_bytes = blk->kc * round_up(min_size(blk->mc, rows), blk->mr) * sizeof(double);
    scratch->b_bytes = blk->kc * round_up(min_size(blk->nc, n), blk->nr) * sizeof(double);
    /* one block for both, big enough for 2 MiB pages (memory_alloc): A's
     * buffer alone (hundreds of KiB) would lie on 4 KiB pages */
    size_t a_room = round_up(scratch->a_bytes, SCRATCH_ALIGNMENT);
    scratch->a = memory_alloc(a_room + scratch->b_bytes, MEMORY_PRIVATE);
    if (!scratch->a)
        return OUTCOME_FAILED;
    scratch->b = (double *)((char *)scratch->a + a_room);
    /* touch every page now, so no timed run pays for the first touch */
    memory_prefault(scratch->a, a_room + scratch->b_bytes);
    return OUTCOME_OK;
}

void matmul_scratch_free(struct matmul_scratch *scratch)
{
    memory_free(scratch->a, round_up(scratch->a_bytes, SCRATCH_ALIGNMENT) + scratch->b_bytes, MEMORY_PRIVATE);
    *scratch = (struct matmul_scratch){0};
}

/* kernel_rows: c = a·B for `rows` rows with the given packing buffers, its time stamped in *span. */
static void kernel_rows(const struct matmul *m, struct span *span, const struct matmul_scratch *scratch,
                        const double *a, double *c, size_t rows)
{
    span->start = clock_now();
    if (rows > 0 && m->kernel == KERNEL_NAIVE)
        naive(a, m->b, c, m->n, rows);
    else if (rows > 0)
        blocked(&m->blocking, a, m->b, c, m->n, rows, scratch->a, scratch->b);
    span->end = clock_now();
}

void matmul_rows(const struct matmul *m, unsigned worker, const double *a, double *c, size_t rows)
{
    kernel_rows(m, &m->span[worker], &m->scratch[worker], a, c, rows);
}

void matmul_block(const struct matmul *m, unsigned index)
{
    size_t first, last;
    block_range(m->n, m->workers, index, &first, &last);
    matmul_rows(m, index, m->a + first * m->n, m->c + first * m->n, last - first);
}

enum outcome matmul_block_apart(const struct matmul *m, unsigned index)
{
    size_t first, last;
    block_range(m->n, m->workers, index, &first, &last);
    size_t rows = last - first, bytes = rows * m->n * sizeof(double);
    struct matmul_scratch scratch = {0};
    double *c = memory_alloc(bytes, MEMORY_PRIVATE); /* fresh: on 2 MiB pages, none shared */
    enum outcome o = c ? matmul_scratch_alloc(&scratch, &m->blocking, m->n, rows) : OUTCOME_FAILED;
    if (o == OUTCOME_OK) {
        memory_prefault(c, bytes);
        kernel_rows(m, &m->span[index], &scratch, m->a + first * m->n, c, rows);
        o = memory_write_shared(m->c + first * m->n, c, bytes);
        m->copied[index] = clock_now();
    }
    matmul_scratch_free(&scratch);
    memory_free(c, bytes, MEMORY_PRIVATE);
    return o;
}

void matmul_phases_copied(struct phases *phases, const struct matmul *m, unsigned count)
{
    double last_copied = 0;
    for (unsigned w = 0; w < count; w++) {
        if (m->copied[w] - m->span[w].end > phases->comm)
            phases->comm = m->copied[w] - m->span[w].end;
        if (m->copied[w] > last_copied)
            last_copied = m->copied[w];
    }
    if (last_copied > 0)
        phases->combine = clock_now() - last_copied;
}
