"""python/multiprocessing/download.py — download many files over HTTP with a multiprocessing.Pool: one task per file.

Run:    bin/download-py-multiprocessing --server 127.0.0.1:8080 --files 64 --size 256K -p 8 -o /tmp/dl
Models: python/serial/download.py is the baseline; this file hands its files
        to a pool of worker processes, one task per file, each worker with its
        own requests.Session made by the pool's initializer
        (diff -u python/serial/download.py python/multiprocessing/download.py).
        The workers write the files themselves; only each file's record
        travels back. A process per transfer costs memory and start-up that a
        thread does not, for work that is mostly waiting.
        --api picks how tasks reach the pool: pool.map (default), imap_unordered,
        apply, apply_async, starmap, starmap_async (apply: one file at a time).
        Siblings: python/threading/ (threads); processes/download.c (fork, in C).
Shared: python/common/download.py (flags, the records), download_list.py (the URL list, -o),
        download_fetch.py (the fetch with its retries, the pool's task), download_check.py (the check),
        python/common/pools.py (workers that die with their parent, --api, --start-method),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, download, download_check, download_fetch, pools, run  # noqa: E402

MODEL = "py-multiprocessing"


def fetch_all(problem):
    """Every file, one task each, through a pool of problem.workers processes;
    starting and ending the pool is part of the time."""
    start = run.clock()
    with multiprocessing.Pool(problem.workers, initializer=download_fetch.start_worker, initargs=(problem,)) as pool:
        results = pools.submit(pool, problem.options.api, download_fetch.fetch_task, range(problem.count))
        download.store(problem, results)
    return download_check.finish(problem, start)


def main():
    # ---- parse ----
    options = download.parse(sys.argv, MODEL, cli.MANY_WORKERS, pools.FLAGS, pools.DEFAULTS)
    pools.use_start_method(options)
    options.model_figures = pools.model_figures(options)

    # ---- prepare: the URL list and the output directory, outside the timed region ----
    problem = download.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, download_check.TASK, problem, fetch_all)
    download_check.check_failures(problem)  # --no-verify skips the check, not the files given up on


if __name__ == "__main__":
    run.main(main)
