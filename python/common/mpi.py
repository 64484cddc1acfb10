"""python/common/mpi.py — an MPI job's ranks as one team (common/team_mpi.c's), and how they leave together.

The mpi4py programs (python/mpi4py/<workload>.py) are started by
tools/mpirun -np P, every rank a process running the same file. What they
share lives here, as common/team_mpi.c serves mpi/*.c:

  start  once the command line is parsed: start MPI (importing mpi4py.MPI
         runs MPI_Init) and make -p the number of ranks (left out: set to
         it; another number: refused; a lone process started without mpirun
         is a job of one rank, so there -p 2 is refused, saying how to launch it).
  Team   what run.repeat asks of the ranks (run.Solo's members, over
         MPI.COMM_WORLD): a barrier before the clock, the slowest rank's time
         and phases, rank 0's verdict known to all.
  main   run.main for ranks: every rank leaves with the same exit status,
         and none is left waiting.

Leaving together. A rank that leaves while another waits for it in a
collective call leaves that one waiting forever (and mpi4py's MPI_Finalize
at exit waits too). So:
  - before MPI has started (the command line, which every rank reads alike,
    and NumPy's BLAS core, whose correction runs the program again: an MPI
    process must not exec), each rank leaves by itself, and only the one the
    launcher numbers 0 speaks, so every message is printed once;
  - between MPI's start and the first run (-p against the ranks, preparing
    the problem), a rank may fail alone (a directory its node cannot make):
    every rank brings its exit status to the first barrier of run.repeat (a
    failed one from main), all leave with the worst, and the lowest failed
    rank says why (so a model makes no collective call before run.repeat);
  - a wrong result is known to every rank (Team.agree), and all leave with 1;
    so are the checks made with Team.settle after the runs;
  - any other failure during the runs (an exception on one rank, Ctrl-C)
    is that rank's alone: it says so and aborts the job (MPI_Abort), which
    ends every rank, and mpirun exits non-zero.
Every rank but 0 writes nothing on stdout: the result lines are rank 0's.
"""
import os
import sys
import time
import traceback

from . import cli, report, run

# What a launcher tells each process it starts about its rank (Open MPI, PMIx,
# MPICH's PMI, Slurm's srun): read before MPI has started, to say things once.
LAUNCHER_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID")
# ... and how many processes it started on this host (Open MPI, MPICH's Hydra).
LAUNCHER_LOCAL_SIZE_VARIABLES = ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS")

# Seconds a rank other than 0 waits before it leaves with an error found
# before MPI started. mpirun ends the whole job as soon as one rank has left
# with an error (tools/mpirun: at once, no grace), so rank 0, the one that
# says why, must be first to leave, or it could be killed before it spoke.
# Leaving first, it ends the job: nobody waits this long.
SPEAKER_FIRST = 3.0

MPI = None   # mpi4py.MPI, once start() has imported it (and so started MPI)
team = None  # this job's Team, once start() has made it


class Quiet:
    """Where a rank other than 0 writes what rank 0 says for the job: nowhere.
    No file is opened for it, so none is left unclosed, which Python would
    say in a ResourceWarning (shown under PYTHONWARNINGS=default, -X dev)."""

    def write(self, text):
        return len(text)

    def flush(self):
        pass


class Stopped(Exception):
    """Every rank stops here at once, with this exit status; the reason was said already, once."""

    def __init__(self, code):
        super().__init__("stopped with exit status %d" % code)
        self.code = code


