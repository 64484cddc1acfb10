"""tools/harness/programs.py — how the suite runs its programs, said once: names, launch lines, result lines, the file server.

Everything in Python that runs a bin/<workload>-<model> program goes through
here: the benchmark harness (tools/bench.py), the per-workload speed checks
(tools/harness/speed_*.py) and the tests (tests/suite.py and the tables).

  split_name("matmul-py-serial")        -> ("matmul", "py-serial"); None for other files
  is_mpi("py-mpi4py")                   -> True: launched through tools/mpirun -np P
  is_python("py-threading")             -> True: a Python lane (bin/<workload>-py-<model>)
  launch(exe, model, workers, args)     -> argv: tools/mpirun -np P EXE ARGS, or EXE -p P ARGS
  parse_result_line(line)               -> {"workload": "matmul", "seconds": "0.12", ...}
  with FileServer(["--latency", 10]) as server: ... server.address ...
  FileServer([...], launcher=[tools/cluster, exec, head], bind=ADDRESS)   the same, on a cluster's head

Standard library only, nothing past Python 3.6 (what tools/configure.sh asks for):
the harness runs on login nodes with whatever python3 they have.
"""
import re
import signal
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = ROOT / "bin"
MPIRUN = ROOT / "tools" / "mpirun"

# ---- names ------------------------------------------------------------------

# bin/<workload>-<model>: C models are one word (serial, openmp, mpi); the
# Python lane's are py-<word> (py-serial, py-multiprocessing, py-mpi4py).
PROGRAM_NAME = re.compile(r"^([a-z]+)-((?:py-)?[a-z][a-z0-9_]*)$")
PYTHON_PREFIX = "py-"
# The models whose programs are MPI programs: every rank is a process that
# tools/mpirun starts, and the worker count is the number of ranks.
MPI_MODELS = ("mpi", "py-mpi4py")


def split_name(name):
    """(workload, model) of a program's file name, or None when it names no program."""
    match = PROGRAM_NAME.match(name)
    return (match.group(1), match.group(2)) if match else None


def program_name(workload, model):
    """The file name of a workload's model in bin/: matmul, py-serial -> matmul-py-serial."""
    return "%s-%s" % (workload, model)


def is_mpi(model):
    """Whether a model's programs are launched as MPI ranks (through tools/mpirun)."""
    return model in MPI_MODELS


def is_python(model):
    """Whether a model is one of the Python lane's (py-serial, py-threading, ...)."""
    return model.startswith(PYTHON_PREFIX)


# ---- launching ----------------------------------------------------------------

def mpirun(ranks, argv, cluster=False):
    """argv that starts argv as `ranks` MPI ranks through tools/mpirun, the one
    place MPI programs are launched; cluster=True spreads them over the
    cluster tools/mpirun --cluster knows instead of this machine."""
    return [str(MPIRUN)] + (["--cluster"] if cluster else []) + ["-np", str(ranks)] + [str(a) for a in argv]


def launch(exe, model, workers, args=(), cluster=False):
    """argv that runs the program exe of this model with `workers` workers:
    MPI models as that many ranks through tools/mpirun, the others as one
    process given -p workers. Only MPI programs can run across a cluster."""
    if is_mpi(model):
        return mpirun(workers, [exe] + list(args), cluster)
    if cluster:
        raise ValueError("%s: only MPI programs run across a cluster, and model %s is not MPI" % (exe, model))
    return [str(exe), "-p", str(workers)] + [str(a) for a in args]


# ---- result lines -------------------------------------------------------------

def parse_result_line(line, strict=True):
    """A result line's key=value pairs as a dict, in the line's order
    (results/README.md, "The result line"; --describe prints the same form).
    A token that is not key=value raises ValueError; with strict=False it is
    skipped instead, so the harness keeps what it can of a broken run's output."""
    pairs = {}
    for token in line.split():
        key, sep, value = token.partition("=")
        if sep and key:
            pairs[key] = value
        elif strict:
            raise ValueError("token %r is not key=value" % token)
    return pairs


def parse_result_lines(stdout, strict=True):
    """Every result line of a program's stdout, parsed; blank lines are skipped."""
    return [parse_result_line(line, strict) for line in stdout.splitlines() if line.strip()]


# ---- the file server ----------------------------------------------------------

# Seconds bin/fileserver may take to say its port.
SERVER_START_TIMEOUT = 10
# Seconds it may take to stop after SIGTERM before it is killed.
SERVER_STOP_TIMEOUT = 10
# Seconds a server that said no port is given to exit by itself (and say its status).
EXIT_GRACE = 1
PORT_LINE = re.compile(r"port=(\d+)\n")


class FileServerError(RuntimeError):
    """bin/fileserver is not built, or did not start."""


class FileServer:
    """bin/fileserver on a free port of 127.0.0.1 (--port 0; its first line
    on stdout says the port) until stop(). Also a context manager.

    args: more flags (e.g. ["--latency", 10, "--quiet"]); binary: another
    build (bin/asan/fileserver); stderr: where its log goes (a file, or
    None to share ours; never a pipe nobody reads, which would stall it).
    Elsewhere than this machine's 127.0.0.1: launcher, the command that runs
    it there (e.g. [tools/cluster, exec, head], which ends in an exec of the
    server itself, so that stop() signals the server), bind, the address it
    listens on there, and env, that command's environment."""

    def __init__(self, args=(), binary=None, stderr=None, cwd=None, timeout=SERVER_START_TIMEOUT,
                 launcher=(), bind=None, env=None):
        self.binary = Path(binary) if binary else BIN / "fileserver"
        if not self.binary.exists():
            raise FileServerError("%s is not built (run make)" % self.binary)
        self.argv = ([str(a) for a in launcher] + [str(self.binary), "--port", "0"]
                     + (["--bind", bind] if bind else []) + [str(a) for a in args])
        self._reader = None   # the thread that reads its first line
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=stderr,
                                        stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        try:
            line = self._first_line(timeout)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM while it starts: no caller has it to stop yet
            self.stop()
            raise
        match = PORT_LINE.fullmatch(line)
        if not match:
            try:  # a server that cannot start says why on stderr and exits
                how = "it exited with status %d" % self.process.wait(timeout=EXIT_GRACE)
            except subprocess.TimeoutExpired:
                how = "it was stopped"
            self.stop()
            raise FileServerError("%s did not start: its first line is %r, not port=NNNN; %s"
                                  % (" ".join(self.argv), line, how))
        self.port = int(match.group(1))
        self.address = "%s:%d" % (bind or "127.0.0.1", self.port)

    def _first_line(self, timeout):
        """The first line on the server's stdout, or "" if none came within timeout seconds."""
        lines = []

        def read():
            try:
                lines.append(self.process.stdout.readline().decode(errors="replace"))
            except ValueError:  # stop() closed the pipe first (a Ctrl-C or SIGTERM as the server started)
                pass

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        self._reader.join(timeout)
        return lines[0] if lines else ""

    def url(self, path):
        """http://ADDRESS:PORT/path (ADDRESS: 127.0.0.1, or bind)."""
        return "http://%s/%s" % (self.address, path.lstrip("/"))

    def stop(self, timeout=SERVER_STOP_TIMEOUT):
        """SIGTERM, then SIGKILL if it has not stopped within timeout seconds.
        Returns (exit status, whether it had to be killed)."""
        killed = False
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                killed = True
        # The reader of the first line meets the end of the pipe now the server is gone; closing the
        # pipe under it would make it raise (a traceback on stderr from its thread).
        if self._reader:
            self._reader.join(EXIT_GRACE)
        self.process.stdout.close()
        return self.process.returncode, killed

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.stop()
