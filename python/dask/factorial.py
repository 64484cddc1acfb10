"""python/dask/factorial.py — exact factorials with Dask: the ranges and the tree as one graph; chunks as tasks.

Run:    bin/factorial-py-dask -n 100000 -p 2 --scheduler processes
        bin/factorial-py-dask --mode many -n 3000 -p 2 --scheduler distributed
Models: python/serial/factorial.py is the baseline; here its loops become a
        graph of dask.delayed tasks that dask.compute runs on the workers
        --scheduler names (diff -u python/serial/factorial.py python/dask/factorial.py):
        --mode big   one task per range, then per pair of the tree one task
                     multiplying two earlier tasks' numbers: the whole tree is
                     one graph, which Dask runs as each task's inputs are
                     ready (no round waits for the slowest pair). With
                     processes and distributed the numbers travel, pickled,
                     between the workers and this process.
        --mode many  the chunks --schedule and --chunk make, one task each;
                     Dask gives each to whichever worker is free (so no
                     cyclic). Every task costs Dask some bookkeeping (tens of
                     microseconds with threads, far more with distributed):
                     per_task_us= shows it against the work.
        With threads, Python's integers hold the GIL: no speedup, as in
        python/threading/ (gmpy2's too; --kernel gmpy2-nogil lets go of it);
        processes and distributed have a GIL each.
        Siblings: python/multiprocessing/ (a pool); python/mpi4py/ (MPI ranks).
Shared: python/common/factorial.py (the kernel, the ranges, the check), python/common/schedulers.py
        (--scheduler, the LocalCluster), python/common/run.py (timing, result
        lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, factorial, run, schedulers  # noqa: E402

MODEL = "py-dask"
dask = None     # the dask package, once main() has imported it (missing: exit status 2, naming python3-dask)
session = None  # --scheduler's workers: what dask.compute is told (common/schedulers.py)


def range_task(first, last, kernel):
    """A task: first · … · last by the one kernel, sent back as (number, span)."""
    start = run.clock()
    number = factorial.product(first, last, factorial.one(kernel))
    return number, run.Span(schedulers.worker(), start, run.clock())


def chunk_task(first, count, kernel):
    """A task: the residues k! mod p of a chunk of --mode many's tasks, sent back as (first, residues, span)."""
    unit, start = factorial.one(kernel), run.clock()
    residues = [int(factorial.product(1, k, unit) % factorial.PRIME) for k in range(first, first + count)]
    return first, residues, run.Span(schedulers.worker(), start, run.clock())


def one_factorial(problem):
    """n! as the product of the workers' ranges, one task per range, combined
    pairwise up a tree of tasks, all in one graph."""
    start = run.clock()
    ranges = [dask.delayed(range_task, nout=2)(problem.bound[w] + 1, problem.bound[w + 1], problem.kernel)
              for w in range(problem.workers)]
    partial = [number for number, span in ranges]
    for step in factorial.tree_steps(problem.workers):
        for into in range(0, problem.workers - step, 2 * step):
            partial[into] = dask.delayed(factorial.multiply)(partial[into], partial[into + step], problem.kernel)
    problem.partial[0], *problem.spans = dask.compute(partial[0], *[span for number, span in ranges],
                                                      **session.compute_options)
    factorial.take_result(problem)
    return run.phases_from_spans(start, problem.spans)


def many_factorials(problem):
    """The tasks 1..n, chunk by chunk, one dask.delayed task per chunk."""
    start = run.clock()
    chunks = [dask.delayed(chunk_task)(first, count, problem.kernel) for first, count in factorial.chunks(problem)]
    factorial.store_residues(problem, dask.compute(*chunks, **session.compute_options))
    factorial.make_checksum(problem)
    return run.phases_from_spans(start, problem.spans)


def main():
    global dask, session
    # ---- parse (and load Dask) ----
    options = factorial.parse(sys.argv, MODEL, cli.MANY_WORKERS, [schedulers.FLAG], schedulers.DEFAULTS, pool=True)
    dask = schedulers.load(options)

    # ---- prepare: ranges of equal cost and room for the results, outside the timed region ----
    problem = factorial.prepare(options)

    # ---- run, verify, report: on --scheduler's workers (distributed: a LocalCluster, started first) ----
    with schedulers.Session(options) as session:
        run.repeat(options, factorial.TASK, problem, one_factorial if problem.mode == "big" else many_factorials)


if __name__ == "__main__":
    run.main(main)
