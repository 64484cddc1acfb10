/* serial/download.c — download many files over HTTP in one thread: the baseline.
 *
 * The idea: none yet, so that every other model is this file plus one idea
 * (diff -u serial/download.c MODEL/download.c shows it). A file is fetched
 * only once the one before it has arrived, so the run takes (files × the
 * server's latency) however fast the CPU.
 *
 * Run:    bin/download-serial --server 127.0.0.1:8080 --files 64 --size 256K -o /tmp/dl
 * Models: common/download.h lists every model of this workload, and the code they share.
 */
#include "download.h"

#define MODEL "serial"

/* fetch_all: every file, one after another, through one easy handle (which
 * keeps its connection to the server from file to file). */
static enum outcome fetch_all(void *work, struct phases *phases)
{
    struct download *d = work;
    double start = clock_now();
    struct fetcher f;
    download_fetcher_open(&f, d, 0);
    for (size_t i = 0; i < d->count; i++)
        download_fetch(&f, i);
    download_fetcher_close(&f);
    download_finish(d, phases, start);
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &download_workload, MODEL, ONE_WORKER);

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
