/* threads/matmul.c — dense matrix multiply C = A·B with POSIX threads: one thread per block of rows.
 *
 * The idea: serial's loop over blocks of rows becomes one pthread_create per
 * block, and a loop of pthread_join. The threads share A, B and C; each
 * writes only its own rows of C, so no lock is needed.
 *
 * Run:    bin/matmul-threads -n 1024 -p 2 -r 5
 * Models: common/matmul.h lists every model of this workload, and the code they share.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "matmul.h"

#define MODEL "threads"

/* What one thread is handed: the problem, and which block of rows is its own. */
struct worker {
    pthread_t thread;
    struct matmul *m;
    unsigned index;
};

/* worker_main: a thread's whole life: compute its block of rows, then end. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    matmul_block(w->m, w->index);
    return NULL;
}

/* multiply: C = A·B, the blocks of rows shared out among m->workers threads,
 * one block each; creating and joining them is part of the time. */
static enum outcome multiply(void *work, struct phases *phases)
{
    struct matmul *m = work;
    struct worker *workers = calloc(m->workers, sizeof *workers);
    if (!workers) {
        report_error("out of memory for %u thread records", m->workers);
        return OUTCOME_FAILED;
    }
    enum outcome o = OUTCOME_OK;
    unsigned started = 0;
    double start = clock_now();
    for (unsigned w = 0; w < m->workers; w++, started++) {
        workers[w] = (struct worker){.m = m, .index = w};
        int rc = pthread_create(&workers[w].thread, NULL, worker_main, &workers[w]);
        if (rc != 0) {
            report_error("pthread_create for worker %u failed: %s", w, strerror(rc));
            o = OUTCOME_FAILED;
            break;
        }
    }
    for (unsigned w = 0; w < started; w++) {
        int rc = pthread_join(workers[w].thread, NULL);
        if (rc != 0) {
            report_error("pthread_join of worker %u failed: %s", w, strerror(rc));
            o = OUTCOME_FAILED;
        }
    }
    phases_from_spans(phases, start, m->span, started);
    free(workers);
    return o;
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
