"""tools/harness/guard.py — what a sweep or a speed check starts goes with it, even when it is killed with SIGKILL.

A sweep (tools/bench.py) starts a file server, runs each program in a
process group of its own, and has the download programs write into a
scratch folder; on its end, an error, Ctrl-C, SIGTERM or SIGHUP it stops
them and removes the folder itself. Killed with SIGKILL (kill -9, the OOM
killer) it can do none of that, and the server ran on for ever, the run
under way ran to its end with no time limit, and the folder stayed in
/tmp with the files downloaded into it, one more with every killed sweep.

So the sweep makes that folder through a Guard, the Python lane's
(python/common/guard.py, which its IPython Parallel and Dask programs use):
every process started after it carries a marker, and when the sweep ends,
however, a watcher sends SIGTERM to every marked process still alive (so
that mpirun ends its ranks and removes its files, and a download removes
its .part files), SIGKILL TERM_GRACE seconds later to what is left, and
removes the folder.

  guarded = guard.Guard("bench-download-")  ... guarded.folder ...  guarded.end()
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # python/, where common/ is
from common import guard  # noqa: E402

# The environment variable that marks every process started after the guard.
MARKER = "BENCH_GUARD"
# Seconds the marked processes have after SIGTERM before SIGKILL (runner.TERM_GRACE, for the same reasons).
TERM_GRACE = 2.0


class Guard(guard.Guard):
    """A fresh temporary folder (its name beginning with prefix), and the watcher that stops every
    process started after it and removes the folder when this process ends, however (see above)."""

    def __init__(self, prefix):
        super().__init__(prefix, MARKER, TERM_GRACE)

    def end(self):
        """Let the watcher stop whatever is left and remove the folder; wait for it."""
        problem = super().end()
        if problem:
            print("the guard process did not finish removing %s: %s" % (self.folder, problem), file=sys.stderr)
