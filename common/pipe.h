/* common/pipe.h — pipes between a parent and its fork()ed workers: whole messages, one writer and one reader each.
 *
 * A pipe moves bytes, not messages: a read may return part of what was
 * written. pipe_read and pipe_write move whole messages (common/fdio.c does
 * the looping) and tell an orderly end (the writer closed its end between
 * messages) from a worker that died in the middle of one. Every pipe here
 * has exactly one writer and one reader, every other process having closed
 * its ends, so a writer's death is its reader's end of file and a reader's
 * death its writer's EPIPE: nobody waits forever on a worker that is gone.
 * The processes/ programs use them as a pool: each child with a pipe each
 * way, orders down, results up (like Python's Pool).
 */
#ifndef PIPE_H
#define PIPE_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

#include "report.h"

/* How a read of a whole message ended. */
enum pipe_status {
    PIPE_FULL,   /* every byte arrived */
    PIPE_CLOSED, /* the writer closed its end before the first byte: no more messages */
    PIPE_BROKEN, /* an error, or the writer left in the middle of a message (said on stderr) */
};

/* pipe_ignore_sigpipe: make a write to a pipe (or socket) whose reader is gone
 * fail with EPIPE, which is reported, instead of killing the writer with
 * SIGPIPE. Once, in main, before any worker exists. */
enum outcome pipe_ignore_sigpipe(void);

/* pipe_ignore_signal: ignore signal sig (named name in the message if that
 * fails), as pipe_ignore_sigpipe does SIGPIPE: e.g. SIGXFSZ, so that a write
 * past `ulimit -f` fails with EFBIG, which is reported. */
enum outcome pipe_ignore_signal(int sig, const char *name);

/* pipe_write: all bytes to fd, through short writes and signals; who names
 * the reader in a message if it fails. */
enum outcome pipe_write(int fd, const void *buf, size_t bytes, const char *who);

/* pipe_read: exactly bytes from fd, through short reads and signals; who names the writer. */
enum pipe_status pipe_read(int fd, void *buf, size_t bytes, const char *who);

/* pipe_close: close a pipe end this process still holds, and forget it (-1). */
void pipe_close(int *fd);

/* ---- a pool: children with a pipe each way ---- */

/* What the parent keeps of one child of a pool. */
struct pipe_child {
    pid_t pid;
    int orders;  /* write end: what the child is to do (closed when there is nothing more) */
    int results; /* read end: what the child sends back */
};

/* The body of a pool's child: serve worker w's orders from the orders pipe,
 * send results up the results pipe, until the orders end; its exit status. */
typedef int (*pipe_serve)(void *work, unsigned w, int orders, int results);

/* pipe_pool_clear: count records of no child and no pipes (pid 0, ends -1). */
void pipe_pool_clear(struct pipe_child *pool, unsigned count);

/* pipe_pool_start: child w of the pool (child_fork) with its two pipes, into
 * pool[w]. The child closes the parent's ends of pool[0 .. w - 1], then
 * _exits with serve(work, w, ...)'s status. */
enum outcome pipe_pool_start(struct pipe_child *pool, unsigned w, pipe_serve serve, void *work);

/* pipe_pool_widen: ask for room for 1 MiB in both of a child's pipes instead
 * of the kernel's 64 KiB, so that numbers of megabytes cross in fewer turns
 * of writer and reader. Advice: Linux refuses it beyond a user's allowance
 * (/proc/sys/fs/pipe-user-pages-soft, 64 MiB by default, shared by all the
 * user's pipes), so only a pool that moves large messages asks. */
void pipe_pool_widen(const struct pipe_child *child);

/* pipe_pool_poll: which of pool[0 .. count - 1] have results (or their end)
 * to read, in ready[]'s revents, waiting for one when wait is set; *open
 * counts the results pipes still open (none: nothing to wait for). */
enum outcome pipe_pool_poll(const struct pipe_child *pool, unsigned count, struct pollfd *ready, int wait,
                            unsigned *open);

/* pipe_pool_close: close every pipe end of the pool: a child still waiting for orders sees their end. */
void pipe_pool_close(struct pipe_child *pool, unsigned count);

#endif
