"""tests/test_python.py — the Python lane (bin/<workload>-py-<model>): the C programs' contract, kept.

Every program × P ∈ {1, 2, 3} (and each --api of the pool) verifies; the same
n and seed give the same figures in C and Python, and a server that answers
oddly (gzip unasked, a self-signed certificate, a bad redirect, ...) the same
outcome from C's client and Python's (requests and asyncio); bad command lines and
missing packages exit 2 with a message and no traceback; --inject-error
fails the check; a killed worker, a killed parent and Ctrl-C leave no
process behind; the BLAS core is recorded and corrected by issue 9's rule.

Python's start-up is slow (NumPy's import alone is a tenth of a second or
more, and a pool forks its workers every run), so the sizes are small and
each idea has few cases. The probes that need more than one process (C
against Python, killing things) are this file run as a program, each case
in its own process: python3 tests/test_python.py probe NAME [--port P].
"""
import argparse
import gzip
import os
import re
import signal
import socket
import ssl
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import (PROXY_VARIABLES, SHARED_BAD_INPUT, Case, ROOT, parse_result_line, program,  # noqa: E402
                   result_lines, stderr_lacks, stderr_says, stdout_empty, stdout_says, summary_line,
                   UNDER_MEMORY_CGROUP, UNDER_MEMORY_CGROUP_CANNOT, wrong_warmup_line)
from python_checks import (CLEANUPS, FILESERVER, Scratch, cpu_seconds_of, expect, factorial_figures,  # noqa: E402
                           figures_are, finish, in_group, kernel_needs, lane_python, live_processes, needs_package,
                           no_traceback, none_left, one_line,
                           pool_not_started, py, read_all, run_probe, run_program, same_figures, schedules_listed,
                           scratch_folder, start, stderr_closed, wait_for, whole_files_only)

MODELS = ("serial", "threading", "multiprocessing")
APIS = ("map", "imap_unordered", "apply", "apply_async", "starmap", "starmap_async")
WORKERS = (1, 2, 3)
FIGURES = {"matmul": ("gflops", "kernel", "checksum", "startup"),
           "factorial": ("digits", "mod61", "startup"),
           "download": ("bytes", "files", "failures", "retries", "mbps", "cpu_user", "cpu_sys", "startup")}
THIS = Path(__file__).resolve()
HIDE_PACKAGES = ROOT / "tests" / "data" / "hide-packages"
# Seconds a killed program and its workers get to be gone.
GONE_TIMEOUT = 10

SCRATCH = Scratch("python-tests-", {"plain": ["--latency", 2],
                                     "faulty": ["--latency", 2, "--fail-rate", 0.1, "--drop-rate", 0.05, "--seed", 7,
                                                "--retry-after", 0],
                                     "slow": ["--latency", 300]})
server, port_of, out_dir = SCRATCH.address, SCRATCH.port, SCRATCH.out_dir
# A port that refuses connections: bound, never listened on (setup() binds it).
CLOSED = {"socket": None}


def workers_for(model):
    return (1,) if model == "serial" else WORKERS


# ---- the fixtures: the file servers, a scratch folder, a closed port ----

def setup():
    SCRATCH.setup()
    CLOSED["socket"] = socket.socket()
    CLOSED["socket"].bind(("127.0.0.1", 0))


def teardown():
    SCRATCH.teardown()
    if CLOSED["socket"]:
        CLOSED["socket"].close()


# ---- the cases ----

DEFAULT_SIZES = {"matmul": 67, "factorial": 1000, "download": 12}
# probe problem-size: a --mode big n whose residues (8 bytes each, 9 pickled) would show, and the most its
# problem may pickle to (the ranges' bounds and the workers' slots: a few hundred bytes).
BIG_PROBLEM_N = 10 ** 7
BIG_PROBLEM_BYTES = 64 * 1024
# probe blas-threads: the OPENBLAS_NUM_THREADS a user set, above any machine's one thread.
USER_BLAS_THREADS = "4"
# probe gil-release: the bits of the numbers one GMP multiplication squares, long enough (tens of
# milliseconds) for a thread waiting on the GIL to run while it lasts, where the GIL is let go; and
# how many multiplications it may take to see that on a machine busy with other tests.
GIL_PROBE_BITS = 2 ** 24
GIL_PROBE_TRIES = 3


def workload_args(workload, p, n=None):
    """Small arguments of each workload, for P workers."""
    if workload != "download":
        return ["-n", DEFAULT_SIZES[workload] if n is None else n]
    return ["--server", server("plain"), "--files", 12, "--size", "3K", "-o", out_dir()]


def verified_case(workload, model, p, extra=(), n=None, label="", reps=1, checks=()):
    args = workload_args(workload, p, n) + ["-r", reps, "--warmup", 1] + list(extra)
    size = DEFAULT_SIZES[workload] if n is None else n
    needs = [py(workload, model)] + ([FILESERVER] if workload == "download" else []) + kernel_needs(extra)
    return Case("py %s %s p=%d%s" % (workload, model, p, label), [py(workload, model), "-p", p] + args, 0,
                [result_lines(workload, "py-" + model, size, p, reps=reps, figures=FIGURES[workload]), no_traceback]
                + list(checks), needs=needs, timeout=90)


def through_no_proxy():
    """The Python clients talk to the server directly whatever proxy the
    environment names (login nodes often set http_proxy; requests would go
    through it): one at the port that refuses connections, in every spelling."""
    closed = CLOSED["socket"].getsockname()[1] if CLOSED["socket"] else 1
    env = {name: "http://127.0.0.1:%d" % closed for name in PROXY_VARIABLES}
    cases = []
    for model in MODELS + ("asyncio",):
        p = 1 if model == "serial" else 2
        case = verified_case("download", model, p, label=": http_proxy and the like are not used")
        case.env = env
        cases.append(case)
    return cases


