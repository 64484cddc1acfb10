"""python/joblib/download.py — download many files over HTTP with joblib: one delayed(fetch_job) per file.

Run:    bin/download-py-joblib --server 127.0.0.1:8080 --files 64 --size 256K -p 8 -o /tmp/dl    (loky: processes)
        bin/download-py-joblib --server 127.0.0.1:8080 --files 64 --size 256K -p 32 --backend threading -o /tmp/dl
Models: python/serial/download.py is the baseline; this file turns its loop
        over the files into one job per file for joblib's Parallel
        (diff -u python/serial/download.py python/joblib/download.py).
        Parallel has no initializer, so each job carries its one file (its
        URL, its name, the folder); each worker makes its own requests.Session
        at its first job and keeps it. The workers write the files
        themselves; only each file's record comes back.
        --backend loky (default, as joblib's: a process per transfer, which
        costs memory and start-up a thread does not, for work that is mostly
        waiting) or threading (threads waiting on the network let go of the
        GIL: P may far exceed the cores). Every run starts loky's workers
        and ends them: both timed, setup= and combine= (python/common/jobs.py
        says why). At -p 1 joblib runs the jobs in this process, with no worker.
        Siblings: python/futures/, python/multiprocessing/, python/threading/;
        threads/download.c (pthreads, in C).
Shared: python/common/download.py (flags, the records), download_list.py (the URL list, -o),
        download_fetch.py (the fetch with its retries, the job), download_check.py (the check),
        python/common/jobs.py (--backend, joblib, workers that end with the run and the program),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, download, download_check, download_fetch, jobs, run  # noqa: E402

MODEL = "py-joblib"
joblib = None  # the joblib module, once main has found it (python3-joblib)


def fetch_all(problem):
    """Every file, one job each, on problem.workers workers; starting and
    ending them is part of the time."""
    start = run.clock()
    with jobs.session(problem):
        download.store(problem, joblib.Parallel(n_jobs=problem.workers, backend=problem.options.backend)(
            joblib.delayed(download_fetch.fetch_job)(download_fetch.OneFile(problem, index))
            for index in range(problem.count)))
    return download_check.finish(problem, start)


def main():
    global joblib
    # ---- parse (and find joblib) ----
    options = download.parse(sys.argv, MODEL, cli.MANY_WORKERS, [jobs.BACKEND_FLAG], jobs.DEFAULTS)
    options.model_figures = jobs.model_figures(options)
    joblib = jobs.load(options)

    # ---- prepare: the URL list and the output directory, outside the timed region ----
    problem = download.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, download_check.TASK, problem, fetch_all)
    download_check.check_failures(problem)  # --no-verify skips the check, not the files given up on


if __name__ == "__main__":
    run.main(main)
