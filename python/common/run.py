"""python/common/run.py — the timing contract, written once: warm-up, timed runs, phases, check, report.

For each run the driver (repeat) resets the result, reads the monotonic
clock, calls the model's decomposition, reads the clock again, and only then
verifies and prints: exactly common/run.c's runs_repeat. So input generation
and verification stay outside the timed region, while creating and joining
threads, starting and ending a process pool, and pickling tasks and results
between processes stay inside it: they are the model's real cost. The model
also splits its time into phases (setup, comm, compute, combine).

Under MPI the same driver runs on every rank, with a team (common/team.h's
idea): the ranks meet at a barrier before the clock starts, the time and the
phases reported are the slowest rank's, rank 0 checks the whole result and
prints, and every rank learns its verdict. Every other program runs with the
team of one, SOLO, for which all of that is nothing.

Python adds one cost C does not have: starting the interpreter and importing
its modules (NumPy alone takes a tenth of a second or more). It is outside
the timed region, like launching an MPI job, and reported on every result
line as startup= (see startup_seconds for how it is measured).
"""
import errno
import io
import os
import resource
import statistics
import sys
import threading
import time

from . import report

# From this many timed runs on, a summary line (median, min, max) follows them on stderr.
SUMMARY_MIN_REPS = 3
# How many distinct clock steps clock_tick looks at before taking the smallest.
TICK_SAMPLES = 32
# Field 22 of /proc/self/stat: when the process started, in clock ticks since boot.
STAT_STARTTIME_FIELD = 22

# What starting processes fails with when the system runs out of something:
# descriptors (each worker's pipes), processes, memory.
NO_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM)
# Where the pools of the suite start their worker processes (the standard
# library's multiprocessing, under multiprocessing.Pool, ProcessPoolExecutor and
# Dask's processes scheduler; joblib's loky): an OSError raised in there,
# for lack of NO_RESOURCES, is a pool that could not start its workers.
POOL_STARTERS = ("/multiprocessing/", "/concurrent/futures/process.py", "/loky/")

# The standard descriptors, each with how /dev/null is opened in its place
# when the program was started without it (keep_standard_streams).
STDIN, STDOUT, STDERR = 0, 1, 2
STANDARD_DESCRIPTORS = ((STDIN, os.O_RDONLY), (STDOUT, os.O_RDONLY), (STDERR, os.O_WRONLY))

# How stdout and stderr write a character their encoding lacks: as its escape (write_any_text).
ANY_TEXT = "backslashreplace"

# The environment variable that keeps the current directory off a new interpreter's sys.path
# (leave_current_directory_out).
SAFE_PATH = "PYTHONSAFEPATH"

# Exceptions raised in worker threads (threading.excepthook records them
# here): a run in which one happened has failed, whatever its result says.
thread_failures = []

# The one clock: monotonic wall-clock seconds (CLOCK_MONOTONIC on Linux, the
# clock C's common/clock.c reads), the same in every process of the machine,
# so a worker process's stamps compare with its parent's.
clock = time.monotonic


def clock_tick():
    """The smallest step of the clock, observed (common/clock.c's clock_tick)."""
    smallest, previous, seen = 1.0, clock(), 0
    while seen < TICK_SAMPLES:
        now = clock()
        if now > previous:
            smallest, previous, seen = min(smallest, now - previous), now, seen + 1
    return smallest


