/* common/download_fetch.c — one file fetched: the libcurl handle, the file in hand, the retry policy. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "content.h"
#include "download_private.h"
#include "fdio.h"
#include "mix.h"

/* Retries: attempts per file, and the waits between them: BACKOFF_FIRST
 * seconds, doubling each time up to BACKOFF_CAP, half of it random ("equal
 * jitter", so workers that failed together do not all come back together);
 * never shorter than the server's Retry-After, and no waiting past
 * MAX_RETRY_AFTER: a server that asks for longer is given up on. No retry
 * starts more than GIVE_UP_AFTER seconds after the file's first attempt. */
#define MAX_ATTEMPTS 10
#define GIVE_UP_AFTER 120.0
#define BACKOFF_FIRST 0.1
#define BACKOFF_CAP 5.0
#define MAX_RETRY_AFTER 30
/* Digits of a Retry-After in seconds that a curl_off_t always holds: libcurl
 * reads a longer one as 0, no wait at all, where it asks for eons. */
#define RETRY_AFTER_DIGITS 18
/* No transfer hangs: connecting may take CONNECT_TIMEOUT_MS, and a transfer
 * slower than STALL_BYTES_PER_S for STALL_SECONDS counts as a timeout. */
#define CONNECT_TIMEOUT_MS 10000L
#define STALL_BYTES_PER_S 1L
#define STALL_SECONDS 30L
/* Redirects followed (real URLs). */
#define MAX_REDIRECTS 5L

/* HTTP status codes the fetch tells apart. */
enum {
    HTTP_OK = 200,
    HTTP_PARTIAL = 206,
    HTTP_REQUEST_TIMEOUT = 408,
    HTTP_RANGE_NOT_SATISFIABLE = 416,
    HTTP_TOO_MANY_REQUESTS = 429,
    HTTP_SERVER_ERROR_FIRST = 500,
    HTTP_SERVER_ERROR_LAST = 599,
};

/* ---- a fetcher: one easy handle and what libcurl hands it ---- */

static enum attempt_verdict give_up(struct fetcher *f, const char *reason);

/* restart_file: empty NAME.part, to fetch the file from its first byte; 0 or -1 (errno). */
static int restart_file(struct fetcher *f)
{
    if (f->written > 0 && ftruncate(f->fd, 0) != 0)
        return -1;
    f->written = 0;
    f->crc = 0;
    return 0;
}

/* body_begins: at the first byte of a response's body, decide where it goes:
 * a 200 is the whole file (from byte 0, whatever was asked); a 206 is kept
 * only if it is the rest we asked for; anything else is not the file. */
