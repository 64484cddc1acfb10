/* processes/factorial.c — exact factorials with fork(): numbers up a tree of pipes, a pool fed through pipes.
 *
 * Run:    bin/factorial-processes -n 10000000 -p 2
 *         bin/factorial-processes --mode many -n 20000 -p 2 --schedule dynamic
 * Models: serial/factorial.c is the baseline; here every worker is a fork()ed
 *         child with its own address space, so numbers must travel
 *         (diff -u serial/factorial.c processes/factorial.c):
 *         --mode big   worker w multiplies its range, reads the products of the
 *                      workers below it in the tree from their pipes and
 *                      multiplies them in, then writes its subtree's product up
 *                      its own pipe. The same tree as serial's loops, its rounds
 *                      run at once. Worker 0 is the parent itself, so n!, the
 *                      largest number, never goes through a pipe.
 *         --mode many  a pool of children, like Python's Pool.map: the parent
 *                      is the dealer, and sends each child chunks of task ids
 *                      down a pipe; each child sends back its residues up
 *                      another, which asks for the next chunk. The parent is
 *                      worker 0 and takes its own chunks too, answering the
 *                      children between two of its tasks (as MPI's rank 0 does).
 *         Moving numbers through pipes is inside the timed region (comm=).
 *         A child that dies closes its pipes, so whoever reads them sees the
 *         end and gives up rather than waiting forever.
 *         Siblings: threads/ (pthreads), openmp/ (pragmas), mpi/ (message passing).
 * Shared: common/factorial_kernel.c (the kernel every model calls, the dealer),
 *         common/factorial.c (ranges, the check), common/factorial_pipe.c (pipes),
 *         common/run.c (timing, result lines), common/child.c (reaping a child),
 *         common/cli.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "factorial.h"

#define MODEL "processes"

/* Room for "worker 123" in messages. */
#define NAME_SIZE 48

