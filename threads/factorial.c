/* threads/factorial.c — exact factorials with POSIX threads: a thread per worker and stage, task takers.
 *
 * The idea: each of serial's loops over workers becomes threads. --mode big:
 * one thread per worker for each stage of independent multiplications, the
 * stages waiting for each other by joining; each thread writes only its own
 * jobs' products, so no lock is needed. --mode many: one thread per worker,
 * each asking the one shared dealer for its next chunk; the dealer's
 * counters are changed by every thread, so a mutex lets one thread in at a
 * time (without it two threads could take the same task, or lose one).
 *
 * Run:    bin/factorial-threads -n 10000000 -p 2
 *         bin/factorial-threads --mode many -n 20000 -p 2 --schedule dynamic
 * Models: common/factorial.h lists every model of this workload, and the code they share.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "factorial.h"
#include "factorial_big.h"

#define MODEL "threads"

/* The lock around the dealer: one thread at a time may take a chunk. */
static pthread_mutex_t dealer_lock = PTHREAD_MUTEX_INITIALIZER;
/* Set (under the lock) when a thread of the run could not be started: the
 * run has failed, so the threads already running take no more chunks. */
static int dealer_closed;

/* What one thread is handed: the problem, and which range, pair or worker is its own. */
struct worker {
    pthread_t thread;
    struct factorial *f;
    unsigned index, step; /* its range or worker (step 0), or the pair index, index + step */
    int failed;           /* the dealer's lock failed it */
};

/* stage_main: a thread's whole life in one stage of --mode big: its jobs. */
static void *stage_main(void *arg)
{
    struct worker *w = arg;
    factorial_run_jobs(w->f, w->f->stage, w->index);
    return NULL;
}

/* take_chunk: the next chunk for this worker from the shared dealer, under its lock. */
static int take_chunk(struct worker *w, struct chunk *c)
{
    int rc = pthread_mutex_lock(&dealer_lock);
    if (rc != 0) {
        report_error("pthread_mutex_lock for worker %u failed: %s", w->index, strerror(rc));
        w->failed = 1;
        return 0;
    }
    int more = !dealer_closed && factorial_deal(w->f, w->index, c);
    rc = pthread_mutex_unlock(&dealer_lock);
    if (rc != 0) {
        report_error("pthread_mutex_unlock for worker %u failed: %s", w->index, strerror(rc));
        w->failed = 1;
        return 0;
    }
    return more;
}

/* tasks_main: a thread's whole life in --mode many: take chunks until none are left. */
static void *tasks_main(void *arg)
{
    struct worker *w = arg;
    struct chunk c;
    while (take_chunk(w, &c))
        factorial_tasks(w->f, w->index, c, w->f->residue + c.first);
    return NULL;
}

/* close_dealer: no more chunks for anyone in this run (a lock that fails
 * here leaves them dealt as before: the run has failed either way). */
static void close_dealer(void)
{
    if (pthread_mutex_lock(&dealer_lock) != 0)
        return;
    dealer_closed = 1;
    (void)pthread_mutex_unlock(&dealer_lock);
}

/* in_threads: one thread running body for each index = 0, stride, 2·stride,
 * ... below f->workers - step, then join them all: a loop of serial/factorial.c,
 * its turns run at once. Creating and joining them is part of the time. */
static enum outcome in_threads(struct factorial *f, void *(*body)(void *), unsigned stride, unsigned step)
{
    struct worker *workers = calloc(f->workers, sizeof *workers);
    if (!workers) {
        report_error("out of memory for %u thread records", f->workers);
        return OUTCOME_FAILED;
    }
    enum outcome o = OUTCOME_OK;
    unsigned started = 0;
    dealer_closed = 0; /* no thread of this run is running yet */
    for (unsigned w = 0; w < f->workers - step; w += stride, started++) {
        workers[started] = (struct worker){.f = f, .index = w, .step = step};
        int rc = pthread_create(&workers[started].thread, NULL, body, &workers[started]);
        if (rc != 0) {
            report_error("pthread_create for worker %u failed: %s", w, strerror(rc));
            o = OUTCOME_FAILED;
            close_dealer();
            break;
        }
    }
    for (unsigned t = 0; t < started; t++) {
        int rc = pthread_join(workers[t].thread, NULL);
        if (rc != 0) {
            report_error("pthread_join of worker %u failed: %s", workers[t].index, strerror(rc));
            o = OUTCOME_FAILED;
        }
        if (workers[t].failed)
            o = OUTCOME_FAILED;
    }
    free(workers);
    return o;
}

/* run_stage: a stage's jobs, one thread per worker, joined before the next stage. */
static enum outcome run_stage(struct factorial *f, const struct big_stage *stage, struct phases *phases)
{
    (void)stage; /* the threads find it in f->stage */
    double start = clock_now();
    enum outcome o = in_threads(f, stage_main, 1, 0);
    factorial_stage_phases(f, start, phases);
    return o;
}

/* one_factorial: n! stage by stage (common/factorial_big.c), each stage's jobs on threads. */
static enum outcome one_factorial(void *work, struct phases *phases)
{
    return factorial_big(work, run_stage, phases);
}

/* many_factorials: the tasks 1..n, taken chunk by chunk from the shared
 * dealer by f->workers threads at once. */
static enum outcome many_factorials(void *work, struct phases *phases)
{
    struct factorial *f = work;
    double start = clock_now();
    enum outcome o = in_threads(f, tasks_main, 1, 0);
    factorial_checksum(f);
    phases_from_spans(phases, start, f->span, f->workers);
    return o;
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
