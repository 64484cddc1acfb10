/* io_bound/fileserver.c — a local HTTP file server that behaves like the internet: latency, bandwidth, faults.
 *
 * Run:    bin/fileserver --port 8080 --latency 50                 made-up files: GET /files/NAME?size=BYTES
 *         bin/fileserver --port 0 --root DIR                       DIR's files: GET /files/PATH
 *         bin/fileserver --port 0 --latency 50 --jitter 10 --rate 1024 --fail-rate 0.1 --drop-rate 0.05 --seed 7
 *         (--port 0 picks a free port; the first line on stdout is always port=NNNN)
 * Why:    compute nodes rarely reach the internet, and the internet is not
 *         repeatable anyway. The download clients (serial/ ... mpi/download.c,
 *         io_bound/download.c) fetch from this instead, and it injects what
 *         makes downloading I/O-bound: each response starts --latency ms
 *         after its request arrived, and flows at --rate KiB/s at most.
 * Design: one thread and one poll() loop over every connection, the way
 *         event-driven servers are built: no connection ever blocks another.
 *         A connection reads its request, then waits out its latency as a
 *         timer (not a sleep: the loop serves the others meanwhile), then
 *         sends as much as the socket and its rate allow each time poll()
 *         says it can. Made-up files are generated on the fly from their name
 *         (common/content.c), so any byte range costs nothing to produce and
 *         nothing is kept per connection but its position.
 * Limits: requests of at most MAX_REQUEST bytes (else 431); a request must
 *         arrive whole within --idle-timeout of the connection falling idle,
 *         and a client must keep reading (else the connection is closed);
 *         --max-connections at once (the descriptor limit is raised to fit);
 *         anything malformed gets 400 and only that connection is closed.
 *         SIGTERM (or SIGINT) closes everything and exits 0.
 * Plain POSIX sockets and the C library only, so it builds on any login node.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "content.h"
#include "fdio.h"
#include "mix.h"
#include "report.h"

/* ---- settings: the command line ---- */

#define DEFAULT_PORT 8080
#define DEFAULT_BIND "127.0.0.1"
#define DEFAULT_SEED 42
#define DEFAULT_RETRY_AFTER 1      /* seconds, in the 503s of --fail-rate */
#define DEFAULT_IDLE_TIMEOUT 10    /* seconds */
#define DEFAULT_MAX_CONNECTIONS 4096
#define MAX_CONNECTIONS 65536
#define MAX_MILLISECONDS 600000    /* --latency and --jitter: ten minutes is plenty */
#define MAX_RATE_KIB (1ULL << 30)  /* --rate: a TiB/s is no limit at all */
#define MAX_SECONDS 86400

struct settings {
    unsigned long long port;
    const char *bind;
    const char *root;                 /* NULL: made-up files */
    unsigned long long latency_ms, jitter_ms, rate_kib;
    double fail_rate, drop_rate;
    unsigned long long retry_after;   /* seconds */
    unsigned long long seed;
    unsigned long long idle_timeout;  /* seconds */
    unsigned long long max_connections;
    int quiet;
    int help;
};

enum arg_kind { ARG_SWITCH, ARG_COUNT, ARG_FRACTION, ARG_TEXT };

/* One flag of the server's command line. */
struct server_flag {
    const char *name, *metavar;
    enum arg_kind kind;
    size_t field;                  /* offsetof in struct settings */
    unsigned long long min, max;   /* ARG_COUNT's range */
    const char *help;
};

#define FIELD(name) offsetof(struct settings, name)

static const struct server_flag server_flags[] = {
    {"--port", "N", ARG_COUNT, FIELD(port), 0, 65535, "TCP port to listen on (default 8080); 0 picks a free one"},
    {"--bind", "ADDR", ARG_TEXT, FIELD(bind), 0, 0, "address to listen on (default 127.0.0.1: this machine only)"},
    {"--root", "DIR", ARG_TEXT, FIELD(root), 0, 0,
     "serve DIR's files as /files/PATH instead of made-up ones; nothing outside DIR"},
    {"--latency", "MS", ARG_COUNT, FIELD(latency_ms), 0, MAX_MILLISECONDS,
     "wait this long between a request and its response's first byte (default 0)"},
    {"--jitter", "MS", ARG_COUNT, FIELD(jitter_ms), 0, MAX_MILLISECONDS,
     "vary each latency by up to this much either way, uniformly (default 0)"},
    {"--rate", "KIB_PER_S", ARG_COUNT, FIELD(rate_kib), 0, MAX_RATE_KIB,
     "send at most this many KiB/s on each connection (default 0: as fast as it goes)"},
    {"--fail-rate", "F", ARG_FRACTION, FIELD(fail_rate), 0, 0,
     "answer this fraction of file requests 503 Service Unavailable with Retry-After"},
    {"--drop-rate", "F", ARG_FRACTION, FIELD(drop_rate), 0, 0,
     "close the connection in the middle of the body for this fraction of them"},
    {"--retry-after", "S", ARG_COUNT, FIELD(retry_after), 0, MAX_SECONDS, "the 503s' Retry-After, in seconds (default 1)"},
    {"--seed", "S", ARG_COUNT, FIELD(seed), 0, ~0ULL, "seed of the faults and the jitter (default 42)"},
    {"--idle-timeout", "S", ARG_COUNT, FIELD(idle_timeout), 1, MAX_SECONDS,
     "close a connection whose request is not whole after this many seconds idle (default 10)"},
    {"--max-connections", "N", ARG_COUNT, FIELD(max_connections), 1, MAX_CONNECTIONS,
     "connections served at once; more wait to be accepted (default 4096)"},
    {"--quiet", NULL, ARG_SWITCH, FIELD(quiet), 0, 0, "no log line per request on stderr"},
    {"--help", NULL, ARG_SWITCH, FIELD(help), 0, 0, "print this help and exit"},
    {NULL, NULL, ARG_SWITCH, 0, 0, 0, NULL},
};

