"""python/dask/matmul.py — matrix multiply C = A·B with Dask: one dask.delayed task per block of rows.

Run:    bin/matmul-py-dask -n 1024 -p 2 -r 5                          (--scheduler threads)
        bin/matmul-py-dask -n 1024 -p 2 --scheduler processes
        bin/matmul-py-dask -n 1024 -p 2 --scheduler distributed       (a LocalCluster of 2 processes)
Models: python/serial/matmul.py is the baseline; here each block of rows is a
        dask.delayed task whose operands, A's rows and all of B, are in the
        graph (distributed: scattered to the workers first, as Dask advises
        for large inputs), and dask.compute runs the tasks on the workers
        --scheduler names, sending back each block of C's rows (diff -u
        python/serial/matmul.py python/dask/matmul.py). With threads the
        operands are shared (NumPy's BLAS runs without the GIL, as in
        python/threading/); with processes and distributed they travel,
        pickled, to the worker that runs the task, and C's rows travel back.
        A tutorial would reach for dask.array, da.from_array(A, chunks=(rows, n)) @ B:
        it cuts the product into blocks its own way and calls NumPy on each,
        so the suite's kernel (and its --kernel python), the blocks every other
        model uses, and each block's span would be out of sight; dask.delayed
        keeps all three, and is what dask.array builds on.
        Siblings: python/multiprocessing/ (a pool); python/mpi4py/ (MPI ranks).
Shared: python/common/matmul.py (inputs, the kernels, the check), python/common/schedulers.py
        (--scheduler, the LocalCluster), python/common/run.py (timing, result
        lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, matmul, run, schedulers  # noqa: E402

MODEL = "py-dask"
dask = None     # the dask package, once main() has imported it (missing: exit status 2, naming python3-dask)
session = None  # --scheduler's workers: what dask.compute is told (common/schedulers.py)


def block_task(index, kernel, a_rows, b):
    """A task: a block of A's rows times B by the one kernel, sent back as (index, rows, span)."""
    start = run.clock()
    rows = matmul.rows_times_b(kernel, a_rows, b)
    return index, rows, run.Span(schedulers.worker(), start, run.clock())


def multiply(problem):
    """C = A·B, one task per block of rows, computed by --scheduler's workers;
    the graph, the operands' travel and the rows' way back are part of the time."""
    start = run.clock()
    b = session.share(problem.b, everywhere=True)  # every task needs all of B: it enters the graph once
    blocks = [dask.delayed(block_task)(index, problem.kernel, session.share(problem.a[first:last]), b)
              for index, (first, last) in enumerate(problem.blocks)]
    matmul.store(problem, dask.compute(*blocks, **session.compute_options))
    return run.phases_from_spans(start, problem.spans)


def main():
    global dask, session
    # ---- parse (and load NumPy on the right BLAS core, and Dask) ----
    options = matmul.parse(sys.argv, MODEL, cli.MANY_WORKERS, [schedulers.FLAG], schedulers.DEFAULTS,
                           in_threads=schedulers.in_threads)
    dask = schedulers.load(options)

    # ---- prepare: A and B from the seed, outside the timed region ----
    problem = matmul.prepare(options)

    # ---- run, verify, report: on --scheduler's workers (distributed: a LocalCluster, started first) ----
    with schedulers.Session(options) as session:
        run.repeat(options, matmul.TASK, problem, multiply)


if __name__ == "__main__":
    run.main(main)
