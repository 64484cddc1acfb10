/* serial/factorial.c — exact factorials with GMP in one thread: the baseline.
 *
 * The idea: none yet, so that every other model is this file plus one idea
 * (diff -u serial/factorial.c MODEL/factorial.c shows it). --mode big: n!
 * in stages of independent multiplications (common/factorial_big.h), each
 * stage's jobs run one after another; --mode many: the tasks 1..n dealt out
 * chunk by chunk to each worker in turn. All in this thread (-p is 1 here:
 * one worker running every job, taking every task in order).
 *
 * Run:    bin/factorial-serial -n 10000000                   (one n!, --mode big)
 *         bin/factorial-serial --mode many -n 20000          (the factorials of 1..n as tasks)
 * Models: common/factorial.h lists every model of this workload, and the code they share.
 */
#include "factorial.h"
#include "factorial_big.h"

#define MODEL "serial"

/* run_stage: a stage's jobs, one after another in this thread (-p is 1 here:
 * every job is worker 0's). */
static enum outcome run_stage(struct factorial *f, const struct big_stage *stage, struct phases *phases)
{
    double start = clock_now();
    factorial_run_jobs(f, stage, 0);
    factorial_stage_phases(f, start, phases);
    return OUTCOME_OK;
}

/* one_factorial: n! stage by stage (common/factorial_big.c), every stage in this thread. */
static enum outcome one_factorial(void *work, struct phases *phases)
{
    return factorial_big(work, run_stage, phases);
}

/* many_factorials: the tasks 1..n, dealt out chunk by chunk to each worker in
 * turn, all in this thread (-p is 1 here: one worker takes every task, in order). */
static enum outcome many_factorials(void *work, struct phases *phases)
{
    struct factorial *f = work;
    struct chunk c;
    double start = clock_now();
    for (unsigned w = 0; w < f->workers; w++)
        while (factorial_deal(f, w, &c))
            factorial_tasks(f, w, c, f->residue + c.first);
    factorial_checksum(f);
    phases_from_spans(phases, start, f->span, f->workers);
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = factorial_options(&opt, argc, argv, MODEL, ONE_WORKER);

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
