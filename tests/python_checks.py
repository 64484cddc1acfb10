"""tests/python_checks.py — what the Python lane's four test tables share.

tests/test_python.py (serial, threading, multiprocessing), test_python_pools.py
(futures, joblib), test_python_mpi_dask.py and test_python_engines.py
(IPython Parallel, Numba, asyncio) check the same contract, so they share:
  Scratch        a table's scratch folder and file servers: made in setup(),
                 removed in teardown(), a fresh output folder per download case,
                 a folder whose random.py and numpy.py a program run from it must not import;
  the checks     no_traceback, one_line, figures_are, factorial_figures;
                 schedules_listed; stderr_closed, a program started with 2>&-;
  the probes     the cases that need more than one process (C against Python,
                 killing things), each of these files run as a program:
                 run_probe (which leaves nothing running and no scratch
                 folder behind, pass or fail), ProbeFailed and expect,
                 wait_for, finding a program's processes (by process group,
                 by a mark in their environment) and failing when any
                 outlive it, start and finish, same_figures (C's figures
                 and downloaded bytes, then each Python model's), and
                 pool_not_started (a pool short of descriptors).
"""
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from suite import ROOT, FileServer, command_line, parse_result_line, program

FILESERVER = program("fileserver")
PRIME = 2 ** 61 - 1
# Python 3.11 refuses to turn an int of more than 4300 digits into text, and 1559! has 4303: digits= is
# checked below this n (mod61= at every n).
DIGITS_BELOW = 1559
# How often a probe looks again at what it waits for, seconds.
LOOK_INTERVAL = 0.05
# Seconds a probe's program may take to end on its own.
FINISH_TIMEOUT = 120
# Descriptors (ulimit -n) a program gets in the probes where its pool cannot start its
# workers for want of them: enough for the interpreter and its imports, too few for
# the pipes of 64 workers.
FEW_DESCRIPTORS = 24
# What a program says then, in its one line.
NO_DESCRIPTORS_SAID = "cannot start the pool's worker processes: Too many open files"
# Modules a folder of a user's own scripts may well hold a file of (Scratch.shadowing): a program
# run from there must import Python's and NumPy's, in every process it starts.
SHADOWED_MODULES = ("random", "numpy")
# What a probe leaves to undo however it ends (run_probe runs them): its programs' process groups
# to kill, processes found by their mark to kill, its scratch folders to remove.
CLEANUPS = []


def py(workload, model):
    """bin/<workload>-py-<model>."""
    return program("%s-py-%s" % (workload, model))


def lane_config(name):
    """A value make's configure wrote in build/config.mk (PYTHON_LANE, PY_PACKAGES), or None."""
    try:
        match = re.search(r"^%s := (.*)$" % name, (ROOT / "build" / "config.mk").read_text(), re.M)
    except OSError:
        return None
    return match.group(1).strip() if match else None


def lane_python():
    """The interpreter the Python lane's programs run (build/config.mk's PYTHON_LANE)."""
    return lane_config("PYTHON_LANE") or "/usr/bin/python3"


def needs_package(module, debian):
    """needs= of a case whose program needs an optional package of the Python lane
    (gmpy2 for --kernel gmpy2, crcmod for the units): nothing where the lane's
    interpreter imports it (build/config.mk's PY_PACKAGES, or where make has not
    said), else a reason in place of a file, so the case is skipped saying why."""
    packages = lane_config("PY_PACKAGES")
    if packages is None or module in packages.split():
        return []
    return ["(%s cannot import %s: apt-get install %s)" % (lane_python(), module, debian)]


def kernel_needs(args):
    """needs= for a Python program's arguments: the package --kernel gmpy2 (or gmpy2-nogil) needs."""
    return needs_package("gmpy2", "python3-gmpy2") if any(str(a).startswith("gmpy2") for a in args) else []


# ---- a table's fixtures ----

class Scratch:
    """A table's scratch folder, and the file servers its download cases talk
    to (when bin/fileserver was built), by name, each with its own flags."""

    def __init__(self, prefix, servers):
        self.prefix, self.server_flags = prefix, dict(servers)
        self.tmp, self.servers, self.cases = None, {}, 0

    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix=self.prefix)
        self.shadowing().mkdir()
        for module in SHADOWED_MODULES:
            (self.shadowing() / (module + ".py")).write_text(
                "raise RuntimeError('the %s.py of the current directory was imported')\n" % module)
        if FILESERVER.exists():
            for name, flags in self.server_flags.items():
                self.servers[name] = FileServer(["--quiet"] + list(flags), stderr=subprocess.DEVNULL)

    def teardown(self):
        for server in self.servers.values():
            server.stop()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def shadowing(self):
        """A folder (made by setup) holding a random.py and a numpy.py that fail as they are imported."""
        return Path(self.tmp or "/nonexistent", "shadowing")

    def from_shadowing(self, argv):
        """argv run from the shadowing folder, as a user runs a program from a folder of scripts of their own."""
        return ["sh", "-c", 'cd "$0" && exec "$@"', str(self.shadowing())] + [str(a) for a in argv]

    def port(self, name):
        """The port of one of the servers, or 0 when it could not start (its cases are then skipped)."""
        return self.servers[name].port if name in self.servers else 0

    def address(self, name):
        """HOST:PORT of one of the servers."""
        return "127.0.0.1:%d" % self.port(name)

    def out_dir(self):
        """A folder of its own for one case's downloads (made by the program)."""
        self.cases += 1
        return str(Path(self.tmp or tempfile.gettempdir(), "case-%03d" % self.cases))


