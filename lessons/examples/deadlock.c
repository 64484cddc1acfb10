/* lessons/examples/deadlock.c — two MPI ranks each send first and receive second: they wait forever.
 *
 * Run:   tools/mpirun -np 2 bin/lessons/deadlock              (4 MiB messages: hangs)
 *        tools/mpirun -np 2 bin/lessons/deadlock -n 1024      (1 KiB: seems fine!)
 * Shows: with big messages both ranks sit in MPI_Send, each waiting for the
 *        other to post its MPI_Recv, which neither reaches; a watchdog ends
 *        the run after WATCHDOG_SECONDS with "deadlock" and exit 3. With small
 *        messages MPI copies the data into a buffer and MPI_Send returns at
 *        once ("eager" sending), so the same bug hides until the data grows.
 *        The fix: deadlock_fixed.c (diff -u the two).
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

/* exchange: swap a buffer with the partner rank: send mine, then receive theirs. */
static void exchange(char *mine, char *theirs, int bytes, int partner)
{
    MPI_Send(mine, bytes, MPI_CHAR, partner, 0, MPI_COMM_WORLD);
    MPI_Recv(theirs, bytes, MPI_CHAR, partner, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
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
