/* common/rank_rows.c — every MPI rank's block of a matrix's rows, as element counts and offsets (see rank_rows.h). */
#include "rank_rows.h"

#include <limits.h>
#include <stdlib.h>

#include "run.h"
#include "team.h"

enum outcome rank_rows_prepare(struct rank_rows *r, size_t rows, size_t width)
{
    size_t ranks = (size_t)team_size(), rank = (size_t)team_rank(), first, last;
    *r = (struct rank_rows){0};
    if (width > 0 && rows > (size_t)INT_MAX / width) {
        report_error("%zu × %zu elements: more than MPI's counts (an int) can say", rows, width);
        return OUTCOME_FAILED;
    }
    r->counts = calloc(ranks, sizeof *r->counts);
    r->offsets = calloc(ranks, sizeof *r->offsets);
    if (!r->counts || !r->offsets) {
        report_error("out of memory for the row counts of %zu ranks", ranks);
        rank_rows_release(r);
        return OUTCOME_FAILED;
    }
    for (size_t k = 0; k < ranks; k++) {
        block_range(rows, ranks, k, &first, &last);
        r->counts[k] = (int)((last - first) * width);
        r->offsets[k] = (int)(first * width);
        if (k == rank) {
            r->first = first;
            r->count = last - first;
        }
    }
    return OUTCOME_OK;
}

void rank_rows_release(struct rank_rows *r)
{
    free(r->counts);
    free(r->offsets);
    *r = (struct rank_rows){0};
}
