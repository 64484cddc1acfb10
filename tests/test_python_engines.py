"""tests/test_python_engines.py — the Python lane's heavy engines: IPython Parallel, Numba, asyncio.

bin/factorial-py-ipyparallel (a cluster of engines the program starts and
stops), bin/matmul-py-numba (loops compiled by Numba, run by prange or by
nogil threads) and bin/download-py-asyncio (one event loop, aiohttp) keep
the contract tests/test_python.py checks for the other Python models:
verified runs, the same figures as C, bad command lines and missing packages
refused with exit 2 in one line, --inject-error caught. And what is their
own: the cluster's start-up reported (cluster_start=) and none of its
processes or files left after a run, a SIGKILLed parent or Ctrl-C; Numba's
compile time (jit=) and threading layer; asyncio's transfers in flight at
once (in_flight=) from one thread, and Ctrl-C leaving no partial file.

Starting a cluster costs seconds (five Python processes or more, importing
IPython) and compiling with Numba one or two, so those two programs get few
cases (issue 10: one small case each for the heavy engines); asyncio is
cheap and gets P ∈ {1, 2, 3}. The probes that watch processes are this file
run as a program, each in its own process: python3 tests/test_python_engines.py probe NAME ...
Processes are followed by a tag in their environment (children inherit it),
since a cluster's processes live in sessions of their own.
"""
import argparse
import contextlib
import io
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import (MOST_THREADS, SHARED_BAD_INPUT, Case, ROOT, command_line, parse_result_line,  # noqa: E402
                   program, result_lines, stderr_says, stdout_empty, stdout_says)
from python_checks import (CLEANUPS, FILESERVER, ProbeFailed, Scratch, expect, figures_are, finish,  # noqa: E402
                           kill_all, marked, no_traceback, none_left, one_line, run_probe, same_figures,
                           schedules_listed, scratch_folder, start, wait_for, whole_files_only)

THIS = Path(__file__).resolve()
# numba.py, aiohttp.py and ipyparallel.py, each raising ImportError: on PYTHONPATH, the package is missing.
HIDE_PACKAGES = ROOT / "tests" / "data" / "hide-engines"
# sitecustomize.py that makes IPython Parallel's controller stall: on PYTHONPATH, a loaded machine's.
SLOW_CONTROLLER = ROOT / "tests" / "data" / "slow-controller"
IPP = program("factorial-py-ipyparallel")
NUMBA = program("matmul-py-numba")
ASYNC = program("download-py-asyncio")
# Numeric figures every result line of each program carries, besides the contract's.
FIGURES = {IPP: ("digits", "mod61", "per_task_us", "startup", "cluster_start"),
           NUMBA: ("gflops", "checksum", "startup", "jit"),
           ASYNC: ("bytes", "files", "failures", "retries", "mbps", "cpu_user", "cpu_sys", "startup", "in_flight")}
# Seconds a case with a cluster may take on a loaded machine (its start alone can take tens).
CLUSTER_TIMEOUT = 150
# Seconds killed or finished programs' processes get to be gone.
GONE_TIMEOUT = 20
# Seconds a program may take to get its engines or transfers going.
START_TIMEOUT = 90
# The slow server's latency: a transfer waits this long, long enough to be caught in flight.
SLOW_LATENCY_MS = 300
# The environment variable that tags a probed program and every process it starts.
TAG = "SUITE_TEST_TAG"

SCRATCH = Scratch("python-engines-tests-", {"plain": ["--latency", 2],
                                            "faulty": ["--latency", 2, "--fail-rate", 0.1, "--drop-rate", 0.05,
                                                       "--seed", 7, "--retry-after", 0],
                                            "slow": ["--latency", SLOW_LATENCY_MS]})
teardown, server, out_dir = SCRATCH.teardown, SCRATCH.address, SCRATCH.out_dir
# What a Numba that is installed but cannot load says (llvmlite's shared library, mapped
# under ulimit -v): a numba.py raising it, on PYTHONPATH, stands in for it.
BROKEN_NUMBA = ("Could not find/load shared object file: libllvmlite.so\n"
                " Error was: libLLVM-14.so.1: failed to map segment from shared object")


