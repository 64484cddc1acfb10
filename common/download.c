/* common/download.c — download's URL list, the fetch every model calls, its retries, and the check. */
#include "download.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "content.h"
#include "fdio.h"
#include "mix.h"
#include "team.h"

/* How many files, and how many transfers at once: far more than the cores,
 * since a transfer mostly waits. */
#define DEFAULT_FILES 64
#define MAX_FILES 100000
#define MAX_WORKERS 256
/* --size: bytes of each of bin/fileserver's made-up files. */
#define DEFAULT_SIZE (256ULL << 10)
#define MAX_SIZE (1ULL << 40)
/* The name a downloading file has until it is checked. */
#define PART_SUFFIX ".part"
/* Longest file name: NAME.part must fit in a directory entry. */
#define MAX_NAME (NAME_MAX - (sizeof PART_SUFFIX - 1))
/* Longest HOST in --server HOST:PORT (a DNS name is at most 253 characters). */
#define MAX_HOST 256

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
/* No transfer hangs: connecting may take CONNECT_TIMEOUT_MS, and a transfer
 * slower than STALL_BYTES_PER_S for STALL_SECONDS counts as a timeout. */
#define CONNECT_TIMEOUT_MS 10000L
#define STALL_BYTES_PER_S 1L
#define STALL_SECONDS 30L
/* Redirects followed (real URLs); libcurl's receive buffer per handle. */
#define MAX_REDIRECTS 5L
#define RECEIVE_BUFFER (64L << 10)
/* Bytes read at a time by the check. */
#define CHECK_CHUNK (256u << 10)
/* Room for a failure's reason, and for a response header line worth reading. */
#define REASON_BYTES 512

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
     "where the files go, created if missing (default: the current directory)"},
    {NULL, NULL, FLAG_SWITCH, 0, 0, 0, 0, 0, NULL, NULL},
};

/* bytes_needed: the list and the records, and every worker's libcurl handle
 * with its buffers (a few times RECEIVE_BUFFER). */
static double bytes_needed(unsigned long n, unsigned workers)
{
    return (double)n * 1024.0 + (double)workers * 4.0 * RECEIVE_BUFFER;
}

const struct workload download_workload = {
    .name = "download",
    .summary = "Download many files over HTTP (I/O-bound: the workers wait, they do not compute)",
    .n_meaning = "number of files (with -i: the list's length)",
    .n_min = 1,
    .n_max = MAX_FILES,
    .n_default = DEFAULT_FILES,
    .max_workers = MAX_WORKERS,
    .flags = download_flags,
    .bytes_needed = bytes_needed,
};

enum outcome download_global_init(void)
{
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGPIPE, &ignore, NULL) != 0) {
        report_error("sigaction(SIGPIPE) failed: %s", strerror(errno));
        return OUTCOME_FAILED;
    }
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

/* ---- the list: URLs and the names their files get ---- */

