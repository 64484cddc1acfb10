"""python/mpi4py/factorial.py — exact factorials with mpi4py: numbers up a tree of messages; a task farm.

Run:    tools/mpirun -np 2 bin/factorial-py-mpi4py -n 100000
        tools/mpirun -np 2 bin/factorial-py-mpi4py --mode many -n 3000 --schedule dynamic
Models: python/serial/factorial.py is the baseline; here the workers are MPI
        ranks, processes that share nothing, so numbers travel as messages
        (diff -u python/serial/factorial.py python/mpi4py/factorial.py).
        Python's integers are objects, so they travel with mpi4py's lower-case
        calls, comm.send and comm.recv, which pickle them.
        --mode big   rank r multiplies its range, then climbs serial's tree:
                     at each step it either receives its partner's product
                     (comm.probe waits for it first: that wait is the
                     partner's lateness, not communication) and multiplies it
                     in, or sends its own to its partner and is done; rank 0
                     ends with n!.
        --mode many  a master-worker task farm: rank 0 deals the chunks
                     --schedule and --chunk make (all three: the dealer is
                     one, on rank 0) and works too, answering between two of
                     its tasks; every other rank asks for a chunk, computes
                     it and sends its residues back, which asks for the next,
                     keeping CHUNKS_AHEAD requests out so it computes while an
                     answer is on its way. A farm, not a fixed deal, because
                     task k costs more as k grows: whoever is free takes the
                     next chunk (--schedule dynamic, the default), as in every
                     other model.
        The messages are inside the timed region (comm=); the ranks meet at a
        barrier before the clock, the time is the slowest rank's, and rank 0
        checks the whole result and prints.
        Siblings: python/multiprocessing/ (a pool, one machine); mpi/factorial.c (MPI in C).
Shared: python/common/factorial.py (the kernel, the ranges, the dealer, the check),
        python/common/mpi.py (the ranks as a team, leaving together),
        python/common/run.py (timing, result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, factorial, mpi, run  # noqa: E402

MODEL = "py-mpi4py"
MPI = None  # mpi4py's MPI module, once main() has imported it (which starts MPI)
# What a message is: a partial product with its range's end (big), a worker's
# results or first request to rank 0, rank 0's answer: a chunk (None: no more).
TAG_NUMBER, TAG_RESULTS, TAG_CHUNK = 1, 2, 3
# Requests a worker rank keeps out, so that it computes while an answer travels.
CHUNKS_AHEAD = 2


def one_factorial(problem):
    """n! as the product of the ranks' ranges, combined pairwise up a tree of
    messages: at each step, rank `into` receives rank `into + step`'s product."""
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    start = run.clock()
    factorial.multiply_range(problem, rank)
    last_end, comm_seconds = problem.spans[-1].end, 0.0  # last_end: the latest range's end that reached here
    # A moment travels as seconds since the run's start (the ranks left the barrier
    # together), never as a clock reading: each host's monotonic clock counts from its own boot.
    for step in factorial.tree_steps(size):
        if rank % (2 * step) == step:  # this rank's turn to send: then it is done
            began = run.clock()
            comm.send((problem.partial[rank], last_end - start), dest=rank - step, tag=TAG_NUMBER)
            comm_seconds += run.clock() - began
            break
        if rank + step < size:
            comm.probe(source=rank + step, tag=TAG_NUMBER)
            began = run.clock()
            problem.partial[rank + step], partner_since_start = comm.recv(source=rank + step, tag=TAG_NUMBER)
            comm_seconds += run.clock() - began
            factorial.combine(problem, rank, rank + step)
            last_end = max(last_end, start + partner_since_start)
    factorial.take_result(problem)  # rank 0: the tree's root is n!
    phases = run.phases_from_spans(start, problem.spans)
    phases.setup, phases.comm, phases.combine = 0.0, comm_seconds, run.clock() - last_end  # setup: the ranks exist
    return phases