def broken_packages():
    """The folder of stand-ins for packages that are there but fail to load (setup() fills it)."""
    return Path(SCRATCH.tmp or "/nonexistent", "broken-packages")


def setup():
    SCRATCH.setup()
    broken_packages().mkdir()
    (broken_packages() / "numba.py").write_text("raise OSError(%r)\n" % BROKEN_NUMBA)


# ---- checks ----

def retried(outcome):
    """Check: the faulty server's faults happened, and were retried."""
    line = outcome.stdout.splitlines()[0] if outcome.stdout else ""
    return None if line and int(parse_result_line(line)["retries"]) > 0 else "no retries: the faults did not happen"


# ---- the cases ----

def verified(exe, workload, model, p, args, size, reps=1, checks=(), label="", timeout=90):
    """A run of exe at -p p that verifies every time and prints the contract's lines."""
    needs = [exe] + ([FILESERVER] if workload == "download" else [])
    return Case("pyengine %s %s p=%d%s" % (workload, model, p, label), [exe, "-p", p, "-r", reps] + list(args), 0,
                [result_lines(workload, "py-" + model, size, p, reps=reps, figures=FIGURES[exe]), no_traceback]
                + list(checks), needs=needs, timeout=timeout)


def download_args(name="plain", files=12, size="3K"):
    return ["--server", server(name), "--files", files, "--size", size, "-o", out_dir()]


def correctness():
    """Verified runs: asyncio at every P (and against faults, and in flight at once); one each for the heavy engines."""
    cases = [verified(ASYNC, "download", "asyncio", p, download_args(), 12, reps=1 + (p == 2),
                      checks=[figures_are({"in_flight": p, "files": 12})]) for p in (1, 2, 3)]
    cases.append(verified(ASYNC, "download", "asyncio", 6, download_args("faulty", 60, "8000") + ["--warmup", 0], 60,
                          checks=[figures_are({"failures": 0, "files": 60}), retried],
                          label=": faults really happen, and are retried"))
    cases.append(verified(ASYNC, "download", "asyncio", 4, download_args("slow", 8, "1000") + ["--warmup", 0], 8,
                          checks=[figures_are({"in_flight": 4})],
                          label=": four transfers in flight at once, from one thread"))
    # Run from a folder holding a random.py and a numpy.py: the controller and the engines, started as
    # python -m, import neither.
    case = verified(IPP, "factorial", "ipyparallel", 2, ["--mode", "many", "-n", 60, "--warmup", 0], 60,
                    label=", run from a folder holding random.py and numpy.py", timeout=CLUSTER_TIMEOUT)
    case.argv = SCRATCH.from_shadowing(case.argv)
    cases.append(case)
    # A controller that stalls, as on a loaded machine: the engines and the client wait for it as long as
    # registering may take (ENGINE_TIMEOUT), not IPython Parallel's 5 s and 10 s.
    case = verified(IPP, "factorial", "ipyparallel", 1, ["--mode", "many", "-n", 20, "--warmup", 0], 20,
                    label=", its controller stalling 6 s on an engine's registration and 11 s on the client's first "
                    "request", timeout=CLUSTER_TIMEOUT)
    case.env = {"PYTHONPATH": str(SLOW_CONTROLLER)}
    cases.append(case)
    cases.append(verified(NUMBA, "matmul", "numba", 3, ["-n", 100, "--style", "nogil"], 100, reps=2,
                          checks=[stdout_says(r"kernel=numba .* style=nogil jit=")], label=" --style nogil"))
    return cases


