/* serial/matmul.c — dense matrix multiply C = A·B in one thread: the baseline.
 *
 * The idea: none yet, so that every other model is this file plus one idea
 * (diff -u serial/matmul.c MODEL/matmul.c shows it). C's rows are cut into
 * one block per worker, and the blocks are multiplied one after another in
 * this thread (-p is 1 here, so there is one block: all n rows).
 *
 * Run:    bin/matmul-serial -n 1024 -r 5
 * Models: common/matmul.h lists every model of this workload, and the code they share.
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
