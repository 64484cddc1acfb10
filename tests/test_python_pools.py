"""tests/test_python_pools.py — the Python lane's executors and pools: bin/<workload>-py-futures and -py-joblib.

The contract of tests/test_python.py, for the concurrent.futures model
(--executor thread|process) and the joblib model (--backend loky|threading):
every program × P ∈ {1, 2, 3} × each executor and backend verifies (the
default one with the flag left out, so the default is tested too); the same
n and seed give the C serial program's figures; bad command lines and a
missing joblib exit 2 with one message and no traceback; --inject-error
fails the check; a killed worker ends the run with exit status 1 and a
killed parent leaves no process behind (nor loky's temporary files).

Lean on purpose: a loky worker is a fresh interpreter that imports joblib
(a second of CPU or so), and every run starts its own, so loky appears in
few cases, and no case makes a warm-up run. The probes that need more than one process
are this file run as a program: python3 tests/test_python_pools.py probe NAME ...
"""
import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import (SHARED_BAD_INPUT, Case, FileServer, ROOT, command_line, parse_result_line, program,  # noqa: E402
                   result_lines, stderr_says, stdout_empty, stdout_says)

# Each model, its flag, its kinds, and the kind it runs when the flag is left out (per workload).
MODELS = {
    "futures": ("--executor", "executor", ("thread", "process"),
                {"factorial": "process", "matmul": "process", "download": "thread"}),
    "joblib": ("--backend", "backend", ("loky", "threading"),
               {"factorial": "loky", "matmul": "loky", "download": "loky"}),
}
WORKERS = (1, 2, 3)
FIGURES = {"matmul": ("gflops", "checksum", "startup"),
           "factorial": ("digits", "mod61", "startup"),
           "download": ("bytes", "files", "failures", "retries", "mbps", "cpu_user", "cpu_sys", "startup")}
THIS = Path(__file__).resolve()
FILESERVER = program("fileserver")
HIDE_PACKAGES = ROOT / "tests" / "data" / "hide-packages"
PRIME = 2 ** 61 - 1
# Sizes: small, so that Python's start-up, not the work, is most of each case.
MATMUL_N, FACTORIAL_N, MANY_N, FILES, FILE_SIZE = 67, 1000, 300, 12, "3K"
# Seconds a case may take on a loaded machine (loky starts interpreters).
CASE_TIMEOUT = 120
# Seconds a killed program's processes (and loky's resource trackers) get to be gone.
GONE_TIMEOUT = 15
# Seconds a loaded machine may take to start a program and get its workers writing files.
START_TIMEOUT = 60
# The slow server's latency (ms) and the files of a run long enough to be caught in the middle.
SLOW_LATENCY_MS, LONG_FILES, LONG_SIZE = 300, 40, 4000

STATE = {"tmp": None, "servers": {}, "cases": 0}


def py(workload, model):
    return program("%s-py-%s" % (workload, model))


# ---- the file servers ----

def setup():
    """A scratch folder, and the servers the download cases talk to (if bin/fileserver was built)."""
    STATE["tmp"] = tempfile.mkdtemp(prefix="python-pools-tests-")
    if FILESERVER.exists():
        for name, latency in (("plain", 2), ("slow", SLOW_LATENCY_MS)):
            STATE["servers"][name] = FileServer(["--quiet", "--latency", latency], stderr=subprocess.DEVNULL)


def teardown():
    for server in STATE["servers"].values():
        server.stop()
    if STATE["tmp"]:
        shutil.rmtree(STATE["tmp"], ignore_errors=True)


def server(name):
    return STATE["servers"][name].address if name in STATE["servers"] else "127.0.0.1:0"


def out_dir():
    STATE["cases"] += 1
    return str(Path(STATE["tmp"] or tempfile.gettempdir()) / ("case-%03d" % STATE["cases"]))


# ---- checks ----

def no_traceback(outcome):
    """Check: Python printed no traceback (every failure is one message)."""
    return "a traceback on stderr" if "Traceback" in outcome.stderr else None


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
    """digits= and mod61= of n! (big) or of the many-mode checksum, by Python's own integers."""
    value = math.factorial(n)
    mod61 = value % PRIME if mode == "big" else (math.factorial(n + 1) - 1) % PRIME
    return {"digits": len(str(value)), "mod61": mod61}


