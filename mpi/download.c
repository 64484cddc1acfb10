/* mpi/download.c — download many files over HTTP with MPI: the ranks share the list.
 *
 * The idea: P ranks, separate processes that share nothing, each read the
 * same list and fetch their share of it: rank r takes files r, r + P,
 * r + 2P, ... (no queue to agree on, so no messages while downloading).
 * Afterwards each file's record is non-zero on one rank only, so one
 * MPI_Reduce with MPI_SUM assembles them all on rank 0 (combine=), which
 * checks every file and prints. A barrier lines the ranks up first; the time
 * reported is the slowest rank's; cpu_user and cpu_sys are the sum over
 * ranks. -o must be a directory every rank can reach, and the server an
 * address every host reaches (127.0.0.1 is each host's own).
 *
 * Run:    tools/mpirun -np 64 bin/download-mpi --server 127.0.0.1:8080 --files 64 --size 256K -o /tmp/dl
 * Models: common/download.h lists every model of this workload, and the code they share.
 */
#include "download.h"
#include "team_mpi.h"

#define MODEL "mpi"

/* fetch_all: this rank's share of the files, through one easy handle, then
 * every rank's records (and CPU times) summed onto rank 0. */
static enum outcome fetch_all(void *work, struct phases *phases)
{
    struct download *d = work;
    size_t rank = (size_t)team_rank(), ranks = (size_t)team_size();
    double start = clock_now();
    struct fetcher f;
    download_fetcher_open(&f, d, 0);
    for (size_t i = rank; i < d->count; i += ranks)
        download_fetch(&f, i);
    download_fetcher_close(&f);
    download_finish(d, phases, start);
    team_barrier(); /* waiting for the slowest rank is imbalance, in no phase */
    double merged_from = clock_now();
    mpi_check(MPI_Reduce(rank == 0 ? MPI_IN_PLACE : d->record, d->record, (int)(d->count * RECORD_FIELDS),
                         MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD), "MPI_Reduce(records)");
    mpi_check(MPI_Reduce(rank == 0 ? MPI_IN_PLACE : d->cpu, d->cpu, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD),
              "MPI_Reduce(cpu)");
    phases->combine = clock_now() - merged_from;
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    if (mpi_start(&argc, &argv) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);

    /* ---- parse: every rank reads the same flags and reaches the same verdict ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &download_workload, MODEL, MANY_WORKERS);

    /* ---- prepare: libcurl, the URL list and the output directory, outside the timed region ---- */
    struct download d = {.dir_fd = -1};
    if (o == OUTCOME_OK)
        o = team_worst(download_global_init());
    if (o == OUTCOME_OK)
        o = team_worst(download_prepare(&d, &opt, MEMORY_PRIVATE));

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &download_task, &d, fetch_all);
    if (o == OUTCOME_OK)
        o = team_worst(download_failures(&d)); /* --no-verify skips the check, not the files given up on */
    download_release(&d);
    download_global_cleanup();
    return outcome_exit_code(mpi_finish(o));
}
