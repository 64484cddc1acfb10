/* mpi/factorial.c — exact factorials with MPI: stages handed out as messages; a master-worker task farm.
 *
 * The idea: the workers are ranks that share nothing, so numbers travel as
 * messages. --mode big: rank 0 runs the algorithm; for each stage of
 * independent multiplications it broadcasts the jobs, sends every other
 * rank the operands of its own, runs its own, and receives their products
 * (probing first for a length only the sender knows), and puts the parts
 * together between stages; rank 0 ends with n!. --mode many: a task farm: rank 0 deals (and works too, answering between two of
 * its tasks); the other ranks ask it for chunks, every request carrying the
 * residues of the chunk before, and keep CHUNKS_AHEAD chunks in hand so they
 * compute while a request waits. Messages are inside the timed region
 * (comm=); a barrier lines the ranks up first, the time reported is the
 * slowest rank's, and rank 0 checks the whole result and prints.
 *
 * Run:    tools/mpirun -np 2 bin/factorial-mpi -n 10000000
 *         tools/mpirun -np 2 bin/factorial-mpi --mode many -n 20000 --schedule dynamic
 * Models: common/factorial.h lists every model of this workload, and the code they share.
 */
#include <stdio.h>
#include <stdlib.h>

#include "factorial.h"
#include "factorial_big.h"
#include "team_mpi.h"

#define MODEL "mpi"

_Static_assert(sizeof(mp_limb_t) == sizeof(uint64_t), "limbs and residues travel as MPI_UINT64_T");

/* What a message is: a number (an operand or a product of --mode big); a
 * worker's results (or first request) to rank 0; rank 0's answer, a chunk
 * (or, with count 0, none left); a rank's time in a stage's jobs. */
enum tag { TAG_NUMBER = 1, TAG_RESULTS = 2, TAG_CHUNK = 3, TAG_BUSY = 4 };

/* ---- --mode big: rank 0 hands each stage's jobs out as messages ---- */

/* protocol_error: a message that cannot be: say so and take every rank down,
 * so none waits for an answer that will not come. */
static void protocol_error(const char *what, int source, long long value)
{
    report_error("%s from rank %d: %lld", what, source, value);
    MPI_Abort(MPI_COMM_WORLD, outcome_exit_code(OUTCOME_FAILED));
}


/* send_limbs: count limbs at d to rank `to`, as one message (started, not waited for). */
static void send_limbs(const mp_limb_t *d, size_t count, unsigned to, MPI_Request *request)
{
    mpi_check(MPI_Isend(d, (int)count, MPI_UINT64_T, (int)to, TAG_NUMBER, MPI_COMM_WORLD, request),
              "MPI_Isend(number)");
}

/* receive_number: rank from's number into x: probe for its length, make
 * room, receive. Returns the seconds from the probe's answer to the last
 * limb; the wait before it is the sender's lateness, not communication. */
