"""tests/test_python_mpi_dask.py — the Python lane's mpi4py and Dask programs: the C programs' contract, kept.

Every program × P ∈ {1, 2, 3} verifies (mpi4py as P ranks through
tools/mpirun; Dask on its threads and processes schedulers, and on the
distributed scheduler, which starts a whole LocalCluster, in one small case
per workload); the same n and seed give the same figures in C, mpi4py and
Dask; bad command lines and missing packages exit 2 with one message and no
traceback; --inject-error fails the check; a killed rank ends the MPI job
with no process left; the distributed scheduler leaves no process behind,
after a normal run and after its program is killed, and listens on
127.0.0.1 only.

Every MPI job and every Dask process pool costs a second or more to start,
so the sizes are small and each idea has few cases. The probes that watch
processes are this file run as a program, each in its own process:
python3 tests/test_python_mpi_dask.py probe NAME [--port P]. They find the
processes a program started, wherever they went (an MPI rank, a worker of a
LocalCluster), by a mark in their environment that every child inherits.
"""
import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import (MPIRUN, SHARED_BAD_INPUT, Case, FileServer, Outcome, command_line,  # noqa: E402
                   parse_result_line, program, result_lines, stderr_says, stdout_empty, stdout_says)

WORKLOADS = ("matmul", "factorial", "download")
WORKERS = (1, 2, 3)
FIGURES = {"matmul": ("gflops", "kernel", "checksum", "startup"),
           "factorial": ("digits", "mod61", "startup"),
           "download": ("bytes", "files", "failures", "retries", "mbps", "cpu_user", "cpu_sys", "startup")}
SIZES = {"matmul": 67, "factorial": 1000, "download": 12}
THIS = Path(__file__).resolve()
FILESERVER = program("fileserver")
# The modules a case hides (a folder with a stand-in that fails to import, put first on PYTHONPATH).
HIDDEN = ("mpi4py", "dask", "distributed")
# The environment variable whose value marks every process a probed program started.
MARK = "SUITE_PROBE_MARK"
# Seconds a program's processes get to be gone once it has ended or been killed.
GONE_TIMEOUT = 20
# Seconds a loaded machine may take to start an MPI job or a LocalCluster and get its workers busy.
START_TIMEOUT = 90
# CPU seconds an MPI rank, and a LocalCluster's worker (which imports far more),
# has used when it surely works on tasks: its start-up takes less.
RANK_BUSY_SECONDS, CLUSTER_WORKER_BUSY_SECONDS = 0.5, 3.0
# Runs long enough to be caught in the middle: thousands of growing tasks (MPI); two
# range products of seconds each (Dask, whose scheduler would spend more than its
# workers on thousands of small tasks).
LONG_MPI = ["--mode", "many", "-n", 20000, "--warmup", 0]
LONG_DASK = ["-n", 3000000, "--warmup", 0, "--scheduler", "distributed", "-p", 2]

STATE = {"tmp": None, "server": None, "hidden": {}, "cases": 0}


def py(workload, model):
    return program("%s-py-%s" % (workload, model))


# ---- the fixtures: a file server, a scratch folder, the hidden packages ----

def setup():
    STATE["tmp"] = tempfile.mkdtemp(prefix="python-mpi-dask-tests-")
    for module in HIDDEN:
        folder = Path(STATE["tmp"], "hide-" + module)
        folder.mkdir()
        (folder / (module + ".py")).write_text("raise ImportError(\"No module named '%s' (hidden by the test)\")\n"
                                               % module)
        STATE["hidden"][module] = str(folder)
    if FILESERVER.exists():
        STATE["server"] = FileServer(["--quiet", "--latency", 2], stderr=subprocess.DEVNULL)


def teardown():
    if STATE["server"]:
        STATE["server"].stop()
    if STATE["tmp"]:
        shutil.rmtree(STATE["tmp"], ignore_errors=True)


def port():
    return STATE["server"].port if STATE["server"] else 1