def startup_seconds():
    """Seconds from this process's start until now: the launcher, the
    interpreter's own start, the imports, and any re-exec (blas.py's).

    The kernel records when a process was created (fork), in clock ticks
    (1/100 s, usually) since boot, and keeps it across exec; CLOCK_BOOTTIME
    is the clock it was read from. So this covers everything since the
    harness or shell started the program, to within one tick.
    """
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rpartition(")")[2].split()  # the command name may hold spaces: skip past it
        started = int(fields[STAT_STARTTIME_FIELD - 3]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return time.process_time()  # not Linux: at least the CPU time the start-up took


class Span:
    """One stay of a worker in the kernel, stamped by the worker itself on the shared clock."""

    __slots__ = ("worker", "start", "end")

    def __init__(self, worker, start, end):
        self.worker, self.start, self.end = worker, start, end

    def __reduce__(self):  # pickles as a plain tuple: it travels back with every task's result
        return (Span, (self.worker, self.start, self.end))


def worker_id():
    """Who is working, for a Span: the kernel's id of this thread. A pool's worker
    process runs its tasks in its one thread, whose id is the process's pid;
    the threads of an executor in this process each have their own."""
    return threading.get_native_id()


def stamp(worker, function, *args):
    """function(*args) and the Span of that call, as (result, span)."""
    start = clock()
    result = function(*args)
    return result, Span(worker, start, clock())


class Phases:
    """Where a run's time went (common/run.h's struct phases); result lines print them.

    They need not add up to the total: waiting for the slowest worker belongs to none.
    """

    def __init__(self, setup=0.0, comm=0.0, compute=0.0, combine=0.0):
        self.setup, self.comm, self.compute, self.combine = setup, comm, compute, combine


def phases_from_spans(start, spans):
    """The phases of a run that began at start and has just ended (common/run.c's):
    setup until the last worker began, compute the longest any worker spent in
    the kernel, combine from the last worker's end until now.

    A worker that ran several tasks (a pool's process, a thread taking chunks)
    began at its first, ended at its last, and computed for their sum.
    """
    now = clock()
    first, last, busy = {}, {}, {}
    for s in (s for s in spans if s is not None):  # None: a worker that had nothing to do
        first[s.worker] = min(first.get(s.worker, s.start), s.start)
        last[s.worker] = max(last.get(s.worker, s.end), s.end)
        busy[s.worker] = busy.get(s.worker, 0.0) + (s.end - s.start)
    last_start = max([start] + list(first.values()))
    last_end = max([start] + list(last.values()))
    return Phases(setup=last_start - start, compute=max([0.0] + list(busy.values())), combine=now - last_end)


def block_range(total, parts, index):
    """The index-th of parts near-equal slices of 0..total, as (first, last) with last excluded."""
    return total * index // parts, total * (index + 1) // parts


class Solo:
    """The team of one (common/team_single.c): every program but the MPI ones.
    An MPI team (mpi.py) has the same four members, over its ranks."""

    rank = 0  # this member's number; 0 checks, prints and reports

    def barrier(self):
        """Return once every member has arrived (so they start the clock together)."""

    def slowest(self, values):
        """Each value's maximum over the team."""
        return values

    def agree(self, verified):
        """Rank 0's verdict, known to every member."""
        return verified


SOLO = Solo()


class Task:
    """The workload's side of a run, apart from the model's decomposition (common/run.h's struct task)."""

    def __init__(self, reset, verify, corrupt, figures):
        self.reset = reset        # reset(problem): poison the result, so skipped work shows
        self.verify = verify      # verify(problem) -> bool: the whole result against an independent reference
        self.corrupt = corrupt    # corrupt(problem): --inject-error: spoil one value of the result
        self.figures = figures    # figures(problem, seconds) -> " key=value ...": the workload's own


def verdict_word(options, verified):
    """What verified= says."""
    return "skipped" if not options.verify else ("yes" if verified else "no")


def print_result(options, rep, seconds, phases, verified, task, problem):
    """One result line on stdout; raises Failure if stdout cannot take it."""
    line = ("workload=%s model=%s n=%d workers=%d rep=%d seconds=%.9f setup=%.9f comm=%.9f compute=%.9f "
            "combine=%.9f verified=%s%s startup=%.3f%s\n" % (
                options.workload.name, options.model, options.n, options.workers, rep, seconds, phases.setup,
                phases.comm, phases.compute, phases.combine, verified, task.figures(problem, seconds),
                options.startup, "".join(" %s=%s" % pair for pair in options.model_figures)))
    report.write_stdout(line, "the result line")


def print_summary(program, seconds):
    """One line on stderr with the median, fastest and slowest of the timed runs (common/run.c's)."""
    report_line = "%s: summary of %d timed runs: median_seconds=%.9f min_seconds=%.9f max_seconds=%.9f" % (
        program, len(seconds), statistics.median(seconds), min(seconds), max(seconds))
    print(report_line, file=sys.stderr, flush=True)


def repeat(options, task, problem, decomposition, team=SOLO):
    """The warm-up runs, then options.reps timed runs with one result line each
    (a warm-up run's line appears only when its result is wrong, as rep=0), and
    for 3 runs or more a summary line on stderr. Raises WrongResult at the
    first wrong result (under MPI on every rank at once), Failure at the first failure.

    decomposition(problem) computes the whole result once and returns its
    Phases; team is who takes part (SOLO, or an MPI job's ranks: mpi.py).
    """
    timed_seconds = []
    for i in range(options.warmup + options.reps):
        timed = i >= options.warmup
        task.reset(problem)

        team.barrier()
        start = clock()
        phases = decomposition(problem)
        seconds = clock() - start
        if thread_failures:
            raise report.Failure("a worker thread failed: %s" % thread_failures[0])
        seconds, phases.setup, phases.comm, phases.compute, phases.combine = team.slowest(
            [seconds, phases.setup, phases.comm, phases.compute, phases.combine])

        verified = True
        if team.rank == 0:
            if options.inject_error:
                task.corrupt(problem)
            if options.verify:
                verified = task.verify(problem)
        verified = team.agree(verified)
        # A warm-up run's line is printed only when it is wrong (as rep=0), so
        # that a wrong result is always seen, timed or not.
        rep = i - options.warmup + 1 if timed else 0
        if (timed or not verified) and team.rank == 0:
            print_result(options, rep, seconds, phases, verdict_word(options, verified), task, problem)
        if not verified:
            if not timed and team.rank == 0:
                report.error("stopping: the first run's result was wrong (rep=0 above: an untimed warm-up run, "
                             "made before the timed ones; --warmup 0 leaves it out), so no timed run was made")
            raise report.WrongResult()
        if timed:
            timed_seconds.append(seconds)
    if options.reps >= SUMMARY_MIN_REPS and team.rank == 0:
        print_summary(report.program(), timed_seconds)


def main(body):
    """Run a program's main() and end the process with its exit status.

    Usage errors (exit 2), runtime failures and wrong results (exit 1),
    Ctrl-C (exit 1), a pool that cannot start its worker processes for
    lack of descriptors, processes or memory (exit 1) and a worker thread the
    system will not start (exit 1) become one message on stderr, never a
    traceback. A process pool has already been ended by its with-block when the exception
    gets here; threads cannot be ended from outside, so a program stopped
    while its threads still run leaves at once (os._exit) instead of waiting
    for them.
    """
    code = report.EXIT_OK
    threading.excepthook = note_thread_failure
    try:
        keep_standard_streams()
        write_any_text()
        leave_current_directory_out()
        body()
    except report.MissingPackage as e:
        report.error(str(e))
        code = report.EXIT_USAGE
    except report.UsageError as e:
        report.error(str(e))
        report.error("see '%s --help'" % report.program())
        code = report.EXIT_USAGE
    except report.WrongResult:
        code = report.EXIT_FAILED
    except report.Failure as e:
        report.error(str(e))
        code = report.EXIT_FAILED
    except KeyboardInterrupt:
        report.error("interrupted (Ctrl-C): stopping; no result for the run in progress")
        code = report.EXIT_FAILED
    except Exception as e:
        cause = workers_not_started(e)
        if cause is not None:
            report.error("cannot start the pool's worker processes: %s" % cause.strerror)
        elif thread_not_started(e):
            report.error("cannot start a worker thread: the system refused it (%s)" % thread_limits())
        else:
            raise  # not one we know: a bug, whose traceback is worth seeing
        code = report.EXIT_FAILED
    leave(code)  # leaves at once when threads started before the failure still run


def keep_standard_streams():
    """Put /dev/null in the place of whichever of descriptors 0, 1 and 2 the
    program was started without (`<&-`, `>&-`, `2>&-`), as common/fdio.c's
    fdio_keep_standard does for the C programs: read-only on 0 and 1, so a
    write to stdout fails with EBADF as on a closed descriptor (ClosedStdout
    says so, exit 1), write-only on 2, so messages are lost as they would be.
    Without it the next file or socket the program opens takes the number,
    and what a worker process, a C library or a message writes to stdout or
    stderr goes into it. Python itself, started so, has sys.stdout or
    sys.stderr None (where print(..., file=None) writes on stdout, and a
    library's sys.stderr.flush() fails): they get a stdout whose writes fail
    and a stderr that takes messages and drops them. Failure (exit 1) if
    /dev/null cannot be opened."""
    for fd, mode in STANDARD_DESCRIPTORS:
        try:
            os.fstat(fd)
            continue
        except OSError as e:
            if e.errno != errno.EBADF:
                continue
        try:
            got = os.open(os.devnull, mode)
        except OSError as e:
            raise report.Failure("cannot open %s in place of a closed stdin, stdout or stderr: %s"
                                 % (os.devnull, e.strerror)) from None
        if got != fd:  # taken between the two calls (not by a program starting in one thread): be sure
            os.dup2(got, fd)
            os.close(got)
        os.set_inheritable(fd, True)  # the workers a program starts get it in their place too
    if sys.stdout is None:
        sys.stdout = report.ClosedStdout()
    if sys.stderr is None:
        sys.stderr = sys.__stderr__ = open(STDERR, "w", buffering=1, errors=ANY_TEXT, closefd=False)


def write_any_text():
    """stdout and stderr take any text: a character their encoding lacks is
    written as its escape (the help's · becomes \\xb7), as Python's own
    stderr does, instead of failing with UnicodeEncodeError (a traceback).
    Their encoding is the locale's or PYTHONIOENCODING's: ASCII under LANG=C
    where Python does not switch to UTF-8 (PYTHONCOERCECLOCALE=0), and the
    help of matmul, the names of files, the messages are not all ASCII."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=ANY_TEXT)


def leave_current_directory_out():
    """Every Python process this program starts imports Python's modules and
    the suite's, never files of the same name in the current directory.
    loky's workers and resource tracker, multiprocessing's forkserver and
    IPython Parallel's controller and engines start as `python -c ...` or
    `python -m ...`, which put the current directory first on sys.path: run
    from a folder holding a random.py or a numpy.py, they imported it and
    died (a loky worker with EXIT(3), the controller with 1). PYTHONSAFEPATH
    (Python 3.11 and newer) tells them not to; this program itself runs from
    its file, whose folder (not the current one) is first on its sys.path,
    and every program puts python/ there by name."""
    os.environ[SAFE_PATH] = "1"


def thread_not_started(e):
    """Whether exception e is Python's threading failing to start a thread (the
    C library could not map its stack, or the process may start no more)."""
    return isinstance(e, RuntimeError) and str(e) == "can't start new thread" and raised_in(e, ("/threading.py",))


def thread_limits():
    """What limits a new thread: its stack within `ulimit -v`, and `ulimit -u`."""
    said = []
    for name, limit in (("ulimit -v", resource.RLIMIT_AS), ("ulimit -u", resource.RLIMIT_NPROC)):
        soft = resource.getrlimit(limit)[0]
        if soft != resource.RLIM_INFINITY:
            said.append("%s is %s" % (name, report.size_said(soft) if limit == resource.RLIMIT_AS else soft))
    return "each thread needs room for its stack" + (": " + ", ".join(said) if said else "")


def workers_not_started(e):
    """The OSError behind exception e when e is a pool failing to start its
    worker processes for lack of resources (NO_RESOURCES, raised in
    POOL_STARTERS' code), else None. It may be e itself, or what e was raised
    in handling (loky fails again while it tidies up after the OSError).

    No worker is left behind: multiprocessing.Pool ends the ones it had
    started on its own, the ProcessPoolExecutor in its with-block
    (executors.py), joblib's session (jobs.py); the rest (Dask's, those
    still starting) die with this process, as every pool worker does
    (pools.become_worker, jobs.die_with_program)."""
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in NO_RESOURCES and raised_in(e, POOL_STARTERS):
            return e
        e = e.__context__
    return None


def raised_in(e, places):
    """Whether exception e passed through code whose file name holds one of places."""
    trace = e.__traceback__
    while trace is not None:
        if any(place in trace.tb_frame.f_code.co_filename for place in places):
            return True
        trace = trace.tb_next
    return False


def note_thread_failure(args):
    """threading.excepthook: a worker thread's exception, said in one line and remembered, not a traceback."""
    if args.exc_type is SystemExit:
        return
    thread_failures.append("%s: %s" % (args.exc_type.__name__, args.exc_value))
    report.error("worker thread %s failed: %s" % (args.thread.name if args.thread else "?", thread_failures[-1]))


def leave(code):
    """End the process with this exit status, whatever stdout's state or other threads'."""
    try:
        sys.stdout.flush()
    except OSError:  # stdout is broken (said already): do not let the interpreter's exit say it again
        os._exit(code if code else report.EXIT_FAILED)
    if threading.active_count() > 1:
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
