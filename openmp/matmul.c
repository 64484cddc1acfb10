/* openmp/matmul.c — dense matrix multiply C = A·B with OpenMP: a parallel for over blocks of rows.
 *
 * Run:    bin/matmul-openmp -n 1024 -p 2 -r 5
 * Models: serial/matmul.c is the baseline; this file adds one pragma to its
 *         loop over blocks of rows (diff -u serial/matmul.c openmp/matmul.c).
 *         Siblings: threads/ (pthreads), processes/ (fork), mpi/ (message passing).
 * Note:   -p sets the team size with num_threads(), so OMP_NUM_THREADS does
 *         not change it; OMP_PROC_BIND and OMP_PLACES still apply.
 * Shared: common/matmul_kernel.c (the kernel every model calls), common/matmul.c
 *         (inputs and the check), common/run.c (timing, result lines), common/cli.c.
 */
#include "matmul.h"

#define MODEL "openmp"

/* multiply: C = A·B, the blocks of rows shared out among a team of
 * m->workers threads, one block each. */
static enum outcome multiply(void *work, struct phases *phases)
{
    struct matmul *m = work;
    double start = clock_now();
#pragma omp parallel for num_threads(m->workers) schedule(static)
    for (unsigned w = 0; w < m->workers; w++)
        matmul_block(m, w);
    phases_from_spans(phases, start, m->span, m->workers);
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &matmul_workload, MODEL, MANY_WORKERS);
    if (o != OUTCOME_OK)
        return outcome_exit_code(o);

    /* ---- prepare: A and B from the seed, outside the timed region ---- */
    struct matmul m;
    if (matmul_prepare(&m, &opt, MEMORY_PRIVATE, MATMUL_ALL_WORKERS) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    o = runs_repeat(&opt, &matmul_task, &m, multiply);
    matmul_release(&m);
    return outcome_exit_code(o);
}