def out_dir():
    STATE["cases"] += 1
    return str(Path(STATE["tmp"] or tempfile.gettempdir(), "case-%03d" % STATE["cases"]))


# ---- checks ----

def no_traceback(outcome):
    """Check: Python printed no traceback (every failure is one message)."""
    return "a traceback on stderr" if "Traceback" in outcome.stderr else None


def said_once(fragment):
    """Check: stderr says fragment exactly once (an MPI job's ranks say a usage error once, not per rank)."""
    def check(outcome):
        count = outcome.stderr.count(fragment)
        return None if count == 1 else "stderr says %r %d times, expected once" % (fragment, count)
    return check


def one_line(outcome):
    lines = outcome.stderr.strip().splitlines()
    return None if len(lines) == 1 else "stderr has %d lines, expected one: %r" % (len(lines), outcome.stderr[-300:])


# ---- the cases ----

def workload_args(workload, n=None):
    if workload == "download":
        return ["--server", "127.0.0.1:%d" % port(), "--files", SIZES["download"], "--size", "3K", "-o", out_dir()]
    return ["-n", SIZES[workload] if n is None else n]


def launched(workload, model, p, args):
    """argv of a program: mpi4py as p ranks through tools/mpirun, Dask given -p p."""
    if model == "mpi4py":
        return [MPIRUN, "-np", p, py(workload, model)] + args
    return [py(workload, model), "-p", p] + args


def verified(workload, model, p, extra=(), n=None, label="", checks=(), warmup=1):
    args = workload_args(workload, n) + ["--warmup", warmup] + list(extra)
    needs = [py(workload, model)] + ([FILESERVER] if workload == "download" else [])
    return Case("py %s %s p=%d%s" % (workload, model, p, label), launched(workload, model, p, args), 0,
                [result_lines(workload, "py-" + model, SIZES[workload] if n is None else n, p,
                              figures=FIGURES[workload]), no_traceback] + list(checks), needs=needs, timeout=120)


# Each P's arguments besides the common ones (-n, -o): one row covers several ideas, so
# that every decomposition, mode and kernel is met without a case of its own.
MPI_EXTRA = {("matmul", 2): ([], 300, " (Freivalds' check)"),
             ("matmul", 3): (["--kernel", "python"], 17, " --kernel python"),
             ("factorial", 2): (["--mode", "many", "--schedule", "cyclic", "--chunk", 4, "--kernel", "gmpy2"], 100,
                                " many cyclic gmpy2")}
DASK_EXTRA = {("matmul", "processes", 3): (["--kernel", "python"], 17, " --kernel python"),
              ("factorial", "processes", 2): (["--mode", "many", "--kernel", "gmpy2"], 100, " many gmpy2"),
              ("factorial", "threads", 3): (["--mode", "many", "--schedule", "static"], 300, " many static")}


def correctness():
    """Every program × P, verified: mpi4py through tools/mpirun, Dask on threads and processes
    (a process pool per run: one run is enough), distributed once per workload."""
    cases = []
    for p in WORKERS:
        for workload in WORKLOADS:
            extra, n, label = MPI_EXTRA.get((workload, p), ([], None, ""))
            cases.append(verified(workload, "mpi4py", p, extra, n=n, label=label))
            for scheduler, warmup in (("threads", 1), ("processes", 0)):
                extra, n, label = DASK_EXTRA.get((workload, scheduler, p), ([], None, ""))
                cases.append(verified(workload, "dask", p, ["--scheduler", scheduler] + extra, n=n,
                                      label=" %s%s" % (scheduler, label), warmup=warmup,
                                      checks=[stdout_says(r"scheduler=%s( |$)" % scheduler)]))
    cases += [
        verified("factorial", "mpi4py", 3, ["--mode", "many"], n=300, label=" many (the farm, dynamic)"),
        Case("py factorial mpi4py runs as a lone process, -p 1 (no mpirun)",
             [py("factorial", "mpi4py"), "-n", 100, "-p", 1], 0,
             [result_lines("factorial", "py-mpi4py", 100, 1, figures=FIGURES["factorial"]), no_traceback],
             needs=[py("factorial", "mpi4py")]),
    ]
    for workload in WORKLOADS:  # the distributed scheduler: one small case each, whose processes must all end
        cases.append(probe_case("distributed-run", "py %s dask p=2 distributed: verified, cluster_start= said, "
                                "no process left" % workload, [py(workload, "dask")], workload=workload))
    return cases