static void body_begins(struct fetcher *f)
{
    struct reply *r = &f->reply;
    long status = 0;
    r->body_started = 1;
    if (curl_easy_getinfo(f->handle, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        return;
    if (status == HTTP_OK) {
        if (restart_file(f) != 0)
            r->write_errno = errno;
        else
            r->keep_body = 1;
    } else if (status == HTTP_PARTIAL && f->resume_from > 0 && r->have_range && r->range_first == f->written) {
        r->keep_body = 1;
    }
}

/* on_body: libcurl's write callback: body bytes into NAME.part, and into its CRC. */
static size_t on_body(char *data, size_t size, size_t count, void *arg)
{
    struct fetcher *f = arg;
    size_t bytes = size * count;
    if (!f->reply.body_started)
        body_begins(f);
    if (f->reply.write_errno)
        return 0; /* anything but `bytes` makes libcurl stop with CURLE_WRITE_ERROR */
    if (!f->reply.keep_body)
        return bytes; /* an error page, or a range we did not ask for: not the file */
    if (fdio_pwrite_all(f->fd, data, bytes, f->written) != 0) {
        f->reply.write_errno = errno;
        return 0;
    }
    f->crc = content_crc32c(f->crc, data, bytes);
    f->written += bytes;
    return bytes;
}

/* header_value: the value of header `name` if line is that header, else NULL. */
static const char *header_value(const char *line, const char *name)
{
    size_t length = strlen(name);
    if (strncasecmp(line, name, length) != 0 || line[length] != ':')
        return NULL;
    line += length + 1;
    while (*line == ' ' || *line == '\t')
        line++;
    return line;
}

/* on_header: libcurl's header callback, one line at a time: note the
 * checksum and the Content-Range; a status line starts a new response
 * (after a redirect), whose headers replace the last one's. */
static size_t on_header(char *data, size_t size, size_t count, void *arg)
{
    struct fetcher *f = arg;
    size_t bytes = size * count;
    char line[DOWNLOAD_REASON_BYTES];
    if (bytes >= sizeof line)
        return bytes; /* no header we read is this long */
    memcpy(line, data, bytes);
    line[bytes] = '\0';
    const char *value;
    unsigned long long first = 0, last = 0, total = 0;
    char *end;
    if (strncmp(line, "HTTP/", 5) == 0) {
        f->reply = (struct reply){0};
    } else if ((value = header_value(line, CONTENT_CHECKSUM_HEADER))) {
        unsigned long crc = strtoul(value, &end, 16);
        f->reply.have_checksum = end != value && crc <= 0xffffffffUL;
        f->reply.checksum = (uint32_t)crc;
    } else if ((value = header_value(line, "Retry-After"))) {
        f->reply.retry_after_huge = strspn(value, "0123456789") > RETRY_AFTER_DIGITS;
    } else if ((value = header_value(line, "Content-Range"))) {
        int fields = sscanf(value, "bytes %llu-%llu/%llu", &first, &last, &total);
        f->reply.have_range = fields >= 2; /* TOTAL may be "*", unknown */
        f->reply.range_first = first;
        f->reply.range_total = fields == 3 ? total : 0;
    }
    return bytes;
}

/* SET: curl_easy_setopt, checked: nonzero (after naming the option) if it failed. */
#define SET(handle, option, value) set_failed(curl_easy_setopt(handle, option, value), #option)

static int set_failed(CURLcode rc, const char *option)
{
    if (rc == CURLE_OK)
        return 0;
    report_error("curl_easy_setopt(%s) failed: %s", option, curl_easy_strerror(rc));
    return 1;
}

/* configure: what every transfer of this handle shares. */
static int configure(struct fetcher *f)
{
    CURL *h = f->handle;
    return SET(h, CURLOPT_NOSIGNAL, 1L) /* no SIGALRM for timeouts: threads must not get signals */
        || SET(h, CURLOPT_PRIVATE, (void *)f) /* the event-driven client finds the fetcher from the handle */
        || SET(h, CURLOPT_WRITEFUNCTION, on_body) || SET(h, CURLOPT_WRITEDATA, (void *)f)
        || SET(h, CURLOPT_HEADERFUNCTION, on_header) || SET(h, CURLOPT_HEADERDATA, (void *)f)
        || SET(h, CURLOPT_ERRORBUFFER, f->error)
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85 */
        || SET(h, CURLOPT_PROTOCOLS_STR, "http,https") || SET(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
#else
        || SET(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))
        || SET(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))
#endif
        || SET(h, CURLOPT_FOLLOWLOCATION, 1L) || SET(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS)
        || SET(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS)
        || SET(h, CURLOPT_LOW_SPEED_LIMIT, STALL_BYTES_PER_S) || SET(h, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS)
        || SET(h, CURLOPT_BUFFERSIZE, DOWNLOAD_RECEIVE_BUFFER) || SET(h, CURLOPT_USERAGENT, "download-suite/1")
        /* never through a proxy that http_proxy and the like name (login nodes
         * often set one): the servers are on this machine or on the hosts of
         * its own cluster, which a proxy cannot reach */
        || SET(h, CURLOPT_PROXY, "");
}

void download_fetcher_open(struct fetcher *f, struct download *d, unsigned worker)
{
    *f = (struct fetcher){.d = d, .worker = worker, .fd = -1};
    d->span[worker].start = clock_now();
    f->handle = curl_easy_init();
    if (!f->handle) {
        report_error("curl_easy_init for worker %u failed", worker);
        return;
    }
    if (configure(f) != 0) {
        curl_easy_cleanup(f->handle);
        f->handle = NULL;
    }
}

void download_fetcher_close(struct fetcher *f)
{
    if (f->fd >= 0) /* a file still in hand: the run was stopped by a failure */
        give_up(f, "the run stopped before this file was finished");
    if (f->handle)
        curl_easy_cleanup(f->handle);
    f->handle = NULL;
    f->d->span[f->worker].end = clock_now();
}

/* ---- one file: attempts, and how each one ended ---- */

/* settle: how a file ended, into its record. */
static void settle(struct fetcher *f, enum file_state state, uint32_t checksum, int have_checksum)
{
    f->d->record[f->index] = (struct file_record){
        .state = state, .bytes = state == FILE_DONE ? f->written : 0,
        .retries = f->attempts > 1 ? f->attempts - 1 : 0,
        .checksum = have_checksum ? CHECKSUM_KNOWN | checksum : 0};
}

/* give_up: a failure there is no point retrying: remove NAME.part, record it, say why. */
static enum attempt_verdict give_up(struct fetcher *f, const char *reason)
{
    char part[NAME_MAX + 1];
    struct download *d = f->d;
    download_part_name(d, f->index, part);
    if (f->fd >= 0) {
        close(f->fd); /* the file is being thrown away: an error closing it changes nothing */
        f->fd = -1;
        if (unlinkat(d->dir_fd, part, 0) != 0 && errno != ENOENT)
            report_error("cannot remove %s: %s", part, strerror(errno));
    }
    settle(f, FILE_FAILED, 0, 0);
    report_error("giving up on %s (%s): %s", d->names[f->index], d->urls[f->index], reason);
    return ATTEMPT_DONE;
}

/* deliver: NAME.part is complete and checked: close it and rename it to NAME. */
static enum attempt_verdict deliver(struct fetcher *f)
{
    char part[NAME_MAX + 1], reason[DOWNLOAD_REASON_BYTES];
    struct download *d = f->d;
    download_part_name(d, f->index, part);
    int closed = close(f->fd);
    f->fd = -1;
    if (closed != 0) {
        snprintf(reason, sizeof reason, "closing %s failed: %s", part, strerror(errno));
        unlinkat(d->dir_fd, part, 0);
        return give_up(f, reason);
    }
    if (renameat(d->dir_fd, part, d->dir_fd, d->names[f->index]) != 0) {
        snprintf(reason, sizeof reason, "renaming %s to %s failed: %s", part, d->names[f->index], strerror(errno));
        unlinkat(d->dir_fd, part, 0);
        return give_up(f, reason);
    }
    settle(f, FILE_DONE, f->reply.checksum, f->reply.have_checksum);
    return ATTEMPT_DONE;
}

/* backoff: the wait before attempt f->attempts + 1: BACKOFF_FIRST doubled per
 * attempt so far, capped, and scaled by a random factor in [0.5, 1) drawn
 * from the seed, the file and the attempt (no shared random state). */
static double backoff(const struct fetcher *f)
{
    double delay = BACKOFF_FIRST;
    for (unsigned a = 1; a < f->attempts && delay < BACKOFF_CAP; a++)
        delay *= 2;
    if (delay > BACKOFF_CAP)
        delay = BACKOFF_CAP;
    uint64_t r = mix_finalize(f->d->seed ^ mix_finalize((uint64_t)f->index * MAX_ATTEMPTS + f->attempts));
    return delay * (0.5 + 0.5 * mix_unit(r));
}

/* retry: a transient failure: wait and try again while attempts are left. */
static enum attempt_verdict retry(struct fetcher *f, long long retry_after, const char *reason, double *wait)
{
    char why[DOWNLOAD_REASON_BYTES + 64];
    if (f->attempts >= MAX_ATTEMPTS) {
        snprintf(why, sizeof why, "%s (still, after %u attempts)", reason, f->attempts);
        return give_up(f, why);
    }
    if (retry_after > MAX_RETRY_AFTER) {
        snprintf(why, sizeof why, "%s, and the server asks to wait %lld s (more than %d)", reason, retry_after,
                 MAX_RETRY_AFTER);
        return give_up(f, why);
    }
    *wait = backoff(f);
    if (*wait < (double)retry_after)
        *wait = (double)retry_after;
    if (clock_now() + *wait - f->started > GIVE_UP_AFTER) {
        snprintf(why, sizeof why, "%s (still, after %u attempts in %.0f s)", reason, f->attempts, GIVE_UP_AFTER);
        return give_up(f, why);
    }
    return ATTEMPT_RETRY;
}

/* transient: whether libcurl's failure may go away if tried again: the
 * connection broke, stalled or was cut short. Not: no server listening,
 * no such host, a bad URL, a local write error (curl's --retry agrees). */
static int transient(CURLcode result)
{
    switch (result) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* expected_size: the whole file's size as the response gave it; 0 if unknown. */
static int expected_size(struct fetcher *f, long status, uint64_t *size)
{
    if (status == HTTP_PARTIAL) {
        *size = f->reply.range_total;
        return f->reply.range_total > 0;
    }
    curl_off_t length = -1;
    if (curl_easy_getinfo(f->handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK || length < 0)
        return 0;
    *size = (uint64_t)length;
    return 1;
}

/* check_body: the body was the file: deliver it if its size and checksum
 * check out; otherwise fetch it again, whole. */
static enum attempt_verdict check_body(struct fetcher *f, long status, double *wait)
{
    char reason[DOWNLOAD_REASON_BYTES];
    uint64_t size;
    if (expected_size(f, status, &size) && f->written != size)
        snprintf(reason, sizeof reason, "got %llu bytes of %llu", (unsigned long long)f->written,
                 (unsigned long long)size);
    else if (f->reply.have_checksum && f->crc != f->reply.checksum)
        snprintf(reason, sizeof reason, "CRC-32C %08x, but the server announced %08x", (unsigned)f->crc,
                 (unsigned)f->reply.checksum);
    else
        return deliver(f);
    if (restart_file(f) != 0) {
        snprintf(reason, sizeof reason, "emptying %s" DOWNLOAD_PART_SUFFIX " failed: %s", f->d->names[f->index],
                 strerror(errno));
        return give_up(f, reason);
    }
    return retry(f, 0, reason, wait);
}

enum attempt_verdict download_judge(struct fetcher *f, CURLcode result, double *wait)
{
    char reason[DOWNLOAD_REASON_BYTES];
    long status = 0;
    curl_off_t retry_after = 0;
    *wait = 0;
    if (result == CURLE_OK && !f->reply.body_started)
        body_begins(f); /* an empty body: no write callback came */
    if (curl_easy_getinfo(f->handle, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    if (f->reply.write_errno) {
        snprintf(reason, sizeof reason, "writing %s" DOWNLOAD_PART_SUFFIX " failed: %s", f->d->names[f->index],
                 strerror(f->reply.write_errno));
        return give_up(f, reason);
    }
    if (result != CURLE_OK) {
        snprintf(reason, sizeof reason, "%s", f->error[0] ? f->error : curl_easy_strerror(result));
        if (!transient(result)) {
            strncat(reason, " (not retried)", sizeof reason - strlen(reason) - 1);
            return give_up(f, reason);
        }
        return retry(f, 0, reason, wait);
    }
    if (f->reply.keep_body)
        return check_body(f, status, wait);
    snprintf(reason, sizeof reason, "HTTP status %ld", status);
    if (status == HTTP_REQUEST_TIMEOUT || status == HTTP_TOO_MANY_REQUESTS ||
        (status >= HTTP_SERVER_ERROR_FIRST && status <= HTTP_SERVER_ERROR_LAST)) {
        if (curl_easy_getinfo(f->handle, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
            retry_after = 0;
        if (f->reply.retry_after_huge)
            retry_after = (curl_off_t)LLONG_MAX; /* given up on below: far more than MAX_RETRY_AFTER */
        return retry(f, (long long)retry_after, reason, wait);
    }
    if (status == HTTP_RANGE_NOT_SATISFIABLE || status == HTTP_PARTIAL) {
        if (restart_file(f) != 0)
            return give_up(f, "emptying the .part file failed");
        return retry(f, 0, reason, wait); /* the rest we asked for was refused: start over */
    }
    strncat(reason, " (not retried)", sizeof reason - strlen(reason) - 1);
    return give_up(f, reason);
}

enum outcome download_again(struct fetcher *f)
{
    char range[32];
    const char *url = f->d->urls[f->index];
    f->reply = (struct reply){0};
    f->error[0] = '\0';
    f->resume_from = f->written; /* a transfer cut short resumes where it stopped */
    snprintf(range, sizeof range, "%llu-", (unsigned long long)f->resume_from);
    if (SET(f->handle, CURLOPT_URL, url) || SET(f->handle, CURLOPT_RANGE, f->resume_from ? range : NULL)) {
        give_up(f, "could not set up the transfer (see above)");
        return OUTCOME_FAILED;
    }
    f->attempts++;
    return OUTCOME_OK;
}

enum outcome download_begin(struct fetcher *f, size_t index)
{
    char part[NAME_MAX + 1], reason[DOWNLOAD_REASON_BYTES];
    struct download *d = f->d;
    *f = (struct fetcher){.d = d, .handle = f->handle, .worker = f->worker, .index = index, .fd = -1,
                          .started = clock_now()};
    if (!f->handle) {
        give_up(f, "this worker has no libcurl handle (see above)");
        return OUTCOME_FAILED;
    }
    download_part_name(d, index, part);
    f->fd = openat(d->dir_fd, part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (f->fd < 0) {
        snprintf(reason, sizeof reason, "cannot create %s: %s", part, strerror(errno));
        give_up(f, reason);
        return OUTCOME_FAILED;
    }
    return download_again(f);
}

/* pause_for: sleep this thread for seconds, through interruptions. */
static void pause_for(double seconds)
{
    struct timespec left = {.tv_sec = (time_t)seconds,
                            .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        continue;
}

void download_fetch(struct fetcher *f, size_t index)
{
    if (download_begin(f, index) != OUTCOME_OK)
        return;
    for (;;) {
        double wait;
        CURLcode result = curl_easy_perform(f->handle);
        if (download_judge(f, result, &wait) != ATTEMPT_RETRY)
            return;
        pause_for(wait);
        if (download_again(f) != OUTCOME_OK)
            return;
    }
}