class Farm:
    """What rank 0 keeps while it deals: answers still owed, time in MPI calls, when results last came in."""

    def __init__(self, awaited):
        self.awaited, self.comm_seconds, self.last_heard = awaited, 0.0, run.clock()


def answer(problem, comm, status, farm):
    """One worker's message: keep its results, send it its next chunk (None when the dealer has no more for it)."""
    source = status.Get_source()
    began = run.clock()
    results = comm.recv(source=source, tag=TAG_RESULTS)
    if results is not None:  # None: a request that brings no results yet
        first, residues = results
        problem.residue[first:first + len(residues)] = residues
    chunk = factorial.deal(problem, source)
    comm.send(chunk, dest=source, tag=TAG_CHUNK)
    farm.awaited += (chunk is not None) - 1
    farm.last_heard = run.clock()
    farm.comm_seconds += farm.last_heard - began


def deal_and_work(problem, comm):
    """Rank 0's part: its own chunks task by task, answering the workers
    between two tasks, then only answering until every worker is done."""
    farm, status = Farm(CHUNKS_AHEAD * (comm.Get_size() - 1)), MPI.Status()
    while (chunk := factorial.deal(problem, 0)) is not None:
        first, count = chunk
        for k in range(first, first + count):
            factorial.tasks(problem, 0, (k, 1))
            while comm.iprobe(source=MPI.ANY_SOURCE, tag=TAG_RESULTS, status=status):
                answer(problem, comm, status, farm)
    farm.last_heard = run.clock()
    while farm.awaited > 0:
        comm.probe(source=MPI.ANY_SOURCE, tag=TAG_RESULTS, status=status)  # the wait is the workers' lateness
        answer(problem, comm, status, farm)
    return farm


def work(problem, comm):
    """A worker rank's part: ask for CHUNKS_AHEAD chunks, then compute each chunk
    that comes and send its residues back (which asks for one more), until every
    message has had its answer. Returns the seconds spent in MPI calls."""
    rank, answered = comm.Get_rank(), 0
    began = run.clock()
    for _ in range(CHUNKS_AHEAD):
        comm.send(None, dest=0, tag=TAG_RESULTS)
    sent, comm_seconds = CHUNKS_AHEAD, run.clock() - began
    while answered < sent:
        began = run.clock()
        chunk = comm.recv(source=0, tag=TAG_CHUNK)
        comm_seconds += run.clock() - began
        answered += 1
        if chunk is None:
            continue
        factorial.tasks(problem, rank, chunk)
        first, count = chunk
        began = run.clock()
        comm.send((first, problem.residue[first:first + count]), dest=0, tag=TAG_RESULTS)
        comm_seconds += run.clock() - began
        sent += 1
    return comm_seconds


def many_factorials(problem):
    """The tasks 1..n, dealt out by rank 0 to every rank (itself included) on request,
    the results gathered on rank 0."""
    comm = MPI.COMM_WORLD
    start = run.clock()
    if comm.Get_rank() == 0:
        farm = deal_and_work(problem, comm)
        factorial.make_checksum(problem)
        phases = run.phases_from_spans(start, problem.spans)
        phases.comm, phases.combine = farm.comm_seconds, run.clock() - farm.last_heard
    else:
        comm_seconds = work(problem, comm)
        phases = run.phases_from_spans(start, problem.spans)
        phases.comm, phases.combine = comm_seconds, 0.0
    phases.setup = 0.0  # the ranks exist before the clock starts
    return phases


def main():
    global MPI
    # ---- parse, then start MPI: -p is the number of ranks ----
    options = factorial.parse(sys.argv, MODEL, cli.MANY_WORKERS, defaults=mpi.parse_defaults())
    MPI = mpi.start(options)

    # ---- prepare: ranges of equal cost and room for the results, outside the timed region ----
    problem = factorial.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run (rank 0) ----
    run.repeat(options, factorial.TASK, problem, one_factorial if problem.mode == "big" else many_factorials,
               mpi.team)


if __name__ == "__main__":
    mpi.main(main)