def same_answers():
    """C's serial program and the Python one give the same figures (ipyparallel's and
    Numba's verified runs are these); the cluster leaves no process or folder behind."""
    rows = ((IPP, "factorial", ["--mode", "many", "-n", 60], ["-p", 3, "-r", 2], "digits,mod61,tasks",
             "cluster_start", CLUSTER_TIMEOUT),
            (NUMBA, "matmul", ["-n", 67, "--seed", 7], ["-p", 2], "checksum", "jit,threading_layer", 90),
            (ASYNC, "download", ["--files", 6, "--size", 5000, "--seed", 9], ["-p", 3], "bytes,files", "in_flight",
             90))
    cases = []
    for exe, workload, args, py_args, keys, needed, timeout in rows:
        argv = [sys.executable, THIS, "probe", "same", "--c", program("%s-serial" % workload), "--py", exe,
                "--args", " ".join(map(str, args)), "--py-args", " ".join(map(str, py_args)), "--keys", keys,
                "--need", needed]
        if workload == "download":
            argv += ["--server", server("plain")]
        needs = [program("%s-serial" % workload), exe] + ([FILESERVER] if workload == "download" else [])
        cases.append(Case("pyengine %s and C give the same %s (%s), verified, nothing left behind"
                          % (exe.name, keys.replace(",", "/"), " ".join(map(str, args + py_args))), argv, 0,
                          needs=needs, timeout=timeout))
    return cases


# Bad command lines: the contract's own (suite.py), then each program's.
BAD_INPUT = {
    IPP: SHARED_BAD_INPUT + (([], "--mode many only"), (["--mode", "big"], "--mode many only"),
                             (["--mode", "many", "--schedule", "cyclic"], "cyclic"),
                             (["--mode", "many", "--chunk", "0"], "'0'")),
    NUMBA: SHARED_BAD_INPUT + ((["--kernel", "numpy"], "'numpy' is not one of numba"), (["--style", "omp"], "'omp'"),
                               (["--style"], "--style needs a value"), (["-p", "1025"], "'1025'")),
    ASYNC: SHARED_BAD_INPUT + ((["-p", "257"], "'257'"), ([], "no URLs"), (["--server", "a:b:80"], "'a:b:80'"),
                               (["--server", "127.0.0.1:80", "--size", "12Q"], "'12Q'")),
}
# What a missing package is named as, and arguments that get past the parser.
MISSING = {IPP: ("python3-ipyparallel", ["--mode", "many", "-n", 5]), NUMBA: ("python3-numba", ["-n", 8]),
           ASYNC: ("python3-aiohttp", ["--server", "127.0.0.1:1"])}


