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
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import (SHARED_BAD_INPUT, Case, ROOT, command_line, program, result_lines, stderr_lacks,  # noqa: E402
                   stderr_says, stdout_empty, stdout_says)
from python_checks import (FILESERVER, Scratch, children_of, expect, factorial_figures, figures_are,  # noqa: E402
                           finish, in_group, kernel_needs, no_traceback, none_left, one_line, pool_not_started, py,
                           read_all, run_probe, run_program, same_figures, schedules_listed, scratch_folder, start,
                           stderr_closed, wait_for, whole_files_only)

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
HIDE_PACKAGES = ROOT / "tests" / "data" / "hide-packages"
# Sizes: small, so that Python's start-up, not the work, is most of each case.
MATMUL_N, FACTORIAL_N, MANY_N, FILES, FILE_SIZE = 67, 1000, 300, 12, "3K"
# Seconds a case may take on a loaded machine (loky starts interpreters).
CASE_TIMEOUT = 120
# Seconds a killed program's processes (and loky's resource trackers) get to be gone.
GONE_TIMEOUT = 15
# Seconds a loaded machine may take to start a program and get its workers writing files.
START_TIMEOUT = 60
# Characters of a TMPDIR past what the forkserver's socket in it allows (a Unix socket's path: 107 bytes).
LONG_TMPDIR = 90
# The slow server's latency (ms) and the files of a run long enough to be caught in the middle.
SLOW_LATENCY_MS, LONG_FILES, LONG_SIZE = 300, 40, 4000
# sitecustomize.py that makes all loky workers but the first two sleep as they start: on PYTHONPATH, a loaded
# machine's; the two it leaves awake.
SLOW_WORKERS, FAST_WORKERS = ROOT / "tests" / "data" / "slow-loky-workers", 2

SCRATCH = Scratch("python-pools-tests-", {"plain": ["--latency", 2], "slow": ["--latency", SLOW_LATENCY_MS]})
setup, teardown, server, out_dir = SCRATCH.setup, SCRATCH.teardown, SCRATCH.address, SCRATCH.out_dir


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


def in_long_tmpdir(argv):
    """argv run with TMPDIR a folder (made, then removed) whose path is LONG_TMPDIR characters long."""
    return ["sh", "-c", 'top=$(mktemp -d) || exit 1; long=$top/$(printf "%0$(($0 - ${#top} - 1))d" 0); '
            'mkdir "$long" && TMPDIR=$long "$@"; status=$?; rm -rf "$top"; exit $status',
            str(LONG_TMPDIR)] + [str(a) for a in argv]


def verified_case(workload, model, kind, p, extra=(), n=None, label="", reps=1, checks=()):
    flag, key, _, _ = MODELS[model]
    size = n or {"matmul": MATMUL_N, "factorial": FACTORIAL_N, "download": FILES}[workload]
    argv = [py(workload, model), "-p", p] + workload_args(workload, n) + kind_args(model, workload, kind) + \
        ["-r", reps, "--warmup", 0] + list(extra)
    needs = [py(workload, model)] + ([FILESERVER] if workload == "download" else []) + kernel_needs(extra)
    return Case("pools %s %s %s=%s p=%d%s" % (workload, model, key, kind, p, label), argv, 0,
                [result_lines(workload, "py-" + model, size, p, reps=reps, figures=FIGURES[workload]), no_traceback,
                 figures_are({key: kind})] + list(checks), needs=needs, timeout=CASE_TIMEOUT)


