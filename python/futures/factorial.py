"""python/futures/factorial.py — exact factorials with concurrent.futures: executor.map over ranges, pairs and chunks.

Run:    bin/factorial-py-futures -n 100000 -p 2                     (a ProcessPoolExecutor)
        bin/factorial-py-futures --mode many -n 3000 -p 2
        bin/factorial-py-futures --mode many -n 3000 -p 2 --executor thread   (the GIL: no speedup)
Models: python/serial/factorial.py is the baseline; this file hands its work
        to an executor, as the Python documentation's ProcessPoolExecutor
        example does (`with ProcessPoolExecutor() as executor:
        executor.map(...)`; diff -u python/serial/factorial.py python/futures/factorial.py):
        --mode big   one task per range, then per round of the tree one task
                     per pair; with processes the numbers travel pickled.
        --mode many  the chunks --schedule and --chunk make, as tasks; the
                     executor gives each to whichever worker is free (so no cyclic).
        --executor process (default: CPU-bound work, the tutorials' rule)
        or thread: the same code on threads, which share one GIL while
        Python's integers multiply: no speedup (try --kernel gmpy2, then gmpy2-nogil).
        Creating the executor and shutting it down (its with-block) are timed:
        setup= and combine=.
        Siblings: python/multiprocessing/ (the same with a Pool), python/threading/
        (threads by hand), python/joblib/; processes/factorial.c (fork and pipes, in C).
Shared: python/common/factorial.py (the kernel, the ranges, the check, the tasks),
        python/common/executors.py (--executor, executors that stop on an error),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, executors, factorial, run  # noqa: E402

MODEL = "py-futures"
# CPU-bound work: processes, each with its own GIL (the tutorials' rule; --executor thread to see why).
DEFAULT_EXECUTOR = "process"


def one_factorial(problem):
    """n! as the product of the workers' ranges, one task per range, combined
    pairwise up a tree, one task per pair of each round, all through one executor."""
    start = run.clock()
    Executor = executors.EXECUTORS[problem.options.executor]
    with Executor(problem.workers, initializer=factorial.start_worker, initargs=(problem,)) as executor:
        factorial.store_ranges(problem, executor.map(factorial.range_task, range(problem.workers)))
        for step in factorial.tree_steps(problem.workers):
            factorial.store_pairs(problem, executor.map(factorial.pair_task, factorial.pair_items(problem, step)))
    factorial.take_result(problem)
    return run.phases_from_spans(start, problem.spans)


def many_factorials(problem):
    """The tasks 1..n, chunk by chunk, through an executor of problem.workers workers."""
    start = run.clock()
    Executor = executors.EXECUTORS[problem.options.executor]
    with Executor(problem.workers, initializer=factorial.start_worker, initargs=(problem,)) as executor:
        factorial.store_residues(problem, executor.map(factorial.chunk_task, factorial.chunks(problem)))
    factorial.make_checksum(problem)
    return run.phases_from_spans(start, problem.spans)


def main():
    # ---- parse ----
    options = factorial.parse(sys.argv, MODEL, cli.MANY_WORKERS, executors.flags(DEFAULT_EXECUTOR),
                              executors.defaults(DEFAULT_EXECUTOR), pool=True)
    executors.use_start_method(options)
    options.model_figures = executors.model_figures(options)

    # ---- prepare: ranges of equal cost and room for the results, outside the timed region ----
    problem = factorial.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, factorial.TASK, problem, one_factorial if problem.mode == "big" else many_factorials)


if __name__ == "__main__":
    run.main(main)