def probe_case(name, title, needs, workload=""):
    argv = [sys.executable, THIS, "probe", name, "--port", port()] + (["--workload", workload] if workload else [])
    return Case(title, argv, 0, needs=[str(n) for n in needs], timeout=180)


def same_answers():
    """The same n and seed give the same figures in C (serial), mpi4py (2 ranks) and Dask (2 threads)."""
    cases = []
    for workload, args, keys in (("matmul", ["-n", 67, "--seed", 7], "checksum"),
                                 ("factorial", ["--mode", "many", "-n", 500], "digits,mod61,tasks"),
                                 ("download", ["--files", 6, "--size", "5000", "--seed", 9], "bytes,files")):
        argv = [sys.executable, THIS, "probe", "same", "--workload", workload, "--keys", keys, "--port", port(),
                "--args", " ".join(str(a) for a in args)]
        needs = [program("%s-serial" % workload), py(workload, "mpi4py"), py(workload, "dask")]
        if workload == "download":
            needs.append(FILESERVER)
        cases.append(Case("py %s: C, mpi4py and Dask give the same %s (%s)" % (
            workload, keys, " ".join(map(str, args))), argv, 0, needs=[str(n) for n in needs], timeout=120))
    return cases


def bad_input():
    """Each bad command line of the contract (spread over the workloads), --scheduler's, -p against
    the ranks: exit 2, one message naming the argument, no result, no traceback; a missing package
    is one line naming its Debian package."""
    cases = []
    for model in ("mpi4py", "dask"):
        for number, (args, named) in enumerate(SHARED_BAD_INPUT):
            workload = WORKLOADS[number % len(WORKLOADS)]
            exe = py(workload, model)  # mpi4py too is refused before MPI starts: no mpirun needed
            cases.append(Case("py %s %s refuses %s" % (workload, model, " ".join(args) or "''"), [exe] + args, 2,
                              [stdout_empty, stderr_says(named), no_traceback], needs=[exe]))
    dask, mpi = py("factorial", "dask"), py("factorial", "mpi4py")
    cases += [
        Case("py factorial dask refuses --scheduler futures", [dask, "--scheduler", "futures"], 2,
             [stdout_empty, stderr_says("'futures'", "threads|processes|distributed"), no_traceback], needs=[dask]),
        Case("py factorial dask refuses --scheduler without a word", [dask, "--scheduler"], 2,
             [stdout_empty, stderr_says("--scheduler needs a value"), no_traceback], needs=[dask]),
        Case("py factorial dask refuses --scheduler=Threads", [dask, "--scheduler=Threads"], 2,
             [stdout_empty, stderr_says("'Threads'"), no_traceback], needs=[dask]),
        Case("py factorial dask refuses --schedule cyclic (Dask deals tasks on request)",
             [dask, "--mode", "many", "--schedule", "cyclic"], 2, [stdout_empty, stderr_says("cyclic"), no_traceback],
             needs=[dask]),
        Case("py matmul dask --help names --scheduler", [py("matmul", "dask"), "--help"], 0,
             [stdout_says(r"--scheduler threads\|processes\|distributed"), no_traceback],
             needs=[py("matmul", "dask")]),
        Case("py factorial mpi4py refuses to run as a lone process when -p 2 expects 2 ranks", [mpi, "-p", 2, "-n", 8],
             2, [stdout_empty, stderr_says("-p 2", "single process", "tools/mpirun -np 2"), no_traceback],
             needs=[mpi]),
        Case("py factorial mpi4py refuses -p 3 with 2 ranks, said once", [MPIRUN, "-np", 2, mpi, "-p", 3, "-n", 8], 2,
             [stdout_empty, stderr_says("2 MPI ranks"), said_once("-p 3:"), no_traceback], needs=[mpi]),
        Case("py download mpi4py under mpirun says a bad flag once", [MPIRUN, "-np", 2, py("download", "mpi4py"),
                                                                       "--frobnicate"], 2,
             [stdout_empty, said_once("'--frobnicate'"), no_traceback], needs=[py("download", "mpi4py")]),
        Case("py factorial mpi4py --help under mpirun: printed once", [MPIRUN, "-np", 2, mpi, "--help"], 0,
             [lambda o: None if o.stdout.count("usage: factorial-py-mpi4py") == 1 else "usage printed %d times"
              % o.stdout.count("usage: factorial-py-mpi4py")], needs=[mpi]),
    ]
    for module, exe, args in (("mpi4py", mpi, ["-n", 8]), ("dask", dask, ["-n", 8]),
                              ("distributed", dask, ["-n", 8, "--scheduler", "distributed"])):
        package = "python3-" + module
        cases.append(Case("py factorial %s: a missing %s is one line naming %s, exit 2" % (
            exe.name.split("-py-")[1], module, package), [exe] + args, 2,
            [stdout_empty, stderr_says("apt-get install %s" % package), no_traceback, one_line],
            env={"PYTHONPATH": STATE["hidden"].get(module, "")}, needs=[exe]))
    return cases


