"""python/serial/matmul.py — dense matrix multiply C = A·B in one thread: the Python baseline.

Run:    bin/matmul-py-serial -n 1024 -r 5
        bin/matmul-py-serial -n 128 --kernel python      (the textbook loops in pure Python)
Models: every sibling is this file plus one idea (diff -u it against this one):
          python/threading/matmul.py        one threading.Thread per block of rows; NumPy's
                                            BLAS releases the GIL, so they run at once
          python/multiprocessing/matmul.py  a multiprocessing.Pool, one task per block of rows
          python/futures/matmul.py          concurrent.futures: executor.map, processes or threads
          python/joblib/matmul.py           joblib: one delayed(block_job) per block, loky or threads
          python/numba/matmul.py            the loops compiled by Numba, the blocks shared by
                                            prange (Python's OpenMP) or by nogil threads
          python/mpi4py/matmul.py           MPI ranks: A's rows scattered, B broadcast, C gathered
          python/dask/matmul.py             dask.delayed, one task per block of rows (--scheduler)
        serial/matmul.c is this program in C: same inputs, same check, same figures.
Shared: python/common/matmul.py (inputs, the kernels, the check), python/common/run.py
        (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, matmul, run  # noqa: E402

MODEL = "py-serial"


def multiply(problem):
    """C = A·B, the blocks of rows one after another in this thread
    (-p is 1 here, so there is one block: all n rows)."""
    start = run.clock()
    for index in range(problem.workers):
        matmul.multiply_block(problem, index)
    return run.phases_from_spans(start, problem.spans)


def main():
    # ---- parse (and load NumPy on the right BLAS core) ----
    options = matmul.parse(sys.argv, MODEL, cli.ONE_WORKER)

    # ---- prepare: A and B from the seed, outside the timed region ----
    problem = matmul.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, matmul.TASK, problem, multiply)


if __name__ == "__main__":
    run.main(main)
