/* mpi/matmul.c — dense matrix multiply C = A·B with MPI: each rank computes a block of rows.
 *
 * Run:    tools/mpirun -np 2 bin/matmul-mpi -n 1024 -r 5
 * Models: serial/matmul.c is the baseline; here the blocks of rows live in
 *         separate processes that share nothing, so data must travel:
 *         rank 0 scatters A's rows (MPI_Scatterv), broadcasts B (MPI_Bcast),
 *         each rank multiplies its rows, and rank 0 gathers C (MPI_Gatherv).
 *         All three messages are inside the timed region (comm= in the result
 *         line); a barrier lines the ranks up first and the time reported is
 *         the slowest rank's. Rank 0 checks the whole gathered C and prints.
 *         Siblings: threads/ (pthreads), processes/ (fork), openmp/ (one pragma).
 * Shared: common/matmul_kernel.c (the kernel every model calls), common/matmul.c
 *         (inputs and the check), common/run.c (timing, result lines), common/cli.c,
 *         common/team_mpi.c (barrier, max over ranks, leaving together).
 */
#include <stdlib.h>

#include "matmul.h"
#include "team_mpi.h"

#define MODEL "mpi"

/* What one rank holds: the problem (A and C whole only on rank 0, B everywhere),
 * its own rows of A and C, and everybody's counts for Scatterv and Gatherv. */
struct share {
    struct matmul m;
    size_t rows;           /* this rank's rows */
    double *a_rows, *c_rows;
    int *counts, *offsets; /* per rank: doubles of A (and C) it gets, and from where */
};

/* multiply: C = A·B: send out A's rows and all of B, multiply this rank's
 * rows, gather the rows of C back on rank 0. */
static enum outcome multiply(void *work, struct phases *phases)
{
    struct share *s = work;
    struct matmul *m = &s->m;
    int rank = team_rank(), n_squared = (int)(m->n * m->n);
    double start = clock_now();
    mpi_check(MPI_Scatterv(m->a, s->counts, s->offsets, MPI_DOUBLE, s->a_rows, s->counts[rank],
                           MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Scatterv(A)");
    mpi_check(MPI_Bcast(m->b, n_squared, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Bcast(B)");
    double sent = clock_now();
    matmul_rows(m, 0, s->a_rows, s->c_rows, s->rows);
    double computed = clock_now();
    mpi_check(MPI_Gatherv(s->c_rows, s->counts[rank], MPI_DOUBLE, m->c, s->counts, s->offsets,
                          MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Gatherv(C)");
    phases->comm = (sent - start) + (clock_now() - computed);
    phases->compute = m->span[0].end - m->span[0].start;
    return OUTCOME_OK;
}

/* share_prepare: the whole problem on rank 0, B alone elsewhere, and this
 * rank's rows of A and C; counts in doubles for every rank's block. */
static enum outcome share_prepare(struct share *s, const struct options *opt)
{
    int rank = team_rank(), ranks = team_size();
    *s = (struct share){0};
    if (matmul_prepare(&s->m, opt, MEMORY_PRIVATE, rank == 0 ? MATMUL_ROOT_RANK : MATMUL_OTHER_RANK) != OUTCOME_OK)
        return OUTCOME_FAILED;
    size_t n = s->m.n, first, last;
    s->counts = calloc((size_t)ranks, sizeof *s->counts);
    s->offsets = calloc((size_t)ranks, sizeof *s->offsets);
    if (!s->counts || !s->offsets)
        return OUTCOME_FAILED;
    for (int r = 0; r < ranks; r++) {
        block_range(n, (size_t)ranks, (size_t)r, &first, &last);
        s->counts[r] = (int)((last - first) * n);
        s->offsets[r] = (int)(first * n);
    }
    s->rows = (size_t)s->counts[rank] / n;
    s->a_rows = memory_alloc(s->rows * n * sizeof(double), MEMORY_PRIVATE);
    s->c_rows = memory_alloc(s->rows * n * sizeof(double), MEMORY_PRIVATE);
    return s->a_rows && s->c_rows ? OUTCOME_OK : OUTCOME_FAILED;
}

/* share_release: free what share_prepare allocated. */
static void share_release(struct share *s)
{
    size_t bytes = s->rows * s->m.n * sizeof(double);
    memory_free(s->a_rows, bytes, MEMORY_PRIVATE);
    memory_free(s->c_rows, bytes, MEMORY_PRIVATE);
    free(s->counts);
    free(s->offsets);
    matmul_release(&s->m);
}

/* The matmul task, plus poisoning this rank's own rows of C: a rank that
 * skipped its work must not send back the previous run's right answer. */
static void share_reset(void *work)
{
    struct share *s = work;
    matmul_reset_rows(s->c_rows, s->rows, s->m.n);
    matmul_task.reset(&s->m);
}
static enum outcome share_verify(void *work) { return matmul_task.verify(&((struct share *)work)->m); }
static void share_corrupt(void *work) { matmul_task.corrupt(&((struct share *)work)->m); }
static void share_figures(void *work, double seconds, FILE *out)
{
    matmul_task.figures(&((struct share *)work)->m, seconds, out);
}
static const struct task share_task = {share_reset, share_verify, share_corrupt, share_figures};

int main(int argc, char **argv)
{
    if (mpi_start(&argc, &argv) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);

    /* ---- parse: every rank reads the same flags and reaches the same verdict ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &matmul_workload, MODEL, MANY_WORKERS);

    /* ---- prepare: A and B from the seed on rank 0, outside the timed region ---- */
    struct share s = {0};
    if (o == OUTCOME_OK)
        o = team_worst(share_prepare(&s, &opt));

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &share_task, &s, multiply);
    share_release(&s);
    return outcome_exit_code(mpi_finish(o));
}
