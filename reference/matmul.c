/* reference/matmul.c — C = A·B by OpenBLAS's dgemm: the code a user would pick instead.
 *
 * Run:    bin/matmul-blas -n 1024 -r 5           (one thread: the best serial code)
 *         bin/matmul-blas -n 1024 -p 2            (OpenBLAS's own threads)
 * Why:    speedups in this suite are measured against the best serial code,
 *         not against our own serial/matmul.c, and the plots draw this line.
 *         Same inputs, same check and the same result line as the five models;
 *         kernel=openblas says which arithmetic ran.
 * Shared: common/matmul.c (inputs and the check), common/run.c (timing), common/cli.c.
 */
#include <cblas.h>

#include "matmul.h"

#define MODEL "blas"

/* multiply: C = A·B in one dgemm call, on as many threads as OpenBLAS was told. */
static enum outcome multiply(void *work, struct phases *phases)
{
    struct matmul *m = work;
    int n = (int)m->n;
    double start = clock_now();
    m->span[0].start = start;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, m->a, n, m->b, n, 0.0, m->c, n);
    m->span[0].end = clock_now();
    phases_from_spans(phases, start, m->span, 1);
    return OUTCOME_OK;
}

/* set_threads: give OpenBLAS -p threads, refusing counts this build cannot run. */
static enum outcome set_threads(unsigned workers)
{
    openblas_set_num_threads((int)workers);
    int got = openblas_get_num_threads();
    if (got != (int)workers)
        return report_usage_error("-p %u: this OpenBLAS runs at most %d threads", workers, got);
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &matmul_workload, MODEL, MANY_WORKERS);
    if (o == OUTCOME_OK && opt.kernel_given)
        o = report_usage_error("--kernel: the reference lane always runs OpenBLAS's dgemm");
    if (o == OUTCOME_OK)
        o = set_threads(opt.workers);
    if (o != OUTCOME_OK)
        return outcome_exit_code(o);

    /* ---- prepare: A and B from the seed, outside the timed region ---- */
    struct matmul m;
    if (matmul_prepare(&m, &opt, MEMORY_PRIVATE, MATMUL_ALL_WORKERS) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);
    m.kernel = KERNEL_OPENBLAS;

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    o = runs_repeat(&opt, &matmul_task, &m, multiply);
    matmul_release(&m);
    return outcome_exit_code(o);
}
