/* processes/download.c — download many files over HTTP with fork(): child processes pulling from a shared queue.
 *
 * The idea: serial's loop over the files runs in P fork()ed children at once
 * (child_fork: each dies with its parent), reaped with waitpid() (child_reap).
 * A child has its own address space, so what the parent must see lives in
 * memory mapped MAP_SHARED (MEMORY_SHARED below): the queue (an atomic
 * counter), every file's record and every worker's span. Each child makes
 * its easy handle after the fork (a libcurl handle must not cross one);
 * libcurl itself was initialised once, before.
 *
 * Run:    bin/download-processes --server 127.0.0.1:8080 --files 64 --size 256K -p 64 -o /tmp/dl
 * Models: common/download.h lists every model of this workload, and the code they share.
 */
#include <stdlib.h>
#include <unistd.h>

#include "child.h"
#include "download.h"

#define MODEL "processes"

/* fetch_all: every file, by d->workers child processes at once; forking and
 * reaping them is part of the time. */
static enum outcome fetch_all(void *work, struct phases *phases)
{
    struct download *d = work;
    pid_t *children = calloc(d->workers, sizeof *children);
    if (!children) {
        report_error("out of memory for %u process ids", d->workers);
        return OUTCOME_FAILED;
    }
    enum outcome o = OUTCOME_OK;
    unsigned started = 0;
    double start = clock_now();
    for (unsigned w = 0; w < d->workers; w++, started++) {
        pid_t pid = child_fork(w); /* fork(), the child bound to die with this process */
        if (pid < 0) {
            o = OUTCOME_FAILED;
            break;
        }
        if (pid == 0) { /* the child: its own handle, files from the shared queue, _exit (no stdio flush) */
            struct fetcher f;
            download_fetcher_open(&f, d, w);
            for (size_t i = download_next(d); i < d->count; i = download_next(d))
                download_fetch(&f, i);
            download_fetcher_close(&f);
            _exit(0);
        }
        children[w] = pid;
    }
    for (unsigned w = 0; w < started; w++)
        if (child_reap(children[w], w) != OUTCOME_OK)
            o = OUTCOME_FAILED;
    download_finish(d, phases, start);
    free(children);
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
        o = download_prepare(&d, &opt, MEMORY_SHARED);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &download_task, &d, fetch_all);
    if (o == OUTCOME_OK)
        o = download_failures(&d); /* --no-verify skips the check, not the files given up on */
    download_release(&d);
    download_global_cleanup();
    return outcome_exit_code(o);
}