def correctness():
    """Every program × P × kind, verified. Factorial runs --mode many at P = 2
    and --mode big otherwise (gmpy2's integers at P = 3: with processes they
    travel pickled, with threads the GIL let go as they multiply, gmpy2-nogil),
    there with two timed runs for processes (each run starts and ends its own
    workers). No warm-up run: it would double the cost."""
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
                    gmpy2 = [] if p != 3 else ["--kernel", "gmpy2" if processes else "gmpy2-nogil"]
                    cases.append(verified_case("factorial", model, kind, p, gmpy2,
                                               label=" " + gmpy2[1] if gmpy2 else "",
                                               checks=[figures_are(factorial_figures("big", FACTORIAL_N))]))
    # A ProcessPoolExecutor started the other two ways (fork is the default here; the pool's in tests/test_python.py).
    # The forkserver's under a TMPDIR too long to hold its socket (a job's deep scratch folder), where Python 3.11's
    # first pool stopped with a traceback, "OSError: AF_UNIX path too long".
    for method in ("forkserver", "spawn"):
        case = verified_case("factorial", "futures", "process", 2, ["--mode", "many", "--start-method", method],
                             n=MANY_N, label=" many --start-method %s" % method,
                             checks=[stdout_says("start_method=%s" % method),
                                     figures_are(factorial_figures("many", MANY_N))])
        if method == "forkserver":
            case.name += ", TMPDIR %d characters long" % LONG_TMPDIR
            case.argv = in_long_tmpdir(case.argv)
        cases.append(case)
    # Run from a folder holding a random.py and a numpy.py: loky's workers and the forkserver, started as
    # python -m and -c, import neither.
    for workload, model, kind, extra, n in (("matmul", "joblib", "loky", [], None),
                                            ("factorial", "futures", "process",
                                             ["--mode", "many", "--start-method", "forkserver"], MANY_N)):
        label = "".join(" " + a for a in extra[-2:]) + ", run from a folder holding random.py and numpy.py"
        case = verified_case(workload, model, kind, 2, extra, n=n, label=label)
        case.argv = SCRATCH.from_shadowing(case.argv)
        cases.append(case)
    # Under PYTHONWARNINGS=default, Python says of every socket nobody closed "ResourceWarning: unclosed
    # <socket.socket ...>": each worker's session is closed, thread or process, run after run.
    for model, kind in (("futures", "thread"), ("joblib", "loky"), ("joblib", "threading")):
        case = verified_case("download", model, kind, 2, reps=2, label=" -r 2 under PYTHONWARNINGS=default: no "
                             "ResourceWarning (every worker's session closed)",
                             checks=[stderr_lacks("ResourceWarning", "Warning:")])
        case.env = {"PYTHONWARNINGS": "default"}
        cases.append(case)
    # joblib 1.2 imports distutils, which setuptools' stand-in turns into importing setuptools and
    # pkg_resources, in the program and again in every loky worker (python/common/__init__.py): none of them
    # does (Python says each import under PYTHONPROFILEIMPORTTIME, which the workers inherit).
    case = verified_case("factorial", "joblib", "loky", 2, ["--mode", "many"], n=MANY_N, label=" many: neither the "
                         "program nor its workers import setuptools (joblib 1.2's import of distutils)",
                         checks=[stderr_lacks("setuptools", "pkg_resources")])
    case.env = {"PYTHONPROFILEIMPORTTIME": "1"}
    cases.append(case)
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
    for model in MODELS:  # a pool refuses cyclic: its help does not list it
        exe = py("factorial", model)
        cases.append(Case("pools factorial %s --help lists --schedule static|dynamic, the ones it takes" % model,
                          [exe, "--help"], 0, [schedules_listed("static|dynamic"), no_traceback], needs=[exe]))
    for workload, model, package, args in (("factorial", "joblib", "python3-joblib", ["-n", 8]),
                                           ("matmul", "futures", "python3-numpy", ["-n", 8])):
        exe = py(workload, model)
        cases.append(Case("pools %s %s: a missing package is one line naming %s, exit 2" % (workload, model, package),
                          [exe] + args, 2,
                          [stdout_empty, stderr_says("apt-get install %s" % package), no_traceback, one_line],
                          env={"PYTHONPATH": str(HIDE_PACKAGES)}, needs=[exe]))
    # Started with stderr closed (2>&-): loky flushes sys.stderr, which Python then has not; a run
    # verifies, exit 0, and a message is lost (as a C program's), never printed on stdout.
    loky = py("factorial", "joblib")
    cases += [
        Case("pools factorial joblib loky with stderr closed (2>&-): exit 0, the result line alone on stdout",
             stderr_closed([loky, "-p", 2, "-n", FACTORIAL_N, "--warmup", 0]), 0,
             [result_lines("factorial", "py-joblib", FACTORIAL_N, 2)], needs=[loky], timeout=CASE_TIMEOUT),
        Case("pools factorial joblib -n x with stderr closed (2>&-): exit 2, no message on stdout",
             stderr_closed([loky, "-n", "x"]), 2, [stdout_empty], needs=[loky]),
    ]
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
    # A worker started as a new interpreter (loky's, spawn's) names the program in its messages too.
    for model, kind, extra in (("joblib", "loky", ""), ("futures", "process", "--start-method spawn")):
        cases.append(Case("pools download %s %s%s: a worker's message names the program" % (
                          model, kind, " " + extra if extra else ""),
                          [sys.executable, THIS, "probe", "worker-named", "--model", model, "--kind", kind,
                           "--server", server("plain"), "--args", extra], 0,
                          needs=[py("download", model), FILESERVER], timeout=CASE_TIMEOUT))
    cases.append(Case("pools factorial joblib loky: more workers than loky's queue of calls holds (2 x cores + 1), "
                      "all but two asleep as they start (the two do the jobs): exit 0, verified, no worker left "
                      "(loky's own shutdown, a sentinel each through that queue, gave up after 20 s: exit 1)",
                      [sys.executable, THIS, "probe", "slow-workers", "--model", "joblib", "--kind", "loky"], 0,
                      needs=[py("factorial", "joblib")], timeout=CASE_TIMEOUT))
    for model, kind in (("futures", "process"), ("joblib", "loky")):
        cases.append(Case("pools factorial %s %s: a pool that cannot start its workers (ulimit -n 24) is one line, "
                          "exit 1, no worker left" % (model, kind),
                          [sys.executable, THIS, "probe", "no-descriptors", "--model", model, "--kind", kind], 0,
                          needs=[py("factorial", model)], timeout=CASE_TIMEOUT))
    return cases


