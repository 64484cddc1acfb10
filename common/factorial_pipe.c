/* common/factorial_pipe.c — whole messages and whole numbers through pipes (processes/factorial.c).
 *
 * A pipe moves bytes, not messages: common/fdio.c turns short reads and
 * writes into "all of it, or an error"; here each failure gets a message
 * that says why, and an orderly end (the writer closed its end between
 * messages) is told from a worker that died in the middle of one.
 */
#include "factorial.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fdio.h"

/* The most limbs a GMP integer holds (its size is an int), so the most a
 * number's header may announce. */
#define MOST_LIMBS ((uint64_t)INT_MAX)

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

/* A number goes as this machine's own limbs: both ends are the same program
 * on the same machine. mpz_export would first copy them into a buffer of
 * bytes; the limbs of an mpz already are such a buffer. */
enum outcome factorial_send(int fd, const mpz_t x, const char *who)
{
    uint64_t limbs = mpz_size(x);
    if (pipe_write(fd, &limbs, sizeof limbs, who) != OUTCOME_OK)
        return OUTCOME_FAILED;
    return pipe_write(fd, mpz_limbs_read(x), limbs * sizeof(mp_limb_t), who);
}

enum outcome factorial_receive(int fd, mpz_t x, double *comm, const char *who)
{
    uint64_t limbs;
    /* The header comes when the sender has finished computing: waiting for
     * it is the sender's lateness, not communication. */
    enum pipe_status status = pipe_read(fd, &limbs, sizeof limbs, who);
    if (status == PIPE_CLOSED)
        report_error("%s closed its pipe without sending its number", who);
    if (status != PIPE_FULL)
        return OUTCOME_FAILED;
    if (limbs > MOST_LIMBS) {
        report_error("%s announced a number of %llu limbs, more than GMP can hold", who,
                     (unsigned long long)limbs);
        return OUTCOME_FAILED;
    }
    double start = clock_now();
    if (limbs == 0) {
        mpz_set_ui(x, 0);
    } else {
        mp_limb_t *d = mpz_limbs_write(x, (mp_size_t)limbs);
        status = pipe_read(fd, d, limbs * sizeof *d, who);
        if (status == PIPE_CLOSED)
            report_error("%s closed its pipe before its number's limbs came", who);
        if (status != PIPE_FULL)
            return OUTCOME_FAILED;
        mpz_limbs_finish(x, (mp_size_t)limbs);
    }
    *comm += clock_now() - start;
    return OUTCOME_OK;
}