/* print_help: the usage text, from the table the parser reads. */
static void print_help(void)
{
    printf("usage: %s [flags]\nA local HTTP file server with the latency, bandwidth and faults of real networks.\n\n"
           "  GET or HEAD /files/NAME?size=BYTES   a made-up file: BYTES bytes that are a pure function of NAME\n"
           "  GET or HEAD /files/PATH              with --root DIR: the file DIR/PATH\n"
           "  Range requests get 206 (or 416); file responses carry " CONTENT_CHECKSUM_HEADER " (up to 256 MiB).\n\n",
           report_program());
    for (const struct server_flag *f = server_flags; f->name; f++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", f->name, f->metavar ? " " : "", f->metavar ? f->metavar : "");
        printf("  %-22s %s\n", left, f->help);
    }
    printf("\nThe first line on stdout is port=NNNN. Exit status: 0 after SIGTERM or SIGINT,\n"
           "1 if it cannot listen, 2 for a bad command line.\n");
}

/* parse_number: text as a whole number in [min, max]; 0 or -1. */
static int parse_number(const char *text, unsigned long long min, unsigned long long max, unsigned long long *value)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *value = v;
    return 0;
}

/* take_value: one flag's value into the settings, or a usage error naming it. */
static enum outcome take_value(struct settings *s, const struct server_flag *f, const char *text)
{
    char *field = (char *)s + f->field;
    if (f->kind == ARG_TEXT) {
        if (text[0] == '\0')
            return report_usage_error("%s needs a value (%s), not an empty one", f->name, f->metavar);
        memcpy(field, &text, sizeof text);
        return OUTCOME_OK;
    }
    if (f->kind == ARG_FRACTION) {
        char *end = NULL;
        double v = strtod(text, &end);
        if (end == text || *end != '\0' || !(v >= 0.0 && v <= 1.0))
            return report_usage_error("%s: '%s' is not a fraction from 0 to 1", f->name, text);
        memcpy(field, &v, sizeof v);
        return OUTCOME_OK;
    }
    unsigned long long v;
    if (parse_number(text, f->min, f->max, &v) != 0)
        return report_usage_error("%s: '%s' is not a whole number from %llu to %llu", f->name, text, f->min, f->max);
    memcpy(field, &v, sizeof v);
    return OUTCOME_OK;
}

/* settings_parse: the command line into s; OUTCOME_OK, OUTCOME_HELP or OUTCOME_USAGE. */
static enum outcome settings_parse(struct settings *s, int argc, char **argv)
{
    *s = (struct settings){.port = DEFAULT_PORT, .bind = DEFAULT_BIND, .seed = DEFAULT_SEED,
                           .retry_after = DEFAULT_RETRY_AFTER, .idle_timeout = DEFAULT_IDLE_TIMEOUT,
                           .max_connections = DEFAULT_MAX_CONNECTIONS};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *equals = strchr(arg, '=');
        size_t length = equals ? (size_t)(equals - arg) : strlen(arg);
        const struct server_flag *f = server_flags;
        while (f->name && !(strlen(f->name) == length && strncmp(f->name, arg, length) == 0))
            f++;
        if (!f->name)
            return report_usage_error(arg[0] == '-' ? "unknown flag '%s'" : "unexpected argument '%s'", arg);
        if (f->kind == ARG_SWITCH) {
            if (equals)
                return report_usage_error("%s takes no value", f->name);
            *(int *)((char *)s + f->field) = 1;
            if (s->help) {
                print_help();
                return OUTCOME_HELP;
            }
            continue;
        }
        const char *value = equals ? equals + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value)
            return report_usage_error("%s needs a value (%s)", f->name, f->metavar);
        enum outcome o = take_value(s, f, value);
        if (o != OUTCOME_OK)
            return o;
    }
    return OUTCOME_OK;
}

/* ---- connections ---- */

#define MAX_REQUEST 8192          /* request line and headers, at most (else 431) */
#define HEAD_BYTES 512            /* a response's status line and headers */
#define CHUNK (64u << 10)         /* body bytes produced and sent at a time */
#define RATE_TICK 0.01            /* a rate-limited connection sends every 10 ms */
#define FD_RESERVE 32             /* descriptors kept for the listener, open files, stdio */
#define LISTEN_BACKLOG 4096       /* connections the kernel queues before we accept them */
#define ACCEPT_PAUSE 0.05         /* seconds to stop accepting when out of descriptors */
#define MAX_LOGGED 200            /* characters of a request line in the log */
#define LINGER_SECONDS 2.0        /* how long a closing connection waits for the client to finish */
#define MAX_GENERATED_SIZE (1ULL << 40)
#define CHECKSUM_SLOTS 4096       /* checksums remembered (computing one reads the whole file) */
#define MAX_CHECKSUMMED (256ULL << 20) /* bigger files get no checksum: it would stall every connection */
#define NEVER UINT64_MAX

/* Where a connection is in its request–response cycle. */
enum phase {
    READING, /* collecting a request */
    WAITING, /* request read: waiting out the latency before answering */
    SENDING, /* sending the response, as the socket and the rate allow */
    CLOSING, /* response sent, our side shut: reading (and dropping) what the client still sends */
};