def one_line(outcome):
    """Check: stderr is one line."""
    return None if len(outcome.stderr.strip().splitlines()) == 1 else "more than one line: %r" % outcome.stderr[-300:]


# ---- the cases ----

def workload_args(workload, n=None):
    """Small arguments of each workload."""
    if workload == "download":
        return ["--server", server("plain"), "--files", FILES, "--size", FILE_SIZE, "-o", out_dir()]
    return ["-n", n or (MATMUL_N if workload == "matmul" else FACTORIAL_N)]


def kind_args(model, workload, kind):
    """The flag that picks kind; none for the model's default, which must then be what runs."""
    flag, _, _, default = MODELS[model]
    return [] if kind == default[workload] else [flag, kind]


def verified_case(workload, model, kind, p, extra=(), n=None, label="", reps=1, checks=()):
    flag, key, _, _ = MODELS[model]
    size = n or {"matmul": MATMUL_N, "factorial": FACTORIAL_N, "download": FILES}[workload]
    argv = [py(workload, model), "-p", p] + workload_args(workload, n) + kind_args(model, workload, kind) + \
        ["-r", reps, "--warmup", 0] + list(extra)
    needs = [py(workload, model)] + ([FILESERVER] if workload == "download" else [])
    return Case("pools %s %s %s=%s p=%d%s" % (workload, model, key, kind, p, label), argv, 0,
                [result_lines(workload, "py-" + model, size, p, reps=reps, figures=FIGURES[workload]), no_traceback,
                 figures_are({key: kind})] + list(checks), needs=needs, timeout=CASE_TIMEOUT)


def correctness():
    """Every program × P × kind, verified. Factorial runs --mode many at P = 2
    and --mode big otherwise (gmpy2's integers at P = 3 with processes: they
    travel pickled), there with two timed runs for processes (each run starts
    and ends its own workers). No warm-up run: it would double the cost."""
    cases = []
    for model, (_, _, kinds, _) in MODELS.items():
        for kind in kinds:
            processes = kind in ("process", "loky")
            for p in WORKERS:
                cases.append(verified_case("matmul", model, kind, p))
                cases.append(verified_case("download", model, kind, p))
                if p == 2:
                    reps = 2 if processes else 1  # the second run starts its own workers again
                    cases.append(verified_case("factorial", model, kind, p, ["--mode", "many"], n=MANY_N, reps=reps,
                                               label=" many", checks=[figures_are(factorial_figures("many", MANY_N))]))
                else:
                    gmpy2 = ["--kernel", "gmpy2"] if p == 3 and processes else []
                    cases.append(verified_case("factorial", model, kind, p, gmpy2, label=" gmpy2" if gmpy2 else "",
                                               checks=[figures_are(factorial_figures("big", FACTORIAL_N))]))
    # A ProcessPoolExecutor started the other two ways (fork is the default here; the pool's in tests/test_python.py).
    for method in ("forkserver", "spawn"):
        cases.append(verified_case("factorial", "futures", "process", 2, ["--mode", "many", "--start-method", method],
                                   n=MANY_N, label=" many --start-method %s" % method,
                                   checks=[stdout_says("start_method=%s" % method),
                                           figures_are(factorial_figures("many", MANY_N))]))
    # A job's pure Python kernel makes its own lists (the pools' is tests/test_python.py's).
    cases.append(verified_case("matmul", "joblib", "threading", 3, ["--kernel", "python"], n=17,
                               label=" --kernel python"))
    return cases


# The C serial program and both models on the same n and seed: (workload, arguments, figures compared).
SAME_ANSWERS = (("matmul", ["-n", 67, "--seed", 7], ("checksum",)),
                ("factorial", ["-n", 20000], ("digits", "mod61")),
                ("download", ["--files", 6, "--size", 5000, "--seed", 9], ("bytes", "files")))


def same_answers():
    """The same n and seed give the same figures in C and in both models."""
    cases = []
    for workload, args, keys in SAME_ANSWERS:
        argv = [sys.executable, THIS, "probe", "same", "--workload", workload, "--keys", ",".join(keys),
                "--server", server("plain"), "--args", " ".join(str(a) for a in args)]
        needs = [program("%s-serial" % workload), py(workload, "futures"), py(workload, "joblib")]
        cases.append(Case("pools %s: C serial, futures and joblib give the same %s" % (workload, "/".join(keys)),
                          argv, 0, needs=needs + ([FILESERVER] if workload == "download" else []),
                          timeout=CASE_TIMEOUT))
    return cases


