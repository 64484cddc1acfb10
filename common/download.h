/* common/download.h — fetch many files over HTTP: the list, the one fetch every model calls, the check.
 *
 * The I/O-bound workload. Every model (serial/, threads/, processes/,
 * openmp/, mpi/download.c, and io_bound/download.c, the event-driven one)
 * fetches the same list of URLs with the same function, download_fetch: one
 * file into NAME.part, checked (size, and the server's CRC-32C when it sends
 * one), renamed to NAME only then; transient failures retried with capped,
 * jittered exponential backoff that honours Retry-After; permanent ones not.
 * So a difference in speed between models is the model's doing.
 *
 * The URLs come from -i FILE (any http(s) URLs, one per line) or from
 * --server HOST:PORT --files N --size BYTES (bin/fileserver's made-up files,
 * common/content.h, which the check regenerates and compares byte for byte):
 * start one first, e.g. bin/fileserver --port 8080 --latency 50 &
 *
 * The models, each serial/download.c plus one idea (diff -u serial/download.c MODEL/download.c):
 *   serial/download.c     one file after another, through one easy handle: the baseline
 *   threads/download.c    P threads, one easy handle each, pulling files from a shared queue
 *   processes/download.c  P fork()ed children pulling from a queue in shared memory
 *   openmp/download.c     a dynamic parallel for over the files
 *   mpi/download.c        ranks share the list, each fetching every P-th file
 *   io_bound/download.c   one thread, P transfers at once: libcurl's multi interface
 * Each runs as bin/download-MODEL (bin/download-async for io_bound/).
 * What they share: common/download*.c, one concern to a file: download.c
 * (flags, records, the queue), download_list.c (the URL list, -o),
 * download_fetch.c (the fetch and its retries), download_check.c (the task
 * and its check); common/content.c (the server's files and their CRC-32C),
 * common/run.c (timing, result lines), common/cli.c (flags); processes/ also
 * common/child.c (forking and reaping), mpi/ common/team_mpi.c (barrier, max
 * over ranks, leaving together).
 */
#ifndef DOWNLOAD_H
#define DOWNLOAD_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "memory.h"
#include "run.h"

/* What became of one file. */
enum file_state {
    FILE_PENDING = 0, /* not finished: nobody took it, or its worker died */
    FILE_DONE,        /* NAME is there, checked */
    FILE_FAILED,      /* given up on; no NAME and no NAME.part left */
};

/* One file's record, written once by the worker that fetched it. Plain 64-bit
 * numbers, all zero until then, so MPI ranks can assemble everybody's records
 * with one element-wise sum: each file's record is non-zero on one rank only. */
struct file_record {
    uint64_t state;    /* enum file_state */
    uint64_t bytes;    /* the delivered file's size */
    uint64_t retries;  /* attempts after the first */
    uint64_t checksum; /* the CRC-32C the server announced, plus CHECKSUM_KNOWN if it did */
};
#define RECORD_FIELDS (sizeof(struct file_record) / sizeof(uint64_t))
#define CHECKSUM_KNOWN (1ULL << 32)

/* One run's worth of downloading and what it needs. */
struct download {
    size_t count;              /* files */
    char **urls, **names;      /* per file: its URL, and NAME, the last part of the URL's path */
    int generated;             /* --server: each file is a pure function of its name (content.h) */
    unsigned long long size;   /* --server: bytes of every file */
    unsigned workers;          /* -p: concurrent transfers */
    unsigned local;            /* how many of those run in this address space */
    int dir_fd;                /* -o DIR, where the files go */
    enum memory memory;        /* where records, spans and the queue live (shared for fork()ed children) */
    struct file_record *record; /* per file */
    struct span *span;         /* per local worker: from its start to its last transfer's end */
    atomic_size_t *next;       /* the shared queue: the first file nobody has taken yet */
    unsigned long long seed;   /* of the backoff's jitter (and --server's file names) */
    double cpu_at_reset[2];    /* user, system CPU seconds when this run was reset */
    double cpu[2];             /* user, system CPU seconds the run used (MPI: all ranks') */
    size_t failed_total;       /* files given up on, over all runs so far */
};

extern const struct workload download_workload;

/* download_global_init: once per process, in main, before any worker exists:
 * ignore SIGPIPE (a peer that hangs up must not kill us) and curl_global_init.
 * download_global_cleanup undoes it at the end. */
