"""python/multiprocessing/factorial.py — exact factorials with a multiprocessing.Pool: ranges, pairs, chunks as tasks.

Run:    bin/factorial-py-multiprocessing -n 100000 -p 2
        bin/factorial-py-multiprocessing --mode many -n 3000 -p 2 --api map
        bin/factorial-py-multiprocessing --mode many -n 3000 -p 2 --api apply   (one task at a time)
Models: python/serial/factorial.py is the baseline; this file hands its work
        to a pool of worker processes, which run Python's integers with a GIL
        each (diff -u python/serial/factorial.py python/multiprocessing/factorial.py):
        --mode big   one task per range, then per round of the tree one task
                     per pair; the numbers travel to and from the workers
                     pickled, which the tree's rounds pay for.
        --mode many  the chunks --schedule and --chunk make, as tasks; the pool
                     gives each to whichever worker is free (so no cyclic).
        --api picks how tasks reach the pool: pool.map (default), imap_unordered,
        apply, apply_async, starmap, starmap_async. pool.apply waits for each
        task before handing out the next: in a loop, one at a time.
        Siblings: python/threading/ (threads); processes/factorial.c (fork and pipes, in C).
Shared: python/common/factorial.py (the kernel, the ranges, the check, the tasks),
        python/common/pools.py (workers that die with their parent, --api, --start-method),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, factorial, pools, run  # noqa: E402

MODEL = "py-multiprocessing"


def one_factorial(problem):
    """n! as the product of the workers' ranges, one task per range, combined
    pairwise up a tree, one task per pair of each round, all through one pool."""
    start = run.clock()
    api = problem.options.api
    with multiprocessing.Pool(problem.workers, initializer=factorial.start_worker, initargs=(problem,)) as pool:
        factorial.store_ranges(problem, pools.submit(pool, api, factorial.range_task, range(problem.workers)))
        for step in factorial.tree_steps(problem.workers):
            factorial.store_pairs(problem, pools.submit(pool, api, factorial.pair_task,
                                                        factorial.pair_items(problem, step)))
    factorial.take_result(problem)
    return run.phases_from_spans(start, problem.spans)


def many_factorials(problem):
    """The tasks 1..n, chunk by chunk, through a pool of problem.workers processes."""
    start = run.clock()
    with multiprocessing.Pool(problem.workers, initializer=factorial.start_worker, initargs=(problem,)) as pool:
        factorial.store_residues(problem, pools.submit(pool, problem.options.api, factorial.chunk_task,
                                                       factorial.chunks(problem)))
    factorial.make_checksum(problem)
    return run.phases_from_spans(start, problem.spans)


def main():
    # ---- parse ----
    options = factorial.parse(sys.argv, MODEL, cli.MANY_WORKERS, pools.FLAGS, pools.DEFAULTS, pool=True)
    pools.use_start_method(options)
    options.model_figures = pools.model_figures(options)

    # ---- prepare: ranges of equal cost and room for the results, outside the timed region ----
    problem = factorial.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, factorial.TASK, problem, one_factorial if problem.mode == "big" else many_factorials)


if __name__ == "__main__":
    run.main(main)
