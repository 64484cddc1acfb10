"""python/serial/download.py — download many files over HTTP in one thread: the Python baseline.

Run:    bin/fileserver --port 8080 --latency 50 &
        bin/download-py-serial --server 127.0.0.1:8080 --files 64 --size 256K -o /tmp/dl
        bin/download-py-serial -i urls.txt -o /tmp/dl       (any http(s) URLs, one per line)
Models: every sibling is this file plus one idea (diff -u it against this one):
          python/threading/download.py        P threads, one requests.Session each, pulling files
                                              from a shared queue; waiting on the network lets go of the GIL
          python/multiprocessing/download.py  a multiprocessing.Pool, one task per file
          python/futures/download.py          concurrent.futures: submit each file, take them as_completed
          python/joblib/download.py           joblib: Parallel(...)(delayed(fetch_job)(file) for ...)
          python/asyncio/download.py          P tasks of one asyncio event loop (aiohttp), one thread
          python/mpi4py/download.py           MPI ranks, every P-th file each; the records gathered
          python/dask/download.py             dask.delayed, one task per file (--scheduler)
        Here a file is fetched only once the one before it has arrived, so the
        run takes (files × the server's latency) however fast the CPU.
        serial/download.c is this program in C: same files, same retries, same check.
Shared: python/common/download.py (flags, the records), download_list.py (the URL list, -o),
        download_fetch.py (the fetch with its retries), download_check.py (the check),
        python/common/content.py (the server's files, CRC-32C), python/common/run.py
        (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, download, download_check, download_fetch, run  # noqa: E402

MODEL = "py-serial"


def fetch_all(problem):
    """Every file, one after another, through one session (which keeps its
    connection to the server from file to file)."""
    start = run.clock()
    fetcher = download_fetch.Fetcher(problem, 0)
    for index in range(problem.count):
        download_fetch.fetch(fetcher, index)
    fetcher.close()
    return download_check.finish(problem, start)


def main():
    # ---- parse ----
    options = download.parse(sys.argv, MODEL, cli.ONE_WORKER)

    # ---- prepare: the URL list and the output directory, outside the timed region ----
    problem = download.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, download_check.TASK, problem, fetch_all)
    download_check.check_failures(problem)  # --no-verify skips the check, not the files given up on


if __name__ == "__main__":
    run.main(main)
