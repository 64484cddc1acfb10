/* processes/factorial.c — exact factorials with fork(): a child per worker and stage, products up pipes; a pool.
 *
 * The idea: every worker is a fork()ed child with its own address space, so
 * numbers must travel, through pipes (common/pipe.c). --mode big: for each
 * stage of independent multiplications one child per worker that has jobs;
 * it starts with a copy of every number its jobs read (fork copies the
 * parent's memory, lazily), and writes their products up its own pipe;
 * worker 0 is the parent itself, which puts the parts together between stages,
 * so n!, the largest number, never travels. --mode many: a pool of children,
 * like Python's Pool.map: the parent is the dealer, sends each child chunks
 * of task numbers down one pipe and reads their residues from another (which
 * asks for the next chunk), and takes its own chunks too, answering the
 * children between two of its tasks. Pipes are inside the timed region
 * (comm=); a child that dies closes its pipes, so nobody waits for it forever.
 *
 * Run:    bin/factorial-processes -n 10000000 -p 2
 *         bin/factorial-processes --mode many -n 20000 -p 2 --schedule dynamic
 * Models: common/factorial.h lists every model of this workload, and the code they share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "child.h"
#include "factorial.h"
#include "factorial_big.h"
#include "memory.h"

#define MODEL "processes"

/* Room for "worker 123" in messages. */
#define NAME_SIZE 48

/* ---- --mode big: a child per worker and stage, its products up a pipe ---- */

/* the_parent: who reads worker w's pipe in a stage: the parent, always. */
static unsigned the_parent(unsigned w)
{
    (void)w;
    return 0;
}

/* has_jobs: whether worker w has any job in the stage. */
static int has_jobs(const struct big_stage *stage, unsigned w)
{
    for (unsigned j = 0; j < stage->count; j++)
        if (stage->job[j].worker == w)
            return 1;
    return 0;
}

/* stage_child: child w's whole life in one stage: its jobs (it holds every
 * number they read: a fork()ed child starts with a copy of its parent's
 * memory), then their products up its pipe, in the stage's order. Returns
 * the child's exit status. */
static int stage_child(struct factorial *f, const struct big_stage *stage, unsigned w, int (*links)[2])
{
    pipe_links_keep(links, f->workers, w, the_parent); /* only its own pipe's write end */
    factorial_run_jobs(f, stage, w);
    for (unsigned j = 0; j < stage->count; j++)
        if (stage->job[j].worker == w &&
            factorial_send(links[w][1], f->number[stage->job[j].out], "the parent") != OUTCOME_OK)
            return 1;
    return 0;
}

/* run_stage: a stage's jobs: one child per worker that has jobs but the
 * first, whose jobs are this process's own; then the children's products
 * read from their pipes, in the stage's order. Forking, piping and reaping
 * are part of the time. */
static enum outcome run_stage(struct factorial *f, const struct big_stage *stage, struct phases *phases)
{
    pid_t *children = calloc(f->workers, sizeof *children);
    int (*links)[2] = calloc(f->workers, sizeof *links);
    if (!children || !links) {
        report_error("out of memory for %u process records", f->workers);
        free(children);
        free(links);
        return OUTCOME_FAILED;
    }
    char name[NAME_SIZE];
    double comm = 0, start = clock_now();
    enum outcome o = pipe_links_open(links, f->workers); /* one pipe per worker but worker 0 */
    for (unsigned w = 1; w < f->workers && o == OUTCOME_OK; w++) {
        if (!has_jobs(stage, w))
            continue;
        pid_t pid = child_fork(w); /* fork(), the child bound to die with this process */
        if (pid < 0) {
            o = OUTCOME_FAILED;
            break;
        }
        if (pid == 0) /* the child: its jobs, then _exit (no stdio flush) */
            _exit(stage_child(f, stage, w, links));
        children[w] = pid;
    }
    pipe_links_keep(links, f->workers, 0, the_parent);
    if (o == OUTCOME_OK)
        factorial_run_jobs(f, stage, 0);
    for (unsigned j = 0; j < stage->count && o == OUTCOME_OK; j++) {
        const struct big_job *job = &stage->job[j];
        if (job->worker == 0)
            continue;
        snprintf(name, sizeof name, "worker %u", job->worker);
        o = factorial_receive(links[job->worker][0], f->number[job->out], &comm, name);
    }
    pipe_links_close(links, f->workers); /* a child still writing sees its reader gone */
    for (unsigned w = 1; w < f->workers; w++)
        if (children[w] > 0 && child_reap(children[w], w) != OUTCOME_OK)
            o = OUTCOME_FAILED;
    factorial_stage_phases(f, start, phases);
    phases->comm += comm;
    phases->combine -= comm < phases->combine ? comm : phases->combine; /* the reading was comm, not joining */
    free(children);
    free(links);
    return o;
}

