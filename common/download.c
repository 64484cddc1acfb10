/* common/download.c — download's workload: its flags, one run's records and the shared queue.
 *
 * The rest of download's common code, one concern to a file (see download_private.h):
 * download_list.c (the URLs and -o), download_fetch.c (one file, retried),
 * download_check.c (the task around each run, and its check).
 */
#include "download.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "download_private.h"
#include "pipe.h"
#include "team.h"

/* How many files, and how many transfers at once: far more than the cores,
 * since a transfer mostly waits. */
#define DEFAULT_FILES 64
#define MAX_WORKERS 256
/* --size: bytes of each of bin/fileserver's made-up files. */
#define DEFAULT_SIZE (256ULL << 10)
#define MAX_SIZE (1ULL << 40)
/* Heap a transfer's libcurl handle takes: its receive buffer and about as much again. */
#define HEAP_PER_TRANSFER (2 * DOWNLOAD_RECEIVE_BUFFER)

static const struct flag download_flags[] = {
    {"--files", "N", FLAG_COUNT, OPTION(n), offsetof(struct options, n_given), 0, 0, NULL,
     "number of files, another name for -n (with --server; default 64)"},
    {"--server", "HOST:PORT", FLAG_TEXT, OPTION(server), 0, 0, 0, NULL,
     "fetch N made-up files from bin/fileserver there"},
    {"--size", "BYTES", FLAG_BYTES, OPTION(size), 0, 1, MAX_SIZE, NULL,
     "bytes of each file with --server (K, M, G suffixes; default 256K)"},
    {"-i", "FILE", FLAG_TEXT, OPTION(input_file), 0, 0, 0, NULL,
     "fetch the http(s) URLs listed in FILE, one per line (# comments), instead"},
    {"-o", "DIR", FLAG_TEXT, OPTION(output_dir), 0, 0, 0, NULL,
     "where the files go, created if missing; each run first removes files of the list's names there "
     "(default: the current directory)"},
    {NULL, NULL, FLAG_SWITCH, 0, 0, 0, 0, 0, NULL, NULL},
};

/* bytes_needed: the list and the records, and every worker's libcurl handle
 * with its buffers (a few times DOWNLOAD_RECEIVE_BUFFER). */
static double bytes_needed(unsigned long n, unsigned workers)
{
    return (double)n * 1024.0 + (double)workers * 4.0 * DOWNLOAD_RECEIVE_BUFFER;
}

const struct workload download_workload = {
    .name = "download",
    .summary = "Download many files over HTTP (I/O-bound: the workers wait, they do not compute)",
    .n_meaning = "number of files (with -i: the list's length)",
    .n_min = 1,
    .n_max = DOWNLOAD_MAX_FILES,
    .n_default = DEFAULT_FILES,
    .max_workers = MAX_WORKERS,
    .flags = download_flags,
    .bytes_needed = bytes_needed,
};

enum outcome download_global_init(void)
{
    if (pipe_ignore_sigpipe() != OUTCOME_OK)
        return OUTCOME_FAILED;
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        report_error("curl_global_init failed: %s", curl_easy_strerror(rc));
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

void download_global_cleanup(void)
{
    curl_global_cleanup();
}

/* ---- one run's list, directory and records ---- */

enum outcome download_prepare(struct download *d, struct options *opt, enum memory memory)
{
    *d = (struct download){.dir_fd = -1, .workers = opt->workers, .memory = memory, .seed = opt->seed,
                           .size = opt->size ? opt->size : DEFAULT_SIZE};
    /* Under MPI, -p is the number of ranks and each rank runs one worker. */
    d->local = opt->workers / (unsigned)team_size();
    /* libcurl's blocks for each transfer (DOWNLOAD_RECEIVE_BUFFER and more) on
     * huge pages: otherwise a process's first run touches each of their 4 KiB
     * pages first (the threads' too: they allocate little, and share the heap) */
    memory_heap_reserve((size_t)d->local * HEAP_PER_TRANSFER);
    enum outcome o = download_list_make(d, opt);
    if (o == OUTCOME_OK)
        o = download_output_open(d, opt->output_dir ? opt->output_dir : ".");
    if (o == OUTCOME_OK) {
        d->record = memory_alloc(d->count * sizeof *d->record, memory);
        d->span = memory_alloc(d->local * sizeof *d->span, memory);
        d->next = memory_alloc(sizeof *d->next, memory);
        if (!d->record || !d->span || !d->next)
            o = OUTCOME_FAILED;
    }
    if (o != OUTCOME_OK) {
        download_release(d);
        return o;
    }
    memset(d->record, 0, d->count * sizeof *d->record);
    atomic_init(d->next, 0);
    return OUTCOME_OK;
}

void download_release(struct download *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->urls[i]);
        free(d->names[i]);
    }
    free(d->urls);
    free(d->names);
    memory_free(d->record, d->count * sizeof *d->record, d->memory);
    memory_free(d->span, d->local * sizeof *d->span, d->memory);
    memory_free(d->next, sizeof *d->next, d->memory);
    if (d->dir_fd >= 0)
        close(d->dir_fd);
    *d = (struct download){.dir_fd = -1};
}

/* ---- the shared queue ---- */

size_t download_next(struct download *d)
{
    size_t index = atomic_fetch_add(d->next, 1);
    return index < d->count ? index : d->count;
}

void download_stop(struct download *d)
{
    atomic_store(d->next, d->count);
}