class Team:
    """The ranks of MPI.COMM_WORLD, as run.repeat sees them (run.Solo's members)."""

    def __init__(self, comm):
        self.comm, self.rank, self.size = comm, comm.Get_rank(), comm.Get_size()
        self.met = False  # whether this rank has been to the first meeting (meet)

    def meet(self, code):
        """The first meeting of every rank, before any run: each brings its exit
        status so far; returns the worst, which is everyone's, and the lowest
        rank that failed (None when none did)."""
        self.met = True
        codes = self.comm.allgather(code)
        failed = [rank for rank, each in enumerate(codes) if each != report.EXIT_OK]
        return max(codes), (failed[0] if failed else None)

    def barrier(self):
        """Return once every rank has arrived. The first time, this is the
        meeting where a rank that failed before the runs tells the others."""
        if self.met:
            self.comm.Barrier()
            return
        worst, _ = self.meet(report.EXIT_OK)
        if worst != report.EXIT_OK:
            raise Stopped(worst)

    def slowest(self, values):
        """Each value's maximum over the ranks (the time and phases reported are the slowest rank's)."""
        return [max(column) for column in zip(*self.comm.allgather(values))]

    def agree(self, verified):
        """Rank 0's verdict (only rank 0 checks), known to every rank."""
        return self.comm.bcast(verified, root=0)

    def settle(self, check, *args):
        """check(*args) on every rank, after the runs; if it fails on any (each
        failed rank says why), every rank leaves with exit status 1, together."""
        code = report.EXIT_OK
        try:
            check(*args)
        except report.Failure as e:
            report.error(str(e))
            code = report.EXIT_FAILED
        worst = max(self.comm.allgather(code))
        if worst != report.EXIT_OK:
            raise Stopped(worst)


def launcher_rank():
    """This process's rank as its launcher numbered it, before MPI has started (0 when started alone)."""
    for name in LAUNCHER_RANK_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def parse_defaults(**more):
    """What an MPI program's parse needs besides its own defaults (more): a list where
    cli.check_memory notes its checks, for start to make once the ranks can agree."""
    return dict(memory_checks=[], **more)


def launcher_ranks_here():
    """How many ranks the launcher started on this host, before MPI has started (1 when started alone):
    each holds its own copies, and the host's memory must hold them all."""
    for name in LAUNCHER_LOCAL_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def hush(rank, stderr_too):
    """A rank other than 0 writes nothing on stdout (--help, --describe and the
    result lines are rank 0's), and, with stderr_too, nothing on stderr either:
    before MPI has started every rank would say the same things."""
    if rank == 0:
        return
    quiet = Quiet()
    sys.stdout.flush()
    sys.stdout = quiet
    if stderr_too:
        sys.stderr.flush()
        sys.stderr = quiet


def adopt_workers(options, ranks):
    """-p must be the number of ranks (common/team_mpi.c's team_adopt_workers); left out, it becomes it."""
    program = report.program()
    if "workers" not in options.given:
        if ranks > options.workload.max_workers:
            raise report.UsageError("%d MPI ranks were started, more than the %d workers %s takes"
                                    % (ranks, options.workload.max_workers, program))
        options.workers = ranks
    elif options.workers != ranks:
        if ranks == 1:
            raise report.UsageError("-p %d: started as a single process, not as %d MPI ranks; launch it with "
                                    "tools/mpirun -np %d %s ..." % (options.workers, options.workers,
                                                                    options.workers, program))
        raise report.UsageError("-p %d: but %d MPI ranks were started; -p must equal the number of ranks"
                                % (options.workers, ranks))


def keep_tmpdir_usable():
    """/tmp as TMPDIR where TMPDIR names no folder this process can write in (a finished job's scratch
    folder): Open MPI makes its session folder there, and a rank started alone, without mpirun, starts a
    daemon of its own there, so MPI_Init failed (as root it made the whole path). common/team_mpi.c's
    keep_tmpdir_usable; tools/mpirun gives a job /tmp the same way."""
    folder = os.environ.get("TMPDIR")
    if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        os.environ["TMPDIR"] = "/tmp"