def correctness():
    """Every program × P, verified; both factorial modes; each --api of the pool; other kernels and sizes."""
    cases = []
    for model in MODELS:
        for p in workers_for(model):
            cases.append(verified_case("matmul", model, p, reps=2))
            cases.append(verified_case("factorial", model, p, checks=[figures_are(factorial_figures("big", 1000))]))
            cases.append(verified_case("factorial", model, p, ["--mode", "many"], n=300, label=" many",
                                       checks=[figures_are(factorial_figures("many", 300))]))
            cases.append(verified_case("download", model, p))
        extra_p = 1 if model == "serial" else 3
        cases.append(verified_case("matmul", model, extra_p, ["--kernel", "python"], n=17, label=" --kernel python"))
        if model != "serial":  # a worker with no rows at all
            cases.append(verified_case("matmul", model, 3, ["--kernel", "python"], n=2,
                                       label=" --kernel python, more workers than rows"))
        cases.append(verified_case("matmul", model, extra_p, n=300, label=" (Freivalds)"))
        cases.append(verified_case("factorial", model, extra_p, ["--kernel", "gmpy2", "--mode", "many", "--schedule",
                                                                 "static"], n=300, label=" gmpy2 many static",
                                   checks=[figures_are(factorial_figures("many", 300))]))
        cases.append(verified_case("factorial", model, extra_p, ["--kernel", "gmpy2-nogil"], n=5000,
                                   label=" gmpy2-nogil", checks=[figures_are(factorial_figures("big", 5000)),
                                                                 stdout_says("kernel=gmpy2-nogil")]))
    # Each --api besides map (which every case above uses) at least once; pools are slow to start.
    for workload, extra, n, label, api in (
            ("matmul", [], None, "", "imap_unordered"), ("matmul", [], None, "", "apply_async"),
            ("factorial", ["--mode", "many", "--chunk", 7], 100, " many", "apply"),
            ("factorial", ["--mode", "many", "--chunk", 7], 100, " many", "starmap"),
            ("factorial", [], 5000, " big", "starmap_async"),
            ("download", [], None, "", "imap_unordered"), ("download", [], None, "", "apply")):
        checks = [stdout_says("api=%s" % api)]
        if workload == "factorial" and n == 100:
            checks.append(figures_are(factorial_figures("many", 100)))
        cases.append(verified_case(workload, "multiprocessing", 3, extra + ["--api", api], n=n,
                                   label="%s --api %s" % (label, api), checks=checks))
    # Each start method besides the default (fork here) on every workload: a fresh interpreter (spawn)
    # imports the program again, and gets the problem pickled.
    for method in ("forkserver", "spawn"):
        for workload, extra, n in (("matmul", [], None), ("factorial", ["--mode", "many"], 100),
                                   ("download", [], None)):
            checks = [stdout_says("start_method=%s" % method)]
            if workload == "factorial":
                checks.append(figures_are(factorial_figures("many", 100)))
            cases.append(verified_case(workload, "multiprocessing", 2, extra + ["--start-method", method], n=n,
                                       label=" --start-method %s" % method, checks=checks))
    # Run from a folder holding a random.py and a numpy.py: the forkserver, started as python -c, imports neither.
    case = verified_case("matmul", "multiprocessing", 2, ["--start-method", "forkserver"],
                         label=" --start-method forkserver, run from a folder holding random.py and numpy.py")
    case.argv = SCRATCH.from_shadowing(case.argv)
    cases.append(case)
    cases.append(verified_case("factorial", "threading", 3, ["--mode", "many", "--schedule", "cyclic", "--chunk", 4],
                               n=100, label=" many cyclic", checks=[figures_are(factorial_figures("many", 100))]))
    cases.append(verified_case("factorial", "serial", 1, ["--mode", "many"], n=0, label=" many n=0"))
    cases.append(verified_case("factorial", "threading", 3, [], n=0, label=" big n=0",
                               checks=[figures_are({"digits": 1, "mod61": 1})]))
    cases.append(verified_case("matmul", "threading", 3, reps=3, label=" -r 3 ends with a summary",
                               checks=[summary_line(3)]))
    cases += through_no_proxy()
    directory = out_dir()
    cases.append(Case("py download threading: faults really happen, and are retried",
                      [py("download", "threading"), "-p", 6, "--server", server("faulty"), "--files", 60, "--size",
                       "8000", "-o", directory, "--warmup", 0], 0,
                      [result_lines("download", "py-threading", 60, 6, figures=FIGURES["download"]),
                       figures_are({"failures": 0, "files": 60}), no_traceback,
                       lambda o: None if int(parse_result_line(o.stdout.splitlines()[0])["retries"]) > 0
                       else "no retries: the faulty server's faults did not happen"],
                      needs=[py("download", "threading"), FILESERVER], timeout=90))
    return cases


def same_answers():
    """The same n and seed give the same figures in C and Python."""
    rows = [("matmul", ["-n", 67, "--seed", 7], ("checksum",)),
            ("matmul", ["-n", 300], ("checksum",)),
            ("factorial", ["-n", 20000], ("digits", "mod61")),
            ("factorial", ["--mode", "many", "-n", 500], ("digits", "mod61", "tasks")),
            ("download", ["--files", 6, "--size", "5000", "--seed", 9], ("bytes", "files"))]
    cases = []
    for workload, args, keys in rows:
        argv = [sys.executable, THIS, "probe", "same", "--workload", workload, "--keys", ",".join(keys),
                "--port", port_of("plain"), "--args", " ".join(str(a) for a in args)]
        needs = [program("%s-serial" % workload), py(workload, "serial")]
        cases.append(Case("py %s and C give the same %s (%s)" % (workload, "/".join(keys), " ".join(map(str, args))),
                          argv, 0, needs=needs + ([FILESERVER] if workload == "download" else []), timeout=90))
    cases.append(Case("py download and C name the files of percent-escaped URLs alike (%41.bin is %41.bin), "
                      "and request the same ones", [sys.executable, THIS, "probe", "same-names", "--port",
                                                    port_of("plain")], 0,
                      needs=[program("download-serial"), py("download", "serial"), FILESERVER], timeout=90))
    for scenario, (text, _, _, _) in ODD_SERVERS.items():
        cases.append(Case("py download (requests, asyncio) and C make the same of a server that %s" % text,
                          [sys.executable, THIS, "probe", "odd-server", "--scenario", scenario], 0,
                          needs=[client for _, client in odd_clients()], timeout=90))
    return cases


# Bad command lines: the contract's own (suite.py), then each workload's.
BAD_INPUT = {
    "matmul": SHARED_BAD_INPUT + ((["-n", "0"], "'0'"), (["-n", "32769"], "'32769'"), (["--seed", "-1"], "'-1'"),
                                  (["--kernel", "blocked"], "'blocked'"),
                                  (["--kernel", "python", "-n", "513"], "-n 513")),
    "factorial": SHARED_BAD_INPUT + ((["-n", "4294967296"], "'4294967296'"), (["--mode", "huge"], "'huge'"),
                                     (["--mode"], "--mode needs a value"), (["--chunk", "0"], "'0'"),
                                     (["--schedule", "dynamic"], "--schedule: only --mode many"),
                                     (["--mode", "many", "--schedule", "static", "--chunk", "4"], "--chunk 4"),
                                     (["--mode", "many", "-n", "1000001"], "-n 1000001"),
                                     (["--kernel", "gmp"], "'gmp'")),
    "download": SHARED_BAD_INPUT[:-1] + ((["-p", "257"], "'257'"), (["--server", "host:0"], "'host:0'"),
                                         (["--server", "a:b:80"], "'a:b:80'"), ([], "no URLs"),
                                         (["--server", "127.0.0.1:80", "--size", "12Q"], "'12Q'"),
                                         (["--server", "127.0.0.1:80", "--files", "100000", "--size", "1G"], "needs"),
                                         (["-i", "/nonexistent/urls.txt"], "-i /nonexistent/urls.txt"),
                                         (["-i", "@FTP"], "not an http:// or https:// URL"),
                                         (["--server", "[zz]:80"], "--server '[zz]:80': 'http://[zz]:80/files/"),
                                         (["--server", "[127.0.0.1]:80"], "is not a URL (Bad IPv6 address)"),
                                         (["--server", "%31:80"], "'%31:80'"), (["--server", "-x:80"], "'-x:80'"),
                                         (["-i", "@PART"], "'x.bin.part' in the list is the name 'x.bin' is "
                                                           "downloaded into until it is complete; rename one"),
                                         (["-i", "@WHOLEFIRST"], "'x.bin.part' in the list is the name 'x.bin' is "
                                                                 "downloaded into"),
                                         (["-i", "@NOTURL"], "is not a URL"),
                                         (["--server", "127.0.0.1:80", "-o", "@FILE"], "not a directory")),
}
BAD_FILES = {"@FTP": "ftp://host/a.bin\n", "@NOTURL": "not a url\n", "@FILE": "not a directory\n",
             "@PART": "http://127.0.0.1:1/files/x.bin.part?size=10\n# x.bin next\n"
                      "http://127.0.0.1:1/files/x.bin?size=10\n",
             "@WHOLEFIRST": "http://127.0.0.1:1/files/x.bin?size=10\nhttp://127.0.0.1:1/files/x.bin.part?size=10\n"}


