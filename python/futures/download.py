"""python/futures/download.py — download many files over HTTP with concurrent.futures: submit, then as_completed.

Run:    bin/download-py-futures --server 127.0.0.1:8080 --files 64 --size 256K -p 32 -o /tmp/dl   (threads)
        bin/download-py-futures --server 127.0.0.1:8080 --files 64 -p 8 --executor process -o /tmp/dl
Models: python/serial/download.py is the baseline; this file submits one
        task per file to an executor and takes the files as they complete, as
        the Python documentation's ThreadPoolExecutor example does (`submit`,
        then `as_completed`; diff -u python/serial/download.py python/futures/download.py).
        The executor's initializer gives each worker its own requests.Session.
        --executor thread (default: I/O-bound work, the tutorials' rule: a
        thread waiting on the network lets go of the GIL, so P may far exceed
        the cores) or process: a process per transfer costs memory and
        start-up a thread does not. Creating the executor and shutting it
        down are timed: setup= and combine=.
        Siblings: python/threading/ (threads by hand), python/multiprocessing/
        (a Pool), python/joblib/; threads/download.c (pthreads, in C).
Shared: python/common/download.py (flags, the records), download_list.py (the URL list, -o),
        download_fetch.py (the fetch with its retries, the executor's task), download_check.py (the check),
        python/common/executors.py (--executor, executors that stop on an error),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import concurrent.futures
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, download, download_check, download_fetch, executors, run  # noqa: E402

MODEL = "py-futures"
# I/O-bound work: threads (the tutorials' rule; --executor process to see what a process per transfer costs).
DEFAULT_EXECUTOR = "thread"


def fetch_all(problem):
    """Every file, one task each, through an executor of problem.workers
    workers, taken in the order they complete; creating and shutting down the
    executor is part of the time."""
    start = run.clock()
    Executor = executors.EXECUTORS[problem.options.executor]
    with Executor(problem.workers, initializer=download_fetch.start_worker, initargs=(problem,)) as executor:
        futures = [executor.submit(download_fetch.fetch_task, index) for index in range(problem.count)]
        download.store(problem, (future.result() for future in concurrent.futures.as_completed(futures)))
    return download_check.finish(problem, start)


def main():
    # ---- parse ----
    options = download.parse(sys.argv, MODEL, cli.MANY_WORKERS, executors.flags(DEFAULT_EXECUTOR),
                             executors.defaults(DEFAULT_EXECUTOR))
    executors.use_start_method(options)
    options.model_figures = executors.model_figures(options)

    # ---- prepare: the URL list and the output directory, outside the timed region ----
    problem = download.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, download_check.TASK, problem, fetch_all)
    download_check.check_failures(problem)  # --no-verify skips the check, not the files given up on


if __name__ == "__main__":
    run.main(main)
