"""python/threading/factorial.py — exact factorials with threads: ranges, pairs of the tree and task takers.

Run:    bin/factorial-py-threading -n 100000 -p 2
        bin/factorial-py-threading --mode many -n 3000 -p 2 --schedule dynamic
Models: python/serial/factorial.py is the baseline; this file turns each of
        its loops over workers into threads, started and joined
        (diff -u python/serial/factorial.py python/threading/factorial.py):
        --mode big   one thread per range, then per round of the tree one
                     thread per pair; the rounds wait for each other by joining.
        --mode many  one thread per worker, each asking the one shared dealer
                     for its next chunk, under a lock (two threads must not
                     take the same chunk): the lesson on locks.
        Python's integers hold the GIL while they multiply, so the threads take
        turns: on CPU-bound Python code they bring no speedup (the tutorials'
        claim, measured). gmpy2's integers hold it too, as gmpy2 comes (--kernel
        gmpy2); --kernel gmpy2-nogil lets go of it while GMP multiplies.
        Siblings: python/multiprocessing/ (a process pool); threads/factorial.c (pthreads, in C).
Shared: python/common/factorial.py (the kernel, the ranges, the dealer, the check),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, factorial, run  # noqa: E402

MODEL = "py-threading"

# The lock around the dealer: one thread at a time may take a chunk.
dealer_lock = threading.Lock()


def in_threads(body, argument_lists):
    """One thread running body for each argument list, then join them all:
    a loop of python/serial/factorial.py, its turns run at once."""
    threads = [threading.Thread(target=body, args=arguments) for arguments in argument_lists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def take_chunks(problem, worker):
    """A thread's whole life in --mode many: take chunks from the shared dealer until none are left."""
    while True:
        with dealer_lock:
            chunk = factorial.deal(problem, worker)
        if chunk is None:
            return
        factorial.tasks(problem, worker, chunk)


def one_factorial(problem):
    """n! as the product of the workers' ranges, one thread per range,
    combined pairwise up a tree, one thread per pair of each round."""
    start = run.clock()
    in_threads(factorial.multiply_range, [(problem, worker) for worker in range(problem.workers)])
    for step in factorial.tree_steps(problem.workers):
        in_threads(factorial.combine, [(problem, into, into + step)
                                       for into in range(0, problem.workers - step, 2 * step)])
    factorial.take_result(problem)
    return run.phases_from_spans(start, problem.spans)


def many_factorials(problem):
    """The tasks 1..n, taken chunk by chunk from the shared dealer by problem.workers threads at once."""
    start = run.clock()
    in_threads(take_chunks, [(problem, worker) for worker in range(problem.workers)])
    factorial.make_checksum(problem)
    return run.phases_from_spans(start, problem.spans)


def main():
    # ---- parse ----
    options = factorial.parse(sys.argv, MODEL, cli.MANY_WORKERS)

    # ---- prepare: ranges of equal cost and room for the results, outside the timed region ----
    problem = factorial.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, factorial.TASK, problem, one_factorial if problem.mode == "big" else many_factorials)


if __name__ == "__main__":
    run.main(main)
