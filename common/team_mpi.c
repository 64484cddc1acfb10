/* common/team_mpi.c — the team as every rank of MPI_COMM_WORLD. */
#include "team_mpi.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* How many hosts the ranks run on: distinct processor names, counted once at start-up
 * (rank 0's count is the one printed, as hosts= in the result line). */
static int hosts_of_ranks = 1;
/* The most ranks on one host (team_ranks_per_host), counted once at start-up. */
static int most_ranks_per_host = 1;

/* describe: MPI's words for an error code, into text. */
static void describe(int rc, char text[MPI_MAX_ERROR_STRING])
{
    int length = 0;
    if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS)
        snprintf(text, MPI_MAX_ERROR_STRING, "error %d", rc);
}

/* check_plainly: mpi_check for the calls report_error itself makes (it asks
 * for the rank): say what failed without it, and take every rank down. */
static void check_plainly(int rc, const char *call)
{
    if (rc == MPI_SUCCESS)
        return;
    char text[MPI_MAX_ERROR_STRING];
    describe(rc, text);
    fprintf(stderr, "%s: %s failed: %s\n", report_program(), call, text);
    MPI_Abort(MPI_COMM_WORLD, outcome_exit_code(OUTCOME_FAILED));
    exit(outcome_exit_code(OUTCOME_FAILED)); /* MPI_Abort does not return; should it, leave anyway */
}

/* mpi_running: between MPI_Init and MPI_Finalize, where MPI calls are allowed. */
static int mpi_running(void)
{
    int started = 0, finished = 0;
    check_plainly(MPI_Initialized(&started), "MPI_Initialized");
    check_plainly(MPI_Finalized(&finished), "MPI_Finalized");
    return started && !finished;
}

/* compare_names: qsort's order for processor names, MPI_MAX_PROCESSOR_NAME bytes apart. */
static int compare_names(const void *x, const void *y)
{
    return strncmp(x, y, MPI_MAX_PROCESSOR_NAME);
}

/* count_hosts: every rank's processor name (its host's name) gathered on rank 0, which
 * counts the distinct ones into hosts_of_ranks. Collective: every rank calls it. */
static void count_hosts(void)
{
    char name[MPI_MAX_PROCESSOR_NAME] = {0};
    int length = 0, rank = team_rank(), ranks = team_size();
    mpi_check(MPI_Get_processor_name(name, &length), "MPI_Get_processor_name");
    char *names = NULL;
    if (rank == 0 && !(names = calloc((size_t)ranks, MPI_MAX_PROCESSOR_NAME))) {
        report_error("cannot allocate room for the processor names of %d ranks", ranks);
        MPI_Abort(MPI_COMM_WORLD, outcome_exit_code(OUTCOME_FAILED));
    }
    mpi_check(MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, names, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0,
                         MPI_COMM_WORLD), "MPI_Gather(processor names)");
    if (rank != 0)
        return;
    qsort(names, (size_t)ranks, MPI_MAX_PROCESSOR_NAME, compare_names);
    hosts_of_ranks = 1;
    for (int r = 1; r < ranks; r++) {
        const char *this_name = names + (size_t)r * MPI_MAX_PROCESSOR_NAME;
        if (compare_names(this_name, this_name - MPI_MAX_PROCESSOR_NAME) != 0)
            hosts_of_ranks++;
    }
    free(names);
}

/* count_ranks_per_host: the ranks that share this host (MPI_COMM_TYPE_SHARED: those that can
 * share memory), the most on any host known to every rank, into most_ranks_per_host, so
 * that every rank sizes a host's memory alike. Collective: every rank calls it. */
static void count_ranks_per_host(void)
{
    MPI_Comm host;
    int here = 1;
    mpi_check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &host),
              "MPI_Comm_split_type(host)");
    mpi_check(MPI_Comm_size(host, &here), "MPI_Comm_size(host)");
    mpi_check(MPI_Comm_free(&host), "MPI_Comm_free(host)");
    mpi_check(MPI_Allreduce(&here, &most_ranks_per_host, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD),
              "MPI_Allreduce(ranks per host)");
}

/* keep_tmpdir_usable: /tmp as TMPDIR where TMPDIR names no folder this process can write in (a
 * finished job's scratch folder). Open MPI makes its session folder in TMPDIR, and a process started
 * alone, without mpirun, starts a daemon of its own there: MPI_Init failed ("A call to mkdir was
 * unable to create the desired directory"; as root it made the whole path). tools/mpirun gives a
 * job /tmp the same way; the compilers and Python fall back to it too. */
static void keep_tmpdir_usable(void)
{
    const char *dir = getenv("TMPDIR");
    struct stat folder;
    if (dir && *dir && (stat(dir, &folder) != 0 || !S_ISDIR(folder.st_mode) || access(dir, W_OK | X_OK) != 0))
        setenv("TMPDIR", "/tmp", 1);
}

enum outcome mpi_start(int *argc, char ***argv)
{
    keep_tmpdir_usable();
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        report_error("MPI_Init failed");
        return OUTCOME_FAILED;
    }
    mpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    count_hosts();
    count_ranks_per_host();
    return OUTCOME_OK;
}

enum outcome mpi_finish(enum outcome o)
{
    /* What this rank printed goes out before the ranks part: once one rank
     * leaves with a failure, mpirun kills the others at once (tools/mpirun),
     * and what their buffers still held would be lost with them. */
    fflush(stdout);
    int rc = MPI_Finalize();
    if (rc == MPI_SUCCESS)
        return o;
    char text[MPI_MAX_ERROR_STRING];
    describe(rc, text);
    report_error("MPI_Finalize failed: %s", text);
    return OUTCOME_FAILED;
}

void mpi_check(int rc, const char *call)
{
    if (rc == MPI_SUCCESS)
        return;
    char text[MPI_MAX_ERROR_STRING];
    describe(rc, text);
    report_error("%s failed: %s", call, text);
    MPI_Abort(MPI_COMM_WORLD, outcome_exit_code(OUTCOME_FAILED));
}

int team_rank(void)
{
    int rank = 0;
    if (mpi_running())
        check_plainly(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    return rank;
}

int team_size(void)
{
    int size = 1;
    if (mpi_running())
        check_plainly(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
    return size;
}

int team_hosts(void) { return hosts_of_ranks; }

int team_ranks_per_host(void) { return most_ranks_per_host; }

enum outcome team_adopt_workers(struct options *opt)
{
    unsigned ranks = (unsigned)team_size();
    if (!opt->workers_given) {
        opt->workers = ranks;
        return OUTCOME_OK;
    }
    if (opt->workers == ranks)
        return OUTCOME_OK;
    if (ranks == 1)
        return report_usage_error("-p %u: started as a single process, not as %u MPI ranks; "
                                  "launch it with tools/mpirun -np %u %s ...",
                                  opt->workers, opt->workers, opt->workers, report_program());
    return report_usage_error("-p %u: but %u MPI ranks were started; -p must equal the number of ranks",
                              opt->workers, ranks);
}

void team_barrier(void)
{
    mpi_check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void team_max(double *values, int count)
{
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD),
              "MPI_Allreduce(max)");
}

int team_first(int mine)
{
    int first = mine ? team_rank() : INT_MAX;
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce(first)");
    return first == INT_MAX ? -1 : first;
}

enum outcome team_worst(enum outcome mine)
{
    int worst = (int)mine;
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD),
              "MPI_Allreduce(outcome)");
    return (enum outcome)worst;
}

void team_figures(FILE *out)
{
    fprintf(out, " hosts=%d", hosts_of_ranks);
}