/* add_url: append copies of a URL and its file's name to the list. */
static enum outcome add_url(struct download *d, size_t *capacity, const char *url, const char *name)
{
    if (d->count == *capacity) {
        size_t grown = *capacity ? 2 * *capacity : 64;
        char **urls = realloc(d->urls, grown * sizeof *urls);
        if (urls)
            d->urls = urls;
        char **names = urls ? realloc(d->names, grown * sizeof *names) : NULL;
        if (!names) {
            report_error("out of memory for a list of %zu URLs", grown);
            return OUTCOME_FAILED;
        }
        d->names = names;
        *capacity = grown;
    }
    d->urls[d->count] = strdup(url);
    d->names[d->count] = strdup(name);
    d->count++; /* even half made: download_release frees what is there */
    if (!d->urls[d->count - 1] || !d->names[d->count - 1]) {
        report_error("out of memory for a URL");
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

/* url_name: check that url is an http(s) URL with a host, and copy the last
 * part of its path (the file's NAME) into name. 0, or -1 with why in reason. */
static int url_name(const char *url, char *name, size_t capacity, char *reason, size_t reason_bytes)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *path = NULL;
    int ok = -1;
    if (!u) {
        snprintf(reason, reason_bytes, "out of memory (curl_url)");
        return -1;
    }
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_PATH, &path, 0);
    if (rc != CURLUE_OK) {
        snprintf(reason, reason_bytes, "'%s' is not a URL (%s)", url, curl_url_strerror(rc));
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(reason, reason_bytes, "'%s' is not an http:// or https:// URL", url);
    } else if (host[0] == '\0') {
        snprintf(reason, reason_bytes, "'%s' has no host", url);
    } else {
        const char *last = strrchr(path, '/');
        last = last ? last + 1 : path;
        if (last[0] == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
            snprintf(reason, reason_bytes, "'%s' names no file (its path must end in a file name)", url);
        else if (strlen(last) > MAX_NAME || strlen(last) >= capacity)
            snprintf(reason, reason_bytes, "'%s': its file name is longer than %zu characters", url,
                     (size_t)MAX_NAME);
        else {
            strcpy(name, last);
            ok = 0;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(path);
    curl_url_cleanup(u);
    return ok;
}

/* trim: text without the white space (and CR of CRLF lines) around it. */
static char *trim(char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t length = strlen(text);
    while (length > 0 && strchr(" \t\r\n", text[length - 1]))
        text[--length] = '\0';
    return text;
}

/* list_from_file: the URLs of -i FILE, one per line; blank lines and lines
 * starting with # are skipped. */
static enum outcome list_from_file(struct download *d, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return report_usage_error("-i %s: cannot read it: %s", path, strerror(errno));
    char *line = NULL, name[NAME_MAX + 1], reason[REASON_BYTES];
    size_t line_capacity = 0, capacity = 0, number = 0;
    enum outcome o = OUTCOME_OK;
    while (o == OUTCOME_OK && getline(&line, &line_capacity, in) >= 0) {
        char *url = trim(line);
        number++;
        if (url[0] == '\0' || url[0] == '#')
            continue;
        if (url_name(url, name, sizeof name, reason, sizeof reason) != 0)
            o = report_usage_error("-i %s, line %zu: %s", path, number, reason);
        else if (d->count == MAX_FILES)
            o = report_usage_error("-i %s: more than %d URLs", path, MAX_FILES);
        else
            o = add_url(d, &capacity, url, name);
    }
    if (o == OUTCOME_OK && ferror(in))
        o = report_usage_error("-i %s: reading it failed: %s", path, strerror(errno));
    if (o == OUTCOME_OK && d->count == 0)
        o = report_usage_error("-i %s: no URLs in it", path);
    free(line);
    fclose(in);
    return o;
}

/* parse_server: HOST:PORT (or [IPv6]:PORT) into host and port; 0 or -1. */
static int parse_server(const char *text, char *host, size_t capacity, unsigned *port)
{
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        colon = close + 1;
    } else {
        colon = strchr(text, ':');
        if (!colon || strchr(colon + 1, ':'))
            return -1;
    }
    size_t length = (size_t)(colon - text);
    if (length == 0 || length >= capacity || strcspn(text, "/?#@ \t") < length)
        return -1;
    const char *digits = colon + 1;
    char *end = NULL;
    if (digits[0] < '0' || digits[0] > '9')
        return -1;
    errno = 0;
    unsigned long value = strtoul(digits, &end, 10);
    if (errno != 0 || *end != '\0' || value < 1 || value > 65535)
        return -1;
    memcpy(host, text, length);
    host[length] = '\0';
    *port = (unsigned)value;
    return 0;
}

/* list_from_server: N URLs of bin/fileserver's made-up files, named after
 * the seed and their number, so the list is a pure function of the flags. */
static enum outcome list_from_server(struct download *d, const struct options *opt)
{
    char host[MAX_HOST], url[MAX_HOST + 128], name[NAME_MAX + 1], reason[REASON_BYTES];
    unsigned port;
    size_t capacity = 0;
    if (parse_server(opt->server, host, sizeof host, &port) != 0)
        return report_usage_error("--server '%s': expected HOST:PORT (or [IPv6]:PORT), PORT from 1 to 65535",
                                  opt->server);
    for (size_t i = 0; i < opt->n; i++) {
        snprintf(url, sizeof url, "http://%s:%u/files/file-%llu-%06zu.bin?size=%llu", host, port, opt->seed,
                 i + 1, d->size);
        if (url_name(url, name, sizeof name, reason, sizeof reason) != 0)
            return report_usage_error("--server '%s': %s", opt->server, reason);
        if (add_url(d, &capacity, url, name) != OUTCOME_OK)
            return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

/* compare_names: qsort's order of two names. */
static int compare_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* check_names: two URLs whose files would have the same name are refused:
 * one would overwrite the other. */
static enum outcome check_names(const struct download *d)
{
    char **sorted = malloc(d->count * sizeof *sorted);
    if (!sorted) {
        report_error("out of memory for %zu file names", d->count);
        return OUTCOME_FAILED;
    }
    memcpy(sorted, d->names, d->count * sizeof *sorted);
    qsort(sorted, d->count, sizeof *sorted, compare_names);
    enum outcome o = OUTCOME_OK;
    for (size_t i = 1; i < d->count && o == OUTCOME_OK; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            o = report_usage_error("two URLs in the list would both be saved as '%s'", sorted[i]);
    free(sorted);
    return o;
}

/* open_output: -o DIR, created if missing, and a descriptor files are made relative to. */
static enum outcome open_output(struct download *d, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            return report_usage_error("-o %s: %s", dir, strerror(errno));
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) /* EEXIST: another MPI rank was first */
            return report_usage_error("-o %s: cannot create it: %s", dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return report_usage_error("-o %s: not a directory", dir);
    }
    if (access(dir, W_OK | X_OK) != 0)
        return report_usage_error("-o %s: cannot write there: %s", dir, strerror(errno));
    d->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->dir_fd < 0)
        return report_usage_error("-o %s: cannot open it: %s", dir, strerror(errno));
    return OUTCOME_OK;
}

/* check_space: refuse made-up files that cannot fit on DIR's file system. */
static enum outcome check_space(const struct download *d, const char *dir)
{
    struct statvfs fs;
    if (fstatvfs(d->dir_fd, &fs) != 0)
        return OUTCOME_OK; /* cannot tell: the writes will say so */
    double needed = (double)d->count * (double)d->size, free_bytes = (double)fs.f_bavail * (double)fs.f_frsize;
    if (needed <= free_bytes)
        return OUTCOME_OK;
    return report_usage_error("--files %zu --size %llu: needs %.1f GiB, but -o %s has %.1f GiB free", d->count,
                              d->size, needed / (1u << 30), dir, free_bytes / (1u << 30));
}

/* check_sources: exactly one source of URLs, and no flag that the other one takes. */
static enum outcome check_sources(const struct options *opt)
{
    if (opt->input_file && opt->server)
        return report_usage_error("-i %s and --server %s: give one source of URLs, not both", opt->input_file,
                                  opt->server);
    if (!opt->input_file && !opt->server)
        return report_usage_error("no URLs: give -i FILE (a list of URLs) or --server HOST:PORT (bin/fileserver)");
    if (opt->input_file && opt->size)
        return report_usage_error("--size %llu: only with --server; the files of -i %s are what they are",
                                  opt->size, opt->input_file);
    return OUTCOME_OK;
}

enum outcome download_prepare(struct download *d, struct options *opt, enum memory memory)
{
    *d = (struct download){.dir_fd = -1, .workers = opt->workers, .memory = memory, .seed = opt->seed,
                           .size = opt->size ? opt->size : DEFAULT_SIZE};
    /* Under MPI, -p is the number of ranks and each rank runs one worker. */
    d->local = opt->workers / (unsigned)team_size();
    enum outcome o = check_sources(opt);
    if (o == OUTCOME_OK && opt->input_file) {
        o = list_from_file(d, opt->input_file);
        if (o == OUTCOME_OK && opt->n_given && opt->n != d->count)
            o = report_usage_error("-n %lu: -i %s lists %zu URLs, and the list decides the number of files",
                                   opt->n, opt->input_file, d->count);
        opt->n = d->count;
    } else if (o == OUTCOME_OK) {
        d->generated = 1;
        o = list_from_server(d, opt);
    }
    const char *dir = opt->output_dir ? opt->output_dir : ".";
    if (o == OUTCOME_OK)
        o = check_names(d);
    if (o == OUTCOME_OK)
        o = open_output(d, dir);
    if (o == OUTCOME_OK && d->generated)
        o = check_space(d, dir);
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

/* ---- a fetcher: one easy handle and what libcurl hands it ---- */

static enum attempt_verdict give_up(struct fetcher *f, const char *reason);

/* part_name: NAME.part of a file, into name (NAME_MAX + 1 bytes). */
static void part_name(const struct download *d, size_t index, char *name)
{
    snprintf(name, NAME_MAX + 1, "%s" PART_SUFFIX, d->names[index]);
}

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
    char line[REASON_BYTES];
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
        || SET(h, CURLOPT_BUFFERSIZE, RECEIVE_BUFFER) || SET(h, CURLOPT_USERAGENT, "download-suite/1");
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
    part_name(d, f->index, part);
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
    char part[NAME_MAX + 1], reason[REASON_BYTES];
    struct download *d = f->d;
    part_name(d, f->index, part);
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
    char why[REASON_BYTES + 64];
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
    char reason[REASON_BYTES];
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
        snprintf(reason, sizeof reason, "emptying %s" PART_SUFFIX " failed: %s", f->d->names[f->index],
                 strerror(errno));
        return give_up(f, reason);
    }
    return retry(f, 0, reason, wait);
}

enum attempt_verdict download_judge(struct fetcher *f, CURLcode result, double *wait)
{
    char reason[REASON_BYTES];
    long status = 0;
    curl_off_t retry_after = 0;
    *wait = 0;
    if (result == CURLE_OK && !f->reply.body_started)
        body_begins(f); /* an empty body: no write callback came */
    if (curl_easy_getinfo(f->handle, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    if (f->reply.write_errno) {
        snprintf(reason, sizeof reason, "writing %s" PART_SUFFIX " failed: %s", f->d->names[f->index],
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
    char part[NAME_MAX + 1], reason[REASON_BYTES];
    struct download *d = f->d;
    *f = (struct fetcher){.d = d, .handle = f->handle, .worker = f->worker, .index = index, .fd = -1,
                          .started = clock_now()};
    if (!f->handle) {
        give_up(f, "this worker has no libcurl handle (see above)");
        return OUTCOME_FAILED;
    }
    part_name(d, index, part);
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

size_t download_next(struct download *d)
{
    size_t index = atomic_fetch_add(d->next, 1);
    return index < d->count ? index : d->count;
}

/* ---- the end of a run ---- */

/* cpu_seconds: user and system CPU time of this process and the children it reaped. */
static void cpu_seconds(double seconds[2])
{
    struct rusage self, children;
    if (getrusage(RUSAGE_SELF, &self) != 0 || getrusage(RUSAGE_CHILDREN, &children) != 0) {
        seconds[0] = seconds[1] = 0; /* cannot fail with these arguments */
        return;
    }
    seconds[0] = (double)(self.ru_utime.tv_sec + children.ru_utime.tv_sec) +
                 (double)(self.ru_utime.tv_usec + children.ru_utime.tv_usec) / 1e6;
    seconds[1] = (double)(self.ru_stime.tv_sec + children.ru_stime.tv_sec) +
                 (double)(self.ru_stime.tv_usec + children.ru_stime.tv_usec) / 1e6;
}

/* count_state: how many files' records are in this state. */
static size_t count_state(const struct download *d, enum file_state state)
{
    size_t count = 0;
    for (size_t i = 0; i < d->count; i++)
        count += d->record[i].state == state;
    return count;
}

void download_finish(struct download *d, struct phases *phases, double start)
{
    phases_from_spans(phases, start, d->span, d->local);
    phases->comm = phases->compute; /* a worker's span is its transfers: time spent waiting on the network */
    phases->compute = 0;
    double now[2];
    cpu_seconds(now);
    d->cpu[0] = now[0] - d->cpu_at_reset[0];
    d->cpu[1] = now[1] - d->cpu_at_reset[1];
    d->failed_total += count_state(d, FILE_FAILED);
}

enum outcome download_failures(const struct download *d)
{
    if (d->failed_total == 0)
        return OUTCOME_OK;
    report_error("%zu download%s given up on (named above)", d->failed_total, d->failed_total == 1 ? " was" : "s were");
    return OUTCOME_FAILED;
}

/* ---- the task: what runs_repeat does around each timed run ---- */

/* clear_files: remove every file of the list, and its NAME.part, from the
 * output directory, so that the run to come really downloads them all. */
static void clear_files(const struct download *d)
{
    char part[NAME_MAX + 1];
    for (size_t i = 0; i < d->count; i++) {
        part_name(d, i, part);
        if (unlinkat(d->dir_fd, d->names[i], 0) != 0 && errno != ENOENT)
            report_error("cannot remove the last run's %s: %s", d->names[i], strerror(errno));
        if (unlinkat(d->dir_fd, part, 0) != 0 && errno != ENOENT)
            report_error("cannot remove the last run's %s: %s", part, strerror(errno));
    }
}

static void reset(void *work)
{
    struct download *d = work;
    if (team_rank() == 0) /* one rank clears; the barrier before the clock waits for it */
        clear_files(d);
    memset(d->record, 0, d->count * sizeof *d->record);
    memset(d->span, 0, d->local * sizeof *d->span);
    atomic_store(d->next, 0);
    cpu_seconds(d->cpu_at_reset);
}

/* first_difference: where two blocks known to differ first differ. */
static size_t first_difference(const unsigned char *x, const unsigned char *y)
{
    size_t at = 0;
    while (x[at] == y[at])
        at++;
    return at;
}

/* read_back: up to length bytes of file `index` from offset, retrying after a
 * signal; the count read, or 0 after saying why nothing could be. */
static size_t read_back(const struct download *d, size_t index, int fd, void *buffer, size_t length,
                        uint64_t offset)
{
    ssize_t n = fdio_pread(fd, buffer, length, offset);
    if (n <= 0)
        report_error("wrong result: reading %s at byte %llu failed: %s", d->names[index],
                     (unsigned long long)offset, n < 0 ? strerror(errno) : "it ends there");
    return n > 0 ? (size_t)n : 0;
}

/* compare_generated: the file against the stream it was made from, every byte. */
static enum outcome compare_generated(const struct download *d, size_t index, int fd, unsigned char *got,
                                      unsigned char *want)
{
    uint64_t key = content_key(d->names[index]);
    for (uint64_t offset = 0; offset < d->size;) {
        size_t length = d->size - offset < CHECK_CHUNK ? (size_t)(d->size - offset) : CHECK_CHUNK;
        size_t n = read_back(d, index, fd, got, length, offset);
        if (n == 0)
            return OUTCOME_FAILED;
        content_fill(key, offset, want, n);
        if (memcmp(got, want, n) != 0) {
            size_t at = first_difference(got, want);
            report_error("wrong result: %s byte %llu is 0x%02x, the file the server makes has 0x%02x",
                         d->names[index], (unsigned long long)(offset + at), got[at], want[at]);
            return OUTCOME_FAILED;
        }
        offset += (uint64_t)n;
    }
    return OUTCOME_OK;
}

/* compare_checksum: the file's CRC-32C, read back from disk, against the one the server announced. */
static enum outcome compare_checksum(const struct download *d, size_t index, int fd, uint64_t size,
                                     unsigned char *buffer)
{
    uint32_t crc = 0;
    for (uint64_t offset = 0; offset < size;) {
        size_t n = read_back(d, index, fd, buffer, CHECK_CHUNK, offset);
        if (n == 0)
            return OUTCOME_FAILED;
        crc = content_crc32c(crc, buffer, n);
        offset += (uint64_t)n;
    }
    uint32_t announced = (uint32_t)d->record[index].checksum;
    if (crc != announced) {
        report_error("wrong result: %s has CRC-32C %08x, the server announced %08x", d->names[index],
                     (unsigned)crc, (unsigned)announced);
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

/* check_file: one delivered file as it is on disk: no NAME.part beside it,
 * the size it was delivered with (--server: the size asked for), and its
 * content: --server's every byte regenerated, otherwise the server's CRC-32C
 * (a server that sent none leaves the size as the only check). */
static enum outcome check_file(const struct download *d, size_t index, unsigned char *got, unsigned char *want)
{
    char part[NAME_MAX + 1];
    const char *name = d->names[index];
    part_name(d, index, part);
    if (faccessat(d->dir_fd, part, F_OK, 0) == 0) {
        report_error("wrong result: %s is still there beside %s", part, name);
        return OUTCOME_FAILED;
    }
    int fd = openat(d->dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        report_error("wrong result: %s was delivered but cannot be opened: %s", name, strerror(errno));
        return OUTCOME_FAILED;
    }
    struct stat st;
    uint64_t expected = d->generated ? d->size : d->record[index].bytes;
    enum outcome o = OUTCOME_OK;
    if (fstat(fd, &st) != 0) {
        report_error("wrong result: fstat of %s failed: %s", name, strerror(errno));
        o = OUTCOME_FAILED;
    } else if ((uint64_t)st.st_size != expected) {
        report_error("wrong result: %s has %lld bytes, expected %llu", name, (long long)st.st_size,
                     (unsigned long long)expected);
        o = OUTCOME_FAILED;
    } else if (d->generated) {
        o = compare_generated(d, index, fd, got, want);
    } else if (d->record[index].checksum & CHECKSUM_KNOWN) {
        o = compare_checksum(d, index, fd, expected, got);
    }
    close(fd); /* read-only: nothing to lose */
    return o;
}

static enum outcome verify(void *work)
{
    struct download *d = work;
    unsigned char *got = malloc(CHECK_CHUNK), *want = malloc(CHECK_CHUNK);
    if (!got || !want) {
        report_error("out of memory for the check's buffers");
        free(got);
        free(want);
        return OUTCOME_FAILED;
    }
    enum outcome verdict = OUTCOME_OK;
    size_t failed = 0, pending = 0;
    for (size_t i = 0; i < d->count && verdict == OUTCOME_OK; i++) {
        if (d->record[i].state == FILE_DONE)
            verdict = check_file(d, i, got, want);
        else if (d->record[i].state == FILE_FAILED)
            failed++;
        else
            pending++;
    }
    free(got);
    free(want);
    if (verdict == OUTCOME_OK && pending > 0) {
        report_error("wrong result: %zu of %zu files were never finished (a worker died?)", pending, d->count);
        verdict = OUTCOME_FAILED;
    }
    if (verdict == OUTCOME_OK && failed > 0) {
        report_error("%zu of %zu files could not be downloaded (named above); the other %zu are intact", failed,
                     d->count, d->count - failed);
        verdict = OUTCOME_FAILED;
    }
    return verdict;
}

static void corrupt(void *work)
{
    struct download *d = work;
    size_t i = 0;
    while (i < d->count && d->record[i].state != FILE_DONE)
        i++;
    if (i == d->count)
        return; /* nothing was delivered: the check fails anyway */
    unsigned char byte = 0;
    off_t at = (off_t)(d->record[i].bytes / 2); /* of an empty file: a byte too many */
    int fd = openat(d->dir_fd, d->names[i], O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        report_error("--inject-error: cannot open %s: %s", d->names[i], strerror(errno));
        return;
    }
    if (d->record[i].bytes > 0 && pread(fd, &byte, 1, at) != 1)
        report_error("--inject-error: cannot read %s: %s", d->names[i], strerror(errno));
    byte = (unsigned char)~byte;
    if (pwrite(fd, &byte, 1, at) != 1)
        report_error("--inject-error: cannot change %s: %s", d->names[i], strerror(errno));
    close(fd);
}

static void figures(void *work, double seconds, FILE *out)
{
    struct download *d = work;
    unsigned long long bytes = 0, retries = 0;
    for (size_t i = 0; i < d->count; i++) {
        bytes += d->record[i].bytes;
        retries += d->record[i].retries;
    }
    fprintf(out, " bytes=%llu files=%zu failures=%zu retries=%llu mbps=%.3f cpu_user=%.6f cpu_sys=%.6f", bytes,
            count_state(d, FILE_DONE), count_state(d, FILE_FAILED), retries,
            seconds > 0 ? (double)bytes / seconds / 1e6 : 0.0, d->cpu[0], d->cpu[1]);
}

const struct task download_task = {reset, verify, corrupt, figures};