/* What a response's body is made of. */
enum body_kind { BODY_TEXT, BODY_GENERATED, BODY_FILE };

struct connection {
    int fd;
    short revents;                 /* what the last poll() said of it */
    enum phase phase;
    char peer[64];                 /* its address:port, for the log */
    double deadline;               /* READING: the request must be whole by then; SENDING: the client must read */
    double wake;                   /* WAITING: the latency is over; SENDING: the rate allows more */
    double arrived;                /* the request was whole */
    double send_start;             /* the first byte went (the rate's reference) */
    char request[MAX_REQUEST];
    size_t request_bytes;          /* received (perhaps a pipelined next request too) */
    size_t request_length;         /* of the request being answered, to its blank line */
    char logged[MAX_LOGGED + 1];   /* its request line, made printable */
    unsigned long served;          /* responses completed on it */
    /* the response */
    int status;
    int keep_alive;
    const char *note;              /* what was unusual about it, for the log */
    int cut;                       /* the response was cut short on purpose: close */
    char head[HEAD_BYTES];
    size_t head_bytes;
    enum body_kind body_kind;
    char text[64];                 /* BODY_TEXT: "404 Not Found\n" */
    uint64_t key;                  /* BODY_GENERATED: the name's stream */
    int file_fd;                   /* BODY_FILE, or -1 */
    uint64_t body_first, body_length; /* the bytes of the file sent (none for HEAD) */
    uint64_t cut_at;               /* --drop-rate: close after this many body bytes, or NEVER */
    uint64_t sent;                 /* bytes of head and body sent */
};

/* A remembered checksum: of a made-up file (key, size) or a real one (its identity, size). */
struct checksum_entry {
    uint64_t key, size;
    uint32_t crc;
    int used;
};

struct server {
    struct settings set;
    int real_files;                /* --root given: serve its files, not made-up ones */
    char root[PATH_MAX];           /* --root, resolved */
    int listener;
    int wake_pipe[2];              /* the signal handler writes here: poll() wakes up */
    struct connection **conns;
    size_t count, capacity;
    struct pollfd *fds;
    size_t *fd_conn;               /* fds[k] belongs to conns[fd_conn[k]] */
    double accept_paused_until;
    uint64_t random_state;
    unsigned char out[HEAD_BYTES + CHUNK]; /* what is being sent, built afresh each time */
    struct checksum_entry checksums[CHECKSUM_SLOTS];
};

/* The write end of the server's wake pipe, for the signal handler. */
static volatile sig_atomic_t wake_fd = -1;
static volatile sig_atomic_t stopping = 0;

/* on_stop_signal: SIGTERM or SIGINT: ask the loop to stop, and wake it. */
static void on_stop_signal(int signal_number)
{
    (void)signal_number;
    int saved = errno;
    stopping = 1;
    if (wake_fd >= 0 && write(wake_fd, "x", 1) < 0) {
        /* the pipe is full: the loop is waking up anyway */
    }
    errno = saved;
}

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

/* log_response: one line per request on stderr: who, what, status, body bytes sent, time. */
static void log_response(const struct server *s, const struct connection *c, double now)
{
    if (s->set.quiet)
        return;
    uint64_t body_sent = c->sent > c->head_bytes ? c->sent - c->head_bytes : 0;
    fprintf(stderr, "%s \"%s\" %d %llu %.1fms%s%s\n", c->peer, c->logged, c->status,
            (unsigned long long)body_sent, (now - c->arrived) * 1000.0, c->note ? " " : "", c->note ? c->note : "");
}

/* conn_close: end a connection and forget it (conns[index] takes the last one's place). */
static void conn_close(struct server *s, size_t index)
{
    struct connection *c = s->conns[index];
    close(c->fd); /* nothing can be done about an error closing a socket */
    if (c->file_fd >= 0)
        close(c->file_fd);
    free(c);
    s->conns[index] = s->conns[--s->count];
}

/* ---- a request ---- */

/* The parts of a request the server reads. */
struct request {
    char *method, *target, *version;
    const char *range;   /* the Range header's value, or NULL */
    int wants_close;     /* Connection: close (or HTTP/1.0 without keep-alive) */
    int has_body;        /* a request body, which no GET or HEAD here may have */
};

/* request_end: the length of the first request in buf (through its blank
 * line), or 0 if it has not all arrived. Lines end in CRLF or a bare LF. */