# ---- checks ----

def no_traceback(outcome):
    """Check: Python printed no traceback (every failure is one message)."""
    return "a traceback on stderr" if "Traceback" in outcome.stderr else None


def one_line(outcome):
    """Check: stderr is exactly one line."""
    lines = outcome.stderr.strip().splitlines()
    return None if len(lines) == 1 else "stderr has %d lines, expected one: %r" % (len(lines), outcome.stderr[-300:])


def stderr_closed(argv):
    """argv started as a shell starts it after 2>&-: with no descriptor 2 at all."""
    return ["sh", "-c", 'exec "$0" "$@" 2>&-'] + [str(a) for a in argv]


def schedules_listed(words):
    """Check (of --help): --schedule lists exactly words, e.g. "static|dynamic" where cyclic is refused."""
    def check(outcome):
        found = re.search(r"--schedule (\S+)", outcome.stdout)
        said = found.group(1) if found else None
        return None if said == words else "--help lists --schedule %s, expected %s" % (said, words)
    return check


def figures_are(expected):
    """Check: every result line has these key=value pairs."""
    def check(outcome):
        for line in outcome.stdout.splitlines():
            pairs = parse_result_line(line)
            for key, value in expected.items():
                if pairs.get(key) != str(value):
                    return "%s=%s, expected %s" % (key, pairs.get(key), value)
        return None
    return check


def factorial_figures(mode, n):
    """digits= (below DIGITS_BELOW) and mod61= of n! (big) or of the many-mode checksum, by Python's integers."""
    value = math.factorial(n)
    mod61 = value % PRIME if mode == "big" else (math.factorial(n + 1) - 1) % PRIME
    return {"digits": len(str(value)), "mod61": mod61} if n < DIGITS_BELOW else {"mod61": mod61}


# ---- the probes ----

class ProbeFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise ProbeFailed(message)


def run_probe(name, probe):
    """probe() as a program's whole run: exit status 0 when it holds; else what failed on stderr, and 1.
    Either way, nothing it started is left running and no scratch folder of its is left (CLEANUPS): a
    probe that fails half-way must not leave a pool, a cluster or an MPI job behind."""
    try:
        probe()
    except (ProbeFailed, OSError, ValueError, subprocess.TimeoutExpired) as e:
        print("probe %s: %s: %s" % (name, type(e).__name__, e), file=sys.stderr)
        return 1
    finally:
        while CLEANUPS:
            CLEANUPS.pop()()
    return 0


def kill_all(pids):
    """SIGKILL to each process (one already gone is no matter)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass  # gone meanwhile


def kill_group(pgid):
    """SIGKILL to a process group (an empty one is no matter)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass  # every member gone


def scratch_folder(prefix):
    """A folder of the probe's own, removed when the probe ends."""
    folder = tempfile.mkdtemp(prefix=prefix)
    CLEANUPS.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    return folder


def wait_for(condition, timeout, what, proc=None):
    """condition()'s first true value within timeout seconds; fails early if proc ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise ProbeFailed("the program ended (exit status %s) before %s" % (proc.returncode, what))
        time.sleep(LOOK_INTERVAL)
    raise ProbeFailed("timed out waiting for %s" % what)


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (0: state, 1: parent, 2: process group,
    11 and 12: user and system clock ticks), or None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()
    except OSError:
        return None


def live_processes():
    """(pid, its stat fields) of every process but this one and zombies (which hold nothing but an exit status)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            fields = stat_fields(int(entry))
            if fields and fields[0] != "Z":
                yield int(entry), fields


def in_group(pgid):
    """The live processes of a process group (a program started by start(), and every child it forked)."""
    return [pid for pid, fields in live_processes() if fields[2] == str(pgid)]


def children_of(parent):
    """The live processes whose parent is parent."""
    return [pid for pid, fields in live_processes() if fields[1] == str(parent)]