# Each model's own flag, badly: (model, arguments, what the message names).
BAD_KIND = (("futures", ["--executor", "processes"], "'processes'"),
            ("futures", ["--executor"], "--executor needs a value"),
            ("futures", ["--executor", ""], "''"),
            ("futures", ["--backend", "loky"], "'--backend'"),
            ("futures", ["--api", "map"], "'--api'"),
            ("joblib", ["--backend", "multiprocessing"], "'multiprocessing'"),
            ("futures", ["--start-method", "vfork"], "'vfork'"),
            ("futures", ["--executor", "thread", "--start-method", "spawn"], "--executor thread starts no process"),
            ("joblib", ["--backend=dask"], "'dask'"),
            ("joblib", ["--backend"], "--backend needs a value"),
            ("joblib", ["--executor", "thread"], "'--executor'"),
            ("joblib", ["--mode", "many", "--schedule", "cyclic"], "cyclic"))


# How --help says which kind runs when the flag is left out.
HELP_DEFAULT = {"futures": r"\(default %s\)", "joblib": r"%s, worker processes \(default"}


def bad_input():
    """Bad command lines: exit 2, a message naming the argument, no result, no
    traceback. The shared table for one program, a few of its rows for
    another (the parser is shared: tests/test_python.py runs it whole),
    each model's own flag, --help everywhere, a missing package."""
    cases = []
    for model, workload, rows in (("futures", "factorial", SHARED_BAD_INPUT),
                                  ("joblib", "matmul", SHARED_BAD_INPUT[:3] + SHARED_BAD_INPUT[-2:])):
        exe = py(workload, model)
        for args, named in rows:
            cases.append(Case("pools %s %s refuses %s" % (workload, model, " ".join(args) or "''"), [exe] + args, 2,
                              [stdout_empty, stderr_says(named), no_traceback], needs=[exe]))
    for model, args, named in BAD_KIND:
        exe = py("factorial", model)
        cases.append(Case("pools factorial %s refuses %s" % (model, " ".join(args)), [exe] + args, 2,
                          [stdout_empty, stderr_says(named), no_traceback], needs=[exe]))
    for model, (flag, _, kinds, defaults) in MODELS.items():
        for workload in (FIGURES if model == "futures" else ["download"]):  # futures' default differs by workload
            exe = py(workload, model)
            cases.append(Case("pools %s %s --help" % (workload, model), [exe, "--help"], 0,
                              [stdout_says(r"usage: %s-py-%s" % (workload, model)),
                               stdout_says(r"%s %s .*%s" % (flag, "\\|".join(kinds),
                                                             HELP_DEFAULT[model] % defaults[workload])),
                               no_traceback],
                              needs=[exe]))
    for workload, model, package, args in (("factorial", "joblib", "python3-joblib", ["-n", 8]),
                                           ("matmul", "futures", "python3-numpy", ["-n", 8])):
        exe = py(workload, model)
        cases.append(Case("pools %s %s: a missing package is one line naming %s, exit 2" % (workload, model, package),
                          [exe] + args, 2,
                          [stdout_empty, stderr_says("apt-get install %s" % package), no_traceback, one_line],
                          env={"PYTHONPATH": str(HIDE_PACKAGES)}, needs=[exe]))
    return cases


def check_fails():
    """--inject-error: every program's check catches the corrupted result (exit 1, verified=no)."""
    cases = []
    for model, kind in (("futures", "process"), ("futures", "thread"), ("joblib", "threading")):
        for workload in FIGURES:
            if model == "futures" and (kind == "thread") != (workload == "matmul"):
                continue  # each program once; futures' matmul with threads
            n = 300 if workload == "matmul" else None  # above 256: Freivalds' check
            size = n or {"factorial": FACTORIAL_N, "download": FILES}[workload]
            cases.append(Case("pools %s %s %s catches a corrupted result" % (workload, model, kind),
                              [py(workload, model), "-p", 2] + workload_args(workload, n) +
                              kind_args(model, workload, kind) + ["--warmup", 0, "--inject-error"], 1,
                              [result_lines(workload, "py-" + model, size, 2, verified="no",
                                            figures=FIGURES[workload]), stderr_says("wrong result"), no_traceback],
                              needs=[py(workload, model)] + ([FILESERVER] if workload == "download" else []),
                              timeout=CASE_TIMEOUT))
    return cases


