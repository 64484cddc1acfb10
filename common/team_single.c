/* common/team_single.c — the team of one: what every model but MPI links.
 * Built with OpenMP (_OPENMP, team_openmp.o), it is the OpenMP programs' own:
 * one process whose parallel regions must get the -p threads they ask for. */
#include "team.h"

#ifdef _OPENMP
#include <omp.h>
#include <stdlib.h>

#include "cli.h"
#endif

int team_rank(void) { return 0; }

int team_size(void) { return 1; }

int team_hosts(void) { return 1; }

int team_ranks_per_host(void) { return 0; }

enum outcome team_adopt_workers(struct options *opt)
{
#ifdef _OPENMP
    /* num_threads(P) is a request: with OMP_DYNAMIC=true the runtime may give
     * fewer threads, and none past OMP_THREAD_LIMIT, while the result line
     * would still say workers=P. So the team is made exactly P, or refused. */
    omp_set_dynamic(0);
    /* OMP_MAX_ACTIVE_LEVELS=0 makes every parallel region a team of one, as quietly */
    if (omp_get_max_active_levels() < 1)
        omp_set_max_active_levels(1);
    if ((unsigned)omp_get_thread_limit() < opt->workers)
        return report_usage_error("-p %u: OMP_THREAD_LIMIT=%s lets OpenMP run at most %d thread%s (unset it, "
                                  "or ask for fewer)", opt->workers, getenv("OMP_THREAD_LIMIT"),
                                  omp_get_thread_limit(), omp_get_thread_limit() == 1 ? "" : "s");
#endif
    (void)opt;
    return OUTCOME_OK;
}

void team_barrier(void) {}

void team_max(double *values, int count)
{
    (void)values;
    (void)count;
}

int team_first(int mine) { return mine ? 0 : -1; }

enum outcome team_worst(enum outcome mine) { return mine; }

void team_figures(FILE *out) { (void)out; }
