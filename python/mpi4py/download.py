"""python/mpi4py/download.py — download many files over HTTP with mpi4py: the ranks share out the list.

Run:    tools/mpirun -np 8 bin/download-py-mpi4py --server 127.0.0.1:8080 --files 64 --size 256K -o /tmp/dl
Models: python/serial/download.py is the baseline; here P ranks, processes
        that share nothing, each read the same list and fetch their share of
        it, each through its own requests.Session
        (diff -u python/serial/download.py python/mpi4py/download.py):
        rank r takes files r, r + P, r + 2P, ... (no queue to agree on, so no
        messages while downloading). Afterwards comm.gather brings every
        rank's records to rank 0 and comm.reduce sums their CPU times there
        (combine=); rank 0 checks every file and prints. The ranks meet at a
        barrier before the clock; the time is the slowest rank's. -o must be
        a directory every rank reaches, and the server an address every host
        reaches (127.0.0.1 is each host's own).
        Siblings: python/multiprocessing/ (a pool, one machine); mpi/download.c (the same in C).
Shared: python/common/download.py (flags, the records), download_list.py (the URL list, -o),
        download_fetch.py (the fetch with its retries), download_check.py (the check),
        python/common/content.py (the server's files, CRC-32C), python/common/mpi.py
        (the ranks as a team, leaving together), python/common/run.py (timing,
        result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, download, download_check, download_fetch, mpi, run  # noqa: E402

MODEL = "py-mpi4py"
MPI = None  # mpi4py's MPI module, once main() has imported it (which starts MPI)


def fetch_all(problem):
    """This rank's share of the files, through one session, then every rank's
    records (and CPU times) brought together on rank 0."""
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    start = run.clock()
    fetcher = download_fetch.Fetcher(problem, rank)
    for index in range(rank, problem.count, size):
        download_fetch.fetch(fetcher, index)
    fetcher.close()
    phases = download_check.finish(problem, start)
    comm.Barrier()  # waiting for the slowest rank is imbalance, in no phase
    merged_from = run.clock()
    mine = [(index, problem.records[index]) for index in range(rank, problem.count, size)]
    everyone = comm.gather(mine, root=0)
    cpu_user = comm.reduce(problem.cpu[0], op=MPI.SUM, root=0)
    cpu_sys = comm.reduce(problem.cpu[1], op=MPI.SUM, root=0)
    if rank == 0:
        for records in everyone:
            for index, record in records:
                problem.records[index] = record
        problem.cpu = (cpu_user, cpu_sys)
    phases.combine = run.clock() - merged_from
    return phases


def main():
    global MPI
    # ---- parse, then start MPI: -p is the number of ranks ----
    options = download.parse(sys.argv, MODEL, cli.MANY_WORKERS, defaults=mpi.parse_defaults())
    MPI = mpi.start(options)

    # ---- prepare: the URL list and the output directory, outside the timed region ----
    problem = download.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run (rank 0) ----
    run.repeat(options, download_check.TASK, problem, fetch_all, mpi.team)
    mpi.team.settle(download_check.check_failures, problem)  # --no-verify skips the check, not the files given up on


if __name__ == "__main__":
    mpi.main(main)
