/* common/download_private.h — what the files of download's common code share, and no model needs.
 *
 * download.h is the workload as the models see it; its code is one concern to a file:
 *   common/download.c        the workload: flags, one run's records, the shared queue
 *   common/download_list.c   the URL list (-i FILE, or --server) and the output directory (-o)
 *   common/download_fetch.c  one file fetched: the libcurl handle, the file in hand, the retry policy
 *   common/download_check.c  the task around each run (reset, check, --inject-error, figures)
 */
#ifndef DOWNLOAD_PRIVATE_H
#define DOWNLOAD_PRIVATE_H

#include "download.h"

/* Most files a run may fetch: -n (--files), or the URLs of -i. */
#define DOWNLOAD_MAX_FILES 100000
/* The name a downloading file has until it is checked. */
#define DOWNLOAD_PART_SUFFIX ".part"
/* libcurl's receive buffer per handle. */
#define DOWNLOAD_RECEIVE_BUFFER (64L << 10)
/* Room for a failure's reason, and for a response header line worth reading. */
#define DOWNLOAD_REASON_BYTES 512

/* download_list_make: the URL list and the files' names, from -i FILE or
 * made from --server; sets opt->n to the list's length with -i.
 * OUTCOME_USAGE for a bad list or server, or two URLs saved under one name. */
enum outcome download_list_make(struct download *d, struct options *opt);

/* download_url_loopback: whether url's host is a loopback address (localhost, 127.0.0.0/8,
 * ::1), which names each host's own; its host, as the URL writes it, goes into host. */
int download_url_loopback(const char *url, char *host, size_t capacity);

/* download_output_open: -o DIR, created if missing, into d->dir_fd; for
 * --server's files, refuse a run that cannot fit there. OUTCOME_USAGE if not. */
enum outcome download_output_open(struct download *d, const char *dir);

/* download_part_name: NAME.part of file index, into name (NAME_MAX + 1 bytes). */
void download_part_name(const struct download *d, size_t index, char *name);

#endif
