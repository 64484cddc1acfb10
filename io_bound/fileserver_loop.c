/* io_bound/fileserver_loop.c — bin/fileserver's sockets and its one poll() loop over every connection.
 *
 * Each connection goes READING (its request arrives, within --idle-timeout)
 * → WAITING (its latency, a timer, not a sleep) → SENDING (as the socket and
 * --rate allow) → READING again (keep-alive) or CLOSING (our side shut,
 * what the client still sends dropped until it closes). poll() sleeps until
 * some socket can move or the earliest timer is due; then every connection
 * with something to do does it without ever blocking: that is what lets one
 * thread serve thousands of connections at once. What a request is answered
 * with is fileserver_response.c's business; this file only moves bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fileserver.h"

#define RATE_TICK 0.01            /* a rate-limited connection sends every 10 ms */
#define FD_RESERVE 32             /* descriptors kept for the listener, open files, stdio */
#define LISTEN_BACKLOG 4096       /* connections the kernel queues before we accept them */
#define ACCEPT_PAUSE 0.05         /* seconds to stop accepting when out of descriptors */
#define LINGER_SECONDS 2.0        /* how long a closing connection waits for the client to finish */

/* ---- signals ---- */

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

int server_stopping(void)
{
    return stopping;
}

/* ---- connections: one request after another ---- */

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
    size_t length;
    if (http_frame(c->request, c->request_bytes, &length) == HTTP_COMPLETE) /* a pipelined request was already here */
        response_answer(s, c, length, now);
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
        size_t n = response_produce(s, c, room, &failed);
        if (failed) {
            /* Decided before errno is looked at: a short pread sets none, and a
             * stale EAGAIN would park the connection forever instead. */
            c->note = "(the file changed while being sent)";
            log_response(s, c, now);
            conn_close(s, index);
            return 1;
        }
        ssize_t sent = send(c->fd, s->out, n, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->wake = 0; /* wait for POLLOUT */
            return 0;
        }
        if (sent < 0) {
            c->note = "(client gone)";
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
    for (;;) {
        ssize_t n = recv(c->fd, c->request + c->request_bytes, sizeof c->request - c->request_bytes, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0) { /* the client closed, or the connection broke */
            conn_close(s, index);
            return 1;
        }
        c->request_bytes += (size_t)n;
        size_t length;
        enum http_frame frame = http_frame(c->request, c->request_bytes, &length);
        if (frame == HTTP_COMPLETE) {
            response_answer(s, c, length, now);
            return 0;
        }
        if (frame == HTTP_TOO_LARGE) {
            response_refuse(s, c, HTTP_HEADERS_TOO_LARGE, now); /* HTTP_MAX_REQUEST bytes and no blank line */
            return 0;
        }
    }
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
            response_refuse(s, c, HTTP_REQUEST_TIMEOUT, now); /* part of a request, and then nothing */
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

enum outcome server_poll(struct server *s)
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

enum outcome server_start(struct server *s, unsigned *port)
{
    s->listener = -1;
    s->wake_pipe[0] = s->wake_pipe[1] = -1;
    s->random_state = s->set.seed;
    if (s->set.root) {
        enum outcome o = response_use_root(s);
        if (o != OUTCOME_OK)
            return o;
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

void server_stop(struct server *s)
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

