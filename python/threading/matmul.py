"""python/threading/matmul.py — dense matrix multiply C = A·B with threads: one threading.Thread per block of rows.

Run:    bin/matmul-py-threading -n 1024 -p 2 -r 5
        bin/matmul-py-threading -n 128 -p 2 --kernel python   (pure Python: the GIL lets one thread run at a time)
Models: python/serial/matmul.py is the baseline; this file turns its loop over
        blocks of rows into one threading.Thread per block, started and joined
        (diff -u python/serial/matmul.py python/threading/matmul.py). Threads
        share A, B and C; each writes only its own rows, so no lock is needed.
        Python threads take turns holding the GIL, but NumPy lets go of it
        inside the BLAS, so with --kernel numpy the blocks really run at once.
        Siblings: python/multiprocessing/ (a process pool); threads/matmul.c (pthreads, in C).
Shared: python/common/matmul.py (inputs, the kernels, the check), python/common/run.py
        (timing, result lines), python/common/cli.py (flags).
"""
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, matmul, run  # noqa: E402

MODEL = "py-threading"


def multiply(problem):
    """C = A·B, the blocks of rows shared out among problem.workers threads,
    one block each; starting and joining them is part of the time."""
    start = run.clock()
    threads = [threading.Thread(target=matmul.multiply_block, args=(problem, index))
               for index in range(problem.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run.phases_from_spans(start, problem.spans)


def main():
    # ---- parse (and load NumPy on the right BLAS core) ----
    options = matmul.parse(sys.argv, MODEL, cli.MANY_WORKERS, in_threads=True)

    # ---- prepare: A and B from the seed, outside the timed region ----
    problem = matmul.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, matmul.TASK, problem, multiply)


if __name__ == "__main__":
    run.main(main)