enum outcome download_global_init(void);
void download_global_cleanup(void);

/* download_prepare: the URL list (-i, or made from --server), the files'
 * names, the output directory (-o, created if missing) and the records, in
 * `memory`; all outside any timed region. Sets opt->n to the number of URLs
 * when they come from -i. OUTCOME_USAGE for a bad list, server or directory. */
enum outcome download_prepare(struct download *d, struct options *opt, enum memory memory);

/* download_release: free what download_prepare allocated. */
void download_release(struct download *d);

/* What a fetcher's attempt ended with. */
enum attempt_verdict {
    ATTEMPT_DONE,    /* the file is delivered, or given up on (its record says which) */
    ATTEMPT_RETRY,   /* a transient failure: try again after the wait download_judge gives */
};

/* The last response's headers that matter to the fetch. */
struct reply {
    int body_started;      /* the first body byte (or the end of an empty body) was seen */
    int keep_body;         /* the body goes into NAME.part (a 200, or the 206 we asked for) */
    int have_checksum;
    uint32_t checksum;     /* CONTENT_CHECKSUM_HEADER's value */
    int have_range;
    uint64_t range_first;  /* Content-Range: bytes FIRST-LAST/TOTAL */
    uint64_t range_total;  /* 0 when unknown */
    int write_errno;       /* writing NAME.part failed with this */
    int retry_after_huge;  /* Retry-After: seconds past what libcurl reads (it says 0 then) */
};

/* A worker's tools: one libcurl easy handle, reused (with its connection)
 * from file to file, and the file in hand. Never shared between threads. */
struct fetcher {
    struct download *d;
    CURL *handle;          /* NULL if it could not be made: every fetch then fails, saying so */
    unsigned worker;       /* whose span it stamps */
    size_t index;          /* the file in hand */
    unsigned attempts;     /* made so far at it */
    double started;        /* when its first attempt began */
    int fd;                /* its NAME.part, or -1 */
    uint64_t written;      /* bytes in NAME.part */
    uint32_t crc;          /* their CRC-32C */
    uint64_t resume_from;  /* this attempt asked for bytes resume_from.. (0: the whole file) */
    struct reply reply;
    char error[CURL_ERROR_SIZE]; /* libcurl's words for the last failure */
};

/* download_fetcher_open: make worker's easy handle and start its span (a
 * failure is reported here; its fetches then fail). download_fetcher_close
 * frees it and ends the span. */
void download_fetcher_open(struct fetcher *f, struct download *d, unsigned worker);
void download_fetcher_close(struct fetcher *f);

/* download_fetch: the one function every blocking model calls: file index
 * to NAME.part, checked, renamed to NAME; retried while the failure is
 * transient and attempts are left. Its record says how it ended; a file
 * given up on is named on stderr with the reason. */
void download_fetch(struct fetcher *f, size_t index);

/* The steps download_fetch is made of, for the event-driven client, which
 * runs the transfers itself with libcurl's multi interface:
 *   download_begin  open NAME.part, set up the first attempt (OUTCOME_OK: run the handle)
 *   download_judge  after the handle ran with this result: done or retry, and the wait
 *   download_again  set up the next attempt (OUTCOME_OK: run the handle again) */
enum outcome download_begin(struct fetcher *f, size_t index);
enum attempt_verdict download_judge(struct fetcher *f, CURLcode result, double *wait);
enum outcome download_again(struct fetcher *f);

/* download_next: take the next file from the shared queue; d->count when none is left. */
size_t download_next(struct download *d);

/* download_stop: the shared queue gives no more files (a run that has
 * failed: its workers finish the file in hand and take no other). */
void download_stop(struct download *d);

/* download_finish: at the end of a run, once every record is in this
 * process: the phases (comm: the longest any worker spent in its transfers,
 * which is waiting on the network; compute: none), the CPU time used since
 * the run was reset, and the count of files given up on. */
void download_finish(struct download *d, struct phases *phases, double start);

/* download_failures: OUTCOME_FAILED (saying so) if any run gave up on a file.
 * With the check on, such a run has already failed; with --no-verify this is
 * what still makes the exit status 1. */
enum outcome download_failures(const struct download *d);

/* The download task for runs_repeat: reset (remove the last run's files, so
 * every run really downloads), verify, corrupt, figures (bytes= files=
 * failures= retries= mbps= cpu_user= cpu_sys=). */
extern const struct task download_task;

#endif