def bad_input():
    """Each bad command line: exit 2, a message naming the argument, no result, no traceback.
    The whole table for the threading programs; the parser is shared, so a few rows for the others."""
    made = {}
    for marker, text in BAD_FILES.items():
        made[marker] = out_dir() + ".txt"
        if SCRATCH.tmp:
            Path(made[marker]).write_text(text)
    cases = []
    for workload, table in BAD_INPUT.items():
        for model in MODELS:
            rows = table if model == "threading" else table[:1] + table[-2:]
            for args, named in rows:
                if model == "serial" and args[:1] == ["-p"]:
                    continue
                argv = [made.get(a, a) for a in args]
                cases.append(Case("py %s %s refuses %s" % (workload, model, " ".join(args) or "''"),
                                  [py(workload, model)] + argv, 2, [stdout_empty, stderr_says(named), no_traceback],
                                  needs=[py(workload, model)]))
            cases.append(Case("py %s %s --help" % (workload, model), [py(workload, model), "--help"], 0,
                              [stdout_says(r"usage: %s-py-%s" % (workload, model)), no_traceback],
                              needs=[py(workload, model)]))
        cases.append(Case("py %s serial refuses -p 2" % workload, [py(workload, "serial"), "-p", 2], 2,
                          [stdout_empty, stderr_says("-p 2", "exactly one worker"), no_traceback],
                          needs=[py(workload, "serial")]))
    mp = py("factorial", "multiprocessing")
    cases += [
        Case("py factorial multiprocessing refuses --schedule cyclic (a pool deals on request)",
             [mp, "--mode", "many", "--schedule", "cyclic"], 2, [stdout_empty, stderr_says("cyclic"), no_traceback],
             needs=[mp]),
        Case("py factorial multiprocessing --help lists --schedule static|dynamic, the ones it takes",
             [mp, "--help"], 0, [schedules_listed("static|dynamic"), no_traceback], needs=[mp]),
        Case("py factorial threading --help lists --schedule static|cyclic|dynamic, all three",
             [py("factorial", "threading"), "--help"], 0, [schedules_listed("static|cyclic|dynamic"), no_traceback],
             needs=[py("factorial", "threading")]),
        Case("py factorial multiprocessing refuses --api pool.map", [mp, "--api", "pool.map"], 2,
             [stdout_empty, stderr_says("'pool.map'"), no_traceback], needs=[mp]),
        Case("py factorial multiprocessing refuses --start-method vfork", [mp, "--start-method", "vfork"], 2,
             [stdout_empty, stderr_says("'vfork'", "fork|forkserver|spawn"), no_traceback], needs=[mp]),
        Case("py matmul serial --describe", [py("matmul", "serial"), "--describe"], 0,
             [stdout_says(r"^workload=matmul model=py-serial n_min=1 n_max=32768 n_default=1024 max_workers=1 "
                          r"clock_tick=\S+ language=python")], needs=[py("matmul", "serial")]),
        Case("py report.size_said: bytes in the unit a message says them in, as C's report_size",
             [sys.executable, "-c", "import sys; sys.path.insert(0, %r); from common import report; "
              "print([report.size_said(b) for b in (0, 1023, 1024, 303104, 1.5 * 2 ** 30, 5000 * 2 ** 40)])"
              % str(ROOT / "python")], 0,
             [stdout_says(r"\['0 B', '1023 B', '1.0 KiB', '296.0 KiB', '1.5 GiB', '5000.0 TiB'\]")]),
        Case("py matmul serial refuses, not hangs, where ulimit -v leaves NumPy's OpenBLAS too little room",
             [py("matmul", "serial"), "-n", 512], 2, [stdout_empty, stderr_says("-n 512: needs about"), no_traceback],
             memory_limit=300 << 20, needs=[py("matmul", "serial")]),
        Case("py matmul serial refuses a size a memory limit on the cgroup above its own cannot hold (systemd's "
             "MemoryMax= on a login node's user slice), where it was killed for memory (137)",
             [UNDER_MEMORY_CGROUP, 1 << 30, py("matmul", "serial"), "-n", 12000], 2,
             [stdout_empty, stderr_says("-n 12000: needs about", "more than the 1.0 GiB"), no_traceback],
             needs=[py("matmul", "serial")], skip_exit=UNDER_MEMORY_CGROUP_CANNOT),
        Case("py matmul threading refuses, not hangs, -p whose threads' OpenBLAS buffers ulimit -v cannot hold",
             [py("matmul", "threading"), "-n", 64, "-p", 4], 2,
             [stdout_empty, stderr_says("-p 4: 4 threads calling OpenBLAS need about", "ulimit -v allows"),
              no_traceback], memory_limit=1 << 30, needs=[py("matmul", "threading")]),
        Case("py factorial threading that cannot start a thread (its stack past ulimit -v): exit 1, said, "
             "no traceback, no hang",
             ["sh", "-c", 'ulimit -s 524288 && ulimit -v 1048576 && exec "$@"', "sh", py("factorial", "threading"),
              "--mode", "many", "-n", 3000, "-p", 4], 1,
             [stdout_empty, stderr_says("cannot start a worker thread: the system refused it", "ulimit -v is 1.0 GiB"),
              no_traceback], needs=[py("factorial", "threading")]),
        Case("py matmul serial cannot write its result: exit 1", [py("matmul", "serial"), "-n", 8], 1,
             [stderr_says("cannot write"), no_traceback], stdout_path="/dev/full", needs=[py("matmul", "serial")]),
        Case("py matmul serial started with stdout closed (>&-): exit 1, said, no traceback",
             ["sh", "-c", 'exec "$0" -n 8 >&-', py("matmul", "serial")], 1,
             [stderr_says("cannot write the result line to stdout: Bad file descriptor"), no_traceback],
             needs=[py("matmul", "serial")]),
        Case("py matmul serial cannot write its --help: exit 1, said, no traceback", [py("matmul", "serial"), "--help"],
             1, [stderr_says("cannot write the help to stdout: No space left on device"), no_traceback],
             stdout_path="/dev/full", needs=[py("matmul", "serial")]),
        Case("py matmul serial --describe with stdout closed (>&-): exit 1, said, no traceback",
             ["sh", "-c", 'exec "$0" --describe >&-', py("matmul", "serial")], 1,
             [stderr_says("cannot write the description to stdout: Bad file descriptor"), no_traceback],
             needs=[py("matmul", "serial")]),
    ]
    # stdout in ASCII (PYTHONIOENCODING=ascii, or the C locale where Python keeps it): matmul's help
    # holds · and ×, written as their escapes, not a UnicodeEncodeError.
    for model, env in (("serial", {"PYTHONIOENCODING": "ascii"}),
                       ("threading", {"LANG": "C", "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0",
                                      "PYTHONIOENCODING": None})):
        exe = py("matmul", model)
        cases.append(Case("py matmul %s --help on an ASCII stdout (%s): exit 0, the help, no traceback"
                          % (model, " ".join("%s=%s" % pair for pair in env.items() if pair[1] is not None)),
                          [exe, "--help"], 0, [stdout_says(r"usage: matmul-py-%s" % model),
                                               stdout_says(r"C = A\\xb7B"), no_traceback], env=env, needs=[exe]))
    # Started with stderr closed (2>&-): messages are lost, as a C program's are, never printed on stdout.
    threads = py("factorial", "threading")
    cases += [
        Case("py factorial threading -r 3 with stderr closed (2>&-): exit 0, stdout holds the result lines alone",
             stderr_closed([threads, "-p", 2, "-n", 1000, "-r", 3, "--warmup", 0]), 0,
             [result_lines("factorial", "py-threading", 1000, 2, reps=3)], needs=[threads]),
        Case("py factorial threading -n x with stderr closed (2>&-): exit 2, no message on stdout",
             stderr_closed([threads, "-n", "x"]), 2, [stdout_empty], needs=[threads]),
    ]
    for workload, package, args in (("matmul", "python3-numpy", ["-n", 8]),
                                    ("download", "python3-requests", ["--server", "127.0.0.1:1"]),
                                    ("factorial", "python3-gmpy2", ["-n", 8, "--kernel", "gmpy2"])):
        cases.append(Case("py %s: a missing package is one line naming %s, exit 2" % (workload, package),
                          [py(workload, "threading")] + args, 2,
                          [stdout_empty, stderr_says("apt-get install %s" % package), no_traceback, one_line],
                          env={"PYTHONPATH": str(HIDE_PACKAGES)}, needs=[py(workload, "threading")]))
    # An interpreter that does not see Debian's packages (pyenv's, a virtual environment's;
    # here one started with -S): apt-get alone would not help it, so its own pip is named too.
    cases.append(Case("py download under an interpreter without Debian's packages: names its pip and apt-get",
                      [sys.executable, "-S", ROOT / "python" / "serial" / "download.py", "--server", "127.0.0.1:1"], 2,
                      [stdout_empty, stderr_says("does not see Debian's packages", "-m pip install requests",
                                                 "apt-get install python3-requests"), no_traceback, one_line]))
    return cases


