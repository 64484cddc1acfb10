"""python/joblib/factorial.py — exact factorials with joblib: Parallel(n_jobs=P)(delayed(job)(...) for ...).

Run:    bin/factorial-py-joblib -n 100000 -p 2                       (loky: worker processes)
        bin/factorial-py-joblib --mode many -n 3000 -p 2
        bin/factorial-py-joblib --mode many -n 3000 -p 2 --backend threading   (the GIL: no speedup)
Models: python/serial/factorial.py is the baseline; this file turns its loops
        into jobs for joblib's Parallel, as joblib's documentation writes it
        (diff -u python/serial/factorial.py python/joblib/factorial.py).
        Parallel has no initializer, so each job carries what it needs:
        --mode big   one job per range (its first and last factor), then per
                     round of the tree one job per pair (the two numbers,
                     pickled to a process); one Parallel for all the rounds.
        --mode many  one job per chunk that --schedule and --chunk make;
                     joblib batches tiny jobs itself (batch_size="auto").
        --backend loky (default, as joblib's: worker processes) or threading
        (threads, which share one GIL: no speedup; try --kernel gmpy2, then gmpy2-nogil).
        Every run starts loky's workers (the first call) and ends them: both
        timed, setup= and combine= (python/common/jobs.py says why). At -p 1
        joblib runs the jobs in this process, with no worker.
        Siblings: python/futures/, python/multiprocessing/, python/threading/;
        processes/factorial.c (fork and pipes, in C).
Shared: python/common/factorial.py (the kernel, the ranges, the check, the jobs),
        python/common/jobs.py (--backend, joblib, workers that end with the run and the program),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, factorial, jobs, run  # noqa: E402

MODEL = "py-joblib"
joblib = None  # the joblib module, once main has found it (python3-joblib)


def one_factorial(problem):
    """n! as the product of the workers' ranges, one job per range, combined
    pairwise up a tree, one job per pair of each round, through one Parallel."""
    start = run.clock()
    with jobs.session(problem), joblib.Parallel(n_jobs=problem.workers, backend=problem.options.backend) as parallel:
        factorial.store_ranges(problem, parallel(
            joblib.delayed(factorial.range_job)(worker, problem.bound[worker] + 1, problem.bound[worker + 1],
                                                problem.kernel) for worker in range(problem.workers)))
        for step in factorial.tree_steps(problem.workers):
            factorial.store_pairs(problem, parallel(
                joblib.delayed(factorial.pair_task)(item) for item in factorial.pair_items(problem, step)))
    factorial.take_result(problem)
    return run.phases_from_spans(start, problem.spans)


def many_factorials(problem):
    """The tasks 1..n, one job per chunk, on problem.workers workers."""
    start = run.clock()
    with jobs.session(problem):
        factorial.store_residues(problem, joblib.Parallel(n_jobs=problem.workers, backend=problem.options.backend)(
            joblib.delayed(factorial.chunk_job)(chunk, problem.kernel) for chunk in factorial.chunks(problem)))
    factorial.make_checksum(problem)
    return run.phases_from_spans(start, problem.spans)


def main():
    global joblib
    # ---- parse (and find joblib) ----
    options = factorial.parse(sys.argv, MODEL, cli.MANY_WORKERS, [jobs.BACKEND_FLAG], jobs.DEFAULTS, pool=True)
    options.model_figures = jobs.model_figures(options)
    joblib = jobs.load(options)

    # ---- prepare: ranges of equal cost and room for the results, outside the timed region ----
    problem = factorial.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, factorial.TASK, problem, one_factorial if problem.mode == "big" else many_factorials)


if __name__ == "__main__":
    run.main(main)
