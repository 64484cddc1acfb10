"""python/futures/matmul.py — matrix multiply C = A·B with concurrent.futures: executor.map over blocks of rows.

Run:    bin/matmul-py-futures -n 1024 -p 2 -r 5                     (a ProcessPoolExecutor)
        bin/matmul-py-futures -n 1024 -p 2 --executor thread        (NumPy lets go of the GIL: threads scale)
Models: python/serial/matmul.py is the baseline; this file hands its blocks
        of rows to an executor with executor.map (diff -u python/serial/matmul.py
        python/futures/matmul.py). The executor's initializer hands each
        worker the problem once; each task sends its block of C's rows back
        (pickled, from a process) and this thread puts them in place.
        --executor process (default: CPU-bound work, the tutorials' rule) or
        thread: with --kernel numpy the threads really run at once, since the
        BLAS runs without the GIL; with --kernel python they take turns.
        Creating the executor and shutting it down are timed: setup= and combine=.
        Siblings: python/multiprocessing/ (a Pool), python/threading/ (threads
        by hand), python/joblib/; processes/matmul.c (fork, in C).
Shared: python/common/matmul.py (inputs, the kernels, the check, the tasks),
        python/common/executors.py (--executor, executors that stop on an error),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, executors, matmul, run  # noqa: E402

MODEL = "py-futures"
# CPU-bound work: processes, each with its own GIL (the tutorials' rule; --executor thread to see NumPy scale).
DEFAULT_EXECUTOR = "process"


def multiply(problem):
    """C = A·B, one task per block of rows through an executor of problem.workers
    workers; creating it, sending the blocks back and shutting it down are part of the time."""
    start = run.clock()
    Executor = executors.EXECUTORS[problem.options.executor]
    with Executor(problem.workers, initializer=matmul.start_worker, initargs=(problem,)) as executor:
        matmul.store(problem, executor.map(matmul.block_task, range(problem.workers)))
    return run.phases_from_spans(start, problem.spans)


def main():
    # ---- parse (and load NumPy on the right BLAS core) ----
    options = matmul.parse(sys.argv, MODEL, cli.MANY_WORKERS, executors.flags(DEFAULT_EXECUTOR),
                           executors.defaults(DEFAULT_EXECUTOR), in_threads=executors.in_threads)
    executors.use_start_method(options)
    options.model_figures = executors.model_figures(options)

    # ---- prepare: A and B from the seed, outside the timed region ----
    problem = matmul.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, matmul.TASK, problem, multiply)


if __name__ == "__main__":
    run.main(main)
