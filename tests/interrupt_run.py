#!/usr/bin/env python3
"""tests/interrupt_run.py — Ctrl-C (or SIGTERM) stops a test run at once, and the run leaves nothing behind.

Usage: tests/interrupt_run.py TABLE [--sigterm] [--at-start | --in-setup | --in-imports]

Starts tests/run_tests.py --table TABLE --jobs 1 in a session of its own, as
a terminal starts `make test`: the runner and the servers its tables start
share one process group. Once cases run, it sends that group SIGINT, what
Ctrl-C sends (with --sigterm: SIGTERM to the runner alone, what kill, Slurm
and a batch job's time limit send; with --at-start: as soon as the runner
says it starts its cases, while it still hands them to its threads; with
--in-setup: once the table's setup has made its folder and started a
process, half-way through it; with --in-imports: while the runner still
loads its own modules, before its main() runs), and expects the runner to end within
STOP_SECONDS with exit status 130 (143), to say it was interrupted and end
with its "N passed, N failed" line, and to leave no process behind: none of
the run's processes (each started with a mark in its environment, which
every program of the run inherits) is still there GRACE_SECONDS later, and
nothing is left in its TMPDIR (a folder of this script's). Prints what it
found; exit status 0 when all of that holds, 1 when not (what is left is
killed then). A run that did not end is asked where its threads are
(SIGUSR1) before it is killed, and all it printed is shown.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
# How long the run may take to set its table up and start running cases.
START_SECONDS = 60
# How long the runner may take to end after Ctrl-C (its cases and servers stopped, teardown run).
STOP_SECONDS = 20
# How long the run's processes may take to be gone after the runner ended (looked at until they are).
GRACE_SECONDS = 10.0
# How long a run that did not end has to print where its threads are before it is killed.
STACKS_SECONDS = 1.0
# How often the process table is read while waiting.
POLL_SECONDS = 0.01
# The moments the signal can be sent at (the flags that choose them; without one: once a case runs).
MOMENTS = {"--at-start": "start", "--in-setup": "setup", "--in-imports": "imports"}
# For --in-imports: the runner, started through this, signals itself (argv[1]) as it begins to import
# tests/suite.py, the first of its own modules: where a signal from outside would land once in a while.
SIGNAL_IN_IMPORTS = """
import os, runpy, sys
signo = int(sys.argv[1])
class SignalAtSuite:
    def find_spec(self, name, path=None, target=None):
        if name == "suite":
            os.kill(os.getpid(), signo)
        return None
sys.meta_path.insert(0, SignalAtSuite())
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
# The variable tests/suite.py marks each case's processes with.
CASE_MARK = "TEST_SUITE_CASE"


def marked(mark, in_a_case=False):
    """Processes (not zombies) whose environment holds mark (and, if in_a_case, a case's mark too)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            if mark.encode() in environ and \
                    (not in_a_case or any(v.startswith(CASE_MARK.encode() + b"=") for v in environ)) and \
                    (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(proc.name))
        except (OSError, IndexError):
            continue
    return found


def wait_until(condition, seconds):
    """condition() once it holds, polled for up to seconds; its last value if it never does."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(POLL_SECONDS)


