"""tests/test_python_mpi_dask.py — the Python lane's mpi4py and Dask programs: the C programs' contract, kept.

Every program × P ∈ {1, 2, 3} verifies (mpi4py as P ranks through
tools/mpirun; Dask on its threads and processes schedulers, and on the
distributed scheduler, which starts a whole LocalCluster, in one small case
per workload); the same n and seed give the same figures in C, mpi4py and
Dask; bad command lines and missing packages exit 2 with one message and no
traceback; --inject-error fails the check; a killed rank ends the MPI job
with no process left; the distributed scheduler leaves no process behind,
after a normal run and after its program is killed, listens on 127.0.0.1
only, and stopped by Ctrl-C says so in one line.

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
from suite import (MPIRUN, ROOT, SHARED_BAD_INPUT, Case, Outcome, parse_result_line, program,  # noqa: E402
                   RANK_ONE_LIMITED, result_lines, said_once, stderr_empty, stderr_lacks, stderr_says, stdout_empty,
                   stdout_says, UNDER_MEMORY_CGROUP, UNDER_MEMORY_CGROUP_CANNOT)
from python_checks import (CLEANUPS, FILESERVER, Scratch, cpu_seconds_of, describe, expect, finish,  # noqa: E402
                           kernel_needs, kill_all, kill_group, marked, no_traceback, none_left, one_line,
                           pool_not_started, py, read_all, run_probe, same_figures, schedules_listed, scratch_folder,
                           start, stderr_closed, wait_for)

WORKLOADS = ("matmul", "factorial", "download")
WORKERS = (1, 2, 3)
FIGURES = {"matmul": ("gflops", "kernel", "checksum", "startup"),
           "factorial": ("digits", "mod61", "startup"),
           "download": ("bytes", "files", "failures", "retries", "mbps", "cpu_user", "cpu_sys", "startup")}
SIZES = {"matmul": 67, "factorial": 1000, "download": 12}
THIS = Path(__file__).resolve()
# The modules a case hides (a folder with a stand-in that fails to import, put first on PYTHONPATH).
HIDDEN = ("mpi4py", "dask", "distributed")
# The environment variable whose value marks every process a probed program started.
MARK = "SUITE_PROBE_MARK"
# Seconds between the harness's SIGTERM to a run's process group at its time limit and its SIGKILL to the rest.
HARNESS_GRACE = 2
# Seconds a program's processes get to be gone once it has ended or been killed.
GONE_TIMEOUT = 20
# Seconds a loaded machine may take to start an MPI job or a LocalCluster and get its workers busy.
START_TIMEOUT = 90
# CPU seconds an MPI rank, and a LocalCluster's worker (which imports far more),
# has used when it surely works on tasks: its start-up takes less (a worker's, a
# third to a half of a second on a quiet machine; more on a loaded one).
RANK_BUSY_SECONDS, CLUSTER_WORKER_BUSY_SECONDS = 0.5, 1.5
# Runs long enough to be caught in the middle: thousands of growing tasks (MPI); two
# range products of seconds each (Dask, whose scheduler would spend more than its
# workers on thousands of small tasks).
LONG_MPI = ["--mode", "many", "-n", 20000, "--warmup", 0]
LONG_DASK = ["-n", 3000000, "--warmup", 0, "--scheduler", "distributed", "-p", 2]
# Thousands of small tasks on a LocalCluster: the Client waits on each. At 6000 the program
# submits them for 3 s, and its workers are past CLUSTER_WORKER_BUSY_SECONDS after a third
# of the run's CPU time (14 s on a quiet 2-core AMD EPYC Zen 5 VM).
MANY_DASK = ["--mode", "many", "-n", 6000, "--warmup", 0, "--scheduler", "distributed", "-p", 2]
# A rank on another host: its monotonic clock a day ahead (each host's counts from its own boot),
# through a time namespace; and the exit status of a probe that cannot make one here (skipped).
HOST_CLOCK_AHEAD = 86400
CANNOT_SHIFT_CLOCK = 77
# factorial --mode big across 2 ranks, runs of a tenth of a second or more with gmpy2: two range
# products, then rank 0's last multiplication of the halves, which combine= holds: a fifth to a
# half of compute= (measured). Left out, combine= is rank 1's sending alone, a twentieth or less,
# unless rank 1 waited for rank 0 that run: the median run's share is held to this.
SHIFTED_RUN = ["-n", 1000000, "--kernel", "gmpy2", "--warmup", 0, "-r", 5]
COMBINE_SHARE = 0.1
# All a Ctrl-C'd program says.
INTERRUPTED = "interrupted (Ctrl-C): stopping; no result for the run in progress"

SCRATCH = Scratch("python-mpi-dask-tests-", {"plain": ["--latency", 2]})
out_dir = SCRATCH.out_dir
# Each hidden module's folder, made by setup().
HIDING = {}
# The ways a case gives DASK_TEMPORARY_DIRECTORY a folder Python's parser warns on (literal_folder).
LITERAL_WAYS = {"plain": "one Python's parser warns on (.../3in-...)", "quoted": "quoted, as Dask allows"}


# ---- the fixtures: a file server, a scratch folder, the hidden packages ----

def setup():
    SCRATCH.setup()
    for module in HIDDEN:
        folder = Path(SCRATCH.tmp, "hide-" + module)
        folder.mkdir()
        (folder / (module + ".py")).write_text("raise ImportError(\"No module named '%s' (hidden by the test)\")\n"
                                               % module)
        HIDING[module] = str(folder)
    for way in LITERAL_WAYS:
        Path(literal_folder(way)).mkdir()


def literal_folder(way):
    """A folder whose path Python's parser warns on, read as a literal (as Dask reads DASK_* variables):
    "3in" is a number run into a keyword ("<unknown>:1: SyntaxWarning: invalid decimal literal").
    One for each way a case gives it (LITERAL_WAYS), so that cases side by side keep apart. (Before
    setup, as --list makes the cases, a name in the system's temporary folder, as SCRATCH.out_dir gives.)"""
    return os.path.join(SCRATCH.tmp or tempfile.gettempdir(), "3in-dask-scratch-" + way)


def folder_empty(folder):
    """Check: nothing is left in folder."""
    def check(outcome):
        left = sorted(os.listdir(folder))
        return "left in %s: %s" % (folder, ", ".join(left)) if left else None
    return check


def teardown():
    SCRATCH.teardown()


def port():
    return SCRATCH.port("plain")


# ---- checks ----

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
    needs = [py(workload, model)] + ([FILESERVER] if workload == "download" else []) + kernel_needs(extra)
    return Case("py %s %s p=%d%s" % (workload, model, p, label), launched(workload, model, p, args), 0,
                [result_lines(workload, "py-" + model, SIZES[workload] if n is None else n, p,
                              figures=FIGURES[workload]), no_traceback] + list(checks), needs=needs, timeout=120)


# Each P's arguments besides the common ones (-n, -o): one row covers several ideas, so
# that every decomposition, mode and kernel is met without a case of its own.
MPI_EXTRA = {("matmul", 2): ([], 300, " (Freivalds' check)"),
             ("matmul", 3): (["--kernel", "python"], 2, " --kernel python, a rank with no rows"),
             ("factorial", 2): (["--mode", "many", "--schedule", "cyclic", "--chunk", 4, "--kernel", "gmpy2"], 100,
                                " many cyclic gmpy2")}
DASK_EXTRA = {("matmul", "processes", 3): (["--kernel", "python"], 2, " --kernel python, a task with no rows"),
              ("factorial", "processes", 2): (["--mode", "many", "--kernel", "gmpy2"], 100, " many gmpy2"),
              ("factorial", "threads", 3): (["--mode", "many", "--schedule", "static", "--kernel", "gmpy2-nogil"], 300,
                                            " many static gmpy2-nogil")}


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
        Case("py factorial mpi4py p=2, rank 1's clock a day ahead (another host's): combine= is still rank 0's "
             "last multiplication", [sys.executable, THIS, "probe", "clock-ahead"], 0,
             needs=[py("factorial", "mpi4py")], timeout=120, skip_exit=CANNOT_SHIFT_CLOCK),
        Case("py factorial mpi4py runs as a lone process, -p 1 (no mpirun)",
             [py("factorial", "mpi4py"), "-n", 100, "-p", 1], 0,
             [result_lines("factorial", "py-mpi4py", 100, 1, figures=FIGURES["factorial"]), no_traceback],
             needs=[py("factorial", "mpi4py")]),
    ]
    # Under PYTHONWARNINGS=default (or -X dev) Python says of every file nobody closed "ResourceWarning: unclosed
    # file": rank 1, which writes nothing, leaves none.
    case = verified("factorial", "mpi4py", 2, n=100, label=" under PYTHONWARNINGS=default: no ResourceWarning "
                    "(rank 1's stdout)", checks=[stderr_lacks("ResourceWarning", "Warning:")])
    case.env = {"PYTHONWARNINGS": "default"}
    cases.append(case)
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
        Case("py factorial dask --help lists --schedule static|dynamic, the ones it takes", [dask, "--help"], 0,
             [schedules_listed("static|dynamic"), no_traceback], needs=[dask]),
        Case("py matmul dask --help names --scheduler", [py("matmul", "dask"), "--help"], 0,
             [stdout_says(r"--scheduler threads\|processes\|distributed"), no_traceback],
             needs=[py("matmul", "dask")]),
        Case("py factorial mpi4py refuses to run as a lone process when -p 2 expects 2 ranks", [mpi, "-p", 2, "-n", 8],
             2, [stdout_empty, stderr_says("-p 2", "single process", "tools/mpirun -np 2"), no_traceback],
             needs=[mpi]),
        Case("py factorial mpi4py refuses -p 3 with 2 ranks, said once", [MPIRUN, "-np", 2, mpi, "-p", 3, "-n", 8], 2,
             [stdout_empty, stderr_says("2 MPI ranks"), said_once("-p 3:"), no_traceback], needs=[mpi]),
        # Every rank holds B and its rows besides rank 0's A, B, C and C in transit: 7 matrices at 2 ranks, 4 alone.
        Case("py matmul mpi4py refuses a size its ranks together cannot hold under a memory cgroup (each holds a "
             "copy of B), where rank 0 was killed for memory (137)",
             [UNDER_MEMORY_CGROUP, 1 << 30, MPIRUN, "-np", 2, py("matmul", "mpi4py"), "-n", 4500], 2,
             [stdout_empty, stderr_says("-n 4500: needs about 1.4 GiB of memory, more than the 1.0 GiB"),
              said_once("needs about"), no_traceback],
             needs=[py("matmul", "mpi4py")], skip_exit=UNDER_MEMORY_CGROUP_CANNOT, timeout=60),
        # Each rank checks the memory its host lets it have, after MPI has started, so that all agree.
        Case("py factorial mpi4py: a size rank 1 cannot hold (its host with less memory: ulimit -v there) is refused "
             "by every rank, exit 2, rank 1 saying so once, where it left alone and unheard",
             [MPIRUN, "-np", 2, "bash", "-c", RANK_ONE_LIMITED, 1500000, mpi, "-n", 100000000], 2,
             [stdout_empty, stderr_says("-n 100000000: needs about", "rank 1 may use, on host"),
              said_once("needs about"), no_traceback], needs=[mpi], timeout=60),
        Case("py download mpi4py under mpirun says a bad flag once", [MPIRUN, "-np", 2, py("download", "mpi4py"),
                                                                       "--frobnicate"], 2,
             [stdout_empty, said_once("'--frobnicate'"), no_traceback], needs=[py("download", "mpi4py")]),
        Case("py factorial mpi4py --help under mpirun: printed once", [MPIRUN, "-np", 2, mpi, "--help"], 0,
             [lambda o: None if o.stdout.count("usage: factorial-py-mpi4py") == 1 else "usage printed %d times"
              % o.stdout.count("usage: factorial-py-mpi4py")], needs=[mpi]),
        Case("py matmul mpi4py --help under mpirun on an ASCII stdout (PYTHONIOENCODING=ascii): exit 0, no "
             "traceback (rank 1's too)", [MPIRUN, "-np", 2, py("matmul", "mpi4py"), "--help"], 0,
             [stdout_says(r"C = A\\xb7B"), no_traceback], env={"PYTHONIOENCODING": "ascii"},
             needs=[py("matmul", "mpi4py")]),
        Case("py download mpi4py refuses --server [zz]:80 (no IPv6 address), exit 2",
             [py("download", "mpi4py"), "--server", "[zz]:80", "--files", 1, "--size", 1], 2,
             [stdout_empty, stderr_says("--server '[zz]:80':", "is not a URL (Bad IPv6 address)"), no_traceback],
             needs=[py("download", "mpi4py")]),
    ]
    # Started with stdout closed (>&-): exit 1 and one line, as run.main's programs do; a run says it
    # before the first run, so the job ends without MPI_Abort.
    for workload, args, what in (("matmul", ["--help"], "the help"), ("download", ["--describe"], "the description"),
                                 ("factorial", ["-n", 10], "the result line")):
        exe = py(workload, "mpi4py")
        cases.append(Case("py %s mpi4py %s with stdout closed (>&-): exit 1, said, no traceback"
                          % (workload, " ".join(map(str, args))), ["sh", "-c", 'exec "$0" "$@" >&-', exe] + args, 1,
                          [stderr_says("cannot write %s to stdout: Bad file descriptor" % what), no_traceback,
                           one_line], needs=[exe]))
    # Started with stderr closed (2>&-): a run verifies, exit 0 (leaving flushed a stderr Python had not),
    # and a message is lost, as a C program's, never printed on stdout.
    for exe, args, model in ((dask, ["-p", 2, "-n", 100], "py-dask"), (mpi, ["-n", 100], "py-mpi4py")):
        name = exe.name.split("-py-")[1]
        cases += [
            Case("py factorial %s with stderr closed (2>&-): exit 0, the result line alone on stdout" % name,
                 stderr_closed([exe] + args), 0, [result_lines("factorial", model, 100, 2 if "-p" in args else 1)],
                 needs=[exe]),
            Case("py factorial %s -n x with stderr closed (2>&-): exit 2, no message on stdout" % name,
                 stderr_closed([exe, "-n", "x"]), 2, [stdout_empty], needs=[exe])]
    for module, exe, args in (("mpi4py", mpi, ["-n", 8]), ("dask", dask, ["-n", 8]),
                              ("distributed", dask, ["-n", 8, "--scheduler", "distributed"])):
        package = "python3-" + module
        cases.append(Case("py factorial %s: a missing %s is one line naming %s, exit 2" % (
            exe.name.split("-py-")[1], module, package), [exe] + args, 2,
            [stdout_empty, stderr_says("apt-get install %s" % package), no_traceback, one_line],
            env={"PYTHONPATH": HIDING.get(module, "")}, needs=[exe]))
    # Dask reads DASK_TEMPORARY_DIRECTORY as a Python literal first, in the program and in each worker process:
    # a value the parser warns on, and a quoted one (a string literal, which Dask takes without its quotes).
    for way, what in LITERAL_WAYS.items():
        folder = literal_folder(way)
        cases.append(Case("py factorial dask distributed given a DASK_TEMPORARY_DIRECTORY %s: verified, nothing on "
                          "stderr, its scratch space made there and removed" % what,
                          [dask, "-p", 2, "-n", 300, "--scheduler", "distributed", "--warmup", 0], 0,
                          [result_lines("factorial", "py-dask", 300, 2), stderr_empty, folder_empty(folder)],
                          env={"DASK_TEMPORARY_DIRECTORY": repr(folder) if way == "quoted" else folder},
                          needs=[dask], timeout=120))
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
    """A killed rank, a killed parent of a LocalCluster: the program ends, no process is left;
    nor when the processes scheduler's pool cannot start its workers."""
    return [probe_case("kill-rank", "py factorial mpi4py: a rank killed with SIGKILL ends the job (exit non-zero), "
                       "no process left", [py("factorial", "mpi4py")]),
            probe_case("kill-cluster-parent", "py factorial dask distributed: its program killed with SIGKILL, no "
                       "worker and no scratch space left; the cluster listens on 127.0.0.1 only",
                       [py("factorial", "dask")]),
            probe_case("time-limit-cluster", "py factorial dask distributed: its group stopped as the harness stops "
                       "a run at its time limit (SIGTERM, SIGKILL 2 s later), no process and no scratch space left",
                       [py("factorial", "dask")]),
            probe_case("interrupt-distributed", "py factorial dask distributed --mode many: Ctrl-C mid-run is exit 1 "
                       "and the one message, no traceback, no process left", [py("factorial", "dask")]),
            # what each LocalCluster worker runs as it starts (its preload), logging as a worker logs
            Case("py dask distributed: a worker's 'Scheduler was unaware of this worker' and 'Failed to communicate "
                 "with scheduler during heartbeat' (races of the cluster's end) are kept off stderr, its other errors "
                 "not",
                 [sys.executable, "-c", "import logging, runpy; logging.basicConfig(); runpy.run_path(%r); "
                  "log = logging.getLogger('distributed.worker'); log.error(\"Scheduler was unaware of this worker "
                  "'tcp://127.0.0.1:1'. Shutting down.\"); log.error('Failed to communicate with scheduler during "
                  "heartbeat.'); log.error('another error')" % str(ROOT / "python" / "common" / "dask_worker.py")], 0,
                 [stdout_empty, stderr_says("ERROR:distributed.worker:another error"),
                  stderr_lacks("Scheduler was unaware", "Failed to communicate")]),
            probe_case("no-descriptors", "py factorial dask processes: a pool that cannot start its workers "
                       "(ulimit -n 24) is one line, exit 1, no worker left", [py("factorial", "dask")])]


