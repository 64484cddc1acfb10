/* io_bound/fileserver_response.c — what bin/fileserver answers a request with, and the bytes of the answer.
 *
 * A whole request (io_bound/http.c parses it) becomes a response: a
 * made-up file (common/content.c) or, with --root, a real file that must lie
 * inside DIR once every symbolic link is followed; one byte range (206, 416);
 * the whole file's CRC-32C, remembered in a small cache since computing it
 * reads the file; the faults of --fail-rate and --drop-rate, and the latency.
 * Nothing here touches a socket: fileserver_loop.c sends what this produces.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "content.h"
#include "fdio.h"
#include "fileserver.h"
#include "mix.h"

#define MAX_GENERATED_SIZE (1ULL << 40)
#define MAX_CHECKSUMMED (256ULL << 20) /* bigger files get no checksum: it would stall every connection */
/* Where the files are: /files/NAME?size=BYTES, or /files/PATH under --root. */
#define FILES_PREFIX "/files/"
/* The query parameter that sizes a made-up file. */
#define SIZE_PARAMETER "size="

/* ---- the faults and the latency ---- */

/* random_unit: the next number of the server's stream, uniform in [0, 1). */
static double random_unit(struct server *s)
{
    return mix_unit(mix_next(&s->random_state));
}

/* latency: this response's wait before its first byte, in seconds. */
static double latency(struct server *s)
{
    double ms = (double)s->set.latency_ms;
    if (s->set.jitter_ms > 0)
        ms += (2.0 * random_unit(s) - 1.0) * (double)s->set.jitter_ms;
    return ms > 0 ? ms / 1000.0 : 0.0;
}

/* ---- the response head ---- */

/* keeps_connection: after which statuses the connection can serve another
 * request; after the others (malformed, too big, timed out) it is closed. */
static int keeps_connection(int status)
{
    return status == HTTP_OK || status == HTTP_PARTIAL_CONTENT || status == HTTP_FORBIDDEN ||
           status == HTTP_NOT_FOUND || status == HTTP_METHOD_NOT_ALLOWED || status == HTTP_RANGE_NOT_SATISFIABLE ||
           status == HTTP_UNAVAILABLE;
}

/* start_head: the status line and the headers every response has. */
static void start_head(struct connection *c, int status, uint64_t content_length)
{
    c->status = status;
    c->head_bytes = (size_t)snprintf(c->head, sizeof c->head,
                                     "HTTP/1.1 %d %s\r\nServer: fileserver\r\nContent-Length: %llu\r\n", status,
                                     http_reason(status), (unsigned long long)content_length);
}

/* add_header: one more header line. */
static void add_header(struct connection *c, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void add_header(struct connection *c, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = vsnprintf(c->head + c->head_bytes, sizeof c->head - c->head_bytes, format, args);
    va_end(args);
    if (n > 0 && (size_t)n < sizeof c->head - c->head_bytes)
        c->head_bytes += (size_t)n;
}

/* end_head: the Connection header and the blank line. */
static void end_head(struct connection *c)
{
    add_header(c, "Connection: %s\r\n\r\n", c->keep_alive ? "keep-alive" : "close");
}

/* respond_text: a short text response (an error), its reason as the body. */
static void respond_text(struct server *s, struct connection *c, int status, int wants_close, int head_only)
{
    snprintf(c->text, sizeof c->text, "%d %s\n", status, http_reason(status));
    c->keep_alive = !wants_close && keeps_connection(status);
    start_head(c, status, strlen(c->text));
    add_header(c, "Content-Type: text/plain\r\n");
    if (status == HTTP_UNAVAILABLE)
        add_header(c, "Retry-After: %llu\r\n", s->set.retry_after);
    if (status == HTTP_METHOD_NOT_ALLOWED)
        add_header(c, "Allow: GET, HEAD\r\n");
    end_head(c);
    c->body_kind = BODY_TEXT;
    c->body_first = 0;
    c->body_length = head_only ? 0 : strlen(c->text);
}

/* ---- the files: made-up ones, --root's, and their checksums ---- */

/* query_size: the size=BYTES parameter of a query; 0, or -1 if missing or bad. */
static int query_size(const char *query, uint64_t *size)
{
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, SIZE_PARAMETER, sizeof SIZE_PARAMETER - 1) != 0)
            continue;
        char digits[24];
        const char *value = p + sizeof SIZE_PARAMETER - 1;
        size_t length = strcspn(value, "&");
        unsigned long long v;
        if (length == 0 || length >= sizeof digits)
            return -1;
        memcpy(digits, value, length);
        digits[length] = '\0';
        if (cli_parse_count(digits, 0, MAX_GENERATED_SIZE, &v) != 0)
            return -1;
        *size = v;
        return 0;
    }
    return -1;
}