def main():
    flags = sys.argv[2:]
    moments = [MOMENTS[flag] for flag in flags if flag in MOMENTS]
    if len(sys.argv) < 2 or sys.argv[1].startswith("-") or not set(flags) <= {"--sigterm"} | set(MOMENTS) \
            or len(set(flags)) != len(flags) or len(moments) > 1:
        sys.exit("usage: tests/interrupt_run.py TABLE [--sigterm] [--at-start | --in-setup | --in-imports]")
    signo, said = (signal.SIGTERM, "SIGTERM") if "--sigterm" in flags else (signal.SIGINT, "Ctrl-C")
    mark = "INTERRUPT_RUN_MARK=%s" % uuid.uuid4().hex
    key, value = mark.split("=")
    tmp = tempfile.mkdtemp(prefix="interrupt-run-")
    try:
        return stop_run(sys.argv[1], signo, said, (moments or ["case"])[0], mark,
                        dict(os.environ, TMPDIR=tmp, **{key: value}), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def stop_run(table, signo, said, moment, mark, env, tmp):
    """Run the table, stop it with signo at moment ("case": once a case runs; "start": once the runner
    says it starts them; "setup": once the table's setup made its folder and started a process;
    "imports": as the runner loads its modules, by itself), and look for what is left (see above)."""
    launch = [sys.executable, "-c", SIGNAL_IN_IMPORTS, str(int(signo))] if moment == "imports" else [sys.executable]
    runner = subprocess.Popen(launch + [str(HERE / "run_tests.py"), "--table", table, "--jobs", "1"],
                              env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines, problems = [], []
    deadline = time.monotonic() + START_SECONDS
    if moment == "setup":   # its scratch folder made, then a process of its own (not the runner's own probes)
        if not wait_until(lambda: os.listdir(tmp) and [pid for pid in marked(mark) if pid != runner.pid],
                          START_SECONDS):
            problems.append("the table's setup made nothing and started no process within %d s" % START_SECONDS)
    elif moment != "imports":
        for line in runner.stdout:   # until it runs cases
            lines.append(line)
            if line.startswith("running ") or time.monotonic() > deadline:
                break
    # The signal while a case runs (not a fixed wait, which a loaded machine could spend before the first case).
    if moment == "case" and not wait_until(lambda: marked(mark, in_a_case=True), START_SECONDS):
        problems.append("no case was running within %d s: %s came before any" % (START_SECONDS, said))
    if moment == "imports":
        pass   # it signals itself
    elif signo == signal.SIGINT:
        os.killpg(runner.pid, signo)
    else:
        runner.send_signal(signo)
    interrupted = time.monotonic()
    try:
        rest, _ = runner.communicate(timeout=STOP_SECONDS)
        lines += rest.splitlines(keepends=True)
    except subprocess.TimeoutExpired:
        problems.append("the run did not end within %d s of %s" % (STOP_SECONDS, said))
        runner.send_signal(signal.SIGUSR1)   # where each of its threads is (run_tests.py), said after its lines
        time.sleep(STACKS_SECONDS)
        os.killpg(runner.pid, signal.SIGKILL)
        rest, _ = runner.communicate()   # all it printed since the first line that was not read, kept
        lines += rest.splitlines(keepends=True)
    took = time.monotonic() - interrupted
    text = "".join(lines)
    if runner.returncode != 128 + signo:
        problems.append("exit status %s, expected %d" % (runner.returncode, 128 + signo))
    if "interrupted (%s)" % said not in text:
        problems.append("the run does not say it was interrupted (%s)" % said)
    elif moment == "setup" and "interrupted (%s) while the tables were loaded or set up" % said not in text:
        problems.append("%s came after the table's setup, not during it" % said)
    elif moment == "imports" and "interrupted (%s) while the runner started; no case ran" % said not in text:
        problems.append("%s came after the runner loaded its modules, not while it did" % said)
    if not re.search(r"\n\d+ passed, \d+ failed\n$", text):
        problems.append("the run does not end with its 'N passed, N failed' line")
    if "Traceback" in text:
        problems.append("a traceback")
    wait_until(lambda: not marked(mark), GRACE_SECONDS)
    left = marked(mark)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if left:
        problems.append("processes of the run left: %s" % left)
    if os.listdir(tmp):
        problems.append("left in its TMPDIR: %s" % sorted(os.listdir(tmp)))
    print("ended %.1f s after %s, exit status %s, left %d processes" % (took, said, runner.returncode, len(left)))
    for problem in problems:
        print("interrupt_run: %s" % problem, file=sys.stderr)
    if problems:
        print("interrupt_run: the run said:\n%s" % text[-6000:], file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