def marked(name, value):
    """The live processes whose environment holds name=value: whatever a
    program started, wherever it went (another session, an MPI rank)."""
    needle, found = ("%s=%s" % (name, value)).encode(), []
    for pid, _ in live_processes():
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def cpu_seconds_of(pid):
    """User and system CPU seconds a process has used (0 when it is gone)."""
    fields = stat_fields(pid)
    try:
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (TypeError, ValueError, IndexError):
        return 0.0


def describe(pid):
    return "%d (%s)" % (pid, command_line(pid)[:100].rstrip())


def none_left(find, timeout, launched):
    """find() (a program's processes) is empty within timeout seconds; any
    left are named, killed, and fail the probe: nothing outlives a program."""
    try:
        wait_for(lambda: not find(), timeout, "the program's processes to end")
    except ProbeFailed:
        left = find()
        described = [describe(pid) for pid in left]
        kill_all(left)
        raise ProbeFailed("%s left processes behind: %s" % (launched, "; ".join(described))) from None


def start(argv, env=None):
    """A program started in a session and process group of its own (so that
    Ctrl-C can go to its group, and its processes be found), stdout and
    stderr to files, as proc.out and proc.err; its group is killed when the probe ends. Unless env
    names a TMPDIR of its own, the program gets a scratch folder as TMPDIR, so that what a killed
    program could not remove (multiprocessing's pymp-* folders) goes with the probe."""
    env = dict(os.environ) if env is None else dict(env)
    if env.get("TMPDIR") == os.environ.get("TMPDIR"):
        env["TMPDIR"] = scratch_folder("probe-tmp-")
    out, err = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=ROOT, env=env)
    proc.out, proc.err = out, err
    CLEANUPS.append(lambda: kill_group(proc.pid))
    return proc


def finish(proc, timeout=FINISH_TIMEOUT):
    """(exit status, stdout, stderr) of a started program once it ends; one
    that does not end in time is killed, with its group, and fails the probe."""
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.wait()
        raise ProbeFailed("the program did not end within %d s" % timeout) from None
    return code, read_all(proc.out), read_all(proc.err)


def read_all(file):
    """All a program's output file holds so far."""
    file.seek(0)
    return file.read()


def run_program(argv, env=None, timeout=FINISH_TIMEOUT):
    """(exit status, stdout, stderr) of a program run to its end."""
    return finish(start(argv, env), timeout)


def whole_files_only(folder, size, parts=True):
    """A download interrupted mid-run: every file under its final name is
    whole (size bytes); NAME.part files, still being written, only if parts."""
    for name in os.listdir(folder):
        if name.endswith(".part"):
            expect(parts, "%s was left behind" % name)
        else:
            expect(os.path.getsize(os.path.join(folder, name)) == size, "%s is partial under its final name" % name)


def same_figures(runs, keys, server="", run=lambda name, argv: run_program(argv)):
    """runs, [(name, argv)], C's program first: each one run (with --server
    server and a download folder of its own when server is given) prints the
    same figures (keys) as the first, and downloads the same bytes. run(name,
    argv) runs one and returns (exit status, stdout, stderr)."""
    figures, folders = [], []
    for name, argv in runs:
        if server:
            folders.append(scratch_folder("same-"))
            argv = list(argv) + ["--server", server, "-o", folders[-1]]
        code, out, err = run(name, argv)
        expect(code == 0 and out, "%s failed (%d): %s" % (name, code, err[-400:]))
        pairs = parse_result_line(out.splitlines()[0])
        figures.append((name, {key: pairs.get(key) for key in keys}))
    for name, said in figures[1:]:
        expect(said == figures[0][1], "%s says %s, %s says %s" % (figures[0][0], figures[0][1], name, said))
    for (name, _), folder in zip(runs[1:], folders[1:]):
        for file_name in os.listdir(folders[0]):
            expect(Path(folder, file_name).read_bytes() == Path(folders[0], file_name).read_bytes(),
                   "%s differs between %s's download and %s's" % (file_name, runs[0][0], name))


def pool_not_started(argv, gone_timeout):
    """argv, run with FEW_DESCRIPTORS, cannot start its pool's workers: exit 1,
    NO_DESCRIPTORS_SAID, no result, no traceback, and no process of it left
    within gone_timeout seconds."""
    proc = start(["sh", "-c", 'ulimit -n %d && exec "$0" "$@"' % FEW_DESCRIPTORS] + [str(a) for a in argv])
    code, stdout, stderr = finish(proc)
    expect(code == 1, "exit status %d, expected 1: %r" % (code, stderr[-600:]))
    expect(NO_DESCRIPTORS_SAID in stderr, "stderr does not say %r: %r" % (NO_DESCRIPTORS_SAID, stderr[-600:]))
    expect("Traceback" not in stderr, "a traceback on stderr: %r" % stderr[-600:])
    expect(stdout == "", "a result line from a pool that did not start: %r" % stdout)
    none_left(lambda: in_group(proc.pid), gone_timeout, "a pool that could not start its workers")