def cases():
    """Every table of these two models, in the order they are reported."""
    return correctness() + same_answers() + bad_input() + check_fails() + dying()


# ---- the probes: run as python3 tests/test_python_mpi_dask.py probe NAME ----

def all_gone(mark, what):
    """Every marked process ends within GONE_TIMEOUT; any left is named, then killed."""
    none_left(lambda: marked(MARK, mark), GONE_TIMEOUT, what)


def start_marked(argv, mark):
    """Start a program in a session of its own, marked, with a folder of its own for Open MPI's session files
    and a temporary folder of its own (TMPDIR, where a LocalCluster's scratch space goes: DASK_TEMPORARY_DIRECTORY
    unset), as proc.tmp; whatever carries its mark is killed when the probe ends (a LocalCluster's workers leave
    its group)."""
    env = dict(os.environ, **{MARK: mark})
    env["OMPI_MCA_orte_tmpdir_base"] = scratch_folder("ompi-probe-")  # as suite.run_case does
    env["TMPDIR"] = scratch_folder("probe-tmp-")
    env.pop("DASK_TEMPORARY_DIRECTORY", None)
    CLEANUPS.append(lambda: kill_all(marked(MARK, mark)))
    proc = start(argv, env)
    proc.session, proc.tmp = env["OMPI_MCA_orte_tmpdir_base"], env["TMPDIR"]
    return proc


