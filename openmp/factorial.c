/* openmp/factorial.c — exact factorials with OpenMP: parallel for over ranges and pairs; the schedule clause for tasks.
 *
 * Run:    bin/factorial-openmp -n 10000000 -p 2
 *         bin/factorial-openmp --mode many -n 20000 -p 2 --schedule dynamic
 * Models: serial/factorial.c is the baseline; this file adds pragmas to its
 *         loops (diff -u serial/factorial.c openmp/factorial.c):
 *         --mode big   one pragma on the loop over ranges, one on the loop over
 *                      the pairs of each round of the tree.
 *         --mode many  the dealer is OpenMP's own: the loop over tasks carries
 *                      a schedule clause, schedule(static) for one block per
 *                      thread, schedule(static, K) for chunks dealt round-robin,
 *                      schedule(dynamic, K) for chunks on request.
 *         Siblings: threads/ (pthreads), processes/ (fork and pipes), mpi/ (message passing).
 * Note:   -p sets the team size with num_threads(), so OMP_NUM_THREADS does
 *         not change it; OMP_PROC_BIND and OMP_PLACES still apply.
 * Shared: common/factorial_kernel.c (the kernel every model calls),
 *         common/factorial.c (ranges, the check), common/run.c (timing, result lines),
 *         common/cli.c.
 */
#include <omp.h>

#include "factorial.h"
#include "factorial_big.h"

#define MODEL "openmp"

/* run_stage: a stage's jobs, a team of f->workers threads each running the
 * jobs of the worker numbers OpenMP gives it (one each when the team is whole). */
static enum outcome run_stage(struct factorial *f, const struct big_stage *stage, struct phases *phases)
{
    double start = clock_now();
#pragma omp parallel for num_threads(f->workers) schedule(static, 1)
    for (unsigned w = 0; w < f->workers; w++)
        factorial_run_jobs(f, stage, w);
    factorial_stage_phases(f, start, phases);
    return OUTCOME_OK;
}

/* one_factorial: n! stage by stage (common/factorial_big.c), each stage's jobs run by a team. */
static enum outcome one_factorial(void *work, struct phases *phases)
{
    return factorial_big(work, run_stage, phases);
}

/* one_task: task k on whichever thread of the team OpenMP gave it to. */
static void one_task(struct factorial *f, long k)
{
    factorial_tasks(f, (unsigned)omp_get_thread_num(), (struct chunk){(unsigned long)k, 1}, f->residue + k);
}

/* many_factorials: the tasks 1..n, dealt out to a team of f->workers
 * threads by the loop's schedule clause. */
static enum outcome many_factorials(void *work, struct phases *phases)
{
    struct factorial *f = work;
    long n = (long)f->n;
    int chunk = (int)f->chunk;
    double start = clock_now();
    if (f->schedule == SCHEDULE_STATIC) {
#pragma omp parallel for num_threads(f->workers) schedule(static)
        for (long k = 1; k <= n; k++)
            one_task(f, k);
    } else if (f->schedule == SCHEDULE_CYCLIC) {
#pragma omp parallel for num_threads(f->workers) schedule(static, chunk)
        for (long k = 1; k <= n; k++)
            one_task(f, k);
    } else {
#pragma omp parallel for num_threads(f->workers) schedule(dynamic, chunk)
        for (long k = 1; k <= n; k++)
            one_task(f, k);
    }
    factorial_checksum(f);
    phases_from_spans(phases, start, f->span, f->workers);
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = factorial_options(&opt, argc, argv, MODEL, MANY_WORKERS);
    if (o != OUTCOME_OK)
        return outcome_exit_code(o);

    /* ---- prepare: ranges of equal cost, results and records, outside the timed region ---- */
    struct factorial f;
    if (factorial_prepare(&f, &opt, MEMORY_PRIVATE) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    o = runs_repeat(&opt, &factorial_task, &f, f.mode == MODE_BIG ? one_factorial : many_factorials);
    factorial_release(&f);
    return outcome_exit_code(o);
}
