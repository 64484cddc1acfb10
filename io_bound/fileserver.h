/* io_bound/fileserver.h — bin/fileserver's state, shared by the files it is made of.
 *
 *   io_bound/fileserver.c           main: the flags (common/cli.c's table), start, serve until SIGTERM, stop
 *   io_bound/fileserver_loop.c      sockets and the poll() loop: accept, read requests, send, timers, signals
 *   io_bound/fileserver_response.c  what a request is answered with: made-up or --root files, ranges,
 *                                   checksums, faults, the bytes of each response
 *   io_bound/http.c                 the HTTP request parser: bytes in, fields or a status out, no I/O
 */
#ifndef FILESERVER_H
#define FILESERVER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "report.h"

#define HEAD_BYTES 512            /* a response's status line and headers */
#define CHUNK (64u << 10)         /* body bytes produced and sent at a time */
#define MAX_LOGGED 200            /* characters of a request line in the log */
#define CHECKSUM_SLOTS 4096       /* checksums remembered (computing one reads the whole file) */
#define NEVER UINT64_MAX

/* What the command line sets (fileserver.c's flag table says which flag sets what). */
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
};

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
    char request[HTTP_MAX_REQUEST];
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

/* ---- fileserver_loop.c ---- */

/* server_start: everything before the loop (s->set filled in); the listening port in *port. */
enum outcome server_start(struct server *s, unsigned *port);

/* server_poll: wait for the next event or timer, then serve every connection
 * that has something to do. OUTCOME_FAILED if poll() itself fails. */
enum outcome server_poll(struct server *s);

/* server_stopping: whether SIGTERM or SIGINT asked the loop to stop. */
int server_stopping(void);

/* server_stop: close every connection and descriptor, free everything. */
void server_stop(struct server *s);

/* ---- fileserver_response.c ---- */

/* response_use_root: resolve --root (a usage error if it is no directory). */
enum outcome response_use_root(struct server *s);

/* response_answer: the request at the start of c->request (length bytes) is
 * whole: decide the response, and start waiting out the latency before sending it. */
void response_answer(struct server *s, struct connection *c, size_t length, double now);

/* response_refuse: answer at once (no latency) and close: a request that
 * could not be read (too big, or not whole in time). */
void response_refuse(struct server *s, struct connection *c, int status, double now);

/* response_produce: the next bytes of c's response (head, then body) into
 * s->out, at most room; 0 and *failed set when the file behind it shrank. */
size_t response_produce(struct server *s, struct connection *c, size_t room, int *failed);

#endif
