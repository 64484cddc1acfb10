/* threads/download.c — download many files over HTTP with POSIX threads pulling from a shared queue.
 *
 * The idea: serial's loop over the files runs in P threads at once. Each
 * thread has its own easy handle (libcurl handles are not to be shared
 * between threads) and takes the next file from a queue all share, an atomic
 * counter (download_next): whoever is free takes the next file, so a slow
 * file holds up one thread, not a fixed share. A thread spends nearly all
 * its time blocked in the network, not on a core, so P may far exceed the
 * cores.
 *
 * Run:    bin/download-threads --server 127.0.0.1:8080 --files 64 --size 256K -p 64 -o /tmp/dl
 * Models: common/download.h lists every model of this workload, and the code they share.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "download.h"

#define MODEL "threads"
/* Each thread's stack: what a transfer through libcurl needs, with room to
 * spare, rather than the default (ulimit -s, often 8 MiB, reserved though
 * hardly used). The C library keeps the stacks of ended threads for new ones,
 * up to 40 MiB in all: stacks this small are all kept for the next run, so
 * it maps no new ones. */
#define WORKER_STACK (512u << 10)

/* What one thread is handed: the download, and which worker it is. */
struct worker {
    pthread_t thread;
    struct download *d;
    unsigned index;
};

/* worker_main: a thread's whole life: its own handle, then files from the
 * shared queue until none is left. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct download *d = w->d;
    struct fetcher f;
    download_fetcher_open(&f, d, w->index);
    for (size_t i = download_next(d); i < d->count; i = download_next(d))
        download_fetch(&f, i);
    download_fetcher_close(&f);
    return NULL;
}

/* fetch_all: every file, by d->workers threads at once; creating and
 * joining them is part of the time. */
static enum outcome fetch_all(void *work, struct phases *phases)
{
    struct download *d = work;
    struct worker *workers = calloc(d->workers, sizeof *workers);
    if (!workers) {
        report_error("out of memory for %u thread records", d->workers);
        return OUTCOME_FAILED;
    }
    enum outcome o = OUTCOME_OK;
    unsigned started = 0;
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) {
        report_error("pthread_attr_init failed: %s", strerror(rc));
        free(workers);
        return OUTCOME_FAILED;
    }
    rc = pthread_attr_setstacksize(&attr, WORKER_STACK);
    if (rc != 0) {
        report_error("pthread_attr_setstacksize(%u bytes) failed: %s", WORKER_STACK, strerror(rc));
        pthread_attr_destroy(&attr);
        free(workers);
        return OUTCOME_FAILED;
    }
    double start = clock_now();
    for (unsigned w = 0; w < d->workers; w++, started++) {
        workers[w] = (struct worker){.d = d, .index = w};
        rc = pthread_create(&workers[w].thread, &attr, worker_main, &workers[w]);
        if (rc != 0) {
            report_error("pthread_create for worker %u failed: %s", w, strerror(rc));
            o = OUTCOME_FAILED;
            download_stop(d); /* the run has failed: the threads running take no more files */
            break;
        }
    }
    pthread_attr_destroy(&attr);
    for (unsigned w = 0; w < started; w++) {
        rc = pthread_join(workers[w].thread, NULL);
        if (rc != 0) {
            report_error("pthread_join of worker %u failed: %s", w, strerror(rc));
            o = OUTCOME_FAILED;
        }
    }
    download_finish(d, phases, start);
    free(workers);
    return o;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &download_workload, MODEL, MANY_WORKERS);

    /* ---- prepare: libcurl, the URL list and the output directory, outside the timed region ---- */
    struct download d = {.dir_fd = -1};
    if (o == OUTCOME_OK)
        o = download_global_init();
    if (o == OUTCOME_OK)
        o = download_prepare(&d, &opt, MEMORY_PRIVATE);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &download_task, &d, fetch_all);
    if (o == OUTCOME_OK)
        o = download_failures(&d); /* --no-verify skips the check, not the files given up on */
    download_release(&d);
    download_global_cleanup();
    return outcome_exit_code(o);
}
