"""python/joblib/matmul.py — matrix multiply C = A·B with joblib: one delayed(block_job) per block of rows.

Run:    bin/matmul-py-joblib -n 1024 -p 2 -r 5                       (loky: worker processes)
        bin/matmul-py-joblib -n 1024 -p 2 --backend threading        (NumPy lets go of the GIL: threads scale)
Models: python/serial/matmul.py is the baseline; this file turns its loop over
        blocks of rows into one job per block for joblib's Parallel
        (diff -u python/serial/matmul.py python/joblib/matmul.py). Parallel
        has no initializer, so each job carries its operands: its rows of A
        and all of B. To a loky worker joblib writes arrays over 1 MB once to
        a temporary file that the workers map (no pickled copy each); each
        job sends its block of C back and this thread puts it in place.
        --backend loky (default, as joblib's: worker processes) or threading
        (with --kernel numpy the threads really run at once: the BLAS runs
        without the GIL). Every run starts loky's workers (the first call)
        and ends them: both timed, setup= and combine= (python/common/jobs.py
        says why). At -p 1 joblib runs the job in this process, with no worker.
        Siblings: python/futures/, python/multiprocessing/, python/threading/;
        processes/matmul.c (fork, in C).
Shared: python/common/matmul.py (inputs, the kernels, the check, the jobs),
        python/common/jobs.py (--backend, joblib, workers that end with the run and the program),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, jobs, matmul, run  # noqa: E402

MODEL = "py-joblib"
joblib = None  # the joblib module, once main has found it (python3-joblib)


def multiply(problem):
    """C = A·B, one job per block of rows, on problem.workers workers; starting
    them, sending the operands and the blocks, and ending them are part of the time."""
    start = run.clock()
    with jobs.session(problem):
        matmul.store(problem, joblib.Parallel(n_jobs=problem.workers, backend=problem.options.backend)(
            joblib.delayed(matmul.block_job)(index, problem.a[first:last], problem.b, problem.kernel)
            for index, (first, last) in enumerate(problem.blocks)))
    return run.phases_from_spans(start, problem.spans)


def main():
    global joblib
    # ---- parse (and load NumPy on the right BLAS core, and find joblib) ----
    options = matmul.parse(sys.argv, MODEL, cli.MANY_WORKERS, [jobs.BACKEND_FLAG], jobs.DEFAULTS,
                           in_threads=jobs.in_threads, pool_threads=jobs.POOL_THREADS)
    options.model_figures = jobs.model_figures(options)
    joblib = jobs.load(options)

    # ---- prepare: A and B from the seed, outside the timed region ----
    problem = matmul.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, matmul.TASK, problem, multiply)


if __name__ == "__main__":
    run.main(main)