def check_fails():
    """--inject-error: every program's check catches it; a wrong warm-up run stops the program."""
    cases = []
    for workload in FIGURES:
        for model in MODELS:
            p = 1 if model == "serial" else 2
            n = 300 if (workload, model) == ("matmul", "threading") else None  # Freivalds' check too
            args = workload_args(workload, p, n) + ["--warmup", 0, "--inject-error"]
            size = DEFAULT_SIZES[workload] if n is None else n
            cases.append(Case("py %s %s catches a corrupted result" % (workload, model),
                              [py(workload, model), "-p", p] + args, 1,
                              [result_lines(workload, "py-" + model, size, p, verified="no",
                                            figures=FIGURES[workload]), stderr_says("wrong result"), no_traceback],
                              needs=[py(workload, model)], timeout=90))
        exe = py(workload, "serial")
        cases.append(Case("py %s serial stops at a corrupted warm-up run" % workload,
                          [exe] + workload_args(workload, 1) + ["--inject-error"], 1,
                          [wrong_warmup_line(workload, "py-serial", DEFAULT_SIZES[workload], 1),
                           stderr_says("untimed warm-up run"), no_traceback], needs=[exe]))
    cases.append(Case("py factorial many: the check catches a corrupted residue",
                      [py("factorial", "threading"), "-p", 2, "--mode", "many", "-n", 50, "--warmup", 0,
                       "--inject-error"], 1, [stderr_says("wrong result: task 25"), no_traceback],
                      needs=[py("factorial", "threading")]))
    return cases


def blas_core():
    """The BLAS core: recorded, a user's choice kept, a fallback corrected (issue 9's rule)."""
    exe = py("matmul", "serial")
    unset = ["env", "-u", "OPENBLAS_CORETYPE"]
    return [
        Case("py matmul records a real BLAS core", unset + [exe, "-n", 64], 0,
             [stdout_says(r"blas_core=(SkylakeX|Cooperlake|SapphireRapids|Haswell|Zen|Sandybridge|Nehalem|Core2|"
                          r"Prescott|Atom|Penryn|Dunnington|Bulldozer|Piledriver|Steamroller|Excavator|Barcelona|"
                          r"Opteron|Athlon|Katmai|Neoverse\w*|ARMV8|[a-z]+:\S+) blas_choice=(detected|corrected) "
                          r"blas_threads=1")], needs=[exe]),
        Case("py matmul keeps OPENBLAS_CORETYPE=Prescott set by the user, and warns",
             [exe, "-n", 64], 0, [stdout_says(r"blas_core=Prescott blas_choice=user "), warns_if_below("Prescott")],
             env={"OPENBLAS_CORETYPE": "Prescott"}, needs=[exe]),
        Case("py matmul runs on a core OpenBLAS does not know by that name, and says so, as C does",
             [exe, "-n", 64], 0, [stdout_says(r"blas_choice=user "),
                                  stderr_says("OPENBLAS_CORETYPE=NoSuchCore is set, but OpenBLAS runs its")],
             env={"OPENBLAS_CORETYPE": "NoSuchCore"}, needs=[exe]),
        Case("py matmul takes an empty OPENBLAS_CORETYPE as unset: OpenBLAS's choice, no warning",
             [exe, "-n", 64], 0, [stdout_says(r"blas_choice=(detected|corrected) "), stderr_lacks("OPENBLAS_CORETYPE")],
             env={"OPENBLAS_CORETYPE": ""}, needs=[exe]),
        Case("py matmul threading corrects a fallback core (SUITE_BLAS_TEST_FALLBACK=Prescott), and verifies",
             unset + [py("matmul", "threading"), "-p", 2, "-n", 300], 0,
             [corrected_if_possible, result_lines("matmul", "py-threading", 300, 2, figures=FIGURES["matmul"])],
             env={"SUITE_BLAS_TEST_FALLBACK": "Prescott"}, needs=[py("matmul", "threading")]),
    ]


def cpu_best_core():
    """The core issue 9's rule picks for this CPU, or None below AVX2."""
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []))
    except OSError:
        pass
    return "SkylakeX" if "avx512f" in flags else ("Haswell" if {"avx2", "fma"} <= flags else None)


def warns_if_below(core):
    def check(outcome):
        if cpu_best_core() and "warning: OPENBLAS_CORETYPE=%s" % core not in outcome.stderr:
            return "no warning that the user's core is below the CPU's"
        return None
    return check


