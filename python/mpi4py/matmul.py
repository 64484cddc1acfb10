"""python/mpi4py/matmul.py — matrix multiply C = A·B with mpi4py: A's rows scattered, B broadcast, C gathered.

Run:    tools/mpirun -np 2 bin/matmul-py-mpi4py -n 1024 -r 5
Models: python/serial/matmul.py is the baseline; here each block of rows
        belongs to an MPI rank, a process of its own that shares nothing, so
        the data must travel (diff -u python/serial/matmul.py python/mpi4py/matmul.py):
        rank 0 holds A and B (from the seed); comm.Scatterv sends every rank
        its block of A's rows, comm.Bcast sends all of B, each rank multiplies
        its rows, and comm.Gatherv brings C's rows back to rank 0. These are
        mpi4py's upper-case methods, which send NumPy arrays as the buffers
        they are; the lower-case ones (comm.bcast, comm.gather) pickle Python
        objects. The messages are inside the timed region (comm=); the ranks
        meet at a barrier before the clock, the time is the slowest rank's,
        and rank 0 checks the whole C and prints.
        Siblings: python/multiprocessing/ (a pool, one machine); mpi/matmul.c (the same in C).
Shared: python/common/matmul.py (inputs, the kernels, the check), python/common/mpi.py
        (the ranks as a team, leaving together), python/common/run.py (timing,
        result lines), python/common/cli.py (flags).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, matmul, mpi, run  # noqa: E402

MODEL = "py-mpi4py"
MPI = None  # mpi4py's MPI module, once main() has imported it (which starts MPI)
# A row of NaNs that a rank finds where its rows should have arrived fails the check.
POISON = float("nan")


def multiply(problem):
    """C = A·B: A's rows and all of B out from rank 0, this rank's rows
    multiplied, C's rows back to rank 0."""
    comm = MPI.COMM_WORLD
    start = run.clock()
    comm.Scatterv([problem.a, problem.counts, problem.offsets, MPI.DOUBLE], problem.a_rows, root=0)
    comm.Bcast(problem.b, root=0)
    sent = run.clock()
    matmul.rows_times_b(problem.kernel, problem.a_rows, problem.b, problem.c_rows)
    computed = run.clock()
    comm.Gatherv(problem.c_rows, [problem.c, problem.counts, problem.offsets, MPI.DOUBLE], root=0)
    return run.Phases(comm=(sent - start) + (run.clock() - computed), compute=computed - sent)


def prepare(options, rank):
    """Rank 0: A and B from the seed, room for C; every rank: room for its
    block of A's and C's rows and (the others) for B, counted as Scatterv and
    Gatherv want them; all outside the timed region."""
    problem = matmul.prepare(options, inputs=rank == 0)
    first, last = problem.blocks[rank]
    problem.a_rows = matmul.np.empty((last - first, problem.n))
    problem.c_rows = matmul.np.empty((last - first, problem.n))
    problem.counts = [(high - low) * problem.n for low, high in problem.blocks]
    problem.offsets = [low * problem.n for low, high in problem.blocks]
    return problem


def reset(problem):
    """matmul's reset, and this rank's buffers poisoned too, so rows that never arrived fail the check."""
    matmul.reset(problem)
    problem.a_rows.fill(POISON)
    problem.c_rows.fill(POISON)
    if MPI.COMM_WORLD.Get_rank() != 0:
        problem.b.fill(POISON)


TASK = run.Task(reset, matmul.verify, matmul.corrupt, matmul.figures)


def main():
    global MPI
    # ---- parse (and load NumPy on the right BLAS core, before MPI starts), then start MPI: -p is the ranks ----
    options = matmul.parse(sys.argv, MODEL, cli.MANY_WORKERS,
                           defaults=mpi.parse_defaults(ranks_here=mpi.launcher_ranks_here()))
    MPI = mpi.start(options)

    # ---- prepare: A and B from the seed on rank 0, outside the timed region ----
    problem = prepare(options, MPI.COMM_WORLD.Get_rank())

    # ---- run, verify, report: warm-up runs, then one result line per timed run (rank 0) ----
    run.repeat(options, TASK, problem, multiply, mpi.team)


if __name__ == "__main__":
    mpi.main(main)
