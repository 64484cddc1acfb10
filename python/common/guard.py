"""python/common/guard.py — a folder, and every process started after it, that go when their owner goes: however it ends.

A program that starts processes it does not see (IPython Parallel's
controller and engines, each in a session of its own; a sweep's file server
and runs, each in a process group of its own) can stop them and remove its
scratch folder when it ends in order, on an error, Ctrl-C or SIGTERM; killed
with SIGKILL (kill -9, the OOM killer) it can do none of that. A Guard does
it from outside: it makes the folder, marks every process started after it
(a variable in the environment, which children inherit) and starts a small
watcher process, in a session of its own, that waits on a pipe from its
owner. When the owner ends, however, the pipe closes, and the watcher stops
every marked process still alive and removes the folder. With a grace
period it sends SIGTERM first (so that, say, mpirun ends its ranks and
removes its files) and SIGKILL to what is left once the grace is over;
without one, SIGKILL at once. On a normal end the owner has stopped
everything already, and the watcher finds nothing to stop.

Users: python/common/cluster.py (IPython Parallel, and Dask's scratch space
through it) and tools/harness/guard.py (make bench, and its speed checks).
"""
import os
import secrets
import subprocess
import sys
import tempfile

# Seconds the watcher may take to stop what is left and remove the folder, once told to.
GUARD_TIMEOUT = 30

# The watcher, run by a fresh interpreter (python -I -S -c): argv = marker,
# folder, its owner's pid, grace. It blocks reading its stdin, a pipe from the
# owner, until that closes (the owner ended or died); then it sends SIGTERM to
# every process whose environment holds the marker and waits up to grace
# seconds for them (none when grace is 0), kills the rest with SIGKILL, in
# rounds (a process may fork while a round runs), and removes the folder.
WATCHER = r"""
import os, shutil, signal, sys, time
marker, folder, owner = b"\0" + sys.argv[1].encode() + b"\0", sys.argv[2], int(sys.argv[3])
grace, ROUNDS, PAUSE = float(sys.argv[4]), 100, 0.05
sys.stdin.buffer.read()

def marked():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (os.getpid(), owner):
            try:
                with open("/proc/%s/environ" % entry, "rb") as f:
                    if marker not in b"\0" + f.read():
                        continue
                with open("/proc/%s/stat" % entry) as f:  # a zombie is gone already
                    if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                        found.append(int(entry))
            except (OSError, IndexError):
                pass
    return found

def send(pids, signo):
    for pid in pids:
        try:
            os.kill(pid, signo)
        except OSError:
            pass

if grace > 0:
    send(marked(), signal.SIGTERM)
    deadline = time.monotonic() + grace
    while marked() and time.monotonic() < deadline:
        time.sleep(PAUSE)
for _ in range(ROUNDS):
    found = marked()
    if not found:
        break
    send(found, signal.SIGKILL)
    time.sleep(PAUSE)
shutil.rmtree(folder, ignore_errors=True)
"""


class NoWatcher(OSError):
    """The watcher process could not be started."""


class Guard:
    """A fresh temporary folder (its name beginning with prefix, in directory; None: the
    temporary folder), and the watcher that stops every process started after it (marked
    with the variable marker) and removes the folder when this process ends (see above).
    OSError when the folder cannot be made, NoWatcher (one) when the watcher cannot be
    started (nothing is left then)."""

    def __init__(self, prefix, marker, grace=0.0, directory=None):
        self.marker = marker
        self.folder = tempfile.mkdtemp(prefix=prefix, dir=directory)
        token = "%d-%s" % (os.getpid(), secrets.token_hex(8))
        env = {key: value for key, value in os.environ.items() if key != marker}
        try:
            self.watcher = subprocess.Popen([sys.executable, "-I", "-S", "-c", WATCHER, "%s=%s" % (marker, token),
                                             self.folder, str(os.getpid()), str(grace)],
                                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env,
                                            start_new_session=True)
        except OSError as e:
            os.rmdir(self.folder)
            raise NoWatcher(e.errno, e.strerror) from None
        os.environ[marker] = token  # every process started from now on carries it

    def end(self):
        """Let the watcher stop whatever is left and remove the folder, and wait for it:
        None, or why it did not finish."""
        os.environ.pop(self.marker, None)
        try:
            self.watcher.stdin.close()
            self.watcher.wait(timeout=GUARD_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            return str(e)
        return None
