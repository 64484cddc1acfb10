/* serial/matmul.c — dense matrix multiply C = A·B in one thread: the baseline.
 *
 * Run:    bin/matmul-serial -n 1024 -r 5
 *         bin/matmul-serial -n 512 --kernel naive      (the textbook triple loop)
 * Models: every sibling is this file plus one idea (diff -u it against this one):
 *           threads/matmul.c    one POSIX thread per block of rows
 *           processes/matmul.c  one fork()ed child per block; C in shared memory
 *           openmp/matmul.c     a parallel for over the blocks of rows
 *           mpi/matmul.c        ranks: A's rows by Scatterv, B by Bcast, C back by Gatherv
 *           reference/matmul.c  OpenBLAS dgemm, what you would use instead
 * Shared: common/matmul_kernel.c (the kernel every model calls), common/matmul.c
 *         (inputs and the check), common/run.c (timing, result lines), common/cli.c.
 */
#include "matmul.h"

#define MODEL "serial"

/* multiply: C = A·B, the blocks of rows one after another in this thread
 * (-p is 1 here, so there is one block: all n rows). */
static enum outcome multiply(void *work, struct phases *phases)
{
    struct matmul *m = work;
    double start = clock_now();
    for (unsigned w = 0; w < m->workers; w++)
        matmul_block(m, w);
    phases_from_spans(phases, start, m->span, m->workers);
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &matmul_workload, MODEL, ONE_WORKER);
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
