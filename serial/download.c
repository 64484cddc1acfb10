/* serial/download.c — download many files over HTTP in one thread: the baseline.
 *
 * Run:    bin/fileserver --port 8080 --latency 50 &
 *         bin/download-serial --server 127.0.0.1:8080 --files 64 --size 256K -o /tmp/dl
 *         bin/download-serial -i urls.txt -o /tmp/dl      (any http(s) URLs, one per line)
 * Models: every sibling is this file plus one idea (diff -u it against this one):
 *           threads/download.c    P threads, one easy handle each, pulling files from a shared queue
 *           processes/download.c  P fork()ed children pulling from a queue in shared memory
 *           openmp/download.c     a dynamic parallel for over the files
 *           mpi/download.c        ranks share the list, each fetching every P-th file
 *           io_bound/download.c   one thread, P transfers at once: libcurl's multi interface
 *         Here a file is fetched only once the one before it has arrived, so
 *         the run takes (files × the server's latency) however fast the CPU.
 * Shared: common/download*.c (the list, the fetch with its retries, the check),
 *         common/content.c (the server's files and their CRC-32C), common/run.c
 *         (timing, result lines), common/cli.c.
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
    if (o != OUTCOME_OK)
        return outcome_exit_code(o);

    /* ---- prepare: libcurl, the URL list and the output directory, outside the timed region ---- */
    if (download_global_init() != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);
    struct download d;
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
