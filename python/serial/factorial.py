"""python/serial/factorial.py — exact factorials in one thread: the Python baseline.

Run:    bin/factorial-py-serial -n 100000                    (one n!, --mode big)
        bin/factorial-py-serial --mode many -n 3000          (the factorials of 1..n as tasks)
        bin/factorial-py-serial -n 1000000 --kernel gmpy2    (GMP's integers instead of Python's)
Models: every sibling is this file plus one idea (diff -u it against this one):
          python/threading/factorial.py        threads for ranges, pairs of the tree and task takers;
                                               Python's integers hold the GIL: no speedup
          python/multiprocessing/factorial.py  a multiprocessing.Pool: ranges, pairs and chunks as tasks
          python/futures/factorial.py          concurrent.futures: executor.map, processes or threads
          python/joblib/factorial.py           joblib: Parallel(...)(delayed(job)(...) for ...), loky or threads
          python/ipyparallel/factorial.py      --mode many's chunks as tasks on IPython Parallel engines
                                               the program starts and stops (a load-balanced view)
          python/mpi4py/factorial.py           MPI ranks: numbers up a tree of messages; a task farm
          python/dask/factorial.py             dask.delayed: the ranges and the tree as one graph; chunks as tasks
        serial/factorial.c is this program in C: same ranges, same check, same figures.
Shared: python/common/factorial.py (the kernel, the ranges, the dealer, the check),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, factorial, run  # noqa: E402

MODEL = "py-serial"


def one_factorial(problem):
    """n! as the product of the workers' ranges, combined pairwise up a tree,
    one after another in this thread (-p is 1 here, so there is one range,
    1..n, and no tree)."""
    start = run.clock()
    for worker in range(problem.workers):
        factorial.multiply_range(problem, worker)
    for step in factorial.tree_steps(problem.workers):
        for into in range(0, problem.workers - step, 2 * step):
            factorial.combine(problem, into, into + step)
    factorial.take_result(problem)
    return run.phases_from_spans(start, problem.spans)


def many_factorials(problem):
    """The tasks 1..n, dealt out chunk by chunk to each worker in turn, all in
    this thread (-p is 1 here: one worker takes every task, in order)."""
    start = run.clock()
    for worker in range(problem.workers):
        while (chunk := factorial.deal(problem, worker)) is not None:
            factorial.tasks(problem, worker, chunk)
    factorial.make_checksum(problem)
    return run.phases_from_spans(start, problem.spans)


def main():
    # ---- parse ----
    options = factorial.parse(sys.argv, MODEL, cli.ONE_WORKER)

    # ---- prepare: ranges of equal cost and room for the results, outside the timed region ----
    problem = factorial.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, factorial.TASK, problem, one_factorial if problem.mode == "big" else many_factorials)


if __name__ == "__main__":
    run.main(main)
