/* common/team_mpi.h — the MPI team: start-up and checked calls for the mpi/ programs. */
#ifndef TEAM_MPI_H
#define TEAM_MPI_H

#include <mpi.h>

#include "team.h"

/* mpi_start: MPI_Init, then make MPI calls return their errors (instead of
 * aborting silently) so that mpi_check can say which call failed, and count the
 * hosts the ranks run on (hosts= in the result line) and the most ranks on one
 * (team_ranks_per_host). */
enum outcome mpi_start(int *argc, char ***argv);

/* mpi_finish: MPI_Finalize, last thing before main returns: o, or
 * OUTCOME_FAILED (saying why) if MPI_Finalize failed. */
enum outcome mpi_finish(enum outcome o);

/* mpi_check: if an MPI call failed, name it and take every rank down with
 * MPI_Abort, so no rank waits forever in a collective the failed one left. */
void mpi_check(int rc, const char *call);

#endif
