/* processes/factorial.c — exact factorials with fork(): pools of children, numbers through memory files, orders through pipes.
 *
 * The idea: every worker is a fork()ed child with its own address space, so
 * numbers must travel. --mode big: a pool of children forked at the start
 * of the run, a pipe each way (common/pipe.c) and a memory file each
 * (memory_file_open, made once before the runs); for each stage of
 * independent multiplications the parent sends every child that has jobs
 * their list down one pipe, writes the numbers they read into the child's
 * file and their headers down the pipe, and reads their products back the
 * same way (a header from the other pipe, the limbs from the file:
 * factorial_send and factorial_receive). Worker 0 is the parent itself,
 * which puts the parts together between stages, so n!, the largest number,
 * never travels. (Numbers of megabytes once went down the pipes themselves:
 * a pipe here holds 1 MiB, the two processes take turns filling and
 * emptying it, and the kernel allocates and frees its pages each time. A
 * memory file holds a whole number and keeps its pages from one run to the
 * next; on an AMD EPYC Zen 5 virtual machine at n = 10^7, P = 2 the comm
 * phase went from 70-90 ms to 20-30 ms: lesson 3.)
 * (A child forked for each stage would start with a copy of every number,
 * fork copying the parent's memory lazily; but then parent and child share
 * the heap copy-on-write, and every stage pays again for the pages either
 * side writes: more than the pipes cost. For the same reason a child gets
 * none of GMP's big blocks: common/factorial_memory.c keeps them out of
 * every fork()ed child.) --mode many: a pool of children,
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

/* ---- --mode big: a pool of children, each stage's jobs down a pipe, numbers through a memory file each ---- */

/* The pool of the run in progress: factorial_big hands run_stage the
 * factorial and the stage only. */
static struct pipe_child *stage_pool;
/* Worker w's memory file (w >= 1), made once before the runs: the numbers
 * the parent sends it, and then the products it sends back. */
static int *number_file;

/* has_jobs: whether worker w has any job in the stage. */
static int has_jobs(const struct big_stage *stage, unsigned w)
{
    for (unsigned j = 0; j < stage->count; j++)
        if (stage->job[j].worker == w)
            return 1;
    return 0;
}

/* serve_stages: a child's whole life in the pool: for each stage the parent
 * sends (its size, its jobs, then the operands of this child's jobs, each a
 * number through its memory file), run this child's jobs and send their
 * products back through it (over the operands, all read by then), in the
 * stage's order; until the parent closes the orders pipe. Its time in the
 * jobs goes into f->busy[w], memory shared with the parent. Returns the
 * child's exit status. */
static int serve_stages(void *work, unsigned w, int orders, int results)
{
    struct factorial *f = work; /* with the prime table the parent made before fork(): read, never written */
    mpz_t *operand = factorial_operands_make(f);
    if (!operand)
        return 1;
    double unused = 0; /* the parent reports the communication it sees */
    enum outcome o = OUTCOME_OK;
    for (;;) {
        uint64_t count;
        enum pipe_status status = pipe_read(orders, &count, sizeof count, "the parent");
        if (status == PIPE_CLOSED)
            break;
        if (status == PIPE_FULL && (count == 0 || count > f->job_room)) {
            report_error("the parent sent a stage of %llu jobs, not 1 to %u", (unsigned long long)count,
                         f->job_room);
            status = PIPE_BROKEN;
        }
        if (status != PIPE_FULL || pipe_read(orders, f->jobs, count * sizeof *f->jobs, "the parent") != PIPE_FULL) {
            o = OUTCOME_FAILED;
            break;
        }
        struct big_stage stage = {f->jobs, (unsigned)count, 0};
        for (unsigned j = 0; j < stage.count && o == OUTCOME_OK; j++)
            for (int k = 0; f->jobs[j].worker == w && k < factorial_job_operands(&f->jobs[j]) && o == OUTCOME_OK; k++)
                o = factorial_receive(orders, number_file[w], operand[2 * j + k], &unused, "the parent");
        if (o == OUTCOME_OK)
            factorial_run_received(f, &stage, w, operand);
        uint64_t at = 0;
        for (unsigned j = 0; j < stage.count && o == OUTCOME_OK; j++)
            if (f->jobs[j].worker == w)
                o = factorial_send(results, number_file[w], &at, f->number[f->jobs[j].out], "the parent");
        if (o != OUTCOME_OK)
            break;
    }
    factorial_operands_free(f, operand);
    return o == OUTCOME_OK ? 0 : 1;
}

/* send_stage: child w's part of a stage: down its orders pipe the stage's
 * size and jobs, then the operands of w's own jobs, in the stage's order,
 * through its memory file (from its start: w has sent back everything it
 * wrote there). */
static enum outcome send_stage(struct factorial *f, const struct big_stage *stage, unsigned w, const char *name)
{
    int fd = stage_pool[w].orders;
    uint64_t count = stage->count, at = 0;
    enum outcome o = pipe_write(fd, &count, sizeof count, name);
    if (o == OUTCOME_OK)
        o = pipe_write(fd, stage->job, stage->count * sizeof *stage->job, name);
    for (unsigned j = 0; j < stage->count && o == OUTCOME_OK; j++) {
        const struct big_job *job = &stage->job[j];
        const struct big_piece *piece[] = {&job->x, &job->y};
        for (int k = 0; job->worker == w && k < factorial_job_operands(job) && o == OUTCOME_OK; k++) {
            mpz_t view;
            factorial_piece_view(f, piece[k], view);
            o = factorial_send(fd, number_file[w], &at, view, name);
        }
    }
    return o;
}

