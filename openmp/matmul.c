/* openmp/matmul.c — dense matrix multiply C = A·B with OpenMP: a parallel for over blocks of rows.
 *
 * The idea: one pragma on serial's loop over blocks of rows, so that a team
 * of m->workers threads shares them out. -p sets the team's size
 * (num_threads), whatever OMP_NUM_THREADS says; OMP_PROC_BIND and
 * OMP_PLACES still apply.
 *
 * Run:    bin/matmul-openmp -n 1024 -p 2 -r 5
 * Models: common/matmul.h lists every model of this workload, and the code they share.
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

    /* ---- prepare: A and B from the seed, outside the timed region ---- */
    struct matmul m = {0};
    if (o == OUTCOME_OK)
        o = matmul_prepare(&m, &opt, MEMORY_PRIVATE, MATMUL_ALL_WORKERS);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &matmul_task, &m, multiply);
    matmul_release(&m);
    return outcome_exit_code(o);
}
