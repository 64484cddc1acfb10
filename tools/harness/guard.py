"""tools/harness/guard.py — what a sweep or a speed check starts goes with it, even when it is killed with SIGKILL.

A sweep (tools/bench.py) starts a file server, runs each program in a
process group of its own, and has the download programs write into a
scratch folder; on its end, an error, Ctrl-C, SIGTERM or SIGHUP it stops
them and removes the folder itself. Killed with SIGKILL (kill -9, the OOM
killer) it can do none of that, and the server ran on for ever, the run
under way ran to its end with no time limit, and the folder stayed in
/tmp with the files downloaded into it, one more with every killed sweep.

So the sweep makes that folder through a Guard (as the Python lane's
IPython Parallel programs make theirs: python/common/cluster.py): every
process started after it carries a marker in its environment, and a small
watcher process, in a session of its own, waits on a pipe from the sweep.
When the sweep ends, however, the pipe closes, and the watcher sends
SIGTERM to every marked process still alive (so that mpirun ends its ranks
and removes its files, and a download removes its .part files), SIGKILL
TERM_GRACE seconds later to what is left, and removes the folder. On a
normal end the sweep has stopped everything already; the watcher finds
nothing to stop.

  with guard.Guard("bench-download-") as scratch: ... scratch.folder ...
"""
import os
import secrets
import subprocess
import sys
import tempfile

# The environment variable that marks every process started after the guard.
MARKER = "BENCH_GUARD"
# Seconds the marked processes have after SIGTERM before SIGKILL (runner.TERM_GRACE, for the same reasons).
TERM_GRACE = 2.0
# Seconds a guard may take to stop what is left and remove the folder, once told to.
GUARD_TIMEOUT = 30

# The watcher, run by a fresh interpreter (python -I -S -c): argv = marker,
# folder, its owner's pid, TERM_GRACE. It blocks reading its stdin, a pipe
# from the owner, until that closes (the owner ended or died); then it sends
# SIGTERM to every process whose environment holds the marker, waits for them
# for up to TERM_GRACE seconds, kills the rest with SIGKILL, in rounds (a
# process may fork while a round runs), and removes the folder.
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
                with open("/proc/%s/stat" % entry) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                        continue
                with open("/proc/%s/environ" % entry, "rb") as f:
                    if marker in b"\0" + f.read():
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


class Guard:
    """A fresh temporary folder (its name beginning with prefix), and the watcher that stops every
    process started after it and removes the folder when this process ends, however (see above)."""

    def __init__(self, prefix):
        self.folder = tempfile.mkdtemp(prefix=prefix)
        token = "%d-%s" % (os.getpid(), secrets.token_hex(8))
        env = {key: value for key, value in os.environ.items() if key != MARKER}
        try:
            self.watcher = subprocess.Popen([sys.executable, "-I", "-S", "-c", WATCHER, "%s=%s" % (MARKER, token),
                                             self.folder, str(os.getpid()), str(TERM_GRACE)],
                                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env,
                                            start_new_session=True)
        except OSError:
            os.rmdir(self.folder)
            raise
        os.environ[MARKER] = token  # every process started from now on carries it

    def end(self):
        """Let the watcher stop whatever is left and remove the folder; wait for it."""
        os.environ.pop(MARKER, None)
        try:
            self.watcher.stdin.close()
            self.watcher.wait(timeout=GUARD_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("the guard process did not finish removing %s: %s" % (self.folder, e), file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.end()
