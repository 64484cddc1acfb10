/* common/team_single.c — the team of one: what every model but MPI links. */
#include "team.h"

int team_rank(void) { return 0; }

int team_size(void) { return 1; }

enum outcome team_adopt_workers(struct options *opt)
{
    (void)opt;
    return OUTCOME_OK;
}

void team_barrier(void) {}

void team_max(double *values, int count)
{
    (void)values;
    (void)count;
}

enum outcome team_worst(enum outcome mine) { return mine; }

void team_figures(FILE *out) { (void)out; }
