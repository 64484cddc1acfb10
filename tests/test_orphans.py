"""tests/test_orphans.py — a processes program killed by SIGKILL takes its fork()ed children with it.

(And the test run itself, stopped by Ctrl-C or SIGTERM, leaves nothing running: tests/interrupt_run.py.)

Each case runs tests/kill_parent.py: start the program, wait until its
children are at work, SIGKILL the parent, and find no child still running a
second later (common/child.c's child_fork binds each child to its parent).
The sizes are small but give each child seconds of work, so a child that
outlived its parent would still be running when looked for; a program whose
children die with it is killed as soon as they have started.
"""
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from suite import ROOT, Case, program, stdout_says

KILL_PARENT = ROOT / "tests" / "kill_parent.py"
INTERRUPT_RUN = ROOT / "tests" / "interrupt_run.py"
FILESERVER = program("fileserver")
# The download case's server: each file takes LATENCY_MS, so a child's share keeps it busy for seconds.
LATENCY_MS = 100
SERVER_START_SECONDS = 10

# What setup() started: the file server, its port, the scratch folder.
STATE = {"server": None, "port": 0, "tmp": None}


def setup():
    """A file server with some latency, for download-processes, if it was built."""
    STATE["tmp"] = tempfile.mkdtemp(prefix="orphans-tests-")
    if not FILESERVER.exists():
        return
    proc = subprocess.Popen([str(FILESERVER), "--port", "0", "--latency", str(LATENCY_MS), "--quiet"],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STATE["server"] = proc
    lines = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline().decode()), daemon=True)
    reader.start()
    reader.join(SERVER_START_SECONDS)
    match = re.fullmatch(r"port=(\d+)\n", lines[0] if lines else "")
    if not match:
        raise RuntimeError("bin/fileserver did not say its port (first line %r)" % (lines[:1],))
    STATE["port"] = int(match.group(1))


def teardown():
    """Stop the server; remove the scratch folder."""
    if STATE["server"]:
        STATE["server"].terminate()
        STATE["server"].wait()
    if STATE["tmp"]:
        shutil.rmtree(STATE["tmp"], ignore_errors=True)


def killed(name, children, args, needs=()):
    """A case: bin/<name> ARGS killed once `children` of its children run; none may survive."""
    exe = program(name)
    return Case("orphans: %s %s, killed by SIGKILL, leaves no child running" % (name, " ".join(map(str, args))),
                [sys.executable, KILL_PARENT, children, exe] + list(args), 0,
                [stdout_says(r"children=%d survivors=0\b" % children)], needs=[exe] + list(needs), timeout=60)


def cases():
    """Every processes program, killed in the middle of a run."""
    out = str(Path(STATE["tmp"] or tempfile.gettempdir()) / "download")
    return [
        # Both blocks of rows are children; the naive kernel gives each seconds of work.
        killed("matmul-processes", 2, ["-n", 2048, "--kernel", "naive", "-p", 2]),
        # Worker 0 is the parent itself: one child, multiplying half of 1..n by cost.
        killed("factorial-processes", 1, ["-n", 20000000, "-p", 2]),
        # The pool: one child, handed the upper half of the tasks as one block.
        killed("factorial-processes", 1, ["--mode", "many", "--schedule", "static", "-n", 20000, "-p", 2]),
        # Two children, 32 files each from a server that takes LATENCY_MS per file.
        killed("download-processes", 2, ["--server", "127.0.0.1:%d" % STATE["port"], "--files", 64,
                                         "--size", "1K", "-p", 2, "-o", out], needs=[FILESERVER]),
        # The test run itself: Ctrl-C in the middle of the download table stops it at once, its
        # servers (setup's) and running cases too, with exit status 130 and the last line as ever.
        Case("orphans: the test run interrupted by Ctrl-C ends at once, leaving no process",
             [sys.executable, INTERRUPT_RUN, "download"], 0, [stdout_says(r"left 0 processes")],
             needs=[FILESERVER], timeout=90),
        # SIGTERM to the runner alone (kill, a batch job's time limit): the same, exit status 143, where
        # the runner died at once, leaving the download table's servers running and its folders in TMPDIR.
        Case("orphans: the test run stopped by SIGTERM ends as after Ctrl-C, exit 143, leaving no process or folder",
             [sys.executable, INTERRUPT_RUN, "download", "--sigterm"], 0, [stdout_says(r"left 0 processes")],
             needs=[FILESERVER], timeout=90),
        # The same the moment the runner says it starts its cases, while its main thread hands them to its
        # threads: what it has handed out is stopped, and nothing more starts.
        Case("orphans: the test run stopped by SIGTERM as its cases start ends as ever, leaving no process or folder",
             [sys.executable, INTERRUPT_RUN, "download", "--sigterm", "--at-start"], 0,
             [stdout_says(r"left 0 processes")], needs=[FILESERVER], timeout=90),
        # The same half-way through a table's setup, its first servers started and its folder made: they go
        # too (they were left, the table's teardown not run, and a file server's start not stopped).
        Case("orphans: the test run stopped by SIGTERM while a table's setup starts its servers leaves no "
             "process or folder", [sys.executable, INTERRUPT_RUN, "download", "--sigterm", "--in-setup"], 0,
             [stdout_says(r"left 0 processes")], needs=[FILESERVER], timeout=90),
        # And before any of that, while the runner still loads its modules: the same ending, no traceback
        # (Python's own, from wherever the import stood, came instead of the last line).
        Case("orphans: the test run interrupted by Ctrl-C as it loads its modules ends as ever, no traceback",
             [sys.executable, INTERRUPT_RUN, "download", "--in-imports"], 0, [stdout_says(r"exit status 130")]),
        Case("orphans: the test run stopped by SIGTERM as it loads its modules ends as ever, exit 143",
             [sys.executable, INTERRUPT_RUN, "download", "--sigterm", "--in-imports"], 0,
             [stdout_says(r"exit status 143")]),
    ]
