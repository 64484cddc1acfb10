"""python/ipyparallel/factorial.py — the factorials of 1..n as tasks on IPython Parallel engines, through a load-balanced view.

Run:    bin/factorial-py-ipyparallel --mode many -n 3000 -p 2
        bin/factorial-py-ipyparallel --mode many -n 3000 -p 2 --chunk 50     (fewer, larger tasks)
Models: python/serial/factorial.py is the baseline; this file hands its tasks
        to the engines of an IPython Parallel cluster: Python processes of
        their own, fed by a controller, each task to whichever engine is free
        (a load-balanced view, one task in hand per engine)
        (diff -u python/serial/factorial.py python/ipyparallel/factorial.py).
        The program starts its own cluster before the first run, a controller
        and P engines on 127.0.0.1, and stops it after the last; the start-up
        (seconds, on a loaded machine tens of them) is outside the timed region and
        on every result line as cluster_start=. The engines are fresh
        interpreters, not forks of this one: they are told where the suite's
        code is and sent the problem, once. Then every task and its result
        is a message through the controller: per_task_us shows the price.
        --mode many only: --mode big's rounds of multiplications are
        python/multiprocessing/factorial.py's.
        Siblings: python/multiprocessing/ (a process pool); mpi/factorial.c (a task farm over MPI, in C).
Shared: python/common/cluster.py (the cluster started, stopped, nothing left behind),
        python/common/factorial.py (the kernel, the chunks, the check, the tasks),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

PYTHON_DIR = str(Path(__file__).resolve().parents[1])  # python/, where common/ is
sys.path.insert(0, PYTHON_DIR)
from common import cli, cluster, factorial, report, run  # noqa: E402

MODEL = "py-ipyparallel"
# Memory an engine takes (an interpreter with IPython, ZeroMQ and the kernel loaded, and its nanny).
ENGINE_BYTES = 160 << 20


def many_factorials(problem, view):
    """The tasks 1..n, chunk by chunk, through the cluster's load-balanced view:
    each chunk to whichever engine is free. (map_async, then get: map_sync
    would take Ctrl-C as "stop waiting" and carry on, IPython's way.)"""
    start = run.clock()
    factorial.store_residues(problem, view.map_async(factorial.chunk_task, factorial.chunks(problem)).get())
    factorial.make_checksum(problem)
    return run.phases_from_spans(start, problem.spans)


def load_engines(options):
    """--mode many only, engines the memory holds; then IPython Parallel itself."""
    if options.mode != "many":
        raise report.UsageError("--mode big: the ipyparallel model runs --mode many only (the factorials of 1..n "
                                "as tasks on its engines); add --mode many")
    if options.workers * ENGINE_BYTES > cli.memory_total():
        raise report.UsageError("-p %d: %d engines need about %.1f GiB of memory, more than the %.1f GiB this "
                                "machine has" % (options.workers, options.workers, options.workers * ENGINE_BYTES
                                                 / 2 ** 30, cli.memory_total() / 2 ** 30))
    ipp = report.require("ipyparallel", "python3-ipyparallel", "the ipyparallel model")
    options.startup = run.startup_seconds()  # its import (a second or so) is start-up too
    return ipp


def main():
    # ---- parse ----
    options = factorial.parse(sys.argv, MODEL, cli.MANY_WORKERS, pool=True, many_only=True)
    ipp = load_engines(options)

    # ---- prepare: room for the results, outside the timed region ----
    problem = factorial.prepare(options)

    # ---- start the cluster: a controller and P engines, outside the timed region (cluster_start=) ----
    with cluster.started(ipp, options, problem.workers) as rc:
        engines = rc[:]  # a DirectView: every engine, for setting them up
        engines.execute("import sys; sys.path.insert(0, %r)" % PYTHON_DIR).get()  # fresh interpreters: where
        engines.apply_async(factorial.keep_problem, problem).get()                # common/ is, and the problem
        view = rc.load_balanced_view()

        # ---- run, verify, report: warm-up runs, then one result line per timed run ----
        run.repeat(options, factorial.TASK, problem, lambda problem: many_factorials(problem, view))


if __name__ == "__main__":
    run.main(main)