static double receive_number(mpz_t x, unsigned from)
{
    MPI_Status status;
    int limbs;
    mpi_check(MPI_Probe((int)from, TAG_NUMBER, MPI_COMM_WORLD, &status), "MPI_Probe(number)");
    double start = clock_now();
    mpi_check(MPI_Get_count(&status, MPI_UINT64_T, &limbs), "MPI_Get_count(number)");
    mp_limb_t none;
    mp_limb_t *d = limbs > 0 ? mpz_limbs_write(x, limbs) : &none;
    mpi_check(MPI_Recv(d, limbs, MPI_UINT64_T, (int)from, TAG_NUMBER, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Recv(number)");
    if (limbs > 0)
        mpz_limbs_finish(x, limbs);
    else
        mpz_set_ui(x, 0);
    return clock_now() - start;
}

/* announce: every rank learns the stage (its job count, then the jobs); a
 * count of 0 says the run is over. */
static void announce(struct factorial *f, unsigned *count)
{
    mpi_check(MPI_Bcast(count, 1, MPI_UNSIGNED, 0, MPI_COMM_WORLD), "MPI_Bcast(stage size)");
    if (*count > f->job_room)
        protocol_error("a stage larger than any the kernel makes", 0, *count);
    if (*count > 0)
        mpi_check(MPI_Bcast(f->jobs, (int)(*count * sizeof *f->jobs), MPI_BYTE, 0, MPI_COMM_WORLD),
                  "MPI_Bcast(stage)");
}

/* run_stage: rank 0's side of a stage: announce it, send every other rank
 * the operands of its jobs, run its own, then receive the other ranks'
 * products and how long each rank worked. */
static enum outcome run_stage(struct factorial *f, const struct big_stage *stage, struct phases *phases)
{
    unsigned count = stage->count;
    MPI_Request *sends = calloc(2 * (size_t)count, sizeof *sends);
    if (!sends) {
        report_error("out of memory for %u requests", 2 * count);
        MPI_Abort(MPI_COMM_WORLD, outcome_exit_code(OUTCOME_FAILED));
    }
    double start = clock_now();
    announce(f, &count);
    unsigned posted = 0;
    for (unsigned j = 0; j < count; j++) {
        const struct big_job *job = &stage->job[j];
        const struct big_piece *piece[] = {&job->x, &job->y};
        for (int k = 0; job->worker != 0 && k < factorial_job_operands(job); k++) {
            mpz_t view;
            factorial_piece_view(f, piece[k], view);
            send_limbs(mpz_limbs_read(view), mpz_size(view), job->worker, &sends[posted++]);
        }
    }
    /* Wait for the operands to arrive before working: a large message moves
     * only while its sender is inside an MPI call (Open MPI has no progress
     * thread by default), so a rank 0 that multiplied first would leave the
     * other ranks waiting for their operands until it was done. */
    mpi_check(MPI_Waitall((int)posted, sends, MPI_STATUSES_IGNORE), "MPI_Waitall(operands)");
    double comm = clock_now() - start;
    factorial_run_jobs(f, stage, 0);
    for (unsigned j = 0; j < count; j++)
        if (stage->job[j].worker != 0)
            comm += receive_number(f->number[stage->job[j].out], stage->job[j].worker);
    double longest = f->busy[0];
    for (unsigned w = 1; w < f->workers; w++) {
        double busy;
        mpi_check(MPI_Recv(&busy, 1, MPI_DOUBLE, (int)w, TAG_BUSY, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                  "MPI_Recv(busy)");
        if (busy > longest)
            longest = busy;
    }
    phases->compute += longest;
    phases->comm += comm;
    free(sends);
    return OUTCOME_OK;
}

/* serve_stages: another rank's part of --mode big: for every stage rank 0
 * announces, receive the operands of its own jobs (all of them first: rank
 * 0 waits for its sends to finish before it works), run them, send back their
 * products in the stage's order and then its time in them; until a stage of
 * no jobs ends the run. Its phases hold only the receiving (comm): rank 0
 * counts every rank's time in the jobs, as compute or, in the stages that
 * put n! together, combine; and it counts the products' travel as it
 * receives them, where sending them would count rank 0's own work too
 * (a large message waits for its receiver). */
static void serve_stages(struct factorial *f, unsigned rank, struct phases *phases)
{
    if (f->big_kernel == BIG_KERNEL_PRIMES && factorial_prime_table(f) != OUTCOME_OK)
        MPI_Abort(MPI_COMM_WORLD, outcome_exit_code(OUTCOME_FAILED));
    mpz_t *operand = factorial_operands_make(f);
    if (!operand)
        MPI_Abort(MPI_COMM_WORLD, outcome_exit_code(OUTCOME_FAILED));
    for (;;) {
        unsigned count;
        announce(f, &count);
        if (count == 0)
            break;
        for (unsigned j = 0; j < count; j++)
            for (int k = 0; f->jobs[j].worker == rank && k < factorial_job_operands(&f->jobs[j]); k++)
                phases->comm += receive_number(operand[2 * j + k], 0);
        struct big_stage stage = {f->jobs, count, 0};
        factorial_run_received(f, &stage, rank, operand);
        for (unsigned j = 0; j < count; j++)
            if (f->jobs[j].worker == rank)
                mpi_check(MPI_Send(mpz_limbs_read(f->number[f->jobs[j].out]), (int)mpz_size(f->number[f->jobs[j].out]),
                                   MPI_UINT64_T, 0, TAG_NUMBER, MPI_COMM_WORLD), "MPI_Send(product)");
        mpi_check(MPI_Send(&f->busy[rank], 1, MPI_DOUBLE, 0, TAG_BUSY, MPI_COMM_WORLD), "MPI_Send(busy)");
    }
    factorial_operands_free(f, operand);
}

/* one_factorial: n! stage by stage (common/factorial_big.c): rank 0 runs the
 * algorithm and hands each stage's jobs out; the other ranks serve them. */
static enum outcome one_factorial(void *work, struct phases *phases)
{
    struct factorial *f = work;
    unsigned rank = (unsigned)team_rank();
    if (rank != 0) {
        serve_stages(f, rank, phases);
        return OUTCOME_OK;
    }
    enum outcome o = factorial_big(f, run_stage, phases);
    unsigned none = 0; /* the end of the run, whatever happened: no rank is left waiting */
    announce(f, &none);
    return o;
}

/* ---- --mode many: a master-worker task farm ---- */


/* What rank 0 keeps while it deals. */
struct farm {
    struct factorial *f;
    unsigned long awaited; /* messages the workers have still to send: one per chunk in their hands, and the first requests */
    double comm;           /* seconds in MPI calls */
    double last_heard;     /* when the latest results came in */
};

/* answer: one worker's message: keep its results, send it its next chunk,
 * or a chunk of none when the dealer has no more for it. */
static void answer(struct farm *farm, const MPI_Status *status)
{
    struct factorial *f = farm->f;
    int source = status->MPI_SOURCE, words;
    double start = clock_now();
    mpi_check(MPI_Get_count(status, MPI_UINT64_T, &words), "MPI_Get_count(results)");
    if (words < MESSAGE_HEADER || (unsigned long)words > MESSAGE_HEADER + f->most_tasks)
        protocol_error("a results message of a length no chunk has", source, words);
    mpi_check(MPI_Recv(f->outbox, words, MPI_UINT64_T, source, TAG_RESULTS, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Recv(results)");
    char name[32];
    snprintf(name, sizeof name, "rank %d", source);
    if (factorial_store(f, f->outbox, (size_t)words, name) != OUTCOME_OK)
        MPI_Abort(MPI_COMM_WORLD, outcome_exit_code(OUTCOME_FAILED));
    farm->awaited--;
    struct chunk c = {0, 0};
    if (factorial_deal(f, (unsigned)source, &c))
        farm->awaited++;
    uint64_t order[MESSAGE_HEADER] = {c.first, c.count};
    mpi_check(MPI_Send(order, MESSAGE_HEADER, MPI_UINT64_T, source, TAG_CHUNK, MPI_COMM_WORLD), "MPI_Send(chunk)");
    farm->last_heard = clock_now();
    farm->comm += farm->last_heard - start;
}

/* answer_waiting: answer every message that has already arrived, without waiting for more. */
static void answer_waiting(struct farm *farm)
{
    MPI_Status status;
    for (;;) {
        int waiting;
        double start = clock_now();
        mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULTS, MPI_COMM_WORLD, &waiting, &status), "MPI_Iprobe(results)");
        farm->comm += clock_now() - start;
        if (!waiting)
            return;
        answer(farm, &status);
    }
}

/* deal_and_work: rank 0's part: its own chunks task by task, answering the
 * workers between two tasks, then only answering until none has more to send. */
static void deal_and_work(struct farm *farm)
{
    struct factorial *f = farm->f;
    struct chunk c;
    while (factorial_deal(f, 0, &c))
        for (unsigned long k = c.first; k < c.first + c.count; k++) {
            factorial_tasks(f, 0, (struct chunk){k, 1}, f->residue + k);
            answer_waiting(farm);
        }
    farm->last_heard = clock_now();
    while (farm->awaited > 0) { /* the wait in MPI_Probe is the workers' lateness, not communication */
        MPI_Status status;
        mpi_check(MPI_Probe(MPI_ANY_SOURCE, TAG_RESULTS, MPI_COMM_WORLD, &status), "MPI_Probe(results)");
        answer(farm, &status);
    }
}

/* work: a worker rank's part: ask for CHUNKS_AHEAD chunks, then compute each
 * chunk that comes and send its residues back (which asks for one more),
 * until every request has had its answer. Returns the seconds in MPI calls. */
static double work(struct factorial *f, unsigned rank)
{
    uint64_t order[MESSAGE_HEADER], request[MESSAGE_HEADER] = {0, 0};
    unsigned long sent = 0, answered = 0;
    double comm = 0, start = clock_now();
    for (; sent < CHUNKS_AHEAD; sent++)
        mpi_check(MPI_Send(request, MESSAGE_HEADER, MPI_UINT64_T, 0, TAG_RESULTS, MPI_COMM_WORLD), "MPI_Send(request)");
    comm += clock_now() - start;
    while (answered < sent) {
        start = clock_now();
        mpi_check(MPI_Recv(order, MESSAGE_HEADER, MPI_UINT64_T, 0, TAG_CHUNK, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                  "MPI_Recv(chunk)");
        comm += clock_now() - start;
        answered++;
        struct chunk c = {order[0], order[1]};
        if (c.count == 0)
            continue;
        if (c.count > f->most_tasks)
            protocol_error("a chunk larger than any the dealer makes", 0, (long long)c.count);
        f->outbox[0] = c.first;
        f->outbox[1] = c.count;
        factorial_tasks(f, rank, c, f->outbox + MESSAGE_HEADER);
        start = clock_now();
        mpi_check(MPI_Send(f->outbox, (int)(MESSAGE_HEADER + c.count), MPI_UINT64_T, 0, TAG_RESULTS, MPI_COMM_WORLD),
                  "MPI_Send(results)");
        comm += clock_now() - start;
        sent++;
    }
    return comm;
}

/* many_factorials: the tasks 1..n, dealt out by rank 0 to every rank (itself
 * included) on request, the results gathered on rank 0. */
static enum outcome many_factorials(void *work_, struct phases *phases)
{
    struct factorial *f = work_;
    unsigned rank = (unsigned)team_rank();
    double comm;
    if (rank == 0) {
        struct farm farm = {.f = f, .awaited = CHUNKS_AHEAD * (f->workers - 1ul)};
        deal_and_work(&farm);
        factorial_checksum(f);
        comm = farm.comm;
        phases->combine = clock_now() - farm.last_heard;
    } else {
        comm = work(f, rank);
    }
    phases->compute = f->span[rank].end - f->span[rank].start;
    phases->comm = comm;
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    if (mpi_start(&argc, &argv) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);

    /* ---- parse: every rank reads the same flags and reaches the same verdict ---- */
    struct options opt;
    enum outcome o = factorial_options(&opt, argc, argv, MODEL, MANY_WORKERS);

    /* ---- prepare: ranges of equal cost, results and records, outside the timed region ---- */
    struct factorial f = {0};
    if (o == OUTCOME_OK)
        o = team_worst(factorial_prepare(&f, &opt, MEMORY_PRIVATE));

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &factorial_task, &f, f.mode == MODE_BIG ? one_factorial : many_factorials);
    factorial_release(&f);
    return outcome_exit_code(mpi_finish(o));
}