def bad_input():
    """Each bad command line: exit 2, a message naming the argument, no result, no traceback;
    a missing package: one line naming its Debian package, exit 2; --help."""
    cases = []
    for exe, table in BAD_INPUT.items():
        for args, named in table:
            cases.append(Case("pyengine %s refuses %s" % (exe.name, " ".join(args) or "''"), [exe] + args, 2,
                              [stdout_empty, stderr_says(named), no_traceback], needs=[exe]))
        package, args = MISSING[exe]
        cases.append(Case("pyengine %s: a missing package is one line naming %s, exit 2" % (exe.name, package),
                          [exe] + args, 2,
                          [stdout_empty, stderr_says("apt-get install %s" % package), no_traceback, one_line],
                          env={"PYTHONPATH": str(HIDE_PACKAGES)}, needs=[exe]))
        cases.append(Case("pyengine %s --help" % exe.name, [exe, "--help"], 0,
                          [stdout_says(r"usage: %s" % exe.name), no_traceback], needs=[exe]))
    # IPython Parallel runs --mode many only, dealt on request: its help and description say that mode's.
    cases += [
        Case("pyengine factorial-py-ipyparallel --help: --mode many, required; --schedule static|dynamic; -n's "
             "default 20000", [IPP, "--help"], 0,
             [stdout_says(r"--mode many +many: .*required"), schedules_listed("static|dynamic"),
              stdout_says(r"-n N is the n of the last task, n! \(0 to 1000000, default 20000\)"), no_traceback],
             needs=[IPP]),
        Case("pyengine factorial-py-ipyparallel --describe: --mode many's n", [IPP, "--describe"], 0,
             [stdout_says(r" n_min=0 n_max=1000000 n_default=20000 ")], needs=[IPP]),
    ]
    cases.append(Case("pyengine matmul-py-numba: a Numba that is there but fails to load (OSError) is one line "
                      "saying why, exit 1", [NUMBA, "-n", 8], 1,
                      [stdout_empty, stderr_says("'numba' (python3-numba), which is installed but failed to load: "
                                                 "OSError: Could not find/load shared object file: libllvmlite.so "
                                                 "Error was: libLLVM-14.so.1"), no_traceback, one_line],
                      env={"PYTHONPATH": str(broken_packages())}, needs=[NUMBA]))
    cases.append(Case("pyengine matmul-py-numba refuses a NUMBA_THREADING_LAYER Numba does not know, naming those "
                      "it knows", [NUMBA, "-n", 8], 2,
                      [stdout_empty, stderr_says("NUMBA_THREADING_LAYER=bogus: Numba knows default, safe, forksafe, "
                                                 "threadsafe, tbb, omp, workqueue"), no_traceback],
                      env={"NUMBA_THREADING_LAYER": "bogus"}, needs=[NUMBA]))
    cases.append(Case("pyengine matmul-py-numba refuses NUMBA_DISABLE_JIT=1, under which it ran Python's loops on "
                      "one thread and said kernel=numba", [NUMBA, "-n", 8, "-p", 2], 2,
                      [stdout_empty, stderr_says("NUMBA_DISABLE_JIT=1 turns Numba's compiler off: the kernel would "
                                                 "run as plain Python loops on one thread"), no_traceback],
                      env={"NUMBA_DISABLE_JIT": "1"}, needs=[NUMBA]))
    # OpenMP as Numba's threading layer (libgomp, where TBB is not installed) under the variables a site may set: a
    # prange loop ran on one thread while the result line said -p, as openmp/'s programs would without their care.
    cases.append(Case("pyengine matmul-py-numba refuses -p 2 where OMP_THREAD_LIMIT=1 would quietly run one thread",
                      [NUMBA, "-n", 8, "-p", 2], 2,
                      [stdout_empty, stderr_says("-p 2: OMP_THREAD_LIMIT=1 lets OpenMP, Numba's threading layer here, "
                                                 "run at most 1 thread"), no_traceback],
                      env={"OMP_THREAD_LIMIT": "1", "NUMBA_THREADING_LAYER": "omp"}, needs=[NUMBA]))
    cases.append(Case("pyengine matmul-py-numba runs its 2 threads where OMP_DYNAMIC=true would run one (the load "
                      "average up)", [sys.executable, "-c", MOST_THREADS, NUMBA, "-n", 100, "-p", 2], 0,
                      [result_lines("matmul", "py-numba", 100, 2, figures=FIGURES[NUMBA]),
                       stdout_says(r"threading_layer=omp"), stderr_says("most threads: 2\n")],
                      env={"OMP_DYNAMIC": "true", "NUMBA_THREADING_LAYER": "omp", "OPENBLAS_NUM_THREADS": "1"},
                      needs=[NUMBA]))
    return cases


def check_fails():
    """--inject-error: every program's check catches it (exit 1, verified=no)."""
    rows = ((IPP, "factorial", "ipyparallel", ["--mode", "many", "-n", 40], 40, "wrong result: task 20",
             CLUSTER_TIMEOUT),
            (NUMBA, "matmul", "numba", ["-n", 50, "--style", "nogil"], 50, "wrong result: C[25][16]", 90),
            (ASYNC, "download", "asyncio", download_args(files=4), 4, "wrong result", 90))
    cases = []
    for exe, workload, model, args, size, said, timeout in rows:
        cases.append(Case("pyengine %s catches a corrupted result" % exe.name,
                          [exe, "-p", 1] + args + ["--warmup", 0, "--inject-error"], 1,
                          [result_lines(workload, "py-" + model, size, 1, verified="no", figures=FIGURES[exe]),
                           stderr_says(said), no_traceback],
                          needs=[exe] + ([FILESERVER] if workload == "download" else []), timeout=timeout))
    return cases