def nothing_said(proc, what):
    """A killed program's stderr is empty, once every process it started (its resource tracker too) has gone."""
    said = read_all(proc.err)
    expect(said == "", "%s: something said on its stderr: %r" % (what, said[-400:]))


def nothing_left(proc, what):
    """Nothing is left in the program's temporary folder (all_gone has waited for its processes)."""
    left = sorted(os.listdir(proc.tmp))
    expect(not left, "%s left %s in its temporary folder" % (what, ", ".join(left)))


def finish_marked(proc, timeout=120):
    """(exit status, stdout, stderr) once it has ended (killed, and a failed probe, after timeout seconds)."""
    try:
        return finish(proc, timeout)
    finally:
        shutil.rmtree(proc.session, ignore_errors=True)


def busy(mark, program_pid, count, cpu_seconds):
    """count marked Python processes other than the program itself (and mpirun)
    that have used cpu_seconds (so they compute), or None."""
    workers = [pid for pid in marked(MARK, mark) if pid != program_pid and cpu_seconds_of(pid) >= cpu_seconds
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
    args = options.args.split()
    same_figures([("C", [program("%s-serial" % options.workload)] + args),
                  ("mpi4py", [MPIRUN, "-np", 2, py(options.workload, "mpi4py")] + args),
                  ("dask", [py(options.workload, "dask"), "-p", 2] + args)],
                 options.keys.split(","), "127.0.0.1:%d" % options.port if options.workload == "download" else "",
                 lambda name, argv: finish_marked(start_marked(argv, uuid.uuid4().hex)))


def probe_distributed_run(options):
    """One small run on a LocalCluster of 2 workers: verified, scheduler=distributed
    and cluster_start= said, no traceback, and no process left afterwards."""
    workload, mark = options.workload, uuid.uuid4().hex
    n = {"matmul": 67, "factorial": 300, "download": 12}[workload]
    args = {"matmul": ["-n", n], "factorial": ["-n", n, "--mode", "many"],
            "download": ["--server", "127.0.0.1:%d" % options.port, "--files", n, "--size", "3K"]}[workload]
    directory = scratch_folder("distributed-")
    if workload == "download":
        args += ["-o", directory]
    proc = start_marked([py(workload, "dask"), "-p", 2, "--scheduler", "distributed"] + args, mark)
    code, stdout, stderr = finish_marked(proc, timeout=150)
    outcome = Outcome(code, stdout, stderr, 0)
    expect(code == 0, "exit status %d: %s" % (code, stderr[-600:]))
    problem = result_lines(workload, "py-dask", n, 2, figures=FIGURES[workload] + ("cluster_start",))(outcome)
    expect(problem is None, problem)
    expect(re.search(r" scheduler=distributed cluster_start=[0-9.]+$", stdout.strip()), "no scheduler=distributed "
           "cluster_start=: %r" % stdout[-200:])
    expect("Traceback" not in stderr, "a traceback on stderr: %s" % stderr[-600:])
    all_gone(mark, "a normal run on the distributed scheduler")
    nothing_left(proc, "a normal run on the distributed scheduler")


def probe_kill_cluster_parent(options):
    """A LocalCluster's program killed with SIGKILL while its workers compute: the
    workers end too, and the workers' scratch space is removed; while it ran, every
    socket its processes listened on was 127.0.0.1's."""
    mark = uuid.uuid4().hex
    proc = start_marked([py("factorial", "dask")] + LONG_DASK, mark)
    try:
        wait_for(lambda: busy(mark, proc.pid, 2, CLUSTER_WORKER_BUSY_SECONDS), START_TIMEOUT,
                 "the cluster's 2 workers at work", proc)
        sockets = listening(marked(MARK, mark))
        expect(sockets, "found no listening socket of the cluster's processes (the scheduler's, at least)")
        outside = [s for s in sockets if s[0] != "127.0.0.1"]
        expect(not outside, "the cluster listens beyond 127.0.0.1: %s" % outside)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    all_gone(mark, "a LocalCluster whose program was killed")
    nothing_left(proc, "a LocalCluster whose program was killed")
    nothing_said(proc, "a LocalCluster whose program was killed")


def probe_time_limit_cluster(options):
    """The harness's time limit on a LocalCluster's program while its workers compute:
    SIGTERM to its process group, SIGKILL to whatever of the group is left HARNESS_GRACE
    seconds later (tools/harness): no process left, nothing in its temporary folder."""
    mark = uuid.uuid4().hex
    proc = start_marked([py("factorial", "dask")] + LONG_DASK, mark)
    wait_for(lambda: busy(mark, proc.pid, 2, CLUSTER_WORKER_BUSY_SECONDS), START_TIMEOUT,
             "the cluster's 2 workers at work", proc)
    os.killpg(proc.pid, signal.SIGTERM)
    time.sleep(HARNESS_GRACE)
    kill_group(proc.pid)
    proc.wait()
    all_gone(mark, "a LocalCluster whose program met the harness's time limit")
    nothing_left(proc, "a LocalCluster whose program met the harness's time limit")
    nothing_said(proc, "a LocalCluster whose program met the harness's time limit")


def probe_interrupt_distributed(options):
    """Ctrl-C (SIGINT to the program's group) while a LocalCluster's workers run thousands
    of small tasks: exit 1, the program's one line on stderr and nothing else (the Client's
    gather left a task waiting on each future, and each reported its AllExit with a
    traceback), no result line, no process left."""
    mark = uuid.uuid4().hex
    proc = start_marked([py("factorial", "dask")] + MANY_DASK, mark)
    wait_for(lambda: busy(mark, proc.pid, 2, CLUSTER_WORKER_BUSY_SECONDS), START_TIMEOUT,
             "the cluster's 2 workers at work", proc)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    code, stdout, stderr = finish_marked(proc, timeout=60)
    expect(code == 1, "exit status %d after Ctrl-C, expected 1: %r" % (code, stderr[-600:]))
    lines = stderr.splitlines()
    expect(lines == ["factorial-py-dask: " + INTERRUPTED], "stderr has %d lines, expected the one message; it "
           "begins %r and ends %r" % (len(lines), stderr[:400], stderr[-300:]))
    expect(stdout == "", "a result line after Ctrl-C: %r" % stdout[-200:])
    all_gone(mark, "a LocalCluster's program stopped by Ctrl-C")
    nothing_left(proc, "a LocalCluster's program stopped by Ctrl-C")


def probe_no_descriptors(options):
    pool_not_started([py("factorial", "dask"), "--scheduler", "processes", "-p", 64, "-n", 2000], GONE_TIMEOUT)


def probe_clock_ahead(options):
    """An MPI job whose rank 1 reads a monotonic clock a day ahead of rank 0's, as a rank on
    another host does: the phases rank 0 reports are its own (combine=: from the later range's end
    until n! is whole), not one reckoned from rank 1's clock."""
    ahead = ["unshare", "--time", "--monotonic", str(HOST_CLOCK_AHEAD)]
    try:
        shifted = subprocess.run(ahead + [sys.executable, "-c", "import time; print(time.monotonic())"],
                                 capture_output=True, text=True, timeout=30)
        shift = float(shifted.stdout) - time.monotonic() if shifted.returncode == 0 else 0.0
    except (OSError, ValueError):
        shift = 0.0
    if shift < HOST_CLOCK_AHEAD / 2:
        print("skipped: no time namespace here (unshare --time needs Linux 5.6 and the right to make one)")
        sys.exit(CANNOT_SHIFT_CLOCK)
    rank_one_ahead = ('[ "${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}" = 1 ] && exec %s "$0" "$@"; exec "$0" "$@"'
                      % " ".join(ahead))
    mark = uuid.uuid4().hex
    code, stdout, stderr = finish_marked(start_marked([MPIRUN, "-np", 2, "sh", "-c", rank_one_ahead,
                                                       py("factorial", "mpi4py")] + SHIFTED_RUN, mark))
    expect(code == 0 and stdout, "exit status %d: %s" % (code, stderr[-400:]))
    runs = [parse_result_line(line) for line in stdout.splitlines()]
    shares = sorted(float(pairs["combine"]) / float(pairs["compute"]) for pairs in runs)
    expect(shares[len(shares) // 2] >= COMBINE_SHARE, "combine= is %s of compute= in the median run, below %g: "
           "rank 0's last multiplication left out, timed from rank 1's clock (%s)"
           % (round(shares[len(shares) // 2], 3), COMBINE_SHARE, "; ".join(
               "combine=%s compute=%s" % (pairs["combine"], pairs["compute"]) for pairs in runs)))


def probe_kill_rank(options):
    """An MPI job whose rank 1 is killed with SIGKILL mid-run: the job ends, non-zero, with no process left."""
    mark = uuid.uuid4().hex
    proc = start_marked([MPIRUN, "-np", 2, py("factorial", "mpi4py")] + LONG_MPI, mark)
    ranks = wait_for(lambda: busy(mark, proc.pid, 2, RANK_BUSY_SECONDS), START_TIMEOUT, "both ranks at work", proc)
    os.kill(max(ranks), signal.SIGKILL)  # one of them; the other must not be left waiting
    code, stdout, stderr = finish_marked(proc, timeout=60)
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
    return run_probe(options.name, lambda: globals()["probe_" + options.name.replace("-", "_")](options))


if __name__ == "__main__":
    sys.exit(main())
