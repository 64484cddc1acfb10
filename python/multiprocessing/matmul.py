"""python/multiprocessing/matmul.py — matrix multiply C = A·B with a multiprocessing.Pool: one task per block of rows.

Run:    bin/matmul-py-multiprocessing -n 1024 -p 2 -r 5
        bin/matmul-py-multiprocessing -n 1024 -p 2 --api apply     (one task at a time: see below)
Models: python/serial/matmul.py is the baseline; this file hands its blocks
        of rows to a pool of worker processes (diff -u python/serial/matmul.py
        python/multiprocessing/matmul.py). The pool's initializer hands each
        worker the problem once (with fork, its pages are shared, not copied);
        each task sends its block of C's rows back, pickled, and the parent
        puts them in place. --api picks how tasks reach the pool: pool.map
        (default), imap_unordered, apply, apply_async, starmap, starmap_async.
        pool.apply waits for each task before handing out the next: in a loop
        it runs them one after another, whatever -p says.
        Siblings: python/threading/ (threads); processes/matmul.c (fork, in C).
Shared: python/common/matmul.py (inputs, the kernels, the check, the tasks),
        python/common/pools.py (workers that die with their parent, --api, --start-method),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, matmul, pools, run  # noqa: E402

MODEL = "py-multiprocessing"


def multiply(problem):
    """C = A·B, one task per block of rows through a pool of problem.workers
    processes; starting the pool, pickling the blocks back and ending the
    pool are part of the time."""
    start = run.clock()
    with multiprocessing.Pool(problem.workers, initializer=matmul.start_worker, initargs=(problem,)) as pool:
        results = pools.submit(pool, problem.options.api, matmul.block_task, range(problem.workers))
    matmul.store(problem, results)
    return run.phases_from_spans(start, problem.spans)


def main():
    # ---- parse (and load NumPy on the right BLAS core) ----
    options = matmul.parse(sys.argv, MODEL, cli.MANY_WORKERS, pools.FLAGS, pools.DEFAULTS)
    pools.use_start_method(options)
    options.model_figures = pools.model_figures(options)

    # ---- prepare: A and B from the seed, outside the timed region ----
    problem = matmul.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, matmul.TASK, problem, multiply)


if __name__ == "__main__":
    run.main(main)
