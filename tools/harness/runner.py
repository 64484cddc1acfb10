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
import threading
import time

# Exit code recorded for a run killed at its time limit (as timeout(1) does).
EXIT_TIMEOUT = 124


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
    """Run argv to completion (or kill its process group after timeout seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        killed = threading.Event()
        child = []  # the child's pid, once forked

        def kill():
            killed.set()
            try:
                os.killpg(child[0], signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

        # A daemon: should Ctrl-C come before it is cancelled, it must not hold the harness's exit.
        timer = threading.Timer(timeout, kill)
        timer.daemon = True
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: its own process group, so a timeout kills all of it
            try:
                os.setpgid(0, 0)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                if cwd:
                    os.chdir(cwd)
                os.execvpe(argv[0], argv, env if env is not None else os.environ)
            except OSError as e:
                os.write(2, ("cannot run %s: %s\n" % (argv[0], e)).encode())
            os._exit(127)
        child.append(pid)
        try:  # the parent sets the group too (as shells do), so a kill cannot come before it exists
            os.setpgid(pid, pid)
        except OSError:  # the child got there first, and may have run exec already
            pass
        try:  # from here on, Ctrl-C (even while the timer starts) takes the run down with us
            timer.start()
            while True:
                try:
                    _, status, usage = os.wait4(pid, 0)
                    break
                except InterruptedError:
                    continue
        except KeyboardInterrupt:
            kill()
            os.wait4(pid, 0)
            raise
        finally:
            timer.cancel()
        wall = time.monotonic() - start
        # -N for a signal, as subprocess reports it; EXIT_TIMEOUT when we killed it
        exit_code = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else (
            os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
        if killed.is_set():
            exit_code = EXIT_TIMEOUT
        out.seek(0)
        err.seek(0)
        return RunResult(exit_code, wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss,
                         out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                         killed.is_set())