def corrected_if_possible(outcome):
    """Check: on a CPU with AVX2 or AVX-512, the fallback core was corrected to the best one, said once."""
    best = cpu_best_core()
    if best is None:
        return None if "blas_core=Prescott blas_choice=detected" in outcome.stdout else "expected Prescott, detected"
    if "blas_core=%s blas_choice=corrected" % best not in outcome.stdout:
        return "expected blas_core=%s blas_choice=corrected: %r" % (best, outcome.stdout[-200:])
    said = outcome.stderr.count("OpenBLAS chose its Prescott core")
    return None if said == 1 else "the correction was said %d times, expected once" % said


def dying():
    """A killed worker, a killed parent, Ctrl-C: exit 1 with a message (or death), no process left behind."""
    cases = []
    for name, text in (("kill-worker", "a pool worker killed with SIGKILL: exit 1, the rest ended"),
                       ("kill-parent", "the parent killed with SIGKILL: its pool workers die too"),
                       ("kill-worker-forkserver", "a pool worker a forkserver started, killed with SIGKILL: exit 1, "
                                                  "the rest ended, no semaphore left for Python to clean up"),
                       ("kill-parent-forkserver", "the parent killed with SIGKILL, its pool's workers started by a "
                                                  "forkserver: they die too, without a traceback"),
                       ("interrupt-pool", "Ctrl-C: exit 1, the pool ended"),
                       ("interrupt-threads", "Ctrl-C in a threaded download: exit 1, no partial file under a "
                                             "final name")):
        cases.append(Case("py %s" % text, [sys.executable, THIS, "probe", name, "--port",
                                            port_of("slow")], 0,
                          needs=[py("factorial", "multiprocessing"), py("download", "threading"), FILESERVER],
                          timeout=90))
    cases.append(Case("py download multiprocessing and futures (process): cpu_user/cpu_sys count the workers a "
                      "forkserver started (not the program's children) as they count forked ones",
                      [sys.executable, THIS, "probe", "forkserver-cpu", "--port", port_of("plain")], 0,
                      needs=[py("download", "multiprocessing"), py("download", "futures"), FILESERVER], timeout=120))
    cases.append(Case("py factorial multiprocessing: a pool that cannot start its workers (ulimit -n 24) is one "
                      "line, exit 1, no worker left", [sys.executable, THIS, "probe", "no-descriptors"], 0,
                      needs=[py("factorial", "multiprocessing")], timeout=90))
    cases.append(Case("py common: splitmix64, the made-up files and CRC-32C (crcmod's, and the C clients' "
                      "through ctypes) as C and tools/harness/content.py make them",
                      [lane_python(), THIS, "probe", "units"], 0, needs=needs_package("crcmod", "python3-crcmod")))
    cases.append(Case("py factorial: a --mode big problem, as a pool sends it to each worker it spawns (pickled), "
                      "does not grow with n; --mode many's holds a residue per task",
                      [lane_python(), THIS, "probe", "problem-size"], 0))
    cases.append(Case("py common: OpenBLAS starts on the one thread every program pins it to, not one per core, "
                      "whatever OPENBLAS_NUM_THREADS says", [lane_python(), THIS, "probe", "blas-threads"], 0,
                      env={"OPENBLAS_NUM_THREADS": USER_BLAS_THREADS},
                      needs=needs_package("numpy", "python3-numpy")
                      + needs_package("threadpoolctl", "python3-threadpoolctl")))
    cases.append(Case("py factorial: gmpy2's multiplication holds the GIL (a thread waiting for it never runs "
                      "meanwhile) and gmpy2-nogil's lets go of it, in each thread that asked (one)",
                      [lane_python(), THIS, "probe", "gil-release"], 0, needs=needs_package("gmpy2", "python3-gmpy2")))
    cases.append(Case("py common: distutils (which joblib 1.2 and ipyparallel import) is the standard library's, "
                      "not setuptools', in a program and in what it starts; its DeprecationWarning not shown",
                      [lane_python(), THIS, "probe", "stdlib-distutils"], 0))
    return cases


def cases():
    """Every table of the Python lane, in the order they are reported."""
    return correctness() + same_answers() + bad_input() + check_fails() + blas_core() + dying()


# ---- the probes: run as python3 tests/test_python.py probe NAME ----

def probe_same(options, args):
    """C's serial program and Python's, same arguments: the same figures."""
    server = "127.0.0.1:%d" % options.port if options.workload == "download" else ""
    same_figures([("C", [program("%s-serial" % options.workload)] + list(args)),
                  ("Python", [py(options.workload, "serial")] + list(args))], options.keys.split(","), server)


# URLs whose last part is percent-escaped, served by bin/fileserver: C saves each under
# that part as written (common/download_list.c), and so must Python.
ESCAPED_NAMES = ("%41.bin", "%2e%2e.bin", "x%20y.bin", "caf%C3%A9.bin", "%2E", "b.bin;p=1")
# Such URLs the server refuses (400, 403, 404): C requests them all the same, and so must
# Python (no usage error): both give up on the same names.
REFUSED_NAMES = ("a%2Fb.bin", "%2e%2e", "%00a.bin", "%2e%2e%2fetc")


def probe_same_names(options):
    """C's serial client and Python's on lists of percent-escaped URLs: the same files saved, the same given up on."""
    for names, code in ((ESCAPED_NAMES, 0), (REFUSED_NAMES, 1)):
        listing = Path(scratch_folder("names-list-"), "urls.txt")
        listing.write_text("".join("http://127.0.0.1:%d/files/%s?size=10\n" % (options.port, name)
                                   for name in names))
        seen = []
        for language, exe in (("C", program("download-serial")), ("Python", py("download", "serial"))):
            folder = scratch_folder("names-")
            status, _, stderr = run_program([exe, "-i", listing, "-o", folder, "--warmup", 0])
            expect(status == code, "%s on %s: exit status %d, expected %d: %s" % (language, names, status, code,
                                                                                 stderr[-400:]))
            seen.append((language, sorted(os.listdir(folder)), sorted(re.findall(r"giving up on (\S+) \(", stderr))))
        (_, c_saved, c_refused), (_, py_saved, py_refused) = seen
        expect((c_saved, c_refused) == (py_saved, py_refused), "C saved %s and gave up on %s; Python saved %s and "
               "gave up on %s" % (c_saved, c_refused, py_saved, py_refused))


# ---- odd servers: a server that answers strangely, and what every client must make of it ----