/* one_factorial: n! stage by stage (common/factorial_big.c), each stage's jobs in fork()ed children. */
static enum outcome one_factorial(void *work, struct phases *phases)
{
    return factorial_big(work, run_stage, phases);
}

/* ---- --mode many: a pool of children fed through pipes ---- */

/* serve: a child's whole life in the pool: read a chunk, compute its tasks,
 * send back their residues, until the parent closes the orders pipe.
 * Returns the child's exit status. */
static int serve(void *work, unsigned w, int orders, int results)
{
    struct factorial *f = work;
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

/* take_ready: take in the results of every child that has sent some, each
 * answered with its next chunk, waiting for at least one when wait is set;
 * *open says how many children are left. */
static enum outcome take_ready(struct factorial *f, struct pipe_child *pool, struct in_hand *hands,
                               struct pollfd *ready, unsigned started, int wait, unsigned *open, double *comm)
{
    if (pipe_pool_poll(pool, started, ready, wait, open) != OUTCOME_OK)
        return OUTCOME_FAILED;
    for (unsigned w = 1; w < started; w++)
        if (ready[w].revents != 0 && factorial_results(f, &pool[w], &hands[w], w, comm) != OUTCOME_OK)
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
    struct pipe_child *pool = calloc(f->workers, sizeof *pool);
    struct in_hand *hands = calloc(f->workers, sizeof *hands);
    struct pollfd *ready = calloc(f->workers, sizeof *ready);
    if (!pool || !hands || !ready) {
        report_error("out of memory for %u process records", f->workers);
        free(pool);
        free(hands);
        free(ready);
        return OUTCOME_FAILED;
    }
    pipe_pool_clear(pool, f->workers);
    enum outcome o = OUTCOME_OK;
    unsigned started = 1, open = 0; /* worker 0 is this process */
    double comm = 0;
    double start = clock_now();
    for (unsigned w = 1; w < f->workers && o == OUTCOME_OK; w++, started++)
        if ((o = pipe_pool_start(pool, w, serve, f)) != OUTCOME_OK) /* child_fork, a pipe each way */
            break;
    for (unsigned ahead = 0; ahead < CHUNKS_AHEAD && o == OUTCOME_OK; ahead++)
        for (unsigned w = 1; w < started && o == OUTCOME_OK; w++)
            o = factorial_order(f, &pool[w], &hands[w], w, &comm);
    struct chunk c;
    while (o == OUTCOME_OK && factorial_deal(f, 0, &c))
        for (unsigned long k = c.first; k < c.first + c.count && o == OUTCOME_OK; k++) {
            factorial_tasks(f, 0, (struct chunk){k, 1}, f->residue + k);
            o = take_ready(f, pool, hands, ready, started, 0, &open, &comm);
        }
    do
        o = o == OUTCOME_OK ? take_ready(f, pool, hands, ready, started, 1, &open, &comm) : o;
    while (o == OUTCOME_OK && open > 0);
    pipe_pool_close(pool, started); /* a child still waiting on a pipe sees its end */
    for (unsigned w = 1; w < started; w++)
        if (child_reap(pool[w].pid, w) != OUTCOME_OK)
            o = OUTCOME_FAILED;
    factorial_checksum(f);
    phases_from_spans(phases, start, f->span, started);
    phases->comm = comm;
    free(pool);
    free(hands);
    free(ready);
    return o;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = factorial_options(&opt, argc, argv, MODEL, MANY_WORKERS);

    /* ---- prepare: ranges of equal cost, results and records, outside the timed region ---- */
    struct factorial f = {0};
    if (o == OUTCOME_OK)
        o = pipe_ignore_sigpipe(); /* a dead child's pipe: EPIPE, reported, not a signal that kills */
    if (o == OUTCOME_OK && opt.workers > 1)
        memory_fresh_blocks(FACTORIAL_BIG_BLOCK); /* children share the heap: big blocks, not copied on write */
    if (o == OUTCOME_OK)
        o = factorial_prepare(&f, &opt, MEMORY_SHARED);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &factorial_task, &f, f.mode == MODE_BIG ? one_factorial : many_factorials);
    factorial_release(&f);
    return outcome_exit_code(o);
}