def dying():
    """A killed parent and Ctrl-C: exit 1 with a message (or death), no process, folder or partial file left."""
    cases = []
    for name, text, exe, timeout in (
            ("kill-parent-cluster", "the parent killed with SIGKILL: its controller and engines die too", IPP,
             CLUSTER_TIMEOUT),
            ("interrupt-cluster", "Ctrl-C: exit 1, the cluster stopped", IPP, CLUSTER_TIMEOUT),
            ("interrupt-asyncio", "Ctrl-C in the event loop: exit 1, no partial file, no NAME.part", ASYNC, 90)):
        argv = [sys.executable, THIS, "probe", name, "--py", exe, "--server", server("slow")]
        cases.append(Case("pyengine %s %s" % (exe.name, text), argv, 0,
                          needs=[exe] + ([FILESERVER] if exe == ASYNC else []), timeout=timeout))
    # No cluster of its own (seconds of CPU): the polite stop given a client that never hears back.
    cases.append(Case("pyengine %s an engine that never answers the polite stop (its nanny killed): the stop gives "
                      "up after its time, says so, and leaves the processes to the guard, where it waited for ever"
                      % IPP.name, [sys.executable, THIS, "probe", "unanswered-stop"], 0, timeout=60))
    return cases


def cases():
    """Every table of this file, in the order they are reported."""
    return correctness() + same_answers() + bad_input() + check_fails() + dying()


# ---- the probes: run as python3 tests/test_python_engines.py probe NAME ----

class Tagged:
    """A program run with a tag of its own and a TMPDIR of its own, so that
    every process it starts and every folder it makes can be found."""

    def __init__(self, argv):
        self.tag = uuid.uuid4().hex
        self.tmp = scratch_folder("engines-probe-")
        CLEANUPS.append(lambda: kill_all(marked(TAG, self.tag)))  # a cluster's processes leave the program's group
        self.env = dict(os.environ, **{TAG: self.tag, "TMPDIR": self.tmp})
        self.argv = [str(a) for a in argv]

    def start(self):
        """Start it in a process group of its own (Ctrl-C's target), stdout and stderr to files."""
        self.proc = start(self.argv, self.env)
        return self.proc

    def finish(self):
        """(exit status, stdout, stderr) once it has ended."""
        return finish(self.proc, CLUSTER_TIMEOUT)

    def run(self):
        """(exit status, stdout, stderr) of the program run to its end."""
        self.start()
        return self.finish()

    def engines(self, count):
        """The program's engines (not their nannies) once there are count of them, else None."""
        found = [pid for pid in marked(TAG, self.tag) if "ipyparallel.engine --" in command_line(pid)]
        return found if len(found) >= count else None

    def all_gone(self, launched):
        """No tagged process left, and nothing left in its TMPDIR (the cluster's folder), within GONE_TIMEOUT."""
        try:
            self.no_process_left(launched)
            try:
                wait_for(lambda: not os.listdir(self.tmp), GONE_TIMEOUT, "the program's folders to go")
            except ProbeFailed:
                raise ProbeFailed("%s left %s in TMPDIR" % (launched, os.listdir(self.tmp))) from None
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def no_process_left(self, launched):
        """No tagged process left within GONE_TIMEOUT; those that are, named and killed."""
        none_left(lambda: marked(TAG, self.tag), GONE_TIMEOUT, launched)


def probe_same(options):
    """C's serial program and the Python one, the same arguments: the same figures;
    every Python run verified, with the model's own figures; nothing left behind."""
    def run(name, argv):
        program_run = Tagged(argv)
        code, out, err = program_run.run()
        program_run.all_gone("a finished run of %s" % Path(argv[0]).name)
        if code == 0:  # (a failed run, same_figures says)
            lines = [parse_result_line(line) for line in out.splitlines()]
            expect(all(line.get("verified") == "yes" for line in lines), "a run did not verify: %r" % out[-400:])
            for key in filter(None, options.need.split(",") if name == "Python" else []):
                expect(lines and key in lines[0], "%s= is missing from %s's result line" % (key, Path(argv[0]).name))
            expect("Traceback" not in err, "a traceback on stderr: %r" % err[-400:])
        return code, out, err
    same_figures([("C", [options.c] + options.args.split()),
                  ("Python", [options.py] + options.args.split() + options.py_args.split())],
                 options.keys.split(","), options.server, run)


# A cluster run long enough to be caught in the middle: thousands of tasks, each a message.
LONG_CLUSTER = ["-p", 2, "--mode", "many", "-n", 5000, "--warmup", 0]
# Seconds to let the engines get to work once both are there (registering, then tasks).
SETTLE_SECONDS = 2