# A certificate no authority signed (and its key), for 127.0.0.1, valid until 2126.
SELF_SIGNED = ROOT / "tests" / "data" / "self-signed.pem"
# The file the odd servers serve, and the same gzipped (a fixed mtime: the same bytes every time).
ODD_FILE = bytes(range(256)) * 40
ODD_GZIPPED = gzip.compress(ODD_FILE, mtime=0)
# scenario: (what the server does, the clients' exit status, words their stderr must hold, the a.bin saved or None).
ODD_SERVERS = {
    "gzip": ("gzips the file though asked for identity (Apache's AddEncoding x-gzip .gz): the bytes as sent kept",
             0, (), ODD_GZIPPED),
    "self-signed": ("has a self-signed certificate: given up on at once, no traceback", 1,
                    ("SSL certificate problem: self-signed certificate (not retried)",), None),
    "tls-garbled": ("answers the first TLS handshake in plain HTTP (retried, as a handshake cut short), then "
                    "has a self-signed certificate", 1, ("retries=1", "SSL certificate problem: self-signed"), None),
    "retry-after-huge": ("answers 503 with a Retry-After of 20 digits: given up on at once, as one above 30 s", 1,
                         ("and the server asks to wait", "(more than 30)"), None),
    "redirect-ftp": ("redirects to ftp://: given up on at once, no traceback, no NAME.part", 1, ("(not retried)",),
                     None),
    "redirect-unparsable": ("redirects to a URL that does not parse: given up on at once, no traceback, no "
                            "NAME.part", 1, ("(not retried)",), None),
    "no-checksum-inject": ("sends no checksum, asked for --inject-error: the check, which knows only the size, "
                           "still fails (a byte too many)", 1, ("verified=no", "a.bin has %d bytes, expected %d"
                                                                % (len(ODD_FILE) + 1, len(ODD_FILE))),
                           ODD_FILE + b"\xff"),
}

# The scenarios whose URL is https://.
HTTPS_SCENARIOS = ("self-signed", "tls-garbled")
# The scenarios whose clients run with --inject-error.
INJECT_SCENARIOS = ("no-checksum-inject",)


def odd_clients():
    """(name, program) of each client an odd server is tried on: C's, Python's through requests and through aiohttp."""
    return [("C", program("download-serial")), ("Python", py("download", "serial")),
            ("Python asyncio", py("download", "asyncio"))]


def odd_answer(scenario):
    """The bytes an odd server answers every request with (then it closes the connection)."""
    headers, body, status = [], ODD_FILE, "200 OK"
    if scenario.startswith("redirect"):
        location = "ftp://127.0.0.1/a.bin" if scenario == "redirect-ftp" else "http://[::1"
        headers, body, status = [("Location", location)], b"", "302 Found"
    elif scenario == "retry-after-huge":
        headers, body, status = [("Retry-After", "99999999999999999999")], b"", "503 Service Unavailable"
    elif scenario == "gzip":
        headers, body = [("Content-Encoding", "gzip")], ODD_GZIPPED
    lines = ["HTTP/1.1 " + status] + ["%s: %s" % h for h in headers + [("Content-Length", len(body)),
                                                                       ("Connection", "close")]]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class OddServer:
    """A server on a free port of 127.0.0.1, in a thread, that answers every request with odd_answer(scenario)
    (through TLS with the self-signed certificate for that scenario); stopped by stop()."""

    def __init__(self, scenario):
        self.answer, self.stopped = odd_answer(scenario), threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(SELF_SIGNED)
        # tls-garbled: the first connection is answered in plain HTTP (the TLS handshake fails), the next with TLS
        self.garbled, self.tls_next = scenario == "tls-garbled", False
        if scenario == "self-signed":
            self.listener = self.context.wrap_socket(self.listener, server_side=True)
        self.listener.settimeout(LOOK_AGAIN)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:  # a timeout to look at stopped, or a client that refused the certificate
                continue
            with connection:
                try:
                    if self.garbled:
                        self.garbled, self.tls_next = False, True
                        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        continue
                    if self.tls_next:  # the client refuses the certificate here
                        connection = self.context.wrap_socket(connection, server_side=True)
                    connection.settimeout(ODD_READ_TIMEOUT)
                    request = b""
                    while b"\r\n\r\n" not in request:
                        data = connection.recv(4096)
                        if not data:
                            break
                        request += data
                    connection.sendall(self.answer)
                except OSError:
                    pass

    def stop(self):
        self.stopped.set()
        self.thread.join()
        self.listener.close()


# Seconds the odd server's accept waits before looking whether it was stopped; a request may take to arrive.
LOOK_AGAIN = 0.1
ODD_READ_TIMEOUT = 10


def probe_odd_server(options):
    """Each client fetches a.bin from an odd server: the same exit status, the same file saved (or none,
    and no NAME.part), the same words on stderr, no traceback."""
    _, code, said, saved = ODD_SERVERS[options.scenario]
    for name, client in odd_clients():
        server = OddServer(options.scenario)
        CLEANUPS.append(server.stop)
        folder = scratch_folder("odd-")
        listing = Path(folder, "urls.txt")
        listing.write_text("%s://127.0.0.1:%d/files/a.bin\n" % ("https" if options.scenario in HTTPS_SCENARIOS
                                                                else "http", server.port))
        out = Path(folder, "out")
        inject = ["--inject-error"] if options.scenario in INJECT_SCENARIOS else []
        status, stdout, stderr = run_program([client, "-i", listing, "-o", out, "--warmup", 0] + inject)
        expect("Traceback" not in stderr, "%s: a traceback: %s" % (name, stderr[-1500:]))
        expect(status == code and all(words in stdout + stderr for words in said),
               "%s: exit status %d, expected %d, and %s said: %s"
               % (name, status, code, said, (stdout + stderr)[-800:]))
        files = {p.name: p.read_bytes() for p in out.iterdir()}
        expect(files == ({"a.bin": saved} if saved is not None else {}),
               "%s left %s, expected %s" % (name, ", ".join("%s (%d bytes)" % (n, len(b)) for n, b in files.items())
                                           or "nothing", "a.bin (%d bytes)" % len(saved) if saved else "nothing"))


# Downloads whose workers' CPU time (each file's transfer, CRC-32C and write) is most of the run's:
# the program's own share, handing out the files, is a fifth or less of it. Counted with a forkserver's
# workers (which import what fork's inherit), the figure is fork's or more; left out, a fifth or less.
CPU_RUN = ["-p", 2, "--files", 24, "--size", "1M", "--warmup", 0]
FORKSERVER_CPU_SHARE = 0.5


def probe_forkserver_cpu(options):
    """cpu_user + cpu_sys with --start-method forkserver is at least half of what fork's run
    says, for the multiprocessing pool and the process executor alike."""
    for model, extra in (("multiprocessing", []), ("futures", ["--executor", "process"])):
        cpu = {}
        for method in ("fork", "forkserver"):
            argv = [py("download", model)] + CPU_RUN + extra + ["--start-method", method, "--server",
                                                                "127.0.0.1:%d" % options.port,
                                                                "-o", scratch_folder("cpu-")]
            status, stdout, stderr = run_program(argv)
            expect(status == 0 and stdout, "%s %s: exit status %d: %s" % (model, method, status, stderr[-400:]))
            pairs = parse_result_line(stdout.splitlines()[0])
            cpu[method] = float(pairs["cpu_user"]) + float(pairs["cpu_sys"])
        expect(cpu["forkserver"] >= FORKSERVER_CPU_SHARE * cpu["fork"],
               "%s: cpu_user + cpu_sys is %.3f s with forkserver, %.3f s with fork: the workers a forkserver "
               "started are left out" % (model, cpu["forkserver"], cpu["fork"]))


def probe_no_descriptors(options):
    pool_not_started([py("factorial", "multiprocessing"), "-p", 64, "-n", 2000], GONE_TIMEOUT)


