/* common/team_mpi.c — the team as every rank of MPI_COMM_WORLD. */
#include "team_mpi.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

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

enum outcome mpi_start(int *argc, char ***argv)
{
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        report_error("MPI_Init failed");
        return OUTCOME_FAILED;
    }
    mpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    return OUTCOME_OK;
}

enum outcome mpi_finish(enum outcome o)
{
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

enum outcome team_worst(enum outcome mine)
{
    int worst = (int)mine;
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD),
              "MPI_Allreduce(outcome)");
    return (enum outcome)worst;
}