def check_fails():
    """--inject-error: every program's check catches it, and the MPI job ends with exit 1
    (matmul's at its warm-up run: a rep=0 line, every rank stopping, said once)."""
    cases = []
    for workload in WORKLOADS:
        for model, p in (("mpi4py", 2), ("dask", 2)):
            warm_up = (workload, model) == ("matmul", "mpi4py")
            args = workload_args(workload) + ["--inject-error"] + ([] if warm_up else ["--warmup", 0])
            checks = ([stdout_says(r"rep=0 .*verified=no"), said_once("untimed warm-up run")] if warm_up else
                      [result_lines(workload, "py-" + model, SIZES[workload], p, verified="no",
                                    figures=FIGURES[workload])])
            cases.append(Case("py %s %s catches a corrupted result%s" % (workload, model, " (warm-up)" * warm_up),
                              launched(workload, model, p, args), 1,
                              checks + [stderr_says("wrong result"), no_traceback], needs=[py(workload, model)],
                              timeout=120))
    return cases


def dying():
    """A killed rank, a killed parent of a LocalCluster: the program ends, no process is left."""
    return [probe_case("kill-rank", "py factorial mpi4py: a rank killed with SIGKILL ends the job (exit non-zero), "
                       "no process left", [py("factorial", "mpi4py")]),
            probe_case("kill-cluster-parent", "py factorial dask distributed: its program killed with SIGKILL, no "
                       "worker left; the cluster listens on 127.0.0.1 only", [py("factorial", "dask")])]


def cases():
    """Every table of these two models, in the order they are reported."""
    return correctness() + same_answers() + bad_input() + check_fails() + dying()


# ---- the probes: run as python3 tests/test_python_mpi_dask.py probe NAME ----

class ProbeFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise ProbeFailed(message)


