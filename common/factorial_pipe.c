/* common/factorial_pipe.c — numbers through memory files, and the pool's chunks and residues, through pipes (processes/factorial.c).
 *
 * Whole messages, and how a pipe's end is told from a worker that died,
 * are common/pipe.c's; here is what factorial sends: a number's limbs into
 * a memory file, and down the pipe its header (count of limbs, where in
 * the file); a chunk as (first, count); its residues back as (first,
 * count, residues...), which also asks for the next chunk.
 */
#include "factorial.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fdio.h"

/* The most limbs a GMP integer holds (its size is an int), so the most a
 * number's header may announce. */
#define MOST_LIMBS ((uint64_t)INT_MAX)

/* ---- numbers ---- */

/* A number's header down a pipe: how many limbs, and where in the file they are. */
struct number_header {
    uint64_t limbs, at;
};

/* A number goes as this machine's own limbs: both ends are the same program
 * on the same machine. mpz_export would first copy them into a buffer of
 * bytes; the limbs of an mpz already are such a buffer. */
enum outcome factorial_send(int pipe, int file, uint64_t *at, const mpz_t x, const char *who)
{
    struct number_header header = {mpz_size(x), *at};
    size_t bytes = header.limbs * sizeof(mp_limb_t);
    if (bytes > 0 && fdio_pwrite_all(file, mpz_limbs_read(x), bytes, header.at) != 0) {
        report_error("writing a number (%zu bytes) for %s into a memory file failed: %s", bytes, who,
                     strerror(errno));
        return OUTCOME_FAILED;
    }
    *at += bytes;
    return pipe_write(pipe, &header, sizeof header, who);
}

enum outcome factorial_receive(int pipe, int file, mpz_t x, double *comm, const char *who)
{
    struct number_header header;
    /* The header comes when the sender has finished computing: waiting for
     * it is the sender's lateness, not communication. */
    enum pipe_status status = pipe_read(pipe, &header, sizeof header, who);
    if (status == PIPE_CLOSED)
        report_error("%s closed its pipe without sending its number", who);
    if (status != PIPE_FULL)
        return OUTCOME_FAILED;
    if (header.limbs > MOST_LIMBS || header.at > UINT64_MAX - header.limbs * sizeof(mp_limb_t)) {
        report_error("%s announced a number of %llu limbs at byte %llu, more than GMP or a file can hold", who,
                     (unsigned long long)header.limbs, (unsigned long long)header.at);
        return OUTCOME_FAILED;
    }
    double start = clock_now();
    if (header.limbs == 0) {
        mpz_set_ui(x, 0);
    } else {
        size_t bytes = header.limbs * sizeof(mp_limb_t);
        mp_limb_t *d = mpz_limbs_write(x, (mp_size_t)header.limbs);
        for (size_t done = 0; done < bytes;) {
            ssize_t got = fdio_pread(file, (char *)d + done, bytes - done, header.at + done);
            if (got <= 0) {
                report_error("reading the number %s sent (%zu bytes at byte %llu of its memory file) failed: %s",
                             who, bytes, (unsigned long long)header.at,
                             got == 0 ? "the file ends before it" : strerror(errno));
                return OUTCOME_FAILED;
            }
            done += (size_t)got;
        }
        mpz_limbs_finish(x, (mp_size_t)header.limbs);
    }
    *comm += clock_now() - start;
    return OUTCOME_OK;
}

/* ---- the pool's messages ---- */

/* Room for "worker 123" in messages. */
#define NAME_SIZE 48

enum outcome factorial_order(struct factorial *f, struct pipe_child *child, struct in_hand *hand, unsigned w,
                             double *comm)
{
    struct chunk c;
    if (child->orders < 0)
        return OUTCOME_OK;
    if (!factorial_deal(f, w, &c)) {
        pipe_close(&child->orders);
        return OUTCOME_OK;
    }
    char name[NAME_SIZE];
    snprintf(name, sizeof name, "worker %u", w);
    uint64_t order[MESSAGE_HEADER] = {c.first, c.count};
    double sent = clock_now();
    enum outcome o = pipe_write(child->orders, order, sizeof order, name);
    *comm += clock_now() - sent;
    hand->chunk[(hand->first + hand->count++) % CHUNKS_AHEAD] = c;
    return o;
}

enum outcome factorial_results(struct factorial *f, struct pipe_child *child, struct in_hand *hand, unsigned w,
                               double *comm)
{
    char name[NAME_SIZE];
    snprintf(name, sizeof name, "worker %u", w);
    struct chunk c = hand->count > 0 ? hand->chunk[hand->first] : (struct chunk){0, 0};
    uint64_t *message = f->outbox;
    double start = clock_now();
    enum pipe_status status = pipe_read(child->results, message, (MESSAGE_HEADER + c.count) * sizeof(uint64_t), name);
    if (status == PIPE_CLOSED && hand->count == 0) {
        pipe_close(&child->results); /* done: it left after its last chunk */
        return OUTCOME_OK;
    }
    if (status == PIPE_CLOSED)
        report_error("worker %u left with %u chunks unanswered", w, hand->count);
    if (status != PIPE_FULL)
        return OUTCOME_FAILED;
    if (hand->count == 0 || message[0] != c.first || message[1] != c.count) {
        report_error("%s sent results for tasks it was not given (first %llu, count %llu)", name,
                     (unsigned long long)message[0], (unsigned long long)message[1]);
        return OUTCOME_FAILED;
    }
    *comm += clock_now() - start;
    hand->first = (hand->first + 1) % CHUNKS_AHEAD;
    hand->count--;
    if (factorial_store(f, message, MESSAGE_HEADER + c.count, name) != OUTCOME_OK)
        return OUTCOME_FAILED;
    return factorial_order(f, child, hand, w, comm);
}
