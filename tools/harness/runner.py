"""tools/harness/runner.py — run one program once, as the operating system saw it.

The program's own result line gives its timed region and phases; around it
the harness measures what the program cannot see of itself: the whole
process's wall time (start-up, input generation, the check, and for MPI the
launch of every rank), its user and system CPU time and its peak memory,
from wait4() — which includes the children it reaped, so an MPI launcher's
ranks and a forking model's workers are counted.
"""
import os
import signal
import tempfile
import time

# Exit code recorded for a run killed at its time limit (as timeout(1) does).
EXIT_TIMEOUT = 124
# The time limit of a run that may take as long as it takes (the speed checks' runs).
NO_LIMIT = float("inf")
# The signals that stop a sweep (SIGHUP: its terminal or ssh connection gone); SIGCHLD, which
# says a run has ended, wakes the wait at once.
STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
WATCHED = STOPPING + (signal.SIGCHLD,)
# The longest a wait sleeps before looking again, should a signal reach another thread (seconds).
LOOK_UP = 0.5
# How long a run stopped at its time limit or by a Ctrl-C has, after SIGTERM, to end on its own
# before its process group is killed (seconds): mpirun then ends its ranks and removes its
# session folder and shared-memory files, and srun cancels its job step, none of which
# SIGKILL lets them do (they were left in /tmp, /dev/shm and the Slurm job).
TERM_GRACE = 2.0


class Stopped(KeyboardInterrupt):
    """SIGTERM (kill, scancel, timeout(1), a batch job's time limit), raised as Ctrl-C is, so that
    what is under way stops the same way: its runs stopped, its servers and scratch folders
    tidied, its last lines said (naming SIGTERM: the class tells the two apart)."""


def stop_on_sigterm(signum, frame):
    """SIGTERM's handler: Stopped, once (a second SIGTERM, as timeout(1) and Slurm can send to the
    whole group, must not cut the way out short)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped()


class RunResult:
    """What one run did: exit code, times, and its stdout/stderr text."""

    def __init__(self, exit_code, wall, user, sys_time, max_rss_kb, stdout, stderr, timed_out):
        self.exit_code = exit_code
        self.wall = wall
        self.user = user
        self.sys = sys_time
        self.max_rss_kb = max_rss_kb
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out


def run(argv, timeout, env=None, cwd=None):
    """Run argv to completion (or stop its process group after timeout seconds: stop_group)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Held back until the run is reaped, and taken only by reap(): a Ctrl-C can then come
        # neither between fork() and the code that would kill the run, nor just before a wait
        # that would sleep through it (a wait4() that had not yet begun is not interrupted).
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
        try:
            start = time.monotonic()
            pid = os.fork()
            if pid == 0:  # the child: its own process group, so a timeout kills all of it
                become(argv, env, cwd, out, err, mask)
            try:  # the parent sets the group too (as shells do), so a kill cannot come before it exists
                os.setpgid(pid, pid)
            except OSError:  # the child got there first, and may have run exec already
                pass
            try:
                status, usage, stopped_by, timed_out = reap(pid, start + timeout)
            except KeyboardInterrupt:  # from a thread of ours that did not block the Ctrl-C
                stop_group(pid)
                os.wait4(pid, 0)
                raise
            wall = time.monotonic() - start
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if stopped_by:  # the run is down; now the caller's handler acts (Ctrl-C: KeyboardInterrupt)
            os.kill(os.getpid(), stopped_by)
        # -N for a signal, as subprocess reports it; EXIT_TIMEOUT when we killed it
        exit_code = EXIT_TIMEOUT if timed_out else (
            os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
        out.seek(0)
        err.seek(0)
        return RunResult(exit_code, wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss,
                         out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                         timed_out)


def become(argv, env, cwd, out, err, mask):
    """In the forked child: take its own group, its output files and the signals it was given,
    and exec argv; never returns."""
    try:
        os.setpgid(0, 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        if cwd:
            os.chdir(cwd)
        for stopping in STOPPING:  # a signal before exec ends the child, as it would after
            signal.signal(stopping, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.execvpe(argv[0], argv, env if env is not None else os.environ)
    except OSError as e:
        os.write(2, ("cannot run %s: %s\n" % (argv[0], e)).encode())
    os._exit(127)


def reap(pid, deadline):
    """Wait for pid with WATCHED blocked, stopping its group (stop_group) at the deadline or on
    a Ctrl-C (or SIGTERM, SIGHUP). Returns its wait status and usage, the signal that stopped the wait (or
    None), and whether the deadline killed it."""
    stopped_by, timed_out = None, False
    while not (stopped_by or timed_out):
        reaped, status, usage = os.wait4(pid, os.WNOHANG)
        if reaped:
            return status, usage, None, False
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
        else:
            got = signal.sigtimedwait(WATCHED, min(left, LOOK_UP))
            stopped_by = got.si_signo if got and got.si_signo in STOPPING else None
    stop_group(pid)
    _, status, usage = os.wait4(pid, 0)
    return status, usage, stopped_by, timed_out


def stop_group(pid):
    """SIGTERM to the run's process group (pid leads it); once pid has ended, or TERM_GRACE
    seconds on, SIGKILL to whatever is left of the group. pid is left to be reaped."""
    signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + TERM_GRACE
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        signal.sigtimedwait((signal.SIGCHLD,), min(left, LOOK_UP))  # SIGCHLD is blocked here
    signal_group(pid, signal.SIGKILL)


def signal_group(pid, signo):
    """Send signo to the run's process group, if any of it is left."""
    try:
        os.killpg(pid, signo)
    except (ProcessLookupError, PermissionError):
        pass