def marked(mark):
    """The live processes whose environment carries MARK=mark (zombies waiting for us are not)."""
    found, needle = [], ("%s=%s" % (MARK, mark)).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                if f.read().rpartition(")")[2].split()[0] == "Z":
                    continue
            with open("/proc/%s/environ" % entry, "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def wait_for(condition, timeout, what, proc=None):
    """condition()'s first true value within timeout seconds; fails early if proc ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise ProbeFailed("the program ended (exit status %s) before %s" % (proc.returncode, what))
        time.sleep(0.1)
    raise ProbeFailed("timed out waiting for %s" % what)


def all_gone(mark, what):
    """Every marked process ends within GONE_TIMEOUT; any left is named, then killed."""
    try:
        wait_for(lambda: not marked(mark), GONE_TIMEOUT, "the processes to end")
    except ProbeFailed:
        left = marked(mark)
        described = [describe(pid) for pid in left]
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        raise ProbeFailed("%s left processes behind: %s" % (what, described)) from None


def describe(pid):
    return ("%d %s" % (pid, command_line(pid)[:120])).rstrip()


def start(argv, mark):
    """Start a program in a session of its own, marked, stdout and stderr to files."""
    out, err = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
    env = dict(os.environ, **{MARK: mark})
    env["OMPI_MCA_orte_tmpdir_base"] = tempfile.mkdtemp(prefix="ompi-probe-")  # as suite.run_case does
    proc = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True, cwd=str(THIS.parent.parent))
    proc.session = env["OMPI_MCA_orte_tmpdir_base"]
    return proc, out, err


def finish(proc, out, err, timeout=120):
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise ProbeFailed("the program did not end within %d s" % timeout) from None
    finally:
        shutil.rmtree(proc.session, ignore_errors=True)
    out.seek(0)
    err.seek(0)
    return code, out.read(), err.read()


def cpu_seconds_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def busy(mark, program_pid, count, cpu_seconds):
    """count marked Python processes other than the program itself (and mpirun)
    that have used cpu_seconds (so they compute), or None."""
    workers = [pid for pid in marked(mark) if pid != program_pid and cpu_seconds_of(pid) >= cpu_seconds
               and "python" in describe(pid) and "resource_tracker" not in describe(pid)]
    return workers if len(workers) >= count else None


def listening(pids):
    """The addresses (host, port) the processes listen on (TCP, IPv4 and IPv6)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:["):-1])
        except OSError:
            continue
    addresses = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                host, port_hex = fields[1].split(":")
                addresses.append((address_text(host, width), int(port_hex, 16)))
    return addresses


def address_text(hex_host, width):
    """/proc/net/tcp's hexadecimal address as text (IPv4 dotted; IPv6 as 32 hex digits, 127.0.0.1-mapped shown)."""
    if width == 8:
        return ".".join(str(int(hex_host[i:i + 2], 16)) for i in (6, 4, 2, 0))
    return "ipv6:" + hex_host


def probe_same(options):
    """C's serial program, the mpi4py program on 2 ranks and the Dask program on 2 threads: the same figures."""
    base = options.args.split()
    if options.workload == "download":
        base += ["--server", "127.0.0.1:%d" % options.port]
    runs = [("C", [program("%s-serial" % options.workload)]),
            ("mpi4py", [MPIRUN, "-np", 2, py(options.workload, "mpi4py")]),
            ("dask", [py(options.workload, "dask"), "-p", 2])]
    figures, directories = [], []
    for name, argv in runs:
        argv = argv + base
        if options.workload == "download":
            directories.append(tempfile.mkdtemp(prefix="same-"))
            argv += ["-o", directories[-1]]
        proc, out, err = start(argv, uuid.uuid4().hex)
        code, stdout, stderr = finish(proc, out, err)
        expect(code == 0 and stdout, "%s failed (%d): %s" % (name, code, stderr[-400:]))
        pairs = parse_result_line(stdout.splitlines()[0])
        figures.append((name, {key: pairs.get(key) for key in options.keys.split(",")}))
    for name, seen in figures[1:]:
        expect(seen == figures[0][1], "C says %s, %s says %s" % (figures[0][1], name, seen))
    for directory in directories[1:]:
        for file_name in os.listdir(directories[0]):
            expect(Path(directory, file_name).read_bytes() == Path(directories[0], file_name).read_bytes(),
                   "%s differs from C's download" % file_name)
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)


def probe_distributed_run(options):
    """One small run on a LocalCluster of 2 workers: verified, scheduler=distributed
    and cluster_start= said, no traceback, and no process left afterwards."""
    workload, mark = options.workload, uuid.uuid4().hex
    n = {"matmul": 67, "factorial": 300, "download": 12}[workload]
    args = {"matmul": ["-n", n], "factorial": ["-n", n, "--mode", "many"],
            "download": ["--server", "127.0.0.1:%d" % options.port, "--files", n, "--size", "3K"]}[workload]
    directory = tempfile.mkdtemp(prefix="distributed-")
    if workload == "download":
        args += ["-o", directory]
    proc, out, err = start([py(workload, "dask"), "-p", 2, "--scheduler", "distributed"] + args, mark)
    code, stdout, stderr = finish(proc, out, err, timeout=150)
    shutil.rmtree(directory, ignore_errors=True)
    outcome = Outcome(code, stdout, stderr, 0)
    expect(code == 0, "exit status %d: %s" % (code, stderr[-600:]))
    problem = result_lines(workload, "py-dask", n, 2, figures=FIGURES[workload] + ("cluster_start",))(outcome)
    expect(problem is None, problem)
    expect(re.search(r" scheduler=distributed cluster_start=[0-9.]+$", stdout.strip()), "no scheduler=distributed "
           "cluster_start=: %r" % stdout[-200:])
    expect("Traceback" not in stderr, "a traceback on stderr: %s" % stderr[-600:])
    all_gone(mark, "a normal run on the distributed scheduler")


def probe_kill_cluster_parent(options):
    """A LocalCluster's program killed with SIGKILL while its workers compute: the
    workers end too; while it ran, every socket its processes listened on was 127.0.0.1's."""
    mark = uuid.uuid4().hex
    proc, out, err = start([py("factorial", "dask")] + LONG_DASK, mark)
    try:
        wait_for(lambda: busy(mark, proc.pid, 2, CLUSTER_WORKER_BUSY_SECONDS), START_TIMEOUT,
                 "the cluster's 2 workers at work", proc)
        sockets = listening(marked(mark))
        expect(sockets, "found no listening socket of the cluster's processes (the scheduler's, at least)")
        outside = [s for s in sockets if s[0] != "127.0.0.1"]
        expect(not outside, "the cluster listens beyond 127.0.0.1: %s" % outside)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(proc.session, ignore_errors=True)
    all_gone(mark, "a LocalCluster whose program was killed")


def probe_kill_rank(options):
    """An MPI job whose rank 1 is killed with SIGKILL mid-run: the job ends, non-zero, with no process left."""
    mark = uuid.uuid4().hex
    proc, out, err = start([MPIRUN, "-np", 2, py("factorial", "mpi4py")] + LONG_MPI, mark)
    ranks = wait_for(lambda: busy(mark, proc.pid, 2, RANK_BUSY_SECONDS), START_TIMEOUT, "both ranks at work", proc)
    os.kill(max(ranks), signal.SIGKILL)  # one of them; the other must not be left waiting
    code, stdout, stderr = finish(proc, out, err, timeout=60)
    expect(code != 0, "exit status 0 after a killed rank: %r" % stdout[-200:])
    expect(stdout == "", "a result line after a killed rank: %r" % stdout[-200:])
    all_gone(mark, "an MPI job with a killed rank")


def main():
    parser = argparse.ArgumentParser(description="the mpi4py and Dask probes (run by tests/run_tests.py)")
    parser.add_argument("command", choices=["probe"])
    parser.add_argument("name")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workload", default="")
    parser.add_argument("--keys", default="")
    parser.add_argument("--args", default="", help="the programs' arguments, in one word")
    options = parser.parse_args()
    try:
        globals()["probe_" + options.name.replace("-", "_")](options)
    except (ProbeFailed, OSError, ValueError, subprocess.TimeoutExpired) as e:
        print("probe %s: %s: %s" % (options.name, type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