def cases():
    """Every table of this file, in the order they are reported."""
    return correctness() + same_answers() + bad_input() + check_fails() + dying()


# ---- the probes: run as python3 tests/test_python_pools.py probe NAME ----

def probe_same(options):
    """C's serial program and the two models, same arguments: the same figures (and, for download, the same bytes)."""
    args = options.args.split() + ["--warmup", 0]
    same_figures([("C", [program("%s-serial" % options.workload)] + args),
                  ("futures", [py(options.workload, "futures"), "-p", 2] + args),
                  ("joblib", [py(options.workload, "joblib"), "-p", 2, "--backend", "threading"] + args)],
                 options.keys.split(","), options.server if options.workload == "download" else "",
                 lambda name, argv: finish(start(argv), CASE_TIMEOUT))


def workers_of(pid, model):
    """The program's worker processes: loky's interpreters, or the executor's forked copies of the program."""
    own = command_line(pid)
    return [kid for kid in children_of(pid)
            if ("popen_loky_posix" in command_line(kid) if model == "joblib" else command_line(kid) == own)]


def all_gone(proc, launched):
    """Every process of the program's group ends within GONE_TIMEOUT: none orphaned."""
    none_left(lambda: in_group(proc.pid), GONE_TIMEOUT, launched)


def loky_files_of(pid):
    """loky's and joblib's files in /dev/shm made for the program with this pid (its semaphores, its memory maps)."""
    try:
        names = os.listdir("/dev/shm")
    except OSError:
        return []
    return [n for n in names if n.startswith(("sem.loky-%d-" % pid, "joblib_memmapping_folder_%d_" % pid))]


def said_alone(proc, message):
    """Once the program and every process of its group (loky's resource trackers too) are gone,
    its stderr holds its one line saying message, or nothing at all (None: it was killed)."""
    lines = read_all(proc.err).splitlines()
    if message is None:
        expect(not lines, "stderr after the program was killed: %r" % lines[:6])
    else:
        expect(len(lines) == 1 and message in lines[0], "stderr holds more than the program's one line "
               "saying %r: %r" % (message, lines[:6]))


def start_long_download(options, directory):
    """A download long enough to be caught in the middle (the slow server), in its own process group, once a
    first file is delivered (the workers are at work)."""
    flag = MODELS[options.model][0]
    argv = [py("download", options.model), "-p", 2, "--server", options.server, "--files", LONG_FILES, "--size",
            LONG_SIZE, "-o", directory, "--warmup", 0, flag, options.kind]
    proc = start(argv)
    wait_for(lambda: any(not n.endswith(".part") for n in os.listdir(directory)), START_TIMEOUT,
             "the first file", proc)
    return proc


def probe_kill_worker(options, directory):
    proc = start_long_download(options, directory)
    workers = wait_for(lambda: workers_of(proc.pid, options.model), START_TIMEOUT, "the workers", proc)
    os.kill(workers[0], signal.SIGKILL)
    code, stdout, stderr = finish(proc, CASE_TIMEOUT)
    expect(code == 1, "exit status %d, expected 1: %s" % (code, stderr[-400:]))
    expect("died in the middle of the run" in stderr and "Traceback" not in stderr, "stderr: %r" % stderr[-600:])
    expect(stdout == "", "a result line after a killed worker: %r" % stdout)
    all_gone(proc, "a killed worker")
    said_alone(proc, "died in the middle of the run")
    whole_files_only(directory, LONG_SIZE)


