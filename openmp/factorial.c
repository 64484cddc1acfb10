/* openmp/factorial.c — exact factorials with OpenMP: a parallel for over each stage's workers; the schedule clause for tasks.
 *
 * The idea: pragmas on serial's loops. --mode big: one on the loop over the
 * workers of each stage of independent multiplications. --mode many: the
 * dealer is OpenMP's own, the loop over tasks carrying a schedule clause:
 * schedule(static) for one block per thread, schedule(static, K) for chunks
 * dealt round-robin, schedule(dynamic, K) for chunks on request. -p sets the
 * team's size (num_threads), whatever OMP_NUM_THREADS says.
 *
 * Run:    bin/factorial-openmp -n 10000000 -p 2
 *         bin/factorial-openmp --mode many -n 20000 -p 2 --schedule dynamic
 * Models: common/factorial.h lists every model of this workload, and the code they share.
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

    /* ---- prepare: ranges of equal cost, results and records, outside the timed region ---- */
    struct factorial f = {0};
    if (o == OUTCOME_OK)
        o = factorial_prepare(&f, &opt, MEMORY_PRIVATE);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &factorial_task, &f, f.mode == MODE_BIG ? one_factorial : many_factorials);
    factorial_release(&f);
    return outcome_exit_code(o);
}