enum outcome response_use_root(struct server *s)
{
    struct stat st;
    if (!realpath(s->set.root, s->root))
        return report_usage_error("--root %s: %s", s->set.root, strerror(errno));
    if (stat(s->root, &st) != 0 || !S_ISDIR(st.st_mode))
        return report_usage_error("--root %s: not a directory", s->set.root);
    s->real_files = 1;
    return OUTCOME_OK;
}

/* checksum_slot: where the checksum of (key, size) is remembered. */
static struct checksum_entry *checksum_slot(struct server *s, uint64_t key, uint64_t size)
{
    return &s->checksums[mix_finalize(key ^ mix_finalize(size)) % CHECKSUM_SLOTS];
}

/* file_checksum: the CRC-32C of an open file of size bytes; 0 or -1. */
static int file_checksum(struct server *s, int fd, uint64_t size, uint32_t *crc)
{
    *crc = 0;
    for (uint64_t offset = 0; offset < size;) {
        ssize_t n = fdio_pread(fd, s->out, sizeof s->out, offset);
        if (n <= 0)
            return -1;
        *crc = content_crc32c(*crc, s->out, (size_t)n);
        offset += (uint64_t)n;
    }
    return 0;
}

/* open_under_root: open DIR/rel for reading if it is a regular file inside
 * DIR once every symbolic link is followed; else the status to refuse with. */
static int open_under_root(struct server *s, const char *rel, int *fd)
{
    char joined[2 * PATH_MAX], resolved[PATH_MAX];
    snprintf(joined, sizeof joined, "%s/%s", s->root, rel);
    if (!realpath(joined, resolved))
        return errno == EACCES ? HTTP_FORBIDDEN : HTTP_NOT_FOUND;
    size_t root_length = strlen(s->root);
    int inside = strcmp(s->root, "/") == 0 ||
                 (strncmp(resolved, s->root, root_length) == 0 && (resolved[root_length] == '/' || !resolved[root_length]));
    if (!inside)
        return HTTP_FORBIDDEN; /* a link (or anything else) that leads outside DIR */
    *fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd < 0)
        return errno == EACCES ? HTTP_FORBIDDEN : HTTP_NOT_FOUND;
    struct stat st;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return HTTP_NOT_FOUND;
    }
    return 0;
}

/* find_file: what /files/<rel>?<query> names: its size, its checksum (if
 * it is not too big to compute), and how to produce its bytes; 0, or the
 * status to refuse it with. */
static int find_file(struct server *s, struct connection *c, const char *rel, const char *query, uint64_t *size,
                     uint32_t *crc, int *have_crc)
{
    struct checksum_entry *slot;
    if (!s->real_files) {
        if (rel[0] == '\0' || strchr(rel, '/'))
            return HTTP_NOT_FOUND;
        if (query_size(query, size) != 0)
            return HTTP_BAD_REQUEST; /* a made-up file needs ?size=BYTES */
        c->body_kind = BODY_GENERATED;
        c->key = content_key(rel);
        *have_crc = *size <= MAX_CHECKSUMMED;
        slot = checksum_slot(s, c->key, *size);
        if (*have_crc && (!slot->used || slot->key != c->key || slot->size != *size))
            *slot = (struct checksum_entry){c->key, *size, content_checksum(c->key, *size), 1};
        *crc = slot->crc;
        return 0;
    }
    int status = open_under_root(s, rel, &c->file_fd);
    if (status != 0)
        return status;
    struct stat st;
    if (fstat(c->file_fd, &st) != 0)
        return HTTP_INTERNAL_ERROR;
    c->body_kind = BODY_FILE;
    *size = (uint64_t)st.st_size;
    uint64_t identity = mix_finalize((uint64_t)st.st_dev) ^ mix_finalize((uint64_t)st.st_ino + 1) ^
                        mix_finalize((uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec + 2);
    *have_crc = *size <= MAX_CHECKSUMMED;
    slot = checksum_slot(s, identity, *size);
    if (*have_crc && (!slot->used || slot->key != identity || slot->size != *size)) {
        uint32_t computed;
        if (file_checksum(s, c->file_fd, *size, &computed) != 0)
            return HTTP_INTERNAL_ERROR;
        *slot = (struct checksum_entry){identity, *size, computed, 1};
    }
    *crc = slot->crc;
    return 0;
}

/* respond_file: 200 (or 206 for a range) with the file's bytes, unless a
 * --fail-rate fault answers 503 instead; a --drop-rate fault cuts it short. */
static void respond_file(struct server *s, struct connection *c, const struct http_request *r, uint64_t size,
                         uint32_t crc, int have_crc)
{
    int head_only = strcmp(r->method, "HEAD") == 0;
    uint64_t first = 0, last = size ? size - 1 : 0;
    enum http_range range = http_parse_range(r->range, size, &first, &last);
    if (s->set.fail_rate > 0 && random_unit(s) < s->set.fail_rate) {
        respond_text(s, c, HTTP_UNAVAILABLE, r->wants_close, head_only);
        c->note = "(fault: --fail-rate)";
        return;
    }
    c->keep_alive = !r->wants_close;
    if (range == HTTP_RANGE_UNSATISFIABLE) {
        start_head(c, HTTP_RANGE_NOT_SATISFIABLE, 0);
        add_header(c, "Content-Range: bytes */%llu\r\n", (unsigned long long)size);
        end_head(c);
        c->body_length = 0;
        return;
    }
    int partial = range == HTTP_RANGE_SOME;
    uint64_t length = partial ? last - first + 1 : size;
    start_head(c, partial ? HTTP_PARTIAL_CONTENT : HTTP_OK, length);
    add_header(c, "Content-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\n");
    if (have_crc)
        add_header(c, "%s: %08x\r\n", CONTENT_CHECKSUM_HEADER, (unsigned)crc);
    if (partial)
        add_header(c, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)first,
                   (unsigned long long)last, (unsigned long long)size);
    end_head(c);
    c->body_first = first;
    c->body_length = head_only ? 0 : length;
    if (c->body_length > 0 && s->set.drop_rate > 0 && random_unit(s) < s->set.drop_rate)
        c->cut_at = (uint64_t)(random_unit(s) * (double)c->body_length);
}