/* close_if_open: close a pipe end this process still holds, and forget it. */
static void close_if_open(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- --mode big: a tree of pipes ---- */

/* tree_parent: the worker that multiplies worker w's product into its own
 * (w without its lowest bit set): the partner below it in serial's loops. */
static unsigned tree_parent(unsigned w)
{
    return w & (w - 1);
}

/* keep_own_links: in worker w, close every pipe end but its own write end
 * and the read ends of its children in the tree, so that each pipe has one
 * writer and one reader, and a writer's death is its reader's end of file. */
static void keep_own_links(int (*links)[2], unsigned workers, unsigned w)
{
    for (unsigned c = 0; c < workers; c++) {
        if (c != w)
            close_if_open(&links[c][1]);
        if (c == 0 || tree_parent(c) != w)
            close_if_open(&links[c][0]);
    }
}

/* subtree: worker w's part of the tree: multiply its range, then take in the
 * products of the workers below it (w + 1, w + 2, w + 4, ... while w is a
 * multiple of twice the step) and multiply them in. */
static enum outcome subtree(struct factorial *f, unsigned w, int (*links)[2], double *comm)
{
    char name[NAME_SIZE];
    factorial_range(f, w);
    for (unsigned step = 1; step < f->workers && w % (2 * step) == 0; step *= 2)
        if (w + step < f->workers) {
            snprintf(name, sizeof name, "worker %u", w + step);
            if (factorial_receive(links[w + step][0], f->partial[w + step], comm, name) != OUTCOME_OK)
                return OUTCOME_FAILED;
            factorial_combine(f, w, w + step);
        }
    return OUTCOME_OK;
}

/* climb: child w's whole life: its subtree, then the subtree's product up
 * its own pipe. Returns the child's exit status. */
static int climb(struct factorial *f, unsigned w, int (*links)[2])
{
    char name[NAME_SIZE];
    keep_own_links(links, f->workers, w);
    if (subtree(f, w, links, &f->comm[w]) != OUTCOME_OK)
        return 1;
    snprintf(name, sizeof name, "worker %u", tree_parent(w));
    return factorial_send(links[w][1], f->partial[w], name) == OUTCOME_OK ? 0 : 1;
}

/* open_links: one pipe per worker but worker 0, the way its product goes up the tree. */
static enum outcome open_links(int (*links)[2], unsigned workers)
{
    for (unsigned w = 0; w < workers; w++)
        links[w][0] = links[w][1] = -1;
    for (unsigned w = 1; w < workers; w++)
        if (pipe(links[w]) < 0) {
            report_error("pipe for worker %u failed: %s", w, strerror(errno));
            return OUTCOME_FAILED;
        }
    return OUTCOME_OK;
}

/* one_factorial: n! as the product of the workers' ranges, combined up a
 * tree of pipes: one child per range but the first, which is this process's
 * own, so n! ends where it is needed and never travels. Forking, piping and
 * reaping are part of the time. */
static enum outcome one_factorial(void *work, struct phases *phases)
{
    struct factorial *f = work;
    pid_t *children = calloc(f->workers, sizeof *children);
    int (*links)[2] = calloc(f->workers, sizeof *links);
    if (!children || !links) {
        report_error("out of memory for %u process records", f->workers);
        free(children);
        free(links);
        return OUTCOME_FAILED;
    }
    unsigned started = 1; /* worker 0 is this process */
    double comm = 0;
    double start = clock_now();
    enum outcome o = open_links(links, f->workers);
    for (unsigned w = 1; w < f->workers && o == OUTCOME_OK; w++, started++) {
        pid_t pid = child_fork(w); /* fork(), the child bound to die with this process */
        if (pid < 0) {
            o = OUTCOME_FAILED;
            break;
        }
        if (pid == 0) /* the child: its subtree, then _exit (no stdio flush) */
            _exit(climb(f, w, links));
        children[w] = pid;
    }
    keep_own_links(links, f->workers, 0);
    if (o == OUTCOME_OK)
        o = subtree(f, 0, links, &comm);
    for (unsigned w = 0; w < f->workers; w++) /* a child still writing sees its reader gone */
        close_if_open(&links[w][0]);
    for (unsigned w = 1; w < started; w++)
        if (child_reap(children[w], w) != OUTCOME_OK)
            o = OUTCOME_FAILED;
    if (o == OUTCOME_OK)
        factorial_take_result(f);
    phases_from_spans(phases, start, f->span, started);
    for (unsigned w = 1; w < started; w++)
        if (f->comm[w] > comm)
            comm = f->comm[w];
    phases->comm = comm;
    free(children);
    free(links);
    return o;
}

/* ---- --mode many: a pool of children fed through pipes ---- */

/* What the parent keeps of one child of the pool. */
struct child {
    pid_t pid;
    int orders;            /* write end: chunks to compute (closed when the dealer has no more) */
    int results;           /* read end: the residues of each chunk, as a message */
    struct chunk in_hand[CHUNKS_AHEAD]; /* chunks sent and not yet answered, oldest at first */
    unsigned first, count;
};

/* serve: a child's whole life in the pool: read a chunk, compute its tasks,
 * send back their residues, until the parent closes the orders pipe.
 * Returns the child's exit status. */
static int serve(struct factorial *f, unsigned w, int orders, int results)
{
    uint64_t order[MESSAGE_HEADER];
    for (;;) {
        enum pipe_status status = pipe_read(orders, order, sizeof order, "the parent");
        if (status == PIPE_CLOSED)
            return 0;
        if (status != PIPE_FULL)
            return 1;
        struct chunk c = {order[0], order[1]};
        if (c.count > f->most_tasks) {
            report_error("the parent sent a chunk of %lu tasks, more than any chunk", c.count);
            return 1;
        }
        f->outbox[0] = c.first;
        f->outbox[1] = c.count;
        factorial_tasks(f, w, c, f->outbox + MESSAGE_HEADER);
        if (pipe_write(results, f->outbox, (MESSAGE_HEADER + c.count) * sizeof(uint64_t), "the parent") !=
            OUTCOME_OK)
            return 1;
    }
}

/* start_child: the pipes of child w, and the child; in the child, close the
 * parent's ends of every pipe, its own siblings' too, so that each pipe has
 * one reader and one writer, then serve. */
static enum outcome start_child(struct factorial *f, struct child *pool, unsigned w)
{
    int orders[2], results[2];
    if (pipe(orders) < 0) {
        report_error("pipe for worker %u's orders failed: %s", w, strerror(errno));
        return OUTCOME_FAILED;
    }
    if (pipe(results) < 0) {
        report_error("pipe for worker %u's results failed: %s", w, strerror(errno));
        close(orders[0]);
        close(orders[1]);
        return OUTCOME_FAILED;
    }
    pid_t pid = child_fork(w); /* fork(), the child bound to die with this process */
    if (pid < 0) {
        close(orders[0]);
        close(orders[1]);
        close(results[0]);
        close(results[1]);
        return OUTCOME_FAILED;
    }
    if (pid == 0) { /* the child: serve, then _exit (no stdio flush) */
        for (unsigned s = 1; s < w; s++) {
            close_if_open(&pool[s].orders);
            close_if_open(&pool[s].results);
        }
        close(orders[1]);
        close(results[0]);
        _exit(serve(f, w, orders[0], results[1]));
    }
    close(orders[0]);
    close(results[1]);
    pool[w] = (struct child){.pid = pid, .orders = orders[1], .results = results[0]};
    return OUTCOME_OK;
}

/* hand_out: the dealer's next chunk for child w down its orders pipe, or,
 * when there is none, the end of its orders. */
static enum outcome hand_out(struct factorial *f, struct child *child, unsigned w, double *comm)
{
    struct chunk c;
    if (child->orders < 0)
        return OUTCOME_OK;
    if (!factorial_deal(f, w, &c)) {
        close_if_open(&child->orders);
        return OUTCOME_OK;
    }
    char name[NAME_SIZE];
    snprintf(name, sizeof name, "worker %u", w);
    uint64_t order[MESSAGE_HEADER] = {c.first, c.count};
    double sent = clock_now();
    enum outcome o = pipe_write(child->orders, order, sizeof order, name);
    *comm += clock_now() - sent;
    child->in_hand[(child->first + child->count++) % CHUNKS_AHEAD] = c;
    return o;
}

/* take_in: the results of child w's oldest chunk, stored, and the child's
 * next chunk handed out; or, at the end of its pipe, the child's departure.
 * A child answers its chunks in order, so the length of the message is known
 * and it is read in one piece. */
static enum outcome take_in(struct factorial *f, struct child *child, unsigned w, double *comm)
{
    char name[NAME_SIZE];
    snprintf(name, sizeof name, "worker %u", w);
    struct chunk c = child->count > 0 ? child->in_hand[child->first] : (struct chunk){0, 0};
    uint64_t *message = f->outbox;
    double start = clock_now();
    enum pipe_status status = pipe_read(child->results, message, (MESSAGE_HEADER + c.count) * sizeof(uint64_t), name);
    if (status == PIPE_CLOSED && child->count == 0) {
        close_if_open(&child->results); /* done: it left after its last chunk */
        return OUTCOME_OK;
    }
    if (status == PIPE_CLOSED)
        report_error("worker %u left with %u chunks unanswered", w, child->count);
    if (status != PIPE_FULL)
        return OUTCOME_FAILED;
    if (child->count == 0 || message[0] != c.first || message[1] != c.count) {
        report_error("%s sent results for tasks it was not given (first %llu, count %llu)", name,
                     (unsigned long long)message[0], (unsigned long long)message[1]);
        return OUTCOME_FAILED;
    }
    *comm += clock_now() - start;
    child->first = (child->first + 1) % CHUNKS_AHEAD;
    child->count--;
    if (factorial_store(f, message, MESSAGE_HEADER + c.count, name) != OUTCOME_OK)
        return OUTCOME_FAILED;
    return hand_out(f, child, w, comm);
}

/* take_ready: take in the results of every child that has sent some, waiting
 * for at least one when wait is set; *open says how many children are left. */
static enum outcome take_ready(struct factorial *f, struct child *pool, struct pollfd *ready, unsigned started,
                               int wait, unsigned *open, double *comm)
{
    *open = 0;
    for (unsigned w = 1; w < started; w++) {
        ready[w] = (struct pollfd){.fd = pool[w].results, .events = POLLIN};
        *open += pool[w].results >= 0;
    }
    if (*open == 0)
        return OUTCOME_OK;
    while (poll(ready + 1, started - 1, wait ? -1 : 0) < 0)
        if (errno != EINTR) {
            report_error("poll on the results pipes failed: %s", strerror(errno));
            return OUTCOME_FAILED;
        }
    for (unsigned w = 1; w < started; w++)
        if (ready[w].revents != 0 && take_in(f, &pool[w], w, comm) != OUTCOME_OK)
            return OUTCOME_FAILED;
    return OUTCOME_OK;
}

/* many_factorials: the tasks 1..n, dealt out by this process to itself and
 * to a pool of f->workers - 1 children through pipes: its own chunks task by
 * task, taking in the children's results between two tasks (never sleeping,
 * so a child's message wakes nobody), then only taking in until every child
 * has left. Forking, piping and reaping are part of the time. */
static enum outcome many_factorials(void *work, struct phases *phases)
{
    struct factorial *f = work;
    struct child *pool = calloc(f->workers, sizeof *pool);
    struct pollfd *ready = calloc(f->workers, sizeof *ready);
    if (!pool || !ready) {
        report_error("out of memory for %u process records", f->workers);
        free(pool);
        free(ready);
        return OUTCOME_FAILED;
    }
    for (unsigned w = 0; w < f->workers; w++)
        pool[w] = (struct child){.orders = -1, .results = -1};
    enum outcome o = OUTCOME_OK;
    unsigned started = 1, open = 0; /* worker 0 is this process */
    double comm = 0;
    double start = clock_now();
    for (unsigned w = 1; w < f->workers && o == OUTCOME_OK; w++, started++)
        if ((o = start_child(f, pool, w)) != OUTCOME_OK)
            break;
    for (unsigned ahead = 0; ahead < CHUNKS_AHEAD && o == OUTCOME_OK; ahead++)
        for (unsigned w = 1; w < started && o == OUTCOME_OK; w++)
            o = hand_out(f, &pool[w], w, &comm);
    struct chunk c;
    while (o == OUTCOME_OK && factorial_deal(f, 0, &c))
        for (unsigned long k = c.first; k < c.first + c.count && o == OUTCOME_OK; k++) {
            factorial_tasks(f, 0, (struct chunk){k, 1}, f->residue + k);
            o = take_ready(f, pool, ready, started, 0, &open, &comm);
        }
    do
        o = o == OUTCOME_OK ? take_ready(f, pool, ready, started, 1, &open, &comm) : o;
    while (o == OUTCOME_OK && open > 0);
    for (unsigned w = 1; w < started; w++) { /* a child still waiting on a pipe sees its end */
        close_if_open(&pool[w].orders);
        close_if_open(&pool[w].results);
    }
    for (unsigned w = 1; w < started; w++)
        if (child_reap(pool[w].pid, w) != OUTCOME_OK)
            o = OUTCOME_FAILED;
    factorial_checksum(f);
    phases_from_spans(phases, start, f->span, started);
    phases->comm = comm;
    free(pool);
    free(ready);
    return o;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = factorial_options(&opt, argc, argv, MODEL, MANY_WORKERS);
    if (o != OUTCOME_OK)
        return outcome_exit_code(o);

    /* ---- prepare: ranges of equal cost, results and records, outside the timed region ---- */
    /* A write to the pipe of a child that died must fail with EPIPE, which
     * is reported, rather than kill the writer with SIGPIPE. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        report_error("signal(SIGPIPE, SIG_IGN) failed: %s", strerror(errno));
        return outcome_exit_code(OUTCOME_FAILED);
    }
    struct factorial f;
    if (factorial_prepare(&f, &opt, MEMORY_SHARED) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    o = runs_repeat(&opt, &factorial_task, &f, f.mode == MODE_BIG ? one_factorial : many_factorials);
    factorial_release(&f);
    return outcome_exit_code(o);
}
