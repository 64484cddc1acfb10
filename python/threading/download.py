"""python/threading/download.py — download many files over HTTP with threads pulling from a shared queue.

Run:    bin/download-py-threading --server 127.0.0.1:8080 --files 64 --size 256K -p 32 -o /tmp/dl
Models: python/serial/download.py is the baseline; this file runs its loop
        over the files in P threads at once (diff -u python/serial/download.py
        python/threading/download.py). Each thread has its own requests.Session
        (sessions are not to be shared between threads) and takes the next
        file from a queue all share (problem.next_file, a counter under a
        lock): whoever is free takes the next file. A thread spends nearly all
        its time waiting on the network, and a thread that waits lets go of
        the GIL, which is why threads do speed up I/O-bound Python, and why P
        may far exceed the cores here.
        Siblings: python/multiprocessing/ (a process pool); threads/download.c (pthreads, in C).
Shared: python/common/download.py (flags, the records), download_list.py (the URL list, -o),
        download_fetch.py (the fetch with its retries), download_check.py (the check),
        python/common/content.py (the server's files, CRC-32C), python/common/run.py
        (timing, result lines), python/common/cli.py (flags).
"""
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, download, download_check, download_fetch, run  # noqa: E402

MODEL = "py-threading"


def fetch_files(problem, worker):
    """A thread's whole life: its own session, then files from the shared queue until none is left."""
    fetcher = download_fetch.Fetcher(problem, worker)
    for index in iter(problem.next_file, None):
        download_fetch.fetch(fetcher, index)
    fetcher.close()


def fetch_all(problem):
    """Every file, by problem.workers threads at once; starting and joining them is part of the time."""
    start = run.clock()
    threads = [threading.Thread(target=fetch_files, args=(problem, worker)) for worker in range(problem.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return download_check.finish(problem, start)


def main():
    # ---- parse ----
    options = download.parse(sys.argv, MODEL, cli.MANY_WORKERS)

    # ---- prepare: the URL list and the output directory, outside the timed region ----
    problem = download.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, download_check.TASK, problem, fetch_all)
    download_check.check_failures(problem)  # --no-verify skips the check, not the files given up on


if __name__ == "__main__":
    run.main(main)