/* run_stage: a stage's jobs: each child that has some gets them and their
 * operands, this process runs its own (worker 0), then reads the children's
 * products, in the stage's order. Sending and reading are comm; the wait
 * for a child still computing is neither. */
static enum outcome run_stage(struct factorial *f, const struct big_stage *stage, struct phases *phases)
{
    char name[NAME_SIZE];
    double start = clock_now();
    enum outcome o = OUTCOME_OK;
    for (unsigned w = 1; w < f->workers && o == OUTCOME_OK; w++)
        if (has_jobs(stage, w)) {
            snprintf(name, sizeof name, "worker %u", w);
            o = send_stage(f, stage, w, name);
        }
    double comm = clock_now() - start;
    if (o == OUTCOME_OK)
        factorial_run_jobs(f, stage, 0);
    for (unsigned j = 0; j < stage->count && o == OUTCOME_OK; j++) {
        const struct big_job *job = &stage->job[j];
        if (job->worker == 0)
            continue;
        snprintf(name, sizeof name, "worker %u", job->worker);
        o = factorial_receive(stage_pool[job->worker].results, number_file[job->worker], f->number[job->out], &comm,
                              name);
    }
    double longest = 0;
    for (unsigned w = 0; w < f->workers; w++)
        if (f->busy[w] > longest)
            longest = f->busy[w];
    phases->compute += longest;
    phases->comm += comm;
    return o;
}

/* one_factorial: n! stage by stage (common/factorial_big.c), each stage's
 * jobs shared with a pool of f->workers - 1 children forked for this run.
 * The primes kernel's table is made first, so the children have it without
 * a pipe: fork() gives each a copy-on-write view of the parent's memory,
 * which costs nothing while neither side writes it (and the parent makes
 * it again only after they are gone). Forking and reaping are part of the
 * time: setup and combine. */
static enum outcome one_factorial(void *work, struct phases *phases)
{
    struct factorial *f = work;
    struct pipe_child *pool = calloc(f->workers, sizeof *pool);
    if (!pool) {
        report_error("out of memory for %u process records", f->workers);
        return OUTCOME_FAILED;
    }
    pipe_pool_clear(pool, f->workers);
    enum outcome o = OUTCOME_OK;
    unsigned started = 1; /* worker 0 is this process */
    double start = clock_now();
    if (f->big_kernel == BIG_KERNEL_PRIMES)
        o = factorial_prime_table(f); /* before fork(): every child reads the parent's, as it was then */
    phases->combine += clock_now() - start; /* the coordinator's own work, as in factorial_big */
    start = clock_now();
    for (; started < f->workers && o == OUTCOME_OK; started++)
        if ((o = pipe_pool_start(pool, started, serve_stages, f)) == OUTCOME_OK) /* child_fork, a pipe each way */
            pipe_pool_widen(&pool[started]); /* a stage's orders and headers never wait on a full pipe */
    phases->setup += clock_now() - start;
    stage_pool = pool;
    if (o == OUTCOME_OK)
        o = factorial_big(f, run_stage, phases);
    stage_pool = NULL;
    start = clock_now();
    pipe_pool_close(pool, started); /* a child waiting for its next stage sees the end */
    for (unsigned w = 1; w < started; w++)
        if (pool[w].pid > 0 && child_reap(pool[w].pid, w) != OUTCOME_OK)
            o = OUTCOME_FAILED;
    phases->combine += clock_now() - start;
    free(pool);
    return o;
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

/* number_files_open: a memory file for each child of --mode big's pool;
 * outside the timed region, like the rest of the preparation. */
static enum outcome number_files_open(const struct factorial *f)
{
    number_file = malloc(f->workers * sizeof *number_file);
    if (!number_file) {
        report_error("out of memory for %u memory files", f->workers);
        return OUTCOME_FAILED;
    }
    for (unsigned w = 0; w < f->workers; w++)
        number_file[w] = -1; /* worker 0, this process, needs none */
    for (unsigned w = 1; w < f->workers; w++)
        if ((number_file[w] = memory_file_open("factorial-numbers")) < 0)
            return OUTCOME_FAILED;
    return OUTCOME_OK;
}

/* number_files_close: close what number_files_open opened. */
static void number_files_close(unsigned workers)
{
    for (unsigned w = 0; number_file && w < workers; w++)
        if (number_file[w] >= 0)
            close(number_file[w]);
    free(number_file);
    number_file = NULL;
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
    if (o == OUTCOME_OK)
        o = factorial_prepare(&f, &opt, MEMORY_SHARED);
    if (o == OUTCOME_OK && f.mode == MODE_BIG)
        o = number_files_open(&f);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &factorial_task, &f, f.mode == MODE_BIG ? one_factorial : many_factorials);
    number_files_close(f.workers);
    factorial_release(&f);
    return outcome_exit_code(o);
}