def probe_kill_parent(options, directory):
    proc = start_long_download(options, directory)
    expect(workers_of(proc.pid, options.model), "no worker process found to outlive its parent")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    all_gone(proc, "a killed parent")
    said_alone(proc, None)
    expect(not loky_files_of(proc.pid), "loky's files outlived the program: %s" % loky_files_of(proc.pid))
    whole_files_only(directory, LONG_SIZE)


def probe_interrupt(options, directory):
    proc = start_long_download(options, directory)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group, workers too
    code, stdout, stderr = finish(proc, CASE_TIMEOUT)
    expect(code == 1 and "interrupted" in stderr and "Traceback" not in stderr,
           "exit status %d, stderr %r" % (code, stderr[-600:]))
    all_gone(proc, "Ctrl-C")
    said_alone(proc, "interrupted (Ctrl-C)")
    expect(not loky_files_of(proc.pid), "loky's files outlived the program: %s" % loky_files_of(proc.pid))
    whole_files_only(directory, LONG_SIZE)


def probe_no_descriptors(options, directory):
    flag = MODELS[options.model][0]
    pool_not_started([py("factorial", options.model), "-p", 64, "-n", 2000, flag, options.kind], GONE_TIMEOUT)


def probe_slow_workers(options, directory):
    """More loky workers than loky's reusable executor's queue of calls holds (2 x cores + 1), all but
    FAST_WORKERS asleep as they start (SLOW_WORKERS on their PYTHONPATH): the run, whose jobs the
    others do, ends with exit 0 and nothing on stderr, and no worker is left."""
    workers = min(FAST_WORKERS + 2 * (os.cpu_count() or 1) + 2, 256)  # a sleeper more than the queue holds
    env = dict(os.environ, PYTHONPATH=str(SLOW_WORKERS))
    proc = start([py("factorial", "joblib"), "--mode", "many", "-n", MANY_N, "-p", workers, "--warmup", 0], env=env)
    code, stdout, stderr = finish(proc, CASE_TIMEOUT)
    expect(code == 0 and "verified=yes" in stdout and stderr == "",
           "-p %d, all but %d workers asleep: exit status %d, stdout %r, stderr %r" % (
               workers, FAST_WORKERS, code, stdout[-300:], stderr[-600:]))
    all_gone(proc, "a run whose workers were still starting")


def probe_worker_named(options, directory):
    """A file the server refuses (404), given up on in a worker: the message carries the program's name."""
    listing = Path(directory, "urls.txt")
    listing.write_text("http://%s/nothing/a.bin\nhttp://%s/files/b.bin?size=10\n" % (options.server, options.server))
    flag = MODELS[options.model][0]
    argv = [py("download", options.model), "-p", 2, flag, options.kind] + options.args.split()
    status, _, stderr = run_program(argv + ["-i", listing, "-o", Path(directory, "out"), "--warmup", 0])
    name = "download-py-%s" % options.model
    expect(status == 1 and "%s: giving up on a.bin (" % name in stderr and not stderr.startswith("program:")
           and "\nprogram:" not in stderr, "exit status %d, stderr %r" % (status, stderr[-400:]))


def main():
    parser = argparse.ArgumentParser(description="the probes of tests/test_python_pools.py (run by tests/run_tests.py)")
    parser.add_argument("command", choices=["probe"])
    parser.add_argument("name", choices=["same", "kill-worker", "kill-parent", "interrupt", "no-descriptors",
                                         "slow-workers", "worker-named"])
    parser.add_argument("--model", choices=sorted(MODELS), default="futures")
    parser.add_argument("--kind", default="")
    parser.add_argument("--server", default="127.0.0.1:0")
    parser.add_argument("--workload", default="")
    parser.add_argument("--keys", default="")
    parser.add_argument("--args", default="", help="the programs' arguments, in one word")
    options = parser.parse_args()
    if options.name == "same":
        return run_probe(options.name, lambda: probe_same(options))
    probe = globals()["probe_" + options.name.replace("-", "_")]
    return run_probe(options.name, lambda: probe(options, scratch_folder("pools-probe-")))


if __name__ == "__main__":
    sys.exit(main())
