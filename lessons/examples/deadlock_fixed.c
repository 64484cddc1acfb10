/* lessons/examples/deadlock_fixed.c — the same exchange with MPI_Sendrecv: no order to get wrong.
 *
 * Run:   tools/mpirun -np 2 bin/lessons/deadlock_fixed        (4 MiB messages)
 * Shows: "exchanged=4194304 bytes right=yes" at any size. MPI_Sendrecv posts
 *        the send and the receive together and lets MPI progress both, so
 *        neither rank waits on the other. (Ordering by rank works too: rank 0
 *        sends then receives, rank 1 receives then sends.) The bug: deadlock.c.
 */
/* MPI's default error handler aborts the whole job when a call fails, so this
 * short example leaves MPI's return values unchecked (the suite's programs
 * check them: common/team_mpi.c). */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_BYTES (4 << 20)  /* far above any eager limit */
#define MAX_BYTES (256 << 20)
#define WATCHDOG_SECONDS 3

/* watchdog: the exchange has not finished in time: say so and leave. */
static void watchdog(int signum)
{
    (void)signum;
    static const char message[] = "deadlock: no progress after 3 s; every rank is waiting for another\n";
    if (write(2, message, sizeof message - 1) < 0)
        _exit(4);
    _exit(3);
}

/* exchange: swap a buffer with the partner rank, sending and receiving at once. */
static void exchange(char *mine, char *theirs, int bytes, int partner)
{
    MPI_Sendrecv(mine, bytes, MPI_CHAR, partner, 0, theirs, bytes, MPI_CHAR, partner, 0, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, ranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    long bytes = DEFAULT_BYTES;
    char *end = NULL;
    if (argc == 3 && strcmp(argv[1], "-n") == 0)
        bytes = strtol(argv[2], &end, 10);
    if ((argc != 1 && argc != 3) || (end && *end) || bytes < 1 || bytes > MAX_BYTES || ranks != 2) {
        if (rank == 0)
            fprintf(stderr, "usage: tools/mpirun -np 2 %s [-n BYTES]  (1 to %d bytes)\n", argv[0], MAX_BYTES);
        MPI_Finalize();
        return 2;
    }
    char *mine = malloc((size_t)bytes), *theirs = malloc((size_t)bytes);
    if (!mine || !theirs) {
        fprintf(stderr, "rank %d: out of memory\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    memset(mine, 'a' + rank, (size_t)bytes);
    signal(SIGALRM, watchdog);
    alarm(WATCHDOG_SECONDS);
    exchange(mine, theirs, (int)bytes, 1 - rank);
    alarm(0);
    int right = theirs[0] == 'a' + (1 - rank) && theirs[bytes - 1] == 'a' + (1 - rank);
    if (rank == 0)
        printf("exchanged=%ld bytes right=%s\n", bytes, right ? "yes" : "no");
    free(mine);
    free(theirs);
    MPI_Finalize();
    return right ? 0 : 1;
}