# The probes of dying: (name, model, flag, what the case says).
DYING = (("kill-worker", "futures", "process", "a ProcessPoolExecutor's worker killed with SIGKILL: exit 1, "
                                              "the rest ended"),
         ("kill-parent", "futures", "process", "the parent killed with SIGKILL: its executor's workers die too"),
         ("kill-worker", "joblib", "loky", "a loky worker killed with SIGKILL: exit 1, the rest ended"),
         ("kill-parent", "joblib", "loky", "the parent killed with SIGKILL: its loky workers die too, and loky's "
                                           "trackers remove its files"),
         ("interrupt", "joblib", "loky", "Ctrl-C with loky workers: exit 1, the workers ended"))


def dying():
    cases = []
    for name, model, kind, text in DYING:
        exe = py("download", model)
        cases.append(Case("pools download %s %s: %s" % (model, kind, text),
                          [sys.executable, THIS, "probe", name, "--model", model, "--kind", kind,
                           "--server", server("slow")], 0, needs=[exe, FILESERVER], timeout=CASE_TIMEOUT))
    return cases


def cases():
    """Every table of this file, in the order they are reported."""
    return correctness() + same_answers() + bad_input() + check_fails() + dying()


# ---- the probes: run as python3 tests/test_python_pools.py probe NAME ----

class ProbeFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise ProbeFailed(message)


def run_program(argv):
    """(exit status, stdout, stderr) of a program run to its end."""
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=CASE_TIMEOUT, cwd=ROOT)
    return done.returncode, done.stdout, done.stderr


def probe_same(options):
    """C's serial program and the two models, same arguments: the same figures (and, for download, the same bytes)."""
    runs = [(program("%s-serial" % options.workload), []),
            (py(options.workload, "futures"), ["-p", 2]),
            (py(options.workload, "joblib"), ["-p", 2, "--backend", "threading"])]
    figures, directories = [], []
    for exe, extra in runs:
        argv = [exe] + options.args.split() + extra + ["--warmup", 0]
        if options.workload == "download":
            directories.append(tempfile.mkdtemp(prefix="same-"))
            argv += ["--server", options.server, "-o", directories[-1]]
        code, out, err = run_program(argv)
        expect(code == 0 and out, "%s failed (%d): %s" % (exe.name, code, err[-400:]))
        pairs = parse_result_line(out.splitlines()[0])
        figures.append((exe.name, {key: pairs.get(key) for key in options.keys.split(",")}))
    for name, said in figures[1:]:
        expect(said == figures[0][1], "C says %s, %s says %s" % (figures[0][1], name, said))
    for directory in directories[1:]:
        for name in os.listdir(directories[0]):
            expect(Path(directory, name).read_bytes() == Path(directories[0], name).read_bytes(),
                   "%s differs between C's download and Python's" % name)
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name, or None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()
    except OSError:
        return None


def live_processes(field, value):
    """The processes (not zombies) whose stat field (1: parent pid, 2: process group) is value."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields and int(fields[field]) == value and fields[0] != "Z":
                found.append(int(entry))
    return found


def workers_of(pid, model):
    """The program's worker processes: loky's interpreters, or the executor's forked copies of the program."""
    own = command_line(pid)
    return [kid for kid in live_processes(1, pid)
            if ("popen_loky_posix" in command_line(kid) if model == "joblib" else command_line(kid) == own)]


