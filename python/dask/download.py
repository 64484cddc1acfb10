"""python/dask/download.py — download many files over HTTP with Dask: one dask.delayed task per file.

Run:    bin/download-py-dask --server 127.0.0.1:8080 --files 64 --size 256K -p 32 -o /tmp/dl
        bin/download-py-dask --server 127.0.0.1:8080 --files 64 --size 256K -p 8 --scheduler distributed -o /tmp/dl
Models: python/serial/download.py is the baseline; here every file is a
        dask.delayed task, and dask.compute runs them on the workers
        --scheduler names, each file's record coming back as the task's
        result (diff -u python/serial/download.py python/dask/download.py).
        A task is all a Dask worker keeps between files, so each opens its own
        requests.Session (and connection) for its one file. The problem (the
        list, -o) enters the graph once; every task depends on it. With
        threads a waiting task lets go of the GIL, as in python/threading/;
        with processes and distributed each worker is a process, which costs
        start-up and memory for work that is mostly waiting. The workers write
        the files themselves, into -o (every worker must reach it).
        Siblings: python/threading/ (threads and a queue); python/mpi4py/ (MPI ranks).
Shared: python/common/download.py (flags, the records), download_list.py (the URL list, -o),
        download_fetch.py (the fetch with its retries), download_check.py (the check),
        python/common/content.py (the server's files, CRC-32C), python/common/schedulers.py
        (--scheduler, the LocalCluster), python/common/run.py (timing, result
        lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, download, download_check, download_fetch, run, schedulers  # noqa: E402

MODEL = "py-dask"
dask = None     # the dask package, once main() has imported it (missing: exit status 2, naming python3-dask)
session = None  # --scheduler's workers: what dask.compute is told (common/schedulers.py)


def fetch_task(problem, index):
    """A task: file index, through a session of its own; sent back as (index, record, span)."""
    download.load_packages()  # requests: there already, except in a freshly spawned worker
    fetcher = download_fetch.Fetcher(problem, schedulers.worker())
    record, span = download_fetch.fetch(fetcher, index)
    fetcher.close()
    return index, record, span


def fetch_all(problem):
    """Every file, one task each, run by --scheduler's workers; the graph and the
    records' way back are part of the time."""
    start = run.clock()
    listed = dask.delayed(problem)  # the list enters the graph once; every task depends on it
    files = [dask.delayed(fetch_task)(listed, index) for index in range(problem.count)]
    results = dask.compute(*files, **session.compute_options)
    problem.spans = []  # with threads the tasks stamped this very problem; every task's span also came back
    download.store(problem, results)
    return download_check.finish(problem, start)


def main():
    global dask, session
    # ---- parse (and load Dask) ----
    options = download.parse(sys.argv, MODEL, cli.MANY_WORKERS, [schedulers.FLAG], schedulers.DEFAULTS)
    dask = schedulers.load(options)

    # ---- prepare: the URL list and the output directory, outside the timed region ----
    problem = download.prepare(options)

    # ---- run, verify, report: on --scheduler's workers (distributed: a LocalCluster, started first) ----
    with schedulers.Session(options) as session:
        run.repeat(options, download_check.TASK, problem, fetch_all)
    download_check.check_failures(problem)  # --no-verify skips the check, not the files given up on


if __name__ == "__main__":
    run.main(main)
