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
 * Limits: requests of at most HTTP_MAX_REQUEST bytes (else 431); a request must
 *         arrive whole within --idle-timeout of the connection falling idle,
 *         and a client must keep reading (else the connection is closed);
 *         --max-connections at once (the descriptor limit is raised to fit);
 *         anything malformed gets 400 and only that connection is closed.
 *         SIGTERM (or SIGINT) closes everything and exits 0.
 * Files:  this one is main and the flags; fileserver_loop.c the sockets and
 *         the poll() loop; fileserver_response.c what each request is
 *         answered with; http.c the request parser (io_bound/fileserver.h).
 * Plain POSIX sockets and the C library only, so it builds on any login node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "content.h"
#include "fdio.h"
#include "fileserver.h"
#include "report.h"

/* ---- settings: the command line ---- */

#define DEFAULT_PORT 8080
#define DEFAULT_BIND "127.0.0.1"
#define DEFAULT_SEED 42
#define DEFAULT_RETRY_AFTER 1      /* seconds, in the 503s of --fail-rate */
#define DEFAULT_IDLE_TIMEOUT 10    /* seconds */
#define DEFAULT_MAX_CONNECTIONS 4096
#define MAX_PORT 65535
#define MAX_CONNECTIONS 65536
#define MAX_MILLISECONDS 600000    /* --latency and --jitter: ten minutes is plenty */
#define MAX_RATE_KIB (1ULL << 30)  /* --rate: a TiB/s is no limit at all */
#define MAX_SECONDS 86400
/* Characters of a flag and its value, padded, in a line of --help. */
#define HELP_WIDTH 22

/* SETTING(name): the field of struct settings a flag sets. */
#define SETTING(name) FLAG_FIELD(struct settings, name)

/* The server's flags: common/cli.c reads them into struct settings. */
static const struct flag server_flags[] = {
    {"--port", "N", FLAG_COUNT, SETTING(port), 0, 0, MAX_PORT, NULL,
     "TCP port to listen on (default 8080); 0 picks a free one"},
    {"--bind", "ADDR", FLAG_TEXT, SETTING(bind), 0, 0, 0, NULL,
     "address to listen on (default 127.0.0.1: this machine only)"},
    {"--root", "DIR", FLAG_TEXT, SETTING(root), 0, 0, 0, NULL,
     "serve DIR's files as /files/PATH instead of made-up ones; nothing outside DIR"},
    {"--latency", "MS", FLAG_COUNT, SETTING(latency_ms), 0, 0, MAX_MILLISECONDS, NULL,
     "wait this long between a request and its response's first byte (default 0)"},
    {"--jitter", "MS", FLAG_COUNT, SETTING(jitter_ms), 0, 0, MAX_MILLISECONDS, NULL,
     "vary each latency by up to this much either way, uniformly (default 0)"},
    {"--rate", "KIB_PER_S", FLAG_COUNT, SETTING(rate_kib), 0, 0, MAX_RATE_KIB, NULL,
     "send at most this many KiB/s on each connection (default 0: as fast as it goes)"},
    {"--fail-rate", "F", FLAG_FRACTION, SETTING(fail_rate), 0, 0, 0, NULL,
     "answer this fraction of file requests 503 Service Unavailable with Retry-After"},
    {"--drop-rate", "F", FLAG_FRACTION, SETTING(drop_rate), 0, 0, 0, NULL,
     "close the connection in the middle of the body for this fraction of them"},
    {"--retry-after", "S", FLAG_COUNT, SETTING(retry_after), 0, 0, MAX_SECONDS, NULL,
     "the 503s' Retry-After, in seconds (default 1)"},
    {"--seed", "S", FLAG_COUNT, SETTING(seed), 0, 0, ~0ULL, NULL, "seed of the faults and the jitter (default 42)"},
    {"--idle-timeout", "S", FLAG_COUNT, SETTING(idle_timeout), 0, 1, MAX_SECONDS, NULL,
     "close a connection whose request is not whole after this many seconds idle (default 10)"},
    {"--max-connections", "N", FLAG_COUNT, SETTING(max_connections), 0, 1, MAX_CONNECTIONS, NULL,
     "connections served at once; more wait to be accepted (default 4096)"},
    {"--quiet", NULL, FLAG_SWITCH, SETTING(quiet), 0, 0, 0, NULL, "no log line per request on stderr"},
    {"--help", NULL, FLAG_HELP, 0, 0, 0, 0, 0, NULL, "print this help and exit"},
    {NULL, NULL, FLAG_SWITCH, 0, 0, 0, 0, 0, NULL, NULL},
};