def probe_kill_parent_cluster(options):
    program_run = Tagged([options.py] + LONG_CLUSTER)
    proc = program_run.start()
    wait_for(lambda: program_run.engines(2), START_TIMEOUT, "the cluster's two engines", proc)
    time.sleep(SETTLE_SECONDS)
    expect(proc.poll() is None, "the program ended before it could be killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    program_run.all_gone("a killed parent")


def probe_interrupt_cluster(options):
    program_run = Tagged([options.py] + LONG_CLUSTER)
    proc = program_run.start()
    wait_for(lambda: program_run.engines(2), START_TIMEOUT, "the cluster's two engines", proc)
    time.sleep(SETTLE_SECONDS)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    code, stdout, stderr = program_run.finish()
    expect(code == 1 and "interrupted" in stderr and "Traceback" not in stderr,
           "exit status %d, stderr %r" % (code, stderr[-400:]))
    program_run.all_gone("Ctrl-C")


class Unanswered:
    """A cluster and its client as cluster.stop sees them, whose shutdown waits for an answer that
    never comes (an engine whose nanny was killed: its control messages go through the nanny)."""

    def __init__(self):
        self.stopped = False

    def shutdown(self, hub, block):
        threading.Event().wait()

    def close(self):
        self.stopped = True

    def stop_cluster_sync(self):
        self.stopped = True


def probe_unanswered_stop(options):
    """cluster.stop of a cluster whose engine never answers: it returns within a second of
    STOP_TIMEOUT (shortened here), saying so on stderr; it neither hangs nor raises."""
    sys.path.insert(0, str(ROOT / "python"))
    from common import cluster
    cluster.STOP_TIMEOUT = 1
    unanswered, said = Unanswered(), io.StringIO()
    began = time.monotonic()
    with contextlib.redirect_stderr(said):
        cluster.stop(unanswered, unanswered)
    took = time.monotonic() - began
    expect(took < cluster.STOP_TIMEOUT + 1, "the stop took %.1f s" % took)
    expect("stopping the cluster politely failed (TimeoutError: the engines and the controller did not all answer "
           "within 1 s); its processes are killed instead" in said.getvalue(), "it said %r" % said.getvalue())


def threads_of(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return 0


def probe_interrupt_asyncio(options):
    """Ctrl-C while transfers are in flight (one thread keeps them): exit 1,
    every file under its final name whole, no NAME.part left."""
    directory = scratch_folder("interrupted-")
    size = 4000
    program_run = Tagged([options.py, "-p", 4, "--server", options.server, "--files", 40, "--size", size,
                          "-o", directory, "--warmup", 0])
    proc = program_run.start()
    wait_for(lambda: any(n.endswith(".bin") for n in os.listdir(directory)), START_TIMEOUT, "the first file", proc)
    expect(threads_of(proc.pid) == 1, "%d threads in the event loop's process, expected one" % threads_of(proc.pid))
    os.killpg(proc.pid, signal.SIGINT)
    code, stdout, stderr = program_run.finish()
    expect(code == 1 and "interrupted" in stderr and "Traceback" not in stderr,
           "exit status %d, stderr %r" % (code, stderr[-400:]))
    whole_files_only(directory, size, parts=False)
    program_run.all_gone("Ctrl-C")


def main():
    parser = argparse.ArgumentParser(description="the heavy engines' probes (run by tests/run_tests.py)")
    parser.add_argument("command", choices=["probe"])
    parser.add_argument("name")
    parser.add_argument("--c", default="", help="the C program (probe same)")
    parser.add_argument("--py", default="", help="the Python program")
    parser.add_argument("--args", default="", help="both programs' arguments, in one word")
    parser.add_argument("--py-args", default="", help="the Python program's own arguments, in one word")
    parser.add_argument("--keys", default="", help="the figures that must agree, comma-separated")
    parser.add_argument("--need", default="", help="figures the Python program must print, comma-separated")
    parser.add_argument("--server", default="", help="HOST:PORT of a file server")
    options = parser.parse_args()
    return run_probe(options.name, lambda: globals()["probe_" + options.name.replace("-", "_")](options))


if __name__ == "__main__":
    sys.exit(main())
