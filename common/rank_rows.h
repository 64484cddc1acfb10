/* common/rank_rows.h — which rows of a matrix each MPI rank holds, counted as MPI_Scatterv and MPI_Gatherv want them.
 *
 * A rows × width matrix (row-major) is cut into one block of near-equal
 * rows per rank (block_range), the way every model cuts its work. Rank 0
 * holds the whole matrix and scatters the blocks; each rank receives its
 * block into a buffer of its own, and rank 0 gathers them back:
 *   MPI_Scatterv(whole, r.counts, r.offsets, ..., mine, r.counts[rank], ...)
 * Plain C with no MPI types, so common/ code built without mpicc can hold one.
 */
#ifndef RANK_ROWS_H
#define RANK_ROWS_H

#include <stddef.h>

#include "report.h"

/* Every rank's block of rows, and this rank's. */
struct rank_rows {
    size_t first, count;   /* this rank's block: rows first .. first + count - 1 */
    int *counts, *offsets; /* per rank: the elements of its block (rows × width), and where they start */
};

/* rank_rows_prepare: cut a rows × width matrix among the team's ranks
 * (team_size, team_rank); OUTCOME_FAILED after saying why (out of memory,
 * or more elements than MPI's int counts can say). */
enum outcome rank_rows_prepare(struct rank_rows *r, size_t rows, size_t width);

/* rank_rows_release: free what rank_rows_prepare allocated (a zeroed record is fine). */
void rank_rows_release(struct rank_rows *r);

#endif