# A pool run long enough to be caught in the middle, even on a loaded machine: --mode many,
# thousands of tasks (a few seconds of CPU per worker; every probe ends it long before).
LONG_POOL = [py("factorial", "multiprocessing"), "-p", 2, "--mode", "many", "-n", 8000, "--warmup", 0]
# CPU seconds a pool worker has used when it surely holds a task (its start takes far less).
BUSY_CPU_SECONDS = 0.15
# Seconds a loaded machine may take to start the pool and get its workers going.
START_TIMEOUT = 60


def busy_workers(pid):
    """The program's pool workers once two are busy with tasks (else None):
    the processes of its group, other than the program, that have no child
    and have used CPU time. A forkserver's workers are its children, not the
    program's, so the server, which has children, is not one of them (on a
    slow machine its start alone can pass BUSY_CPU_SECONDS); Python's
    resource tracker has no child but uses next to no CPU."""
    group = {member: fields for member, fields in live_processes() if fields[2] == str(pid)}
    parents = {fields[1] for fields in group.values()}
    busy = [w for w in group if w != pid and str(w) not in parents and cpu_seconds_of(w) >= BUSY_CPU_SECONDS]
    return busy if len(busy) >= 2 else None


def all_gone(proc, launched):
    """Every process of the program's group ends within GONE_TIMEOUT: none orphaned."""
    none_left(lambda: in_group(proc.pid), GONE_TIMEOUT, launched)


def long_pool(options):
    """LONG_POOL, its workers started the way the probe's name ends (kill-parent-forkserver), else by default."""
    method = options.name.rpartition("-")[2]
    return LONG_POOL + (["--start-method", method] if method in ("forkserver", "spawn") else [])


def probe_kill_worker(options):
    proc = start(long_pool(options))
    workers = wait_for(lambda: busy_workers(proc.pid), START_TIMEOUT, "the pool's workers at work", proc)
    os.kill(workers[0], signal.SIGKILL)
    code, stdout, stderr = finish(proc)
    expect(code == 1, "exit status %d, expected 1: %s" % (code, stderr[-300:]))
    expect(("killed by signal 9" in stderr or "died in the middle of the run" in stderr) and "task" in stderr
           and "Traceback" not in stderr, "stderr: %r" % stderr[-400:])
    expect(stdout == "", "a result line after a killed worker: %r" % stdout)
    all_gone(proc, "a killed worker")
    stderr = read_all(proc.err)  # now with whatever the pool's helpers said after the program left
    expect("leaked" not in stderr, "the pool's semaphores left for Python's resource tracker: %r" % stderr[-400:])


