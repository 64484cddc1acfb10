/* common/pipe.c — whole messages through pipes, and the pools of the processes/ programs (pipe.h). */
#include "pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "fdio.h"

/* What a pool's pipes ask for: 1 MiB, Linux's default limit for a user (pipe-max-size). */
#define PIPE_ROOM (1 << 20)

enum outcome pipe_ignore_signal(int sig, const char *name)
{
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigemptyset(&ignore.sa_mask);
    if (sigaction(sig, &ignore, NULL) != 0) {
        report_error("sigaction(%s) failed: %s", name, strerror(errno));
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

enum outcome pipe_ignore_sigpipe(void)
{
    return pipe_ignore_signal(SIGPIPE, "SIGPIPE");
}

enum outcome pipe_write(int fd, const void *buf, size_t bytes, const char *who)
{
    if (fdio_write_all(fd, buf, bytes) == 0)
        return OUTCOME_OK;
    report_error("write to %s failed: %s", who, strerror(errno));
    return OUTCOME_FAILED;
}

enum pipe_status pipe_read(int fd, void *buf, size_t bytes, const char *who)
{
    ssize_t got = fdio_read_full(fd, buf, bytes);
    if (got < 0) {
        report_error("read from %s failed: %s", who, strerror(errno));
        return PIPE_BROKEN;
    }
    if (got == 0 && bytes > 0)
        return PIPE_CLOSED;
    if ((size_t)got < bytes) {
        report_error("%s closed its pipe in the middle of a message (%zd of %zu bytes came)", who, got,
                     bytes);
        return PIPE_BROKEN;
    }
    return PIPE_FULL;
}

void pipe_close(int *fd)
{
    if (*fd >= 0)
        close(*fd); /* a pipe end: nothing written is lost by closing it */
    *fd = -1;
}

/* ---- a pool ---- */

void pipe_pool_clear(struct pipe_child *pool, unsigned count)
{
    for (unsigned w = 0; w < count; w++)
        pool[w] = (struct pipe_child){.pid = 0, .orders = -1, .results = -1};
}

enum outcome pipe_pool_start(struct pipe_child *pool, unsigned w, pipe_serve serve, void *work)
{
    int orders[2], results[2];
    if (pipe(orders) < 0) {
        report_error("pipe for worker %u's orders failed: %s", w, strerror(errno));
        return OUTCOME_FAILED;
    }
    if (pipe(results) < 0) {
        report_error("pipe for worker %u's results failed: %s", w, strerror(errno));
        pipe_close(&orders[0]);
        pipe_close(&orders[1]);
        return OUTCOME_FAILED;
    }
    pid_t pid = child_fork(w);
    if (pid == 0) { /* the child: one reader and one writer per pipe, then serve; _exit (no stdio flush) */
        pipe_pool_close(pool, w);
        pipe_close(&orders[1]);
        pipe_close(&results[0]);
        _exit(serve(work, w, orders[0], results[1]));
    }
    pipe_close(&orders[0]);
    pipe_close(&results[1]);
    if (pid < 0) {
        pipe_close(&orders[1]);
        pipe_close(&results[0]);
        return OUTCOME_FAILED;
    }
    pool[w] = (struct pipe_child){.pid = pid, .orders = orders[1], .results = results[0]};
    return OUTCOME_OK;
}

/* widen: ask for a pipe of PIPE_ROOM bytes, through either of its ends. */
static void widen(int fd)
{
#ifdef F_SETPIPE_SZ
    (void)fcntl(fd, F_SETPIPE_SZ, PIPE_ROOM); /* advice: refused above /proc/sys/fs/pipe-max-size or the
                                                 user's pipe allowance, the pipe works as it is */
#else
    (void)fd;
#endif
}

void pipe_pool_widen(const struct pipe_child *child)
{
    if (child->orders >= 0)
        widen(child->orders);
    if (child->results >= 0)
        widen(child->results);
}

enum outcome pipe_pool_poll(const struct pipe_child *pool, unsigned count, struct pollfd *ready, int wait,
                            unsigned *open)
{
    *open = 0;
    for (unsigned w = 0; w < count; w++) { /* poll skips the negative descriptors of closed pipes */
        ready[w] = (struct pollfd){.fd = pool[w].results, .events = POLLIN};
        *open += pool[w].results >= 0;
    }
    if (*open == 0)
        return OUTCOME_OK;
    while (poll(ready, count, wait ? -1 : 0) < 0)
        if (errno != EINTR) {
            report_error("poll on the results pipes failed: %s", strerror(errno));
            return OUTCOME_FAILED;
        }
    return OUTCOME_OK;
}

void pipe_pool_close(struct pipe_child *pool, unsigned count)
{
    for (unsigned w = 0; w < count; w++) {
        pipe_close(&pool[w].orders);
        pipe_close(&pool[w].results);
    }
}
