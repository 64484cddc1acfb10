/* openmp/download.c — download many files over HTTP with OpenMP: a dynamic parallel for over the files.
 *
 * The idea: a parallel region around serial's loop (each thread its own easy
 * handle) and a dynamic schedule on the loop over the files: a thread takes
 * the next file when it is free, like threads/'s queue, in two pragmas. -p
 * sets the team's size (num_threads), whatever OMP_NUM_THREADS says; threads
 * that wait on the network need no core.
 *
 * Run:    bin/download-openmp --server 127.0.0.1:8080 --files 64 --size 256K -p 64 -o /tmp/dl
 * Models: common/download.h lists every model of this workload, and the code they share.
 */
#include <omp.h>

#include "download.h"

#define MODEL "openmp"

/* fetch_all: every file, by a team of d->workers threads, each taking the
 * next file as it becomes free, through an easy handle of its own. */
static enum outcome fetch_all(void *work, struct phases *phases)
{
    struct download *d = work;
    double start = clock_now();
#pragma omp parallel num_threads(d->workers)
    {
        struct fetcher f;
        download_fetcher_open(&f, d, (unsigned)omp_get_thread_num());
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < d->count; i++)
            download_fetch(&f, i);
        download_fetcher_close(&f);
    }
    download_finish(d, phases, start);
    return OUTCOME_OK;
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
