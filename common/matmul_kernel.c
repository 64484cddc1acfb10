/* common/matmul_kernel.c — the one matrix-multiply kernel every model calls, and the naive one.
 *
 * The blocked kernel is the GotoBLAS scheme in portable C: B is copied
 * ("packed") KC rows × NC columns at a time into a buffer the tile reads in
 * order, A likewise MC rows × KC columns at a time, and a tile of MR×NR
 * values of C is summed in registers over the KC-long stretch. The tile's
 * loops have fixed trip counts, so the compiler unrolls them and vectorizes
 * along the NR columns; no intrinsics, so it builds with any C11 compiler.
 */
#include "matmul.h"

/* Tile and block sizes, per vector width. MR×NR accumulators must fit in the
 * vector registers; KC·NR doubles of packed B stay in L1, MC·KC of packed A
 * in L2. Measured on the machines named; others get a safe middle. */
#if defined(__AVX512F__)
/* 32 zmm registers: 6 rows × 3 vectors of 8 = 18 accumulators (AMD Zen 5, 85 GFLOP/s/core) */
#define MR 6
#define NR 24
#define KC 128
#elif defined(__AVX2__)
/* 16 ymm registers: 4 rows × 2 vectors of 4 = 8 accumulators */
#define MR 4
#define NR 8
#define KC 256
#else
#define MR 4
#define NR 8
#define KC 256
#endif
#define MC 96  /* rows of A packed at a time */
#define NC 512 /* columns of B packed at a time */

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

/* tile: the MR×NR block of C at c (row stride ldc) gets, or with accumulate
 * gets added, the product of a packed A sliver (kc×MR) and a packed B sliver
 * (kc×NR). The heart of the kernel: everything else feeds it. */
static void tile(size_t kc, const double *restrict ap, const double *restrict bp,
                 double *restrict c, size_t ldc, int accumulate)
{
    double acc[MR][NR] = {{0}};
    for (size_t p = 0; p < kc; p++)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++)
                acc[i][j] += ap[p * MR + i] * bp[p * NR + j];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

/* pack_b: copy B's kc×nc block at (pc, jc) into slivers of NR columns, each
 * stored row after row, with zeros past the last column. */
static void pack_b(const double *b, size_t n, size_t pc, size_t kc, size_t jc, size_t nc, double *bp)
{
    for (size_t jr = 0; jr < nc; jr += NR) {
        double *sliver = bp + jr * kc;
        for (size_t p = 0; p < kc; p++)
            for (size_t j = 0; j < NR; j++)
                sliver[p * NR + j] = jr + j < nc ? b[(pc + p) * n + jc + jr + j] : 0.0;
    }
}

/* pack_a: copy A's mc×kc block at (ic, pc) into slivers of MR rows, each
 * stored column after column, with zeros past the last row. */
static void pack_a(const double *a, size_t n, size_t ic, size_t mc, size_t pc, size_t kc, double *ap)
{
    for (size_t ir = 0; ir < mc; ir += MR) {
        double *sliver = ap + ir * kc;
        for (size_t p = 0; p < kc; p++)
            for (size_t i = 0; i < MR; i++)
                sliver[p * MR + i] = ir + i < mc ? a[(ic + ir + i) * n + pc + p] : 0.0;
    }
}

/* edge_tile: a tile that hangs over the last rows or columns: computed whole
 * into a scratch tile (the padding is zeros), then only its valid part kept.
 * The same tile() does the arithmetic, so edge values are summed exactly as
 * inner ones are, whichever rows a worker was given. */
static void edge_tile(size_t kc, const double *ap, const double *bp, double *c, size_t ldc,
                      size_t rows, size_t cols, int accumulate)
{
    double scratch[MR * NR];
    tile(kc, ap, bp, scratch, NR, 0);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + scratch[i * NR + j] : scratch[i * NR + j];
}

/* blocked: c = a·b for rows rows (a, c at their first row), with packing buffers ap, bp. */
static void blocked(const double *a, const double *b, double *c, size_t n, size_t rows,
                    double *ap, double *bp)
{
    for (size_t jc = 0; jc < n; jc += NC) {
        size_t nc = min_size(NC, n - jc);
        for (size_t pc = 0; pc < n; pc += KC) {
            size_t kc = min_size(KC, n - pc);
            int accumulate = pc > 0; /* the first stretch of k writes C, later ones add to it */
            pack_b(b, n, pc, kc, jc, nc, bp);
            for (size_t ic = 0; ic < rows; ic += MC) {
                size_t mc = min_size(MC, rows - ic);
                pack_a(a, n, ic, mc, pc, kc, ap);
                for (size_t jr = 0; jr < nc; jr += NR)
                    for (size_t ir = 0; ir < mc; ir += MR) {
                        double *ct = c + (ic + ir) * n + jc + jr;
                        if (ir + MR <= mc && jr + NR <= nc)
                            tile(kc, ap + ir * kc, bp + jr * kc, ct, n, accumulate);
                        else
                            edge_tile(kc, ap + ir * kc, bp + jr * kc, ct, n,
                                      min_size(MR, mc - ir), min_size(NR, nc - jr), accumulate);
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

enum outcome matmul_scratch_alloc(struct matmul_scratch *scratch, size_t n, size_t rows)
{
    scratch->a_bytes = KC * round_up(min_size(MC, rows), MR) * sizeof(double);
    scratch->b_bytes = KC * round_up(min_size(NC, n), NR) * sizeof(double);
    scratch->a = memory_alloc(scratch->a_bytes, MEMORY_PRIVATE);
    scratch->b = memory_alloc(scratch->b_bytes, MEMORY_PRIVATE);
    if (!scratch->a || !scratch->b)
        return OUTCOME_FAILED;
    /* touch every page now, so no timed run pays for the first touch */
    memory_prefault(scratch->a, scratch->a_bytes);
    memory_prefault(scratch->b, scratch->b_bytes);
    return OUTCOME_OK;
}

void matmul_scratch_free(struct matmul_scratch *scratch)
{
    memory_free(scratch->a, scratch->a_bytes, MEMORY_PRIVATE);
    memory_free(scratch->b, scratch->b_bytes, MEMORY_PRIVATE);
    *scratch = (struct matmul_scratch){0};
}

void matmul_rows(const struct matmul *m, unsigned worker, const double *a, double *c, size_t rows)
{
    struct span *span = &m->span[worker];
    const struct matmul_scratch *scratch = &m->scratch[worker];
    span->start = clock_now();
    if (rows > 0 && m->kernel == KERNEL_NAIVE)
        naive(a, m->b, c, m->n, rows);
    else if (rows > 0)
        blocked(a, m->b, c, m->n, rows, scratch->a, scratch->b);
    span->end = clock_now();
}

void matmul_block(const struct matmul *m, unsigned index)
{
    size_t first, last;
    block_range(m->n, m->workers, index, &first, &last);
    matmul_rows(m, index, m->a + first * m->n, m->c + first * m->n, last - first);
}

void matmul_prefault_block(const struct matmul *m, unsigned index)
{
    size_t first, last;
    block_range(m->n, m->workers, index, &first, &last);
    memory_prefault(m->c + first * m->n, (last - first) * m->n * sizeof(double));
    memory_prefault(m->scratch[index].a, m->scratch[index].a_bytes);
    memory_prefault(m->scratch[index].b, m->scratch[index].b_bytes);
}