def wait_for(condition, timeout, what, proc=None):
    """condition()'s first true value within timeout seconds; fails early if proc ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise ProbeFailed("the program ended (exit status %s) before %s" % (proc.returncode, what))
        time.sleep(0.05)
    raise ProbeFailed("timed out waiting for %s" % what)


def all_gone(pgid, launched):
    """Every process of the group ends within GONE_TIMEOUT: none orphaned (left ones are killed, and fail the probe)."""
    try:
        wait_for(lambda: not live_processes(2, pgid), GONE_TIMEOUT, "the program's processes to end")
    except ProbeFailed:
        left = live_processes(2, pgid)
        described = ["%d (%s)" % (pid, command_line(pid)[:80]) for pid in left]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        raise ProbeFailed("%s left processes behind: %s" % (launched, "; ".join(described)))


def loky_files_of(pid):
    """loky's and joblib's files in /dev/shm made for the program with this pid (its semaphores, its memory maps)."""
    try:
        names = os.listdir("/dev/shm")
    except OSError:
        return []
    return [n for n in names if n.startswith(("sem.loky-%d-" % pid, "joblib_memmapping_folder_%d_" % pid))]


def start_long_download(options, directory):
    """A download long enough to be caught in the middle (the slow server), in its own process group, once a
    first file is delivered (the workers are at work). Returns (proc, stdout file, stderr file)."""
    out, err = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
    flag = MODELS[options.model][0]
    argv = [py("download", options.model), "-p", 2, "--server", options.server, "--files", LONG_FILES, "--size",
            LONG_SIZE, "-o", directory, "--warmup", 0, flag, options.kind]
    proc = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=ROOT)
    wait_for(lambda: any(not n.endswith(".part") for n in os.listdir(directory)), START_TIMEOUT,
             "the first file", proc)
    return proc, out, err


def finish(proc, out, err):
    code = proc.wait(timeout=CASE_TIMEOUT)
    out.seek(0)
    err.seek(0)
    return code, out.read(), err.read()


def no_partial_file(directory):
    """No file under its final name is shorter than it should be."""
    for name in os.listdir(directory):
        if not name.endswith(".part"):
            size = os.path.getsize(os.path.join(directory, name))
            expect(size == LONG_SIZE, "%s is partial under its final name (%d bytes)" % (name, size))


def probe_kill_worker(options, directory):
    proc, out, err = start_long_download(options, directory)
    workers = wait_for(lambda: workers_of(proc.pid, options.model), START_TIMEOUT, "the workers", proc)
    os.kill(workers[0], signal.SIGKILL)
    code, stdout, stderr = finish(proc, out, err)
    expect(code == 1, "exit status %d, expected 1: %s" % (code, stderr[-400:]))
    expect("died in the middle of the run" in stderr and "Traceback" not in stderr, "stderr: %r" % stderr[-600:])
    expect(stdout == "", "a result line after a killed worker: %r" % stdout)
    all_gone(proc.pid, "a killed worker")
    no_partial_file(directory)


def probe_kill_parent(options, directory):
    proc, out, err = start_long_download(options, directory)
    expect(workers_of(proc.pid, options.model), "no worker process found to outlive its parent")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    all_gone(proc.pid, "a killed parent")
    expect(not loky_files_of(proc.pid), "loky's files outlived the program: %s" % loky_files_of(proc.pid))
    no_partial_file(directory)


def probe_interrupt(options, directory):
    proc, out, err = start_long_download(options, directory)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group, workers too
    code, stdout, stderr = finish(proc, out, err)
    expect(code == 1 and "interrupted" in stderr and "Traceback" not in stderr,
           "exit status %d, stderr %r" % (code, stderr[-600:]))
    all_gone(proc.pid, "Ctrl-C")
    expect(not loky_files_of(proc.pid), "loky's files outlived the program: %s" % loky_files_of(proc.pid))
    no_partial_file(directory)


def main():
    parser = argparse.ArgumentParser(description="the probes of tests/test_python_pools.py (run by tests/run_tests.py)")
    parser.add_argument("command", choices=["probe"])
    parser.add_argument("name", choices=["same", "kill-worker", "kill-parent", "interrupt"])
    parser.add_argument("--model", choices=sorted(MODELS), default="futures")
    parser.add_argument("--kind", default="")
    parser.add_argument("--server", default="127.0.0.1:0")
    parser.add_argument("--workload", default="")
    parser.add_argument("--keys", default="")
    parser.add_argument("--args", default="", help="the programs' arguments, in one word")
    options = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="pools-probe-")
    try:
        if options.name == "same":
            probe_same(options)
        else:
            globals()["probe_" + options.name.replace("-", "_")](options, directory)
    except (ProbeFailed, OSError, ValueError, subprocess.TimeoutExpired) as e:
        print("probe %s: %s: %s" % (options.name, type(e).__name__, e), file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