def start(options):
    """Start MPI, after the command line was parsed (and NumPy loaded: see the top of
    this file), make -p the number of ranks, and return mpi4py's MPI module."""
    global MPI, team
    keep_tmpdir_usable()
    MPI = report.require("mpi4py.MPI", "python3-mpi4py", "the mpi4py lane")  # importing it runs MPI_Init
    team = Team(MPI.COMM_WORLD)
    if team.size > 1:
        report.set_rank(team.rank)
    sys.stderr = sys.__stderr__  # every rank speaks for itself from here on
    hush(team.rank, stderr_too=False)
    options.startup = run.startup_seconds()  # MPI_Init is part of the start-up, as launching the job is
    adopt_workers(options, team.size)
    # hosts=: the distinct processor names (hosts) among the ranks, as common/team_mpi.c counts them
    names = team.comm.allgather(MPI.Get_processor_name())
    options.model_figures.append(("hosts", str(len(set(names)))))
    # Noted by cli.check_memory, made now: a rank that fails here meets the others at their first barrier
    # (the collectives above are behind every rank), where the first short of memory says so.
    for needed, what in options.memory_checks:
        cli.refuse_if_short(needed, what, team.rank)
    if team.rank == 0 and isinstance(sys.stdout, report.ClosedStdout):
        # Started with stdout closed: its first result line would fail in the middle of the
        # runs, where only MPI_Abort ends the job. Said now, every rank leaves together.
        report.write_stdout("", "the result line")
    return MPI


def outcome(e):
    """(exit status, the lines that say why) for an exception that ends a rank's program."""
    if isinstance(e, report.MissingPackage):
        return report.EXIT_USAGE, [str(e)]
    if isinstance(e, report.UsageError):
        return report.EXIT_USAGE, [str(e), "see '%s --help'" % report.program()]
    if isinstance(e, report.Failure):
        return report.EXIT_FAILED, [str(e)]
    if isinstance(e, KeyboardInterrupt):
        return report.EXIT_FAILED, ["interrupted (Ctrl-C): stopping; no result for the run in progress"]
    if isinstance(e, SystemExit):  # --help and --describe, done
        return (e.code if isinstance(e.code, int) else report.EXIT_FAILED), []
    if MPI is not None and isinstance(e, MPI.Exception):  # the traceback above it names the call
        return report.EXIT_FAILED, ["an MPI call failed: %s" % e.Get_error_string()]
    return report.EXIT_FAILED, ["failed: %s: %s" % (type(e).__name__, e)]


def say(lines, plainly=False):
    """The lines on stderr; plainly: without the rank (a usage error, the same on every rank)."""
    if plainly:
        report.set_rank(None)
    for line in lines:
        report.error(line)


def fail(e):
    """A rank's program ended with exception e, not with every rank together:
    the exit status it leaves with, once the others know (or the job is aborted)."""
    code, lines = outcome(e)
    if team is None:  # MPI has not started: every rank leaves alone; only the launcher's rank 0 says why (hush)
        say(lines)
        if launcher_rank() != 0:
            time.sleep(SPEAKER_FIRST)
        return code
    if not team.met:  # before the first run: the others are on their way to the first meeting
        worst, first = team.meet(code)
        if team.rank == first:
            say(lines, plainly=first == 0 and isinstance(e, report.UsageError))
        return worst
    if not isinstance(e, (report.Failure, report.UsageError, KeyboardInterrupt, SystemExit)):
        traceback.print_exc()  # not one of ours: a bug, whose traceback is worth seeing
    say(lines + ["aborting the MPI job, so that no rank waits for this one"])
    sys.stderr.flush()
    team.comm.Abort(code or report.EXIT_FAILED)
    return code  # Abort does not return


def main(body):
    """run.main for the ranks of an MPI job: body(), then every rank leaves
    with the same exit status, and none is left waiting (see the top of this file)."""
    code = report.EXIT_OK
    try:
        run.keep_standard_streams()  # started with descriptor 0, 1 or 2 closed: /dev/null there, as in run.main
        run.write_any_text()
        run.leave_current_directory_out()
        hush(launcher_rank(), stderr_too=True)
        body()
    except Stopped as e:
        code = e.code
    except report.WrongResult:  # every rank raised it, after Team.agree; rank 0 said why
        code = report.EXIT_FAILED
    except (Exception, KeyboardInterrupt, SystemExit) as e:  # every way out is settled here, on every rank
        code = fail(e)
    run.leave(code)
