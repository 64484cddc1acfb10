#!/usr/bin/env python3
"""tests/kill_parent.py — kill a program with SIGKILL in the middle of a run, and look for children it left running.

Usage: tests/kill_parent.py CHILDREN PROGRAM [ARGS...]

Starts PROGRAM, waits until CHILDREN of its child processes are running
(the middle of a run), kills it with SIGKILL, which it cannot catch (what
the OOM killer, a batch system or an impatient user does), then watches
those children, in the process table (/proc), for up to GRACE_SECONDS.
Prints "children=N survivors=M" (and each survivor on stderr). Exit status: 0 when every child was gone
in time; 1 when some survived (they are killed then, so nothing is left
running either way); 2 when PROGRAM never had CHILDREN children running,
or ended before it could be killed.

A child counts as gone when its process is no longer there or is a zombie
(dead, waiting for whoever inherited it to reap it); a process with the same
pid but another start time is another process.
"""
import os
import signal
import subprocess
import sys
import time

# How long PROGRAM may take to start its children.
START_SECONDS = 30
# How long the children may outlive their parent.
GRACE_SECONDS = 1.0
# How often the process table is read while waiting.
POLL_SECONDS = 0.01


def stat(pid):
    """(state, parent pid, start time) of a process from /proc/PID/stat, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "PID (name) "
    return fields[0], int(fields[1]), int(fields[19])


def children_of(parent):
    """{pid: start time} of the running (not zombie) processes whose parent is `parent`."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = stat(int(entry))
            if info and info[1] == parent and info[0] not in ("Z", "X"):
                found[int(entry)] = info[2]
    return found


def alive(pid, started):
    """Whether the process that had this pid and start time is still running."""
    info = stat(pid)
    return info is not None and info[2] == started and info[0] not in ("Z", "X")


def wait_for_children(proc, count):
    """The program's children once `count` of them run; None if it ends or takes too long first."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        found = children_of(proc.pid)
        if len(found) >= count:
            return found
        time.sleep(POLL_SECONDS)
    return None


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    count, argv = int(sys.argv[1]), sys.argv[2:]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    children = wait_for_children(proc, count)
    if children is None:
        proc.kill()
        proc.wait()
        print("kill_parent: %s never had %d children running (it exited %s)" % (argv[0], count, proc.returncode),
              file=sys.stderr)
        return 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + GRACE_SECONDS
    survivors = dict(children)
    while survivors and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        survivors = {pid: started for pid, started in survivors.items() if alive(pid, started)}
    print("children=%d survivors=%d" % (len(children), len(survivors)))
    for pid in survivors:
        info = stat(pid)
        print("kill_parent: child %d (state %s) still runs %.1f s after its parent was killed"
              % (pid, info[0] if info else "?", GRACE_SECONDS), file=sys.stderr)
        if alive(pid, survivors[pid]):  # not a new process that took its pid meanwhile
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