/* ---- a request, answered ---- */

/* printable: the request line as the log shows it: control bytes as '?', cut short. */
static void printable(char *out, const char *line)
{
    size_t n = 0;
    for (; line[n] && line[n] != '\r' && line[n] != '\n' && n < MAX_LOGGED; n++)
        out[n] = (unsigned char)line[n] < ' ' || line[n] == 0x7f || line[n] == '"' ? '?' : line[n];
    out[n] = '\0';
}

/* start_response: forget the last response's state before deciding the next one. */
static void start_response(struct connection *c, double now)
{
    c->arrived = now;
    c->note = NULL;
    c->cut = 0;
    c->sent = 0;
    c->cut_at = NEVER;
}

void response_answer(struct server *s, struct connection *c, size_t length, double now)
{
    char text[HTTP_MAX_REQUEST + 1], path[PATH_MAX];
    const char *query = "";
    struct http_request r;
    memcpy(text, c->request, length);
    text[length] = '\0';
    printable(c->logged, text);
    c->request_length = length;
    start_response(c, now);
    int status = http_parse_request(text, length, &r);
    int head_only = status == 0 && strcmp(r.method, "HEAD") == 0;
    if (status == 0 && strcmp(r.method, "GET") != 0 && !head_only)
        status = HTTP_METHOD_NOT_ALLOWED;
    if (status == 0 && http_decode_target(r.target, path, sizeof path, &query) != 0)
        status = HTTP_BAD_REQUEST;
    if (status == 0 && http_climbs_out(path))
        status = HTTP_FORBIDDEN; /* /../ or %2e%2e: never outside /files/ */
    if (status == 0 && strncmp(path, FILES_PREFIX, sizeof FILES_PREFIX - 1) != 0)
        status = HTTP_NOT_FOUND;
    uint64_t size = 0;
    uint32_t crc = 0;
    int have_crc = 0;
    if (status == 0)
        status = find_file(s, c, path + sizeof FILES_PREFIX - 1, query, &size, &crc, &have_crc);
    if (status == 0)
        respond_file(s, c, &r, size, crc, have_crc);
    else
        respond_text(s, c, status,
                     status == HTTP_BAD_REQUEST || status == HTTP_VERSION_NOT_SUPPORTED || r.wants_close, head_only);
    c->phase = WAITING;
    c->wake = now + latency(s);
}

void response_refuse(struct server *s, struct connection *c, int status, double now)
{
    snprintf(c->logged, sizeof c->logged, "-");
    start_response(c, now);
    c->request_length = c->request_bytes;
    respond_text(s, c, status, 1, 0);
    c->phase = SENDING;
    c->wake = 0;
    c->send_start = now;
    c->deadline = now + (double)s->set.idle_timeout;
}

/* ---- the bytes of a response ---- */

size_t response_produce(struct server *s, struct connection *c, size_t room, int *failed)
{
    size_t n = 0;
    if (c->sent < c->head_bytes) {
        n = c->head_bytes - (size_t)c->sent < room ? c->head_bytes - (size_t)c->sent : room;
        memcpy(s->out, c->head + c->sent, n);
    }
    uint64_t offset = c->sent + n - c->head_bytes, take = room - n;
    if (take > c->body_length - offset)
        take = c->body_length - offset;
    if (take == 0)
        return n;
    if (c->body_kind == BODY_TEXT) {
        memcpy(s->out + n, c->text + offset, (size_t)take);
    } else if (c->body_kind == BODY_GENERATED) {
        content_fill(c->key, c->body_first + offset, s->out + n, (size_t)take);
    } else {
        ssize_t got = fdio_pread(c->file_fd, s->out + n, (size_t)take, c->body_first + offset);
        if (got <= 0) { /* the file shrank under us: the promised length cannot be kept */
            *failed = 1;
            return 0;
        }
        take = (uint64_t)got;
    }
    return n + (size_t)take;
}
