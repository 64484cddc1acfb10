/* mpi/matmul.c — dense matrix multiply C = A·B with MPI: each rank computes a block of rows.
 *
 * The idea: the blocks of rows live in ranks, separate processes that share
 * nothing, so data must travel: rank 0 scatters A's rows (MPI_Scatterv) and
 * broadcasts B (MPI_Bcast), each rank multiplies its rows, and rank 0
 * gathers C (MPI_Gatherv), all inside the timed region (comm=). A barrier
 * lines the ranks up first and the time reported is the slowest rank's;
 * rank 0 checks the whole gathered C and prints.
 *
 * Run:    tools/mpirun -np 2 bin/matmul-mpi -n 1024 -r 5
 * Models: common/matmul.h lists every model of this workload, and the code they share.
 */
#include "matmul.h"
#include "team_mpi.h"

#define MODEL "mpi"

/* multiply: C = A·B: send out A's rows and all of B, multiply this rank's
 * rows, gather the rows of C back on rank 0. */
static enum outcome multiply(void *work, struct phases *phases)
{
    struct matmul *m = work;
    int rank = team_rank(), n_squared = (int)(m->n * m->n);
    double start = clock_now();
    mpi_check(MPI_Scatterv(m->a, m->rows.counts, m->rows.offsets, MPI_DOUBLE, m->a_rows, m->rows.counts[rank],
                           MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Scatterv(A)");
    mpi_check(MPI_Bcast(m->b, n_squared, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Bcast(B)");
    double sent = clock_now();
    matmul_rows(m, 0, m->a_rows, m->c_rows, m->rows.count);
    double computed = clock_now();
    mpi_check(MPI_Gatherv(m->c_rows, m->rows.counts[rank], MPI_DOUBLE, m->c, m->rows.counts, m->rows.offsets,
                          MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Gatherv(C)");
    phases->comm = (sent - start) + (clock_now() - computed);
    phases->compute = m->span[0].end - m->span[0].start;
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    if (mpi_start(&argc, &argv) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);

    /* ---- parse: every rank reads the same flags and reaches the same verdict ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &matmul_workload, MODEL, MANY_WORKERS);

    /* ---- prepare: A and B from the seed on rank 0, outside the timed region ---- */
    struct matmul m = {0};
    if (o == OUTCOME_OK)
        o = team_worst(matmul_prepare(&m, &opt, MEMORY_PRIVATE, MATMUL_RANK));

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &matmul_task, &m, multiply);
    matmul_release(&m);
    return outcome_exit_code(mpi_finish(o));
}