/* print_help: the usage text, from the table the parser reads. */
static void print_help(void)
{
    printf("usage: %s [flags]\nA local HTTP file server with the latency, bandwidth and faults of real networks.\n\n"
           "  GET or HEAD /files/NAME?size=BYTES   a made-up file: BYTES bytes that are a pure function of NAME\n"
           "  GET or HEAD /files/PATH              with --root DIR: the file DIR/PATH\n"
           "  Range requests get 206 (or 416); file responses carry " CONTENT_CHECKSUM_HEADER " (up to 256 MiB).\n\n",
           report_program());
    cli_print_flags(server_flags, HELP_WIDTH);
    printf("\nThe first line on stdout is port=NNNN. Exit status: 0 after SIGTERM or SIGINT,\n"
           "1 if it cannot listen, 2 for a bad command line.\n");
}

/* settings_parse: the command line into s; OUTCOME_OK, OUTCOME_HELP (help printed) or OUTCOME_USAGE. */
static enum outcome settings_parse(struct settings *s, int argc, char **argv)
{
    *s = (struct settings){.port = DEFAULT_PORT, .bind = DEFAULT_BIND, .seed = DEFAULT_SEED,
                           .retry_after = DEFAULT_RETRY_AFTER, .idle_timeout = DEFAULT_IDLE_TIMEOUT,
                           .max_connections = DEFAULT_MAX_CONNECTIONS};
    const struct flag *stop = NULL;
    enum outcome o = cli_parse(server_flags, s, argc, argv, &stop);
    if (o == OUTCOME_HELP) {
        print_help();
        if (fflush(stdout) != 0 || ferror(stdout)) { /* a full disk, a closed pipe or stdout, as every program's */
            report_error("cannot write the help to stdout: %s", strerror(errno));
            return OUTCOME_FAILED;
        }
    }
    return o;
}

/* say_serving: the line on stderr that says what is served where, and how. */
static void say_serving(const struct server *s, unsigned port)
{
    char rate[32] = "unlimited";
    if (s->set.rate_kib)
        snprintf(rate, sizeof rate, "%llu KiB/s", s->set.rate_kib);
    fprintf(stderr, "fileserver: serving %s on http://%s:%u/files/ (latency %llu ms ± %llu, rate %s, "
            "fail-rate %g, drop-rate %g)\n", s->set.root ? s->root : "made-up files (NAME?size=BYTES)",
            s->set.bind, port, s->set.latency_ms, s->set.jitter_ms, rate, s->set.fail_rate, s->set.drop_rate);
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    report_set_program(argv[0]);
    if (fdio_keep_standard() != 0) { /* started with >&- or 2>&-: no socket may take descriptor 1 or 2 */
        report_error("cannot open /dev/null in place of a closed stdin, stdout or stderr: %s", strerror(errno));
        return outcome_exit_code(OUTCOME_FAILED);
    }
    struct server *s = calloc(1, sizeof *s);
    if (!s) {
        report_error("out of memory");
        return outcome_exit_code(OUTCOME_FAILED);
    }
    s->listener = s->wake_pipe[0] = s->wake_pipe[1] = -1; /* nothing open yet */
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
    if (o == OUTCOME_OK && !s->set.quiet)
        say_serving(s, port);

    /* ---- serve until SIGTERM ---- */
    while (o == OUTCOME_OK && !server_stopping())
        o = server_poll(s);
    if (o == OUTCOME_OK && !s->set.quiet)
        fprintf(stderr, "fileserver: stopping, %zu connection%s closed\n", s->count, s->count == 1 ? "" : "s");
    server_stop(s);
    free(s);
    return outcome_exit_code(o);
}