def probe_kill_parent(options):
    proc = start(long_pool(options))
    wait_for(lambda: busy_workers(proc.pid), START_TIMEOUT, "the pool's workers at work", proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    all_gone(proc, "a killed parent")
    stderr = read_all(proc.err)  # the workers': none may fail sending a result to the dead parent
    expect("Traceback" not in stderr and "PoolWorker" not in stderr, "stderr: %r" % stderr[-400:])


# With a forkserver, the workers are the server's children: the server dies with the program, and they with it.
probe_kill_worker_forkserver = probe_kill_worker
probe_kill_parent_forkserver = probe_kill_parent


def probe_interrupt_pool(options):
    proc = start(LONG_POOL)
    wait_for(lambda: busy_workers(proc.pid), START_TIMEOUT, "the pool's workers at work", proc)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    code, stdout, stderr = finish(proc)
    expect(code == 1 and "interrupted" in stderr and "Traceback" not in stderr,
           "exit status %d, stderr %r" % (code, stderr[-400:]))
    all_gone(proc, "Ctrl-C")


def probe_interrupt_threads(options):
    directory = scratch_folder("interrupted-")
    size = 4000
    proc = start([py("download", "threading"), "-p", 4, "--server", "127.0.0.1:%d" % options.port,
                            "--files", 40, "--size", size, "-o", directory, "--warmup", 0])
    wait_for(lambda: any(n.endswith(".bin") for n in os.listdir(directory)), START_TIMEOUT, "the first file", proc)
    os.killpg(proc.pid, signal.SIGINT)
    code, stdout, stderr = finish(proc)
    expect(code == 1 and "interrupted" in stderr and "Traceback" not in stderr,
           "exit status %d, stderr %r" % (code, stderr[-400:]))
    whole_files_only(directory, size)
    all_gone(proc, "Ctrl-C")


def probe_units(options):
    """python/common's generators against C's definitions and the harness's model of them
    (tools/harness/content.py, which tests/test_download.py checks the C server with)."""
    sys.path.insert(0, str(ROOT / "python"))
    sys.path.insert(0, str(ROOT / "tools"))
    from common import content, mix
    from harness import content as test_download
    state, outputs = 1234567, []
    for _ in range(3):
        value, state = mix.next_value(state)
        outputs.append(value)
    # splitmix64 from seed 1234567: common/mix.c gives these (and so does every splitmix64).
    expect(outputs == [6457827717110365317, 3203168211198807973, 9817491932198370423],
           "splitmix64 drifted from common/mix.c: %s" % outputs)
    expect(mix.unit(2 ** 64 - 1) < 1.0 and mix.unit(0) == 0.0, "mix.unit out of [0, 1)")
    for name, size, first in (("x", 0, 0), ("y", 7, 0), ("file-42-000001.bin", 1000, 3), ("big.bin", 70001, 17)):
        want = test_download.made_up(name, size, first)
        got = content.fill(content.key(name), first, size - first)
        expect(got == want, "content.fill(%s, %d..%d) differs from tools/harness/content.py's" % (name, first, size))
        content.numpy_or_none()
        numpy_module, content._numpy[0] = content._numpy[0], None  # the pure Python path too
        got = content.fill(content.key(name), first, size - first)
        content._numpy[0] = numpy_module
        expect(got == want, "content.fill without NumPy differs for %s" % name)
        expect(content.crc32c(want) == test_download.crc32c(want), "CRC-32C of %s differs" % name)
    expect(content.crc32c(b"6789", content.crc32c(b"12345")) == 0xe3069283, "CRC-32C in pieces is not 0xe3069283")
    probe_receive_crc(content)


def probe_problem_size(options):
    """python/common/factorial.py's Problem: --mode big has no tasks, so no room for their residues, n + 1
    slots (800 MB at n = 10^8) made again before every run, which every worker started by spawn or
    forkserver was sent, pickled, inside the timed region."""
    import pickle
    sys.path.insert(0, str(ROOT / "python"))
    from common import cli, factorial
    big = factorial.prepare(factorial.parse(["factorial-py-multiprocessing", "-n", str(BIG_PROBLEM_N), "-p", "2"],
                                            "py-multiprocessing", cli.MANY_WORKERS))
    factorial.reset(big)
    sent = len(pickle.dumps(big))
    expect(sent < BIG_PROBLEM_BYTES, "a --mode big problem of n = %d pickles to %d bytes (at most %d expected): "
           "it carries room for tasks it has none of" % (BIG_PROBLEM_N, sent, BIG_PROBLEM_BYTES))
    many = factorial.prepare(factorial.parse(["factorial-py-serial", "--mode", "many", "-n", "3000"], "py-serial",
                                             cli.ONE_WORKER))
    factorial.reset(many)
    expect(len(many.residue) == 3001 and set(many.residue[1:]) == {factorial.UNSET_RESIDUE},
           "--mode many -n 3000: %d residues, not the 3001 poisoned ones its tasks fill" % len(many.residue))


def probe_gil_release(options):
    """python/common/factorial.py's kernels, each in a thread of its own, squaring a GMP number while
    another thread counts: gmpy2's multiplication holds the GIL, so the counter stands still while it
    lasts; gmpy2-nogil's lets go of it, so the counter moves. gmpy2's context, which says which, is
    the thread's, and a new thread may start with an ended one's (gmpy2 2.1): a thread that asks for
    gmpy2 after another asked for gmpy2-nogil (factorial.one) still holds the GIL."""
    import threading
    sys.path.insert(0, str(ROOT / "python"))
    from common import factorial
    counted, stop = [0], threading.Event()

    def count():
        while not stop.is_set():
            counted[0] += 1

    def while_squaring(kernel, out):
        x = (factorial.one(kernel) << GIL_PROBE_BITS) - 1
        before = counted[0]
        x = x * x  # no point between these lines where the eval loop lets another thread take the GIL
        out.append(counted[0] - before)

    def in_a_thread(kernel):
        out = []
        thread = threading.Thread(target=while_squaring, args=(kernel, out))
        thread.start()
        thread.join()
        return out[0]

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    try:
        held = in_a_thread("gmpy2")
        released = [in_a_thread("gmpy2-nogil") for _ in range(GIL_PROBE_TRIES)]
        held_after = in_a_thread("gmpy2")
    finally:
        stop.set()
        counter.join()
    expect(held == 0, "--kernel gmpy2: another thread counted %d times while GMP multiplied: the GIL was let go"
           % held)
    expect(max(released) > 0, "--kernel gmpy2-nogil: another thread never ran in %d multiplications of %d bits: "
           "the GIL was held" % (GIL_PROBE_TRIES, GIL_PROBE_BITS))
    expect(held_after == 0, "--kernel gmpy2 in a new thread, after another asked for gmpy2-nogil: another thread "
           "counted %d times while it multiplied (the new thread kept what the other's context said)" % held_after)
    print("counted while multiplying: gmpy2 %d, gmpy2-nogil %s, gmpy2 again %d" % (held, released, held_after))


def as_a_program(code, env=None):
    """What code prints, run in a fresh interpreter that loads python/common first, as every program does
    (this process loaded it long ago, through the harness, which put the environment back)."""
    status, stdout, stderr = run_program([sys.executable, "-c", "import sys; sys.path.insert(0, %r); import common\n%s"
                                          % (str(ROOT / "python"), code)], env)
    expect(status == 0, "a fresh interpreter loading python/common: exit %s: %s" % (status, stderr[-600:]))
    return stdout


def probe_blas_threads(options):
    """python/common, which every program imports first, has OpenBLAS start on one thread: every program
    pins it to one (blas.choose_core), so the thread per core it starts as NumPy loads would only cost
    CPU time, in the program and in every worker."""
    threads = as_a_program("import numpy, threadpoolctl\n"
                           "print([e['num_threads'] for e in threadpoolctl.threadpool_info() "
                           "if e.get('internal_api') == 'openblas'])").strip()
    expect(threads in ("[]", "[1]"), "with OPENBLAS_NUM_THREADS=%s set, OpenBLAS loaded with %s threads, not 1"
           % (USER_BLAS_THREADS, threads))


def probe_stdlib_distutils(options):
    """python/common, which every program imports first, has distutils come from the standard library
    (where it is there: up to Python 3.11): where setuptools stands in for it, importing it (joblib 1.2
    and ipyparallel do) loads setuptools, 0.15-0.2 s in each process, the program's and every worker's
    and engine's. Under PYTHONWARNINGS=default, its DeprecationWarning is not shown."""
    if not (Path(os.__file__).parent / "distutils" / "__init__.py").exists():
        return  # Python 3.12 or later: there is none
    # The program, then a process it starts (a worker, an engine): where distutils came from, whether
    # setuptools came with it, what warnings were given.
    said = as_a_program(
        "import subprocess, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    import distutils\n"
        "print(distutils.__file__, 'setuptools' in sys.modules, len(caught))\n"
        "child = subprocess.run([sys.executable, '-c', 'import distutils, sys; "
        "print(distutils.__file__, \"setuptools\" in sys.modules, 0)'], capture_output=True, text=True)\n"
        "print(child.stdout.strip(), child.stderr.count('Warning'))\n", env=dict(os.environ, PYTHONWARNINGS="default"))
    for who, line in zip(("the program", "a process it started"), said.splitlines()):
        where, setuptools, warned = line.split()[:3]
        warned = int(warned) + sum(int(w) for w in line.split()[3:])
        expect(setuptools == "False" and "setuptools" not in where and warned == 0,
               "%s: distutils from %s, setuptools loaded: %s, %d warnings" % (who, where, setuptools, warned))


def probe_receive_crc(content):
    """receive_crc32c: the C clients' CRC-32C through ctypes wherever make built
    the Python clients, equal to crcmod's at every length and alignment and in
    pieces; crcmod's own where the library is not there."""
    if py("download", "threading").exists():
        expect(content.LIBRARY.exists(), "the Python clients are built, %s is not" % content.LIBRARY)
    expect((content.c_crc32c() is not None) == content.LIBRARY.exists(),
           "%s %s, but c_crc32c %s" % (content.LIBRARY, "is there" if content.LIBRARY.exists() else "is not",
                                       "found nothing" if content.c_crc32c() is None else "found it"))
    data = bytes(range(256)) * 300 + b"tail"
    for first in range(9):  # every alignment of the C code's 8-byte steps
        for length in (0, 1, 7, 8, 9, 15, 16, 17, 4096 + 3, len(data) - 9):
            piece = data[first:first + length]
            expect(content.receive_crc32c(piece) == content.crc32c(piece),
                   "receive_crc32c of %d bytes from %d differs from crcmod's" % (length, first))
    expect(content.receive_crc32c(b"6789", content.receive_crc32c(b"12345")) == 0xe3069283,
           "receive_crc32c in pieces is not 0xe3069283")
    library, content.LIBRARY = content.LIBRARY, content.LIBRARY.with_name("no-such-library.so")
    expect(content.c_crc32c() is None, "c_crc32c found a library that is not there")
    content.LIBRARY = library


def main():
    parser = argparse.ArgumentParser(description="the Python lane's probes (run by tests/run_tests.py)")
    parser.add_argument("command", choices=["probe"])
    parser.add_argument("name")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workload", default="")
    parser.add_argument("--keys", default="")
    parser.add_argument("--args", default="", help="the programs' arguments, in one word")
    parser.add_argument("--scenario", default="", help="probe odd-server: how the server answers (ODD_SERVERS)")
    options = parser.parse_args()
    if options.name == "same":
        return run_probe(options.name, lambda: probe_same(options, options.args.split()))
    return run_probe(options.name, lambda: globals()["probe_" + options.name.replace("-", "_")](options))


if __name__ == "__main__":
    sys.exit(main())