static size_t request_end(const char *buf, size_t bytes)
{
    for (size_t i = 1; i < bytes; i++)
        if (buf[i] == '\n' && (buf[i - 1] == '\n' || (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')))
            return i + 1;
    return 0;
}

/* next_line: cut the line at *cursor (ending at '\n', CR removed) and move past it. */
static char *next_line(char **cursor)
{
    char *line = *cursor, *newline = strchr(line, '\n');
    if (!newline)
        return NULL;
    *newline = '\0';
    if (newline > line && newline[-1] == '\r')
        newline[-1] = '\0';
    *cursor = newline + 1;
    return line;
}

/* token: whether text is a non-empty run of HTTP token characters. */
static int token(const char *text)
{
    if (!*text)
        return 0;
    for (; *text; text++)
        if (!(*text > ' ' && *text < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", *text)))
            return 0;
    return 1;
}

/* parse_request: the request in text (NUL-terminated, the blank line
 * included) into r; 0, or the status to refuse it with. */
static int parse_request(char *text, struct request *r)
{
    char *cursor = text, *line = next_line(&cursor);
    *r = (struct request){0};
    if (!line)
        return 400;
    for (const char *p = line; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return 400;
    r->method = line;
    char *space = strchr(line, ' ');
    if (!space)
        return 400;
    *space = '\0';
    r->target = space + 1;
    space = strchr(r->target, ' ');
    if (!space)
        return 400;
    *space = '\0';
    r->version = space + 1;
    if (!token(r->method) || r->target[0] != '/' || strchr(r->version, ' '))
        return 400;
    int minor;
    char after;
    if (strcmp(r->version, "HTTP/1.1") != 0 && strcmp(r->version, "HTTP/1.0") != 0)
        return sscanf(r->version, "HTTP/%*d.%d%c", &minor, &after) == 1 ? 505 : 400;
    int http10 = strcmp(r->version, "HTTP/1.0") == 0, keep_alive_asked = 0;
    while ((line = next_line(&cursor)) && line[0] != '\0') {
        if (line[0] == ' ' || line[0] == '\t')
            return 400; /* obsolete line folding */
        char *colon = strchr(line, ':');
        if (!colon)
            return 400;
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        if (!token(line))
            return 400;
        if (strcasecmp(line, "Connection") == 0) {
            r->wants_close |= strcasestr(value, "close") != NULL;
            keep_alive_asked |= strcasestr(value, "keep-alive") != NULL;
        } else if (strcasecmp(line, "Range") == 0) {
            r->range = value;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0 ||
                   (strcasecmp(line, "Content-Length") == 0 && strcmp(value, "0") != 0)) {
            r->has_body = 1;
        }
    }
    if (http10 && !keep_alive_asked)
        r->wants_close = 1;
    return r->has_body ? 400 : 0;
}

/* hex_value: a hexadecimal digit's value, or -1. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* percent_decode: the path part of a target with %XX decoded, into out
 * (PATH_MAX bytes), stopping at '?'; the query after it in *query. 0 or -1. */
static int percent_decode(const char *target, char *out, const char **query)
{
    size_t n = 0;
    const char *p = target;
    for (; *p && *p != '?'; p++) {
        char c = *p;
        if (c == '%') {
            int high = hex_value(p[1]), low = high >= 0 ? hex_value(p[2]) : -1;
            if (low < 0)
                return -1;
            c = (char)(high * 16 + low);
            if (c == '\0')
                return -1;
            p += 2;
        }
        if (n + 1 >= PATH_MAX)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    *query = *p == '?' ? p + 1 : "";
    return 0;
}

/* climbs_out: whether a decoded path has a ".." segment (it would leave /files/). */
static int climbs_out(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")); p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 1;
    return 0;
}

/* query_size: the size=BYTES parameter of a query; 0, or -1 if missing or bad. */
static int query_size(const char *query, uint64_t *size)
{
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, "size=", 5) != 0)
            continue;
        char digits[24];
        size_t length = strcspn(p + 5, "&");
        unsigned long long v;
        if (length == 0 || length >= sizeof digits)
            return -1;
        memcpy(digits, p + 5, length);
        digits[length] = '\0';
        if (parse_number(digits, 0, MAX_GENERATED_SIZE, &v) != 0)
            return -1;
        *size = v;
        return 0;
    }
    return -1;
}

/* ---- a response ---- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* keeps_connection: after which statuses the connection can serve another
 * request; after the others (malformed, too big, timed out) it is closed. */
static int keeps_connection(int status)
{
    return status == 200 || status == 206 || status == 403 || status == 404 || status == 405 || status == 416 ||
           status == 503;
}

/* start_head: the status line and the headers every response has. */
static void start_head(struct connection *c, int status, uint64_t content_length)
{
    c->status = status;
    c->head_bytes = (size_t)snprintf(c->head, sizeof c->head,
                                     "HTTP/1.1 %d %s\r\nServer: fileserver\r\nContent-Length: %llu\r\n", status,
                                     reason_phrase(status), (unsigned long long)content_length);
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
    snprintf(c->text, sizeof c->text, "%d %s\n", status, reason_phrase(status));
    c->keep_alive = !wants_close && keeps_connection(status);
    start_head(c, status, strlen(c->text));
    add_header(c, "Content-Type: text/plain\r\n");
    if (status == 503)
        add_header(c, "Retry-After: %llu\r\n", s->set.retry_after);
    if (status == 405)
        add_header(c, "Allow: GET, HEAD\r\n");
    end_head(c);
    c->body_kind = BODY_TEXT;
    c->body_first = 0;
    c->body_length = head_only ? 0 : strlen(c->text);
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
        return errno == EACCES ? 403 : 404;
    size_t root_length = strlen(s->root);
    int inside = strcmp(s->root, "/") == 0 ||
                 (strncmp(resolved, s->root, root_length) == 0 && (resolved[root_length] == '/' || !resolved[root_length]));
    if (!inside)
        return 403; /* a link (or anything else) that leads outside DIR */
    *fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd < 0)
        return errno == EACCES ? 403 : 404;
    struct stat st;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return 404;
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
            return 404;
        if (query_size(query, size) != 0)
            return 400; /* a made-up file needs ?size=BYTES */
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
        return 500;
    c->body_kind = BODY_FILE;
    *size = (uint64_t)st.st_size;
    uint64_t identity = mix_finalize((uint64_t)st.st_dev) ^ mix_finalize((uint64_t)st.st_ino + 1) ^
                        mix_finalize((uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec + 2);
    *have_crc = *size <= MAX_CHECKSUMMED;
    slot = checksum_slot(s, identity, *size);
    if (*have_crc && (!slot->used || slot->key != identity || slot->size != *size)) {
        uint32_t computed;
        if (file_checksum(s, c->file_fd, *size, &computed) != 0)
            return 500;
        *slot = (struct checksum_entry){identity, *size, computed, 1};
    }
    *crc = slot->crc;
    return 0;
}

/* parse_range: a Range header against a file of size bytes: 0 (ignore it: send
 * it all), 1 (send [*first, *last]) or -1 (unsatisfiable: 416). One range only;
 * anything else is ignored, as HTTP allows. */
static int parse_range(const char *value, uint64_t size, uint64_t *first, uint64_t *last)
{
    unsigned long long a, b;
    char end;
    if (!value || strncmp(value, "bytes=", 6) != 0 || strchr(value, ','))
        return 0;
    value += 6;
    if (sscanf(value, "-%llu%c", &b, &end) == 1) { /* the last b bytes */
        if (b == 0 || size == 0)
            return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    int fields = sscanf(value, "%llu-%llu%c", &a, &b, &end);
    if (fields == 1 && value[strlen(value) - 1] == '-')
        b = size ? size - 1 : 0;
    else if (fields != 2 || b < a)
        return 0;
    if (a >= size)
        return -1;
    *first = a;
    *last = b < size ? b : size - 1;
    return 1;
}

/* respond_file: 200 (or 206 for a range) with the file's bytes, unless a
 * --fail-rate fault answers 503 instead; a --drop-rate fault cuts it short. */
static void respond_file(struct server *s, struct connection *c, const struct request *r, uint64_t size, uint32_t crc,
                         int have_crc)
{
    int head_only = strcmp(r->method, "HEAD") == 0;
    uint64_t first = 0, last = size ? size - 1 : 0;
    int range = parse_range(r->range, size, &first, &last);
    if (s->set.fail_rate > 0 && random_unit(s) < s->set.fail_rate) {
        respond_text(s, c, 503, r->wants_close, head_only);
        c->note = "(fault: --fail-rate)";
        return;
    }
    c->keep_alive = !r->wants_close;
    if (range < 0) {
        start_head(c, 416, 0);
        add_header(c, "Content-Range: bytes */%llu\r\n", (unsigned long long)size);
        end_head(c);
        c->body_length = 0;
        return;
    }
    uint64_t length = range ? last - first + 1 : size;
    start_head(c, range ? 206 : 200, length);
    add_header(c, "Content-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\n");
    if (have_crc)
        add_header(c, "%s: %08x\r\n", CONTENT_CHECKSUM_HEADER, (unsigned)crc);
    if (range)
        add_header(c, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)first,
                   (unsigned long long)last, (unsigned long long)size);
    end_head(c);
    c->body_first = first;
    c->body_length = head_only ? 0 : length;
    if (c->body_length > 0 && s->set.drop_rate > 0 && random_unit(s) < s->set.drop_rate)
        c->cut_at = (uint64_t)(random_unit(s) * (double)c->body_length);
}

/* printable: the request line as the log shows it: control bytes as '?', cut short. */
static void printable(char *out, const char *line)
{
    size_t n = 0;
    for (; line[n] && line[n] != '\r' && line[n] != '\n' && n < MAX_LOGGED; n++)
        out[n] = (unsigned char)line[n] < ' ' || line[n] == 0x7f || line[n] == '"' ? '?' : line[n];
    out[n] = '\0';
}

/* answer: the request at the start of c->request is whole: decide the
 * response, and start waiting out the latency before sending it. */
static void answer(struct server *s, struct connection *c, size_t length, double now)
{
    char text[MAX_REQUEST + 1], path[PATH_MAX];
    const char *query = "";
    struct request r;
    memcpy(text, c->request, length);
    text[length] = '\0';
    printable(c->logged, text);
    c->request_length = length;
    c->arrived = now;
    c->note = NULL;
    c->cut = 0;
    c->sent = 0;
    c->cut_at = NEVER;
    int status = parse_request(text, &r);
    int head_only = status == 0 && strcmp(r.method, "HEAD") == 0;
    if (status == 0 && strcmp(r.method, "GET") != 0 && !head_only)
        status = 405;
    if (status == 0 && percent_decode(r.target, path, &query) != 0)
        status = 400;
    if (status == 0 && climbs_out(path))
        status = 403; /* /../ or %2e%2e: never outside /files/ */
    if (status == 0 && strncmp(path, "/files/", 7) != 0)
        status = 404;
    uint64_t size = 0;
    uint32_t crc = 0;
    int have_crc = 0;
    if (status == 0)
        status = find_file(s, c, path + 7, query, &size, &crc, &have_crc);
    if (status == 0)
        respond_file(s, c, &r, size, crc, have_crc);
    else
        respond_text(s, c, status, status == 400 || status == 505 || r.wants_close, head_only);
    c->phase = WAITING;
    c->wake = now + latency(s);
}

/* refuse_now: answer at once (no latency) and close: a request that could
 * not be read (too big, or not whole in time). */
static void refuse_now(struct server *s, struct connection *c, int status, double now)
{
    snprintf(c->logged, sizeof c->logged, "-");
    c->arrived = now;
    c->note = NULL;
    c->cut = 0;
    c->sent = 0;
    c->cut_at = NEVER;
    c->request_length = c->request_bytes;
    respond_text(s, c, status, 1, 0);
    c->phase = SENDING;
    c->wake = 0;
    c->send_start = now;
    c->deadline = now + (double)s->set.idle_timeout;
}

/* ---- moving bytes ---- */

/* produce: the next bytes of the response (head, then body) into s->out, at most room. */
static size_t produce(struct server *s, struct connection *c, size_t room, int *failed)
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

/* finish: the response is complete (or cut short on purpose): log it, then
 * serve the connection's next request, or close it. Returns 1 if closed. */
static int finish(struct server *s, size_t index, double now)
{
    struct connection *c = s->conns[index];
    log_response(s, c, now);
    c->served++;
    if (c->cut) { /* a fault: close at once, unread input and all (the client sees a reset) */
        conn_close(s, index);
        return 1;
    }
    if (!c->keep_alive) {
        /* Closing outright with input unread would make the kernel reset the
         * connection, and the client could lose the response before reading
         * it: shut our side, then drop what arrives until the client closes. */
        if (shutdown(c->fd, SHUT_WR) != 0) {
            conn_close(s, index);
            return 1;
        }
        c->phase = CLOSING;
        c->deadline = now + LINGER_SECONDS;
        return 0;
    }
    if (c->file_fd >= 0)
        close(c->file_fd);
    c->file_fd = -1;
    c->request_bytes -= c->request_length;
    memmove(c->request, c->request + c->request_length, c->request_bytes);
    c->phase = READING;
    c->deadline = now + (double)s->set.idle_timeout;
    size_t length = request_end(c->request, c->request_bytes);
    if (length) /* a pipelined request was already here */
        answer(s, c, length, now);
    return 0;
}

/* send_some: send what the socket takes and the rate allows. Returns 1 if the connection was closed. */
static int send_some(struct server *s, size_t index, double now)
{
    struct connection *c = s->conns[index];
    double rate = (double)s->set.rate_kib * 1024.0;
    for (;;) {
        uint64_t body_end = c->cut_at < c->body_length ? c->cut_at : c->body_length;
        uint64_t end = c->head_bytes + body_end;
        if (c->sent == end) {
            if (body_end < c->body_length) {
                c->note = "(fault: --drop-rate, closed mid-body)";
                c->cut = 1;
            }
            return finish(s, index, now);
        }
        size_t room = CHUNK;
        if (rate > 0) {
            double budget = rate * (now - c->send_start + RATE_TICK) - (double)c->sent;
            if (budget < 1.0) {
                c->wake = now + RATE_TICK;
                return 0;
            }
            if (budget < room)
                room = (size_t)budget;
        }
        if (room > end - c->sent)
            room = (size_t)(end - c->sent);
        int failed = 0;
        size_t n = produce(s, c, room, &failed);
        ssize_t sent = failed ? -1 : send(c->fd, s->out, n, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->wake = 0; /* wait for POLLOUT */
            return 0;
        }
        if (sent < 0) {
            c->note = failed ? "(the file changed while being sent)" : "(client gone)";
            log_response(s, c, now);
            conn_close(s, index);
            return 1;
        }
        c->sent += (uint64_t)sent;
        c->deadline = now + (double)s->set.idle_timeout;
    }
}

/* read_some: read what has arrived; answer once a request is whole. Returns 1 if closed. */
static int read_some(struct server *s, size_t index, double now)
{
    struct connection *c = s->conns[index];
    while (c->request_bytes < MAX_REQUEST) {
        ssize_t n = recv(c->fd, c->request + c->request_bytes, MAX_REQUEST - c->request_bytes, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0) { /* the client closed, or the connection broke */
            conn_close(s, index);
            return 1;
        }
        c->request_bytes += (size_t)n;
        size_t length = request_end(c->request, c->request_bytes);
        if (length) {
            answer(s, c, length, now);
            return 0;
        }
    }
    refuse_now(s, c, 431, now); /* MAX_REQUEST bytes and still no blank line */
    return 0;
}

/* drain: a closing connection: drop what the client sends; close at its end or the deadline. */
static void drain(struct server *s, size_t index, double now)
{
    struct connection *c = s->conns[index];
    while (c->revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = recv(c->fd, c->request, sizeof c->request, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(s, index);
            return;
        }
    }
    if (now >= c->deadline)
        conn_close(s, index);
}

/* serve: whatever one connection can do now. */
static void serve(struct server *s, size_t index, double now)
{
    struct connection *c = s->conns[index];
    int was_sending = c->phase == SENDING;
    if (c->phase == CLOSING) {
        drain(s, index, now);
        return;
    }
    if (c->phase == READING) {
        if (c->revents & (POLLIN | POLLHUP | POLLERR)) {
            if (read_some(s, index, now))
                return;
        } else if (now >= c->deadline) {
            if (c->request_bytes == 0) {
                conn_close(s, index); /* idle between requests: close quietly */
                return;
            }
            refuse_now(s, c, 408, now); /* part of a request, and then nothing */
        }
    }
    if (c->phase == WAITING && now >= c->wake) {
        c->phase = SENDING;
        c->send_start = now;
        c->wake = 0;
        c->deadline = now + (double)s->set.idle_timeout;
    }
    if (c->phase != SENDING)
        return;
    if ((c->revents & (POLLERR | POLLHUP)) && !(c->revents & POLLOUT)) {
        c->note = "(client gone)";
        log_response(s, c, now);
        conn_close(s, index);
    } else if (!was_sending || (c->revents & POLLOUT) || (c->wake > 0 && now >= c->wake)) {
        send_some(s, index, now);
    } else if (c->wake == 0 && now >= c->deadline) {
        c->note = "(client stopped reading)";
        log_response(s, c, now);
        conn_close(s, index);
    }
}

/* next_timer: the earliest moment some connection needs attention without
 * any event: a latency over, a rate tick, a deadline. HUGE_VAL if none. */
static double next_timer(const struct server *s)
{
    double earliest = HUGE_VAL;
    for (size_t i = 0; i < s->count; i++) {
        const struct connection *c = s->conns[i];
        double t = c->phase == WAITING || (c->phase == SENDING && c->wake > 0) ? c->wake : c->deadline;
        if (t < earliest)
            earliest = t;
    }
    return earliest;
}

/* ---- accepting ---- */

/* idle_index: a connection idle between requests (it has served one, and
 * nothing new has come), the first to go when the server is full: its
 * client can open another; s->count if there is none. */
static size_t idle_index(const struct server *s)
{
    size_t i = 0;
    while (i < s->count && !(s->conns[i]->served > 0 && s->conns[i]->phase == READING &&
                             s->conns[i]->request_bytes == 0 && !(s->conns[i]->revents & POLLIN)))
        i++;
    return i;
}

/* accept_all: take every connection waiting to be accepted, while there is
 * room or an idle connection to close for it. */
static void accept_all(struct server *s, double now)
{
    for (;;) {
        if (s->count == s->capacity) {
            size_t idle = idle_index(s);
            if (idle == s->count)
                return;
            conn_close(s, idle);
        }
        struct sockaddr_storage address;
        socklen_t length = sizeof address;
        int fd = accept(s->listener, (struct sockaddr *)&address, &length);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                report_error("accept failed: %s (pausing)", strerror(errno));
                s->accept_paused_until = now + ACCEPT_PAUSE;
            }
            return;
        }
        int one = 1;
        struct connection *c = malloc(sizeof *c);
        if (!c || fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
            report_error("cannot take a connection: %s", c ? strerror(errno) : "out of memory");
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->phase = READING;
        c->revents = 0;
        c->request_bytes = 0;
        c->served = 0;
        c->file_fd = -1;
        c->deadline = now + (double)s->set.idle_timeout;
        c->wake = 0;
        char host[INET6_ADDRSTRLEN], port[8]; /* numeric: an address, a port number */
        if (getnameinfo((struct sockaddr *)&address, length, host, sizeof host, port, sizeof port,
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            snprintf(c->peer, sizeof c->peer, "%s:%s", host, port);
        else
            snprintf(c->peer, sizeof c->peer, "?");
        s->conns[s->count++] = c;
    }
}

/* ---- the loop ---- */

/* poll_once: wait for the next event or timer, then serve every connection
 * that has something to do. OUTCOME_FAILED if poll() itself fails. */
static enum outcome poll_once(struct server *s)
{
    double now = clock_now(), timer = next_timer(s);
    int accepting = (s->count < s->capacity || idle_index(s) < s->count) && now >= s->accept_paused_until;
    if (!accepting && s->accept_paused_until > now && s->accept_paused_until < timer)
        timer = s->accept_paused_until;
    size_t n = 0;
    s->fds[n++] = (struct pollfd){.fd = s->wake_pipe[0], .events = POLLIN};
    s->fds[n++] = (struct pollfd){.fd = accepting ? s->listener : -1, .events = POLLIN};
    for (size_t i = 0; i < s->count; i++) {
        struct connection *c = s->conns[i];
        short events = c->phase == READING || c->phase == CLOSING ? POLLIN
                       : c->phase == SENDING && c->wake == 0 ? POLLOUT : 0;
        s->fd_conn[n] = i;
        s->fds[n++] = (struct pollfd){.fd = c->fd, .events = events};
        c->revents = 0;
    }
    int timeout = -1;
    if (timer < HUGE_VAL)
        timeout = timer <= now ? 0 : (int)ceil((timer - now) * 1000.0);
    if (poll(s->fds, (nfds_t)n, timeout) < 0) {
        if (errno == EINTR)
            return OUTCOME_OK;
        report_error("poll failed: %s", strerror(errno));
        return OUTCOME_FAILED;
    }
    for (size_t k = 2; k < n; k++)
        s->conns[s->fd_conn[k]]->revents = s->fds[k].revents;
    now = clock_now();
    if (s->fds[1].revents & POLLIN)
        accept_all(s, now);
    for (size_t i = s->count; i-- > 0;) /* backwards: a closed one's place is taken by one already served */
        serve(s, i, now);
    return OUTCOME_OK;
}

/* ---- starting and stopping ---- */

/* raise_descriptor_limit: room for max connections, as far as the hard limit allows; the connections that fit. */
static size_t raise_descriptor_limit(unsigned long long wanted)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return (size_t)wanted;
    rlim_t needed = (rlim_t)(wanted + FD_RESERVE);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
        limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= needed ? needed : limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0 && getrlimit(RLIMIT_NOFILE, &limit) != 0)
            return (size_t)wanted;
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed)
        return limit.rlim_cur > FD_RESERVE ? (size_t)(limit.rlim_cur - FD_RESERVE) : 1;
    return (size_t)wanted;
}

/* open_listener: a non-blocking socket listening on --bind:--port. */
static enum outcome open_listener(struct server *s, unsigned *port)
{
    char service[16];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV}, *found = NULL;
    snprintf(service, sizeof service, "%llu", s->set.port);
    int rc = getaddrinfo(s->set.bind, service, &hints, &found);
    if (rc != 0)
        return report_usage_error("--bind %s: not an IPv4 or IPv6 address (%s)", s->set.bind, gai_strerror(rc));
    int one = 1;
    s->listener = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
    enum outcome o = OUTCOME_OK;
    if (s->listener < 0) {
        report_error("socket failed: %s", strerror(errno));
        o = OUTCOME_FAILED;
    } else if (setsockopt(s->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
               bind(s->listener, found->ai_addr, found->ai_addrlen) != 0 ||
               listen(s->listener, LISTEN_BACKLOG) != 0 || fcntl(s->listener, F_SETFL, O_NONBLOCK) != 0) {
        report_error("cannot listen on %s port %llu: %s", s->set.bind, s->set.port, strerror(errno));
        o = OUTCOME_FAILED;
    }
    freeaddrinfo(found);
    struct sockaddr_storage bound;
    socklen_t length = sizeof bound;
    if (o == OUTCOME_OK && getsockname(s->listener, (struct sockaddr *)&bound, &length) != 0) {
        report_error("getsockname failed: %s", strerror(errno));
        o = OUTCOME_FAILED;
    }
    if (o == OUTCOME_OK)
        *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    return o;
}

/* install_signals: SIGTERM and SIGINT stop the loop (through the wake pipe); SIGPIPE is ignored. */
static enum outcome install_signals(struct server *s)
{
    if (pipe(s->wake_pipe) != 0) {
        report_error("pipe failed: %s", strerror(errno));
        return OUTCOME_FAILED;
    }
    for (int i = 0; i < 2; i++)
        if (fcntl(s->wake_pipe[i], F_SETFL, O_NONBLOCK) != 0 || fcntl(s->wake_pipe[i], F_SETFD, FD_CLOEXEC) != 0) {
            report_error("fcntl on the wake pipe failed: %s", strerror(errno));
            return OUTCOME_FAILED;
        }
    wake_fd = s->wake_pipe[1];
    struct sigaction stop = {.sa_handler = on_stop_signal}, ignore = {.sa_handler = SIG_IGN};
    sigemptyset(&stop.sa_mask);
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGTERM, &stop, NULL) != 0 || sigaction(SIGINT, &stop, NULL) != 0 ||
        sigaction(SIGPIPE, &ignore, NULL) != 0) {
        report_error("sigaction failed: %s", strerror(errno));
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

/* server_start: everything before the loop; the listening port in *port. */
static enum outcome server_start(struct server *s, unsigned *port)
{
    s->listener = -1;
    s->wake_pipe[0] = s->wake_pipe[1] = -1;
    s->random_state = s->set.seed;
    if (s->set.root) {
        struct stat st;
        if (!realpath(s->set.root, s->root))
            return report_usage_error("--root %s: %s", s->set.root, strerror(errno));
        if (stat(s->root, &st) != 0 || !S_ISDIR(st.st_mode))
            return report_usage_error("--root %s: not a directory", s->set.root);
        s->real_files = 1;
    }
    s->capacity = raise_descriptor_limit(s->set.max_connections);
    if (s->capacity < s->set.max_connections && !s->set.quiet)
        report_error("serving %zu connections at most, not %llu: the descriptor limit (ulimit -n) is too low",
                     s->capacity, s->set.max_connections);
    s->conns = calloc(s->capacity, sizeof *s->conns);
    s->fds = calloc(s->capacity + 2, sizeof *s->fds);
    s->fd_conn = calloc(s->capacity + 2, sizeof *s->fd_conn);
    if (!s->conns || !s->fds || !s->fd_conn) {
        report_error("out of memory for %zu connections", s->capacity);
        return OUTCOME_FAILED;
    }
    enum outcome o = install_signals(s);
    return o == OUTCOME_OK ? open_listener(s, port) : o;
}

/* server_stop: close every connection and descriptor, free everything. */
static void server_stop(struct server *s)
{
    while (s->count > 0)
        conn_close(s, s->count - 1);
    wake_fd = -1;
    if (s->listener >= 0)
        close(s->listener);
    for (int i = 0; i < 2; i++)
        if (s->wake_pipe[i] >= 0)
            close(s->wake_pipe[i]);
    free(s->conns);
    free(s->fds);
    free(s->fd_conn);
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    report_set_program(argv[0]);
    struct server *s = calloc(1, sizeof *s);
    if (!s) {
        report_error("out of memory");
        return outcome_exit_code(OUTCOME_FAILED);
    }
    enum outcome o = settings_parse(&s->set, argc, argv);

    /* ---- start: listen, and say where ---- */
    unsigned port = 0;
    if (o == OUTCOME_OK)
        o = server_start(s, &port);
    if (o == OUTCOME_OK) {
        printf("port=%u\n", port);
        if (fflush(stdout) != 0) {
            report_error("cannot write the port to stdout");
            o = OUTCOME_FAILED;
        }
    }
    if (o == OUTCOME_OK && !s->set.quiet) {
        char rate[32] = "unlimited";
        if (s->set.rate_kib)
            snprintf(rate, sizeof rate, "%llu KiB/s", s->set.rate_kib);
        fprintf(stderr, "fileserver: serving %s on http://%s:%u/files/ (latency %llu ms ± %llu, rate %s, "
                "fail-rate %g, drop-rate %g)\n", s->set.root ? s->root : "made-up files (NAME?size=BYTES)",
                s->set.bind, port, s->set.latency_ms, s->set.jitter_ms, rate, s->set.fail_rate, s->set.drop_rate);
    }

    /* ---- serve until SIGTERM ---- */
    while (o == OUTCOME_OK && !stopping)
        o = poll_once(s);
    if (o == OUTCOME_OK && !s->set.quiet)
        fprintf(stderr, "fileserver: stopping, %zu connection%s closed\n", s->count, s->count == 1 ? "" : "s");
    server_stop(s);
    free(s);
    return outcome_exit_code(o);
}
