/* common/team.h — who takes part in one run: this process alone, or every MPI rank.
 *
 * The repetition driver (run.c) lines the team up before the clock starts and
 * agrees on times and verdicts afterwards. Programs of every model but MPI
 * link team_single.c, where these are trivial; MPI programs link team_mpi.c.
 */
#ifndef TEAM_H
#define TEAM_H

#include "report.h"

struct options;

/* team_rank: this member's number, 0 for the one that prints (always 0 outside MPI). */
int team_rank(void);

/* team_size: how many members run the program (1 outside MPI). */
int team_size(void);

/* team_hosts: how many hosts the members run on, as member 0 counted them (1 outside MPI). */
int team_hosts(void);

/* team_ranks_per_host: under MPI, the most ranks of the job that run on one host (each
 * holds its own copies of the data, and a host's memory must hold them all), the same on
 * every rank; 0 outside MPI, where the team is this one process. */
int team_ranks_per_host(void);

/* team_adopt_workers: reconcile -p with the team: under MPI, -p must equal the
 * number of ranks (set to it when not given); elsewhere nothing to do. */
enum outcome team_adopt_workers(struct options *opt);

/* team_barrier: return once every member has arrived (so they start the clock together). */
void team_barrier(void);

/* team_max: replace each of the count values by its maximum over the team. */
void team_max(double *values, int count);

/* team_first: the lowest rank among the members for which mine is true, known to every
 * member, or -1 where it holds for none: the one to speak for a verdict that only some
 * reached (a host with less memory than the others). Outside MPI, 0 or -1. */
int team_first(int mine);

/* team_worst: the worst outcome any member reached, known to every member, so
 * that all leave together rather than some waiting forever for the others. */
enum outcome team_worst(enum outcome mine);

/* team_figures: the team's own key=value pairs for the result line, each after a
 * space: under MPI hosts= (where the run ran); nothing outside MPI. */
void team_figures(FILE *out);

#endif
