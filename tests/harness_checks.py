#!/usr/bin/env python3
"""tests/harness_checks.py — checks of the benchmark harness, one per invocation.

Usage: tests/harness_checks.py stats|summary|programs|plan|fileserver|runner|runner_mpi|sweep|unwritable|
       failing|resume|resume_elsewhere|hangup|killed|speed_stopped|broken|interrupt_early|python|cluster|compare|
       record|rebuild|native_flag|results_dir|same_second|git_commit|gnuplot_fails|no_baseline|coarse_timer|
       caches|cores_together|page_faults|virtualized|environment|many_cores|cores_shading|quota_peak|no_one_worker|
       amdahl_curves|log_axis|python_no_baseline|gil_cores_label|python_no_self|
       own_models|python_targets|factorial_rounds
Exit status 0 when the check holds; otherwise a message on stderr and 1.
tests/test_harness.py runs each as a case of its own.

The sweeps run tools/bench.py against a bin/ of its own: links to real
programs, and tests/fake_program under names that make it fail or run slowly.
"""
import contextlib
import csv
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tools"))
from harness import clusters, machine, programs, runner, stats, studies, summary  # noqa: E402
from harness.content import crc32c, made_up  # noqa: E402
from python_checks import marked  # noqa: E402
from harness.studies import Study  # noqa: E402
from suite import LEFTOVER_GRACE, admin_command, command_line  # noqa: E402

FAKE = HERE / "fake_program"
# Seconds within which the runner check's Ctrl-C must take its run down (it needs a moment).
CTRL_C_WITHIN = 20
# Lines a check prints in check_record's record that a full disk cuts short (about 20 KB).
RECORD_LINES = 2000
# The most a file may grow to in check_unwritable (ulimit -f): meta.json (about 6 KiB) fits, runs.csv does not.
UNWRITABLE_BYTES = 10 << 10
# Seconds ahead for which check_same_second takes a sweep's folder names (the sweep starts well within).
SAME_SECOND_WINDOW = 120
# Seconds by which an MPI job's ranks are up and at work (about 0.5 s on an idle 2-core machine).
MPI_UP_WITHIN = 4
# Seconds what a killed sweep started may take to be gone (its run given SIGTERM's grace first).
KILLED_GONE_SECONDS = 10


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def near(a, b, tolerance=1e-9):
    return a is not None and abs(a - b) <= tolerance * max(1.0, abs(b))


# ---- statistics against values worked out by hand or from tables -------------

def check_stats():
    expect(stats.median([3, 1, 2]) == 2, "median of 3 values")
    expect(stats.median([4, 1, 3, 2]) == 2.5, "median of 4 values")
    expect(near(stats.iqr([1, 2, 3, 4, 5, 6, 7, 8, 9]), 4.0), "IQR of 1..9 is 7 - 3")
    # ranks of the distribution-free 95% interval of the median (e.g. Conover's table)
    expected = {5: None, 6: (1, 6), 8: (1, 8), 9: (2, 8), 10: (2, 9), 20: (6, 15), 50: (18, 33)}
    for count, ranks in expected.items():
        got = stats.median_ci_ranks(count)
        expect(got == ranks, "CI ranks for %d runs: %s, expected %s" % (count, got, ranks))
    expect(stats.median_ci([1, 2, 3, 4, 5]) is None, "no interval under 6 runs")
    expect(stats.median_ci([5, 1, 4, 2, 3, 6]) == (1, 6), "interval of 6 runs is [min, max]")
    expect(stats.fewest_runs_with_ci() == 6, "the fewest runs with an interval: %d" % stats.fewest_runs_with_ci())
    import bench  # tools/bench.py: the presets
    full = bench.PRESETS["full"]["repeats"]
    expect(stats.median_ci_ranks(full) is not None, "the full preset's %d runs give its medians no interval" % full)
    expect(stats.karp_flatt(2.0, 2) == 0.0, "perfect speedup: serial fraction 0")
    expect(near(stats.karp_flatt(1.0, 2), 1.0), "no speedup: serial fraction 1")
    expect(near(stats.karp_flatt(1.6, 4), 0.5), "S=1.6 at P=4: e = (1/1.6 - 1/4) / (3/4) = 0.5")
    expect(stats.karp_flatt(1.0, 1) is None, "Karp-Flatt undefined at P=1")
    points = [(p, stats.amdahl(0.2, p)) for p in (2, 4, 8)]
    expect(near(stats.fit_amdahl(points), 0.2, 1e-6), "Amdahl fit recovers f=0.2")
    expect(near(stats.amdahl(0.0, 8), 8.0), "Amdahl with f=0 is linear")
    found = stats.noisy([("steady", [1, 1, 1]), ("wild", [1, 2, 3]), ("few", [1, 3]), ("mild", [10, 11, 12])])
    expect(found == ["wild (50%)"], "noisy: only runs of 3 or more that vary above 10%%: %s" % found)
    expect(stats.noisy_line([("steady", [1, 1, 1])]) is None, "a line about noise where there is none")


@contextlib.contextmanager
def kept_figures():
    """The figures matplotlib draws inside, in a list the check reads afterwards: the harness closes each
    figure it has saved, and plt.close of a figure is put off until the block ends (a closed figure can
    still be read); any other close (pyplot's own close("all") as it picks its backend) is done at once."""
    import matplotlib.figure
    import matplotlib.pyplot as plt
    drawn, close = [], plt.close

    def keep(figure=None):
        if isinstance(figure, matplotlib.figure.Figure):
            drawn.append(figure)
        else:
            close(figure)
    plt.close = keep
    try:
        yield drawn
    finally:
        plt.close = close
        for figure in drawn:
            close(figure)


def run_row(model, workers, seconds, study="matmul", workload=None, n=64, exit_code=0, warmup=0, figures=""):
    """A row of runs.csv as the harness reads it back: a run of model at workers that took seconds, all of
    it compute, in study (its workload, unless given, the study's first word), verified unless it failed."""
    return {"study": study, "workload": workload or study.split("-")[0], "model": model, "n": str(n),
            "workers": str(workers), "round": "1", "warmup": str(warmup), "seconds": str(seconds), "setup": "0",
            "comm": "0", "compute": str(seconds), "combine": "0", "wall": "1", "user": "1", "sys": "0",
            "max_rss_kb": "1", "exit": str(exit_code), "verified": "yes" if exit_code == 0 else "no",
            "oversubscribed": "no", "figures": figures}


def check_summary():
    """Speedup against the best serial code, failed runs kept out of it."""
    def row(model, workers, seconds, exit_code=0, warmup=0):
        return run_row(model, workers, seconds, study="s", workload="w", n=10, exit_code=exit_code, warmup=warmup)
    runs = [row("serial", 1, 4.0), row("serial", 1, 4.2), row("fast", 1, 2.0), row("fast", 1, 2.0),
            row("threads", 1, 4.0), row("threads", 2, 1.0), row("threads", 2, 1.0), row("threads", 2, 9.0, 1),
            row("threads", 2, 0.001, warmup=1)]
    rows = {(r["model"], r["workers"]): r for r in
            summary.summarize(runs, [Study("s", "w", "cpu", baselines=("serial", "fast"))])}
    threads = rows[("threads", 2)]
    expect(threads["baseline"] == "w-fast (P=1)", "baseline is the fastest serial code: %s" % threads["baseline"])
    expect(threads["runs"] == 2 and threads["failed"] == 1, "the failed run is counted, not used")
    expect(near(threads["median"], 1.0), "warm-up and failed runs stay out of the median")
    expect(near(threads["speedup"], 2.0), "speedup = best serial median / median = 2")
    expect(near(threads["speedup_self"], 4.0), "self speedup = own P=1 median / median = 4")
    expect(near(threads["efficiency"], 1.0), "efficiency = speedup / P")
    expect(threads["baseline_lane"] == "C", "a C model's baseline is C code: %s" % threads["baseline_lane"])

    # A Python lane's baseline is the best serial code of either language, and says which;
    # a C model's stays the C one even where py-serial is faster.
    runs = [row("serial", 1, 4.0), row("py-serial", 1, 3.0), row("threads", 1, 4.0), row("threads", 2, 2.0),
            row("py-threading", 1, 6.0), row("py-threading", 2, 6.0)]
    runs[-1]["figures"] = "kernel=python startup=0.25"
    rows = {(r["model"], r["workers"]): r for r in summary.summarize(runs, [Study("s", "w", "cpu")])}
    python = rows[("py-threading", 2)]
    expect(python["baseline"] == "w-py-serial (P=1)" and python["baseline_lane"] == "Python",
           "py-threading's baseline is py-serial, the faster serial code: %s, %s"
           % (python["baseline"], python["baseline_lane"]))
    expect(near(python["speedup"], 0.5) and near(python["speedup_self"], 1.0), "py-threading: 3/6 and 6/6")
    expect(near(python["startup"], 0.25), "startup is the median of startup=: %s" % python["startup"])
    c_threads = rows[("threads", 2)]
    expect(c_threads["baseline"] == "w-serial (P=1)" and c_threads["baseline_lane"] == "C",
           "a C model is measured against C code only: %s" % c_threads["baseline"])
    runs = [row("serial", 1, 2.0), row("py-serial", 1, 3.0), row("py-threading", 1, 6.0)]
    python = next(r for r in summary.summarize(runs, [Study("s", "w", "cpu")]) if r["model"] == "py-threading")
    expect(python["baseline"] == "w-serial (P=1)" and python["baseline_lane"] == "C",
           "C serial is faster: the Python lane's baseline is C: %s" % python["baseline"])

    # A run inside one tick of a coarse clock says seconds=0: no speedup of it (there was a ZeroDivisionError,
    # make bench and make plot ended in a traceback with no summary.csv); the others' speedups stand.
    runs = [row("serial", 1, 0.0), row("serial", 1, 0.0), row("threads", 1, 2.0), row("threads", 2, 0.0),
            row("threads", 4, 1.0)]
    rows = {(r["model"], r["workers"]): r for r in summary.summarize(runs, [Study("s", "w", "cpu")])}
    expect(rows[("threads", 2)]["median"] == 0.0 and rows[("threads", 2)]["speedup_self"] is None
           and rows[("threads", 4)]["speedup"] is None and near(rows[("threads", 4)]["speedup_self"], 2.0),
           "runs of 0 seconds: %s" % rows)
    # One run has no spread: its IQR and CV are n/a, not 0 (which said its runs agree); two runs have them.
    threads = rows[("threads", 4)]
    expect(threads["runs"] == 1 and threads["iqr"] is None and threads["cv"] is None,
           "one run's spread: IQR %s, CV %s" % (threads["iqr"], threads["cv"]))
    expect(near(rows[("serial", 1)]["iqr"], 0.0) and near(rows[("serial", 1)]["cv"], 0.0),
           "two runs of 0 s: IQR and CV 0: %s" % rows[("serial", 1)])

    # Stopped while writing summary.csv (Ctrl-C on the second row): the last complete one stays, nothing aside.
    class Interrupting(dict):
        def get(self, *args):
            raise KeyboardInterrupt
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "summary.csv"
        summary.write_summary(path, list(rows.values()))
        before = path.read_text()
        try:
            summary.write_summary(path, [rows[("serial", 1)], Interrupting()])
        except KeyboardInterrupt:
            pass
        expect(path.read_text() == before and os.listdir(folder) == ["summary.csv"],
               "a summary.csv stopped while written: %s, the folder holds %s" % (
                   "intact" if path.read_text() == before else "cut short", os.listdir(folder)))


# ---- the shared layer: names, launch lines, result lines, the file server -------

def check_programs():
    """tools/harness/programs.py against what it promises, the Python lane's names included."""
    names = {"matmul-serial": ("matmul", "serial"), "download-async": ("download", "async"),
             "matmul-py-serial": ("matmul", "py-serial"), "download-py-mpi4py": ("download", "py-mpi4py"),
             "factorial-py-multiprocessing": ("factorial", "py-multiprocessing"),
             "fileserver": None, "lessons": None, "matmul-": None, "-serial": None, "matmul-py-": None,
             "matmul-serial.c": None, "matmul-Serial": None, "matmul-serial-old": None}
    for name, expected in names.items():
        got = programs.split_name(name)
        expect(got == expected, "split_name(%r) = %r, expected %r" % (name, got, expected))
    for model, mpi in (("mpi", True), ("py-mpi4py", True), ("serial", False), ("openmp", False),
                       ("py-serial", False), ("py-multiprocessing", False)):
        expect(programs.is_mpi(model) == mpi, "is_mpi(%r) should be %s" % (model, mpi))
    mpirun, exe = str(programs.MPIRUN), "bin/x"
    launches = ((("mpi", 4, False), [mpirun, "-np", "4", exe, "-n", "8"]),
                (("py-mpi4py", 2, False), [mpirun, "-np", "2", exe, "-n", "8"]),
                (("mpi", 4, True), [mpirun, "--cluster", "-np", "4", exe, "-n", "8"]),
                (("py-serial", 1, False), [exe, "-p", "1", "-n", "8"]),
                (("threads", 3, False), [exe, "-p", "3", "-n", "8"]))
    for (model, workers, cluster), expected in launches:
        got = programs.launch(exe, model, workers, ["-n", 8], cluster=cluster)
        expect(got == expected, "launch %s P=%d cluster=%s: %s, expected %s" % (model, workers, cluster, got, expected))
    try:
        programs.launch(exe, "threads", 2, [], cluster=True)
        expect(False, "a threads program was launched across a cluster")
    except ValueError:
        pass
    line = "workload=matmul model=py-serial n=8 seconds=0.5 note=a=b"
    pairs = programs.parse_result_line(line)
    expect(list(pairs) == ["workload", "model", "n", "seconds", "note"] and pairs["note"] == "a=b",
           "parse_result_line: %s" % pairs)
    expect(programs.parse_result_line("n=8 junk =x", strict=False) == {"n": "8"}, "lenient parse keeps n=8 alone")
    for bad in ("n=8 junk", "=x"):
        try:
            programs.parse_result_line(bad)
            expect(False, "strict parse accepted %r" % bad)
        except ValueError:
            pass
    expect(programs.parse_result_lines("a=1\n\nb=2\n") == [{"a": "1"}, {"b": "2"}], "blank lines are skipped")
    for model, python in (("py-serial", True), ("py-mpi4py", True), ("serial", False), ("mpi", False)):
        expect(programs.is_python(model) == python, "is_python(%r) should be %s" % (model, python))
    with tempfile.TemporaryDirectory() as folder:  # discovery takes the Python lane's names
        bin_dir = make_bin(folder, fakes=["matmul-py-serial", "download-py-mpi4py", "matmul-serial", "fileserver"],
                           real=())
        found = sorted((p.workload, p.model) for p in studies.discover(bin_dir))
        expect(found == [("download", "py-mpi4py"), ("matmul", "py-serial"), ("matmul", "serial")],
               "discovered %s" % found)
        found = [p.model for p in studies.discover(bin_dir, keep=lambda w, m: not programs.is_python(m))]
        expect(found == ["serial"], "PYTHON=0's discovery kept %s" % found)


def check_plan():
    """studies.plan: the Python lane sampled in quick, whole in the python preset or when
    MODELS names it, left out with python=False; its own sizes with the C code beside them."""
    def fake(name, max_workers=64):
        workload, model = programs.split_name(name)
        return studies.Program(Path("bin") / name, workload, model, {"max_workers": max_workers, "n_default": 10})
    every = [fake("factorial-" + m, 1 if m in ("serial", "gmp", "py-serial") else 64)
             for m in ("serial", "gmp", "threads", "openmp", "py-serial", "py-threading", "py-multiprocessing",
                       "py-futures", "py-ipyparallel")]
    every += [fake("download-" + m, 1 if m.endswith("serial") else 256)
              for m in ("serial", "threads", "py-serial", "py-threading", "py-multiprocessing")]
    every += [fake("matmul-" + m, 1 if m.endswith("serial") else 64)
              for m in ("serial", "blas", "threads", "py-serial", "py-threading")]

    def sweep(preset, **narrowing):
        points, sizes = studies.plan(every, preset, 2, **narrowing)
        return {(s.name, p.model, n, w) for s, p, n, w in points}, sizes

    quick, sizes = sweep("quick")
    python_lanes = {(s, m) for s, m, _, _ in quick if programs.is_python(m)}
    expect(python_lanes == {(s, m) for s, models in studies.PYTHON_SAMPLE.items() for m in models},
           "quick runs the sample, and only it: %s" % sorted(python_lanes))
    expect(("download", "py-threading", 16, 16) in quick and ("download", "threads", 16, 16) in quick,
           "quick: py-threading on download far past the cores, and C threads beside it")
    expect({w for s, m, _, w in quick if (s, m) == ("factorial-many", "py-multiprocessing")}
           == {w for s, m, _, w in quick if (s, m) == ("factorial-many", "threads")} == {1, 2, 4},
           "quick: py-multiprocessing on CPU-bound work on the C lanes' workers, past the 2 cores")
    expect(sizes["factorial-many"] == {"C": [3000], "Python": [3000]}, "quick's sizes: %s" % sizes)
    without, sizes = sweep("quick", python=False)
    expect(not any(programs.is_python(m) for _, m, _, _ in without), "PYTHON=0 left a Python lane in")
    expect(without == {c for c in quick if not programs.is_python(c[1]) and c[3] != 16}, "PYTHON=0 changed the C sweep")
    expect(all("Python" not in lanes for lanes in sizes.values()), "PYTHON=0's sizes name Python: %s" % sizes)

    named, _ = sweep("quick", models=["py-futures", "threads"])
    expect({m for _, m, _, _ in named} == {"py-futures", "threads"}, "MODELS narrows: %s" % named)
    expect(("factorial-big", "py-futures", 100000, 2) in named and ("factorial-big", "threads", 100000, 2) in named,
           "MODELS=py-futures runs it on every study, at the Python size, threads beside it")

    whole, sizes = sweep(studies.PYTHON_PRESET)
    expect(not any(m == "openmp" for _, m, _, _ in whole), "the python preset ran a C model that is no companion")
    expect({m for s, m, _, _ in whole if s == "factorial-big" and programs.is_python(m)}
           == {"py-serial", "py-threading", "py-multiprocessing", "py-futures"},
           "the python preset: every Python lane (ipyparallel: factorial-many only)")
    expect(("factorial-many", "py-ipyparallel", 3000, 4) in whole, "py-ipyparallel runs factorial-many")
    for model, workers in (("serial", 1), ("gmp", 1), ("threads", 3)):
        expect(("factorial-big", model, 100000, workers) in whole, "%s runs beside the Python lanes at their n" % model)
    expect(("factorial-big", "gmp", 100000, 2) not in whole, "a baseline runs at one worker only")
    expect(sizes["factorial-big"] == {"Python": [100000]}, "the python preset's sizes: %s" % sizes)
    full, sizes = sweep("full")
    expect(sizes["factorial-big"] == {"C": [1000000, 4000000], "Python": [300000]}
           and ("factorial-big", "gmp", 300000, 1) in full and ("factorial-big", "gmp", 1000000, 1) in full,
           "full: the Python lanes' own n, the C serial code at both: %s" % sizes)

    # WORKERS= past a parallel program's limit leaves it out, as SIZES= out of its range does; a
    # serial program runs at its one worker, the speedups' baseline.
    few = [fake("matmul-serial", 1), fake("matmul-threads", 64)]
    points, _ = studies.plan(few, "quick", 2, models=["threads"], workers=[2000])
    expect(not points, "WORKERS=2000 MODELS=threads (64 at most) ran %s" % [(p.model, w) for _, p, _, w in points])
    points, _ = studies.plan(few, "quick", 2, workers=[2, 2000])
    expect(sorted((p.model, w) for _, p, _, w in points) == [("serial", 1), ("threads", 2)],
           "WORKERS=2,2000: %s" % sorted((p.model, w) for _, p, _, w in points))

    mpi = [fake(w + "-" + m) for w in ("matmul", "factorial") for m in ("mpi", "py-mpi4py")]
    points, _ = studies.cluster_plan(every + mpi, "quick", 2, 2, ["unshaped", "1gbit"], workloads=["matmul"])
    across = {(p.model, w, link) for _, p, _, w, link in points}
    expect({m for m, _, _ in across} == {"mpi", "py-mpi4py", "serial", "blas"},
           "CLUSTER=2: the MPI lanes and the serial code, nothing else: %s" % sorted(across))
    expect({(w, link) for m, w, link in across if m == "mpi"}
           == {(1, ""), (2, ""), (4, ""), (2, "unshaped"), (4, "unshaped"), (2, "1gbit"), (4, "1gbit")},
           "CLUSTER=2: 1, 2 and 4 ranks on this machine, 2 and 4 on each link: %s" % sorted(across))
    expect(all(link == "" and w == 1 for m, w, link in across if m in ("serial", "blas")),
           "CLUSTER=2: the serial code once, on this machine")
    points, _ = studies.cluster_plan(every + mpi, "quick", 2, 2, ["1gbit"], workloads=["matmul"], python=False)
    expect(not any(programs.is_python(p.model) for _, p, _, _, _ in points), "CLUSTER=2 PYTHON=0 ran py-mpi4py")
    for text, wrong in (("9", clusters.parse_hosts), ("two", clusters.parse_hosts), ("fast", clusters.parse_rates),
                        ("100", clusters.parse_rates)):
        try:
            wrong(text)
            expect(False, "%s('%s') was taken" % (wrong.__name__, text))
        except clusters.ClusterError:
            pass
    expect(clusters.parse_rates("") == ["unshaped"] and clusters.parse_rates("1gbit,unshaped,1gbit")
           == ["1gbit", "unshaped"], "RATE= read as a list of links")


def check_fileserver():
    """The fixture: a real bin/fileserver serves the made-up files; a program that is not one is refused."""
    with programs.FileServer(["--quiet"]) as server:
        expect(server.port > 0 and server.address == "127.0.0.1:%d" % server.port, "address %s" % server.address)
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # not through http_proxy's proxy
        with direct.open(server.url("/files/fixture.bin?size=1000"), timeout=10) as response:
            body, checksum = response.read(), response.headers["X-Checksum-CRC32C"]
        expect(body == made_up("fixture.bin", 1000), "the fixture's server sent other bytes than content.py's")
        expect(checksum == "%08x" % crc32c(body), "checksum %s, content.py says %08x" % (checksum, crc32c(body)))
    status, killed = server.stop()
    expect(status == 0 and not killed, "SIGTERM: exit status %s, killed %s" % (status, killed))
    not_servers = ((shutil.which("echo"), "'--port 0\\n', not port=NNNN"), ("/nonexistent/fileserver", "not built"))
    for binary, said in not_servers:
        try:
            programs.FileServer(binary=binary)
            expect(False, "%s was taken for a file server" % binary)
        except programs.FileServerError as e:
            expect(said in str(e), "the error does not say %r: %s" % (said, e))


# ---- sweeps through tools/bench.py ---------------------------------------------

def make_bin(folder, fakes=(), real=("matmul-serial", "matmul-threads")):
    """A bin/ with links to real programs and to the fake under other names."""
    bin_dir = Path(folder) / "bin"
    bin_dir.mkdir()
    for name in real:
        expect((ROOT / "bin" / name).exists(), "bin/%s is not built" % name)
        (bin_dir / name).symlink_to(ROOT / "bin" / name)
    for name in fakes:
        (bin_dir / name).symlink_to(FAKE)
    return bin_dir


def bench(bin_dir, results, extra, wait=True, env=None):
    """tools/bench.py on a small matmul sweep; the Popen when wait is False."""
    argv = [sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir), "--results", str(results),
            "--workloads", "matmul", "--sizes", "32", "--seed", "7"] + extra
    if not wait:
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    return out


def runs_of(results):
    with open(Path(results) / "latest" / "runs.csv", newline="") as f:
        return list(csv.DictReader(f))


def check_runner():
    """runner.run: exit codes, output and signals as the run gave them; at its time limit its whole
    process group is killed; a Ctrl-C at any moment of a run (around fork() too) takes the run
    down and is raised as KeyboardInterrupt, not held until the run would have ended."""
    done = runner.run(["sh", "-c", "echo out; echo err >&2; exit 3"], 10)
    expect((done.exit_code, done.stdout, done.stderr, done.timed_out) == (3, "out\n", "err\n", False),
           "exit 3 with output: %s" % vars(done))
    done = runner.run(["sh", "-c", "kill -TERM $$"], 10)
    expect(done.exit_code == -signal.SIGTERM, "killed by SIGTERM: exit %s" % done.exit_code)
    done = runner.run([str(HERE / "no-such-program")], 10)
    expect(done.exit_code == 127 and "cannot run" in done.stderr, "a missing program: %s" % vars(done))
    marker = "%d.%d" % (os.getpid(), 101)  # a sleep of its own, to look for afterwards
    done = runner.run(["sh", "-c", "sleep %s & sleep %s" % (marker, marker)], 0.5)
    expect(done.exit_code == runner.EXIT_TIMEOUT and done.timed_out and done.wall < 5,
           "at its time limit: exit %s after %.1f s" % (done.exit_code, done.wall))
    expect(not left_running(marker), "the timed-out run's group is still running")
    # SIGTERM first, then SIGKILL for what ignores it (ignored signals stay ignored across exec).
    done = runner.run(["sh", "-c", "trap '' TERM; sleep %s & sleep %s" % (marker, marker)], 0.5)
    expect(done.timed_out and runner.TERM_GRACE <= done.wall < runner.TERM_GRACE + 5,
           "a run that ignores SIGTERM, at its time limit: %s after %.1f s" % (done.exit_code, done.wall))
    expect(not left_running(marker), "the timed-out run that ignores SIGTERM is still running")
    # Ctrl-C from another process, after delays that sweep over fork(), exec and the wait. A run
    # that sleeps through it ends only at its time limit, which fails the check (bounds generous
    # for a loaded machine: a Ctrl-C held back waits for the whole run, far longer). The killer
    # waits for its stdin to close, inside the try: started bare, its delay could run out while
    # starting it was still returning (a busy host's delay), and its Ctrl-C hit the check itself.
    signal.signal(signal.SIGINT, signal.default_int_handler)  # started in the background, the check ignores it
    for attempt in range(40):
        delay = attempt * 0.0005
        killer = subprocess.Popen(["sh", "-c", "read go; sleep %s; kill -INT %d" % (delay, os.getpid())],
                                  stdin=subprocess.PIPE)
        started = time.monotonic()
        try:
            killer.stdin.close()
            while time.monotonic() - started < CTRL_C_WITHIN:
                done = runner.run(["sleep", marker], CTRL_C_WITHIN)
                expect(not done.timed_out, "a Ctrl-C after %.4f s was held back until the run's time limit" % delay)
            raise CheckFailed("a Ctrl-C after %.4f s was not raised within %d s" % (delay, CTRL_C_WITHIN))
        except KeyboardInterrupt:
            pass
        finally:
            killer.wait()
        expect(not left_running(marker), "a Ctrl-C after %.4f s left its run going" % delay)


def check_runner_mpi():
    """An MPI run stopped at its time limit leaves nothing: runner.run's SIGTERM lets mpirun end
    its ranks and remove its session folder and shared-memory files (SIGKILL left them in /tmp
    and /dev/shm). Open MPI is told to keep both in a folder of this check's, to look in."""
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, OMPI_MCA_orte_tmpdir_base=folder, OMPI_MCA_btl_vader_backing_directory=folder)
        marker = "%d" % (200000 + os.getpid() % 100000)  # an n of its own: minutes of work, found by it
        argv = [str(ROOT / "tools" / "mpirun"), "-np", "2", str(ROOT / "bin" / "factorial-mpi"), "--mode", "many",
                "-n", marker]
        done = runner.run(argv, MPI_UP_WITHIN, env=env)
        expect(done.timed_out, "the MPI run was not stopped at its time limit: exit %s, %s"
               % (done.exit_code, done.stderr.strip()))
        made = [str(Path(top, name)) for top, dirs, files in os.walk(folder) for name in dirs + files]
        expect(not left_running(marker), "the timed-out MPI run left a process running")
        expect(not made, "the timed-out MPI run left Open MPI's files: %s" % ", ".join(made[:5]))


def left_running(marker):
    """Whether a process whose command line holds marker is still running once LEFTOVER_GRACE has passed,
    as the suite allows every case's processes: a process just killed can take a moment to end (its
    memory torn down), and read from /proc then it still looks as it did; a zombie holds nothing."""
    deadline = time.monotonic() + LEFTOVER_GRACE
    while True:
        running = [pid for pid in (int(entry) for entry in os.listdir("/proc") if entry.isdigit())
                   if marker in command_line(pid) and process_state(pid) not in ("Z", "X", "")]
        if not running or time.monotonic() > deadline:
            return bool(running)
        time.sleep(0.05)


def process_state(pid):
    """A process's state letter from /proc (R, S, Z, ...); "" once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return ""


def check_sweep():
    """configurations x (repeats + 1 warm-up) rows, and every output file; a WORKERS= count or a
    SIZES= size past a program's limits said, and left out (the program would refuse it); run as a
    batch job (PBS's, which changes nothing else), report.md names the job; it gives meta.json's page faults."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder)
        results = Path(folder) / "results"
        out = bench(bin_dir, results, ["--workers", "1,2,5000", "--repeats", "3", "--sizes", "32,40000"],
                    env=dict(os.environ, PBS_JOBID="4242.pbs-server"))
        expect(out.returncode == 0, "bench failed: %s" % out.stderr[-2000:])
        runs = runs_of(results)
        configs = 1 + 2  # serial at P=1, threads at P=1 and 2 (5000 is past its limit, 1024)
        past = "WORKERS=1,2,5000: matmul-threads takes at most 1024 workers, so 5000 left out"
        expect(past in out.stderr, "no warning that 5000 workers were left out: %s" % out.stderr[-2000:])
        for name in ("matmul-serial", "matmul-threads"):  # n = 40000 is past matmul's 32768
            expect("SIZES=32,40000: %s takes -n from 1 to 32768, so 40000 left out" % name in out.stderr,
                   "no warning that %s left n = 40000 out: %s" % (name, out.stderr[-2000:]))
        timed = [r for r in runs if r["warmup"] == "0"]
        expect(len(timed) == configs * 3, "%d timed rows, expected %d" % (len(timed), configs * 3))
        expect(len(runs) - len(timed) == configs, "%d warm-up rows, expected %d" % (len(runs) - len(timed), configs))
        expect(all(r["exit"] == "0" and r["verified"] == "yes" for r in runs), "every run verified")
        latest = results / "latest"
        with open(latest / "summary.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        expect(len(rows) == configs, "summary has %d rows, expected %d" % (len(rows), configs))
        meta = json.loads((latest / "meta.json").read_text())
        for key in ("preset", "seed", "machine", "repeats", "warnings", "clock_tick"):
            expect(key in meta, "meta.json lacks %s" % key)
        expect(past in meta["warnings"], "meta.json's warnings lack the workers left out: %s" % meta["warnings"])
        for key in ("host", "cpu_model", "usable_cores", "governor", "load_before", "load_after", "git_commit",
                    "environment", "mpi", "openmp_version", "page_faults"):
            expect(key in meta["machine"], "meta.json's machine lacks %s" % key)
        if shutil.which("gnuplot"):
            pngs = list((latest / "plots").glob("*.png"))
            expect(len(pngs) >= 2 and all(p.stat().st_size > 1000 for p in pngs), "gnuplot PNGs missing or empty")
            scripts = list((latest / "plots").glob("*.gp"))
            expect(scripts and all("set xtics (1, 2)\n" in p.read_text() for p in scripts),
                   "a plot's x axis is not ticked at the workers that ran (1, 2) alone")
            expect("speedup against" in out.stdout, "no terminal plot on stdout")
        else:  # no plot drawn, and said
            expect("gnuplot not found" in out.stderr, "no gnuplot here, and make bench did not say so")
        report = (latest / "report.md").read_text()
        expect("Run as batch job PBS_JOBID=4242.pbs-server." in report, "report.md does not name the batch job")
        faults = machine.page_faults_said(meta["machine"]["page_faults"])
        expect(not faults or "Page faults: %s (" % faults[0] in report, "report.md does not give meta.json's page "
               "faults (%s): %s" % (faults, report[:800]))
        # Every count in WORKERS= past the only program's limit: said, as for SIZES=, and nothing runs.
        out = bench(bin_dir, results, ["--models", "threads", "--workers", "2000"])
        expect(out.returncode == 1 and "matmul-threads takes at most 1024 workers, so 2000 left out" in out.stderr
               and "leave nothing to run" in out.stderr, "MODELS=threads WORKERS=2000: exit %d, %r"
               % (out.returncode, out.stderr[-600:]))
        # make plot passes RESULTS= whole to the harness: a space and a quote in it too.
        spaced = Path(folder) / "my sweep's copy"
        shutil.copytree(latest, spaced)
        made = subprocess.run(["make", "--no-print-directory", "plot", "RESULTS=%s" % spaced], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        expect(made.returncode == 0 and "redrawn: %s/report.md" % spaced in made.stderr,
               "make plot RESULTS=%r: exit %d, %r" % (str(spaced), made.returncode, made.stderr[-600:]))


def check_failing():
    """A variant that fails is recorded with its exit code, not dropped, and said with its message. A program
    of a workload WORKLOADS= leaves out is not asked to describe itself (a Python one's answer costs seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, fakes=["matmul-broken", "download-sleepy"], real=["matmul-serial"])
        results, asked = Path(folder) / "results", Path(folder) / "asked"
        out = bench(bin_dir, results, ["--workers", "1", "--repeats", "2"], env=dict(os.environ, FAKE_ASKED=str(asked)))
        expect(out.returncode == 0, "bench failed: %s" % out.stderr[-2000:])
        expect(asked.read_text().split() == ["matmul-broken"], "WORKLOADS=matmul asked --describe of: %s"
               % (asked.read_text().split() if asked.exists() else "none (the fake matmul-broken was not asked)"))
        broken = [r for r in runs_of(results) if r["model"] == "broken"]
        expect(len(broken) == 3, "%d rows for the failing variant, expected 3" % len(broken))
        expect(all(r["exit"] == "1" and r["verified"] == "no" for r in broken), "failing rows keep exit 1")
        # its line says why, not the frame around it
        expect("failed (exit 1): matmul-broken: this variant always fails" in out.stderr,
               "the failure is not said with the program's message:\n%s" % out.stderr[-1000:])
        with open(results / "latest" / "summary.csv", newline="") as f:
            row = next(r for r in csv.DictReader(f) if r["model"] == "broken")
        expect(row["runs"] == "0" and row["failed"] == "2" and row["speedup"] == "n/a",
               "failed runs are excluded from speedups: %s" % row)


def check_no_baseline():
    """The serial code failing every run (as at a size past the time limit, which the slowest lane meets
    first) leaves the speedups unmeasured: the plots leave those points out and their titles say why,
    where gnuplot and matplotlib had drawn every model flat at a speedup of 0."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, fakes=["matmul-serial"], real=["matmul-threads"])
        results = Path(folder) / "results"
        out = bench(bin_dir, results, ["--workers", "1,2", "--repeats", "1"],
                    env=dict(os.environ, FAKE_BROKEN="1", GNUPLOT=shutil.which("gnuplot") or ""))
        expect(out.returncode == 0, "bench failed: %s" % out.stderr[-2000:])
        latest = results / "latest"
        rows = summary.read_summary(latest / "summary.csv")
        expect(all(r["speedup"] is None for r in rows) and any(r["speedup_self"] for r in rows),
               "the failing serial code left a speedup: %s" % rows)
        if shutil.which("gnuplot"):
            data = [line.split() for line in (latest / "plots" / "matmul-n32.dat").read_text().splitlines()
                    if line and not line.startswith("#")]
            expect(data and all(fields[1:] == ["NaN"] * 4 for fields in data),
                   "gnuplot's data draws speedups no run measured: %s" % data)
            script = (latest / "plots" / "matmul-n32.gp").read_text()
            expect("no serial code ran to a verified result" in script,
                   "the gnuplot titles do not say why there is no speedup")
        try:
            import matplotlib.axes
            from harness import figures
        except ImportError:
            return  # no matplotlib here: its figures are not drawn
        drawn = []
        errorbar = matplotlib.axes.Axes.errorbar

        def recording(axis, x, y, *args, **kwargs):
            drawn.append((kwargs.get("label"), list(y)))
            return errorbar(axis, x, y, *args, **kwargs)
        matplotlib.axes.Axes.errorbar = recording
        chosen = figures.largest_sizes(figures.lane_groups(figures.plot_groups(rows), python=False))
        with warnings.catch_warnings():  # matplotlib's "All-NaN axis" for error bars of no points
            warnings.simplefilter("ignore", RuntimeWarning)
            figures.speedup_panels(chosen, {"matmul": "cpu"}, 2, Path(folder) / "report.png")
        expect(drawn and all(value != value for _, ys in drawn for value in ys),  # NaN: not drawn
               "report.png draws speedups no run measured: %s" % drawn)


def check_coarse_timer():
    """Runs under 1000 ticks of their program's clock are warned of, in meta.json and report.md, by the
    sweep and again by make plot, which has no programs to ask (it had dropped the warning from both)."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, fakes=["matmul-sleepy"], real=[])
        results = Path(folder) / "results"
        # the fake's clock ticks 1e-08 s: its runs of 1e-06 s last 100 ticks
        out = bench(bin_dir, results, ["--workers", "1", "--repeats", "1"], env=dict(os.environ, FAKE_SLEEP="0.000001"))
        expect(out.returncode == 0, "bench failed: %s" % out.stderr[-2000:])
        latest = results / "latest"
        warned = "matmul sleepy: some runs last under 1000 clock ticks"
        for stage in ("the sweep", "make plot"):
            meta = json.loads((latest / "meta.json").read_text())
            expect(any(w.startswith(warned) for w in meta["warnings"]) and warned in (latest / "report.md").read_text(),
                   "after %s, no warning of runs under 1000 clock ticks: %s" % (stage, meta["warnings"]))
            redraw = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--plot", str(latest)],
                                    capture_output=True, text=True, timeout=300)
            expect(redraw.returncode == 0, "make plot failed: %s" % redraw.stderr[-1500:])


def check_many_cores():
    """matplotlib's figures of a sweep on far fewer workers than the usable cores (the quick preset's 1, 2
    and 4 on a node of 64): the x axis spans the workers that ran and its label names the cores, where a
    line at 64 stretched it so that every run was squeezed against its left edge."""
    try:
        from harness import figures
    except ImportError:
        return  # no matplotlib here: its figures are not drawn

    def row(model, workers, seconds):
        return run_row(model, workers, seconds, figures="gflops=%g" % (1 / seconds))
    runs = [row("serial", 1, 4.0), row("threads", 1, 4.0), row("threads", 2, 2.0), row("threads", 4, 1.0)]
    with tempfile.TemporaryDirectory() as folder:
        summary.write_summary(Path(folder) / "summary.csv", summary.summarize(runs, [studies.STUDIES[0]]))
        rows = summary.read_summary(Path(folder) / "summary.csv")
        groups = figures.lane_groups(figures.plot_groups(rows), python=False)
        chosen = figures.largest_sizes(groups)
        with kept_figures() as drawn:
            figures.speedup_panels(chosen, {"matmul": "cpu"}, 64, Path(folder) / "report.png")
            figures.cpu_versus_io(chosen, {"matmul": "cpu"}, 64, Path(folder) / "cpu-vs-io.png")
            figures.matmul_gflops(groups, 64, Path(folder) / "matmul-gflops.png", {}, {})
        for figure in drawn:
            axis = figure.axes[0]
            expect(axis.get_xlim()[1] < 8 and "usable cores: 64" in axis.get_xlabel(),
                   "%s: x axis to %g, labelled %r, for workers 1 to 4 of 64 usable cores"
                   % (axis.get_title(), axis.get_xlim()[1], axis.get_xlabel()))


def check_no_one_worker():
    """A sweep with no run at one worker but the serial code's (WORKERS=2,4, as an engineer skips the small
    counts on a big node) has no self speedup: the figures of them (the GIL figure, cpu-vs-io.png) are not
    drawn, and report.md says why, where they were drawn empty under a key naming five lines not there.
    Nor is the GIL figure where its Python lanes failed every run, and report.md says why."""
    from harness import gnuplot

    def row(study, model, workers, seconds):
        return run_row(model, workers, seconds, study=study, n=16)
    chosen = [s for s in studies.STUDIES if s.name in ("factorial-many", "download")]
    kinds = {s.name: s.kind for s in chosen}
    lanes = [("factorial-many", "threads"), ("factorial-many", "py-threading"),
             ("factorial-many", "py-multiprocessing"), ("download", "threads"), ("download", "py-threading")]
    runs = [row(study, "serial", 1, 4.0) for study in kinds] + [
        row(study, model, p, 4.0 / p) for study, model in lanes for p in (2, 4)]
    with tempfile.TemporaryDirectory() as folder:
        summary.write_summary(Path(folder) / "summary.csv", summary.summarize(runs, chosen))
        rows = summary.read_summary(Path(folder) / "summary.csv")
        lines = gnuplot.gil_lines(rows, kinds)
        expect(not lines, "the GIL figure drawn with lines of no self speedup: %s" % [line["label"] for line in lines])
        said = gnuplot.unmeasured(rows, kinds)
        expect(len(said) == 2 and all("at one worker" in reason for reason in said),
               "report.md does not say why gil.png and cpu-vs-io.png are not drawn: %s" % said)
        try:
            from harness import figures
        except ImportError:
            figures = None  # no matplotlib here: its figures are not drawn
        if figures:
            chosen_sizes = figures.largest_sizes(figures.lane_groups(figures.plot_groups(rows), python=False))
            out = Path(folder) / "cpu-vs-io.png"
            expect(not figures.cpu_versus_io(chosen_sizes, kinds, 2, out) and not out.exists(),
                   "cpu-vs-io.png drawn with no self speedup to draw")
        # WORKERS=1: one point a lane, no line of self speedups either: not drawn, and said
        alone = summary.summarize([r for r in runs if r["workers"] == "1"]
                                  + [row(study, model, 1, 4.0) for study, model in lanes], chosen)
        summary.write_summary(Path(folder) / "summary.csv", alone)
        said = gnuplot.unmeasured(summary.read_summary(Path(folder) / "summary.csv"), kinds)
        expect(len(said) == 2, "WORKERS=1: gil.png and cpu-vs-io.png left out without a word: %s" % said)
        # with the runs at one worker, both are drawn, and nothing is said; with the Python lanes failing
        # every run (a package missing), the GIL figure is not drawn, and that is said
        runs += [row(study, model, 1, 4.0) for study, model in lanes]
        failing = [dict(r, exit="1", verified="no") if r["model"].startswith("py-") else r for r in runs]
        summary.write_summary(Path(folder) / "summary.csv", summary.summarize(failing, chosen))
        rows = summary.read_summary(Path(folder) / "summary.csv")
        said = gnuplot.unmeasured(rows, kinds)
        expect(not gnuplot.gil_lines(rows, kinds) and len(said) == 1 and said[0].startswith("gil.png"),
               "the Python lanes failing every run: the GIL figure left out without a word: %s" % said)
        summary.write_summary(Path(folder) / "summary.csv", summary.summarize(runs, chosen))
        rows = summary.read_summary(Path(folder) / "summary.csv")
        expect(len(gnuplot.gil_lines(rows, kinds)) == 5 and not gnuplot.unmeasured(rows, kinds),
               "with runs at one worker: %d GIL lines, said %s" % (len(gnuplot.gil_lines(rows, kinds)),
                                                                  gnuplot.unmeasured(rows, kinds)))


def check_amdahl_curves():
    """report.png (matplotlib) draws each model's fitted Amdahl curve and names its serial fraction in the key,
    as gnuplot's speedup plots do: it drew neither, so a machine without gnuplot (a login node before
    module load gnuplot) had no Amdahl curve to read, and the two plotters told different stories."""
    try:
        from harness import figures
    except ImportError:
        return  # no matplotlib here: its figures are not drawn
    from harness import gnuplot

    runs = [run_row("serial", 1, 4.0), run_row("threads", 1, 4.0), run_row("threads", 2, 2.5),
            run_row("threads", 4, 1.75)]
    with tempfile.TemporaryDirectory() as folder:
        summary.write_summary(Path(folder) / "summary.csv", summary.summarize(runs, [studies.STUDIES[0]]))
        rows = summary.read_summary(Path(folder) / "summary.csv")
        chosen = figures.largest_sizes(figures.lane_groups(figures.plot_groups(rows), python=False))
        threads = chosen["matmul"][1]["threads"]
        fraction = threads[0]["amdahl_serial_fraction"]
        script = gnuplot.speedup_plot("d.dat", chosen["matmul"][1], "matmul", 64, "cpu", 4, "matmul-serial (P=1)",
                                      "set terminal pngcairo")
        title = "threads (Amdahl fit: serial fraction %.2f)" % fraction
        expect("title '%s'" % title in script, "gnuplot's key lacks %r:\n%s" % (title, script))
        with kept_figures() as drawn:
            figures.speedup_panels(chosen, {"matmul": "cpu"}, 4, Path(folder) / "report.png")
        axis = drawn[0].axes[0]
        labels = [text.get_text() for text in axis.get_legend().get_texts()]
        want = 1 / (fraction + (1 - fraction) / 4)   # the fit at P = 4 (threads is as fast as serial at one)
        curves = [line for line in axis.get_lines() if line.get_linestyle() == "--" and line.get_label().startswith("_")
                  and abs(line.get_ydata()[-1] - want) < 1e-6]
        expect(title in labels and curves, "report.png: key %s, a dashed fitted curve reaching %.3f at P = 4: %s"
               % (labels, want, "drawn" if curves else "none"))


def check_quota_peak():
    """matmul-gflops.png's peak line under a cgroup quota of 1.5 CPUs (docker --cpus 1.5): 2 usable
    cores, but 2 workers get 1.5 CPUs' time, so the physical limit at P = 2 is 1.5 cores' peak, where
    the line said 2 and every lane looked a quarter short of a limit it could not reach."""
    try:
        import matplotlib.pyplot as plt
        from harness import figures
    except ImportError:
        return  # no matplotlib here: its figures are not drawn
    figure, axis = plt.subplots()
    try:
        for quota, want in (("1.5", [100.0, 150.0, 150.0]), ("max", [100.0, 200.0, 200.0]),
                            ("4", [100.0, 200.0, 200.0])):
            axis.clear()
            figures.peak_line(axis, {"peak_gflops_per_core": "100"}, 2, [1, 2, 4], quota)
            drawn = list(axis.get_lines()[0].get_ydata())
            expect(drawn == want, "peak line under cgroup_cpu_quota %s on 2 usable cores: %s GFLOP/s at P = 1, 2, "
                   "4, expected %s" % (quota, drawn, want))
    finally:
        plt.close(figure)


def check_cores_shading():
    """gnuplot's plots shade the workers past the usable cores, and say so, only where a run had more
    workers than the cores: on a 4-core laptop the quick preset's 1, 2 and 4 workers got a sliver at
    the axis's right end, beside no run, its words running off the plot."""
    from harness import gnuplot
    rows = [{"workers": p, "speedup": 1.0, "baseline_median": 1.0, "efficiency": 1.0 / p, "speedup_self": 1.0,
             "ci_low": None, "ci_high": None, "amdahl_serial_fraction": None, "baseline": "matmul-serial (P=1)"}
            for p in (1, 2, 4)]
    models = {"threads": rows}
    for usable, shaded in ((4, False), (64, False), (2, True)):
        scripts = [gnuplot.speedup_plot("d.dat", models, "matmul", 64, "cpu", usable, "matmul-serial (P=1)",
                                        "set terminal pngcairo"),
                   gnuplot.efficiency_plot("d.dat", models, "matmul", 64, "cpu", usable, "matmul-serial (P=1)",
                                           "set terminal pngcairo"),
                   gnuplot.speedup_plot("d.dat", models, "matmul", 64, "cpu", usable, "matmul-serial (P=1)",
                                        "set terminal dumb")]
        for script in scripts:
            expect(("set object 1 rect" in script or "set arrow 1" in script) == shaded,
                   "workers 1, 2, 4 on %d usable cores: %s" % (usable, "not shaded past them" if shaded
                                                               else "shaded past them, beside no run"))
        expect(("more workers than usable cores (2)" in scripts[0]) == shaded, "the shading's words")


# What a gnuplot built without cairo says of every plot script (its first line sets the terminal).
NO_PNGCAIRO = "line 1: unknown or ambiguous terminal type; type just 'set terminal' for a list"


def check_log_axis():
    """The download study's axis of workers, log2 (1, 2, 4, 16 equally spaced by doublings), says it is a log
    scale in every plot that draws it, gnuplot's and matplotlib's: the speedup, efficiency and Python plots
    and report.png said "workers" alone, so a reader took 4 to 16 for a step like 2 to 4; a CPU-bound study's
    linear axis does not."""
    from harness import gnuplot
    rows = [{"workers": p, "speedup": float(p), "baseline_median": 1.0, "efficiency": 1.0, "speedup_self": float(p),
             "ci_low": None, "ci_high": None, "amdahl_serial_fraction": None, "baseline": "download-serial (P=1)",
             "baseline_lane": "C", "median": 1.0 / p} for p in (1, 2, 4, 16)]
    for kind in ("io", "cpu"):
        scripts = {"speedup": gnuplot.speedup_plot("d.dat", {"threads": rows}, "download", 16, kind, 2,
                                                   "download-serial (P=1)", "set terminal pngcairo"),
                   "efficiency": gnuplot.efficiency_plot("d.dat", {"threads": rows}, "download", 16, kind, 2,
                                                         "download-serial (P=1)", "set terminal pngcairo"),
                   "Python": gnuplot.python_plot("d.dat", {"py-threading": rows}, "download", 16, kind, 2, "", "p.png")}
        for name, script in scripts.items():
            label = re.search(r'(?m)^set xlabel "(.*)"$', script).group(1)
            expect(("log scale" in label) == (kind == "io"), "gnuplot's %s plot of a %s-bound study: x axis %r"
                   % (name, "I/O" if kind == "io" else "CPU", label))
    try:
        from harness import figures
    except ImportError:
        return  # no matplotlib here: its figures are not drawn
    with kept_figures() as drawn:
        with tempfile.TemporaryDirectory() as folder:
            figures.speedup_panels({"download": (16, {"threads": rows})}, {"download": "io"}, 2,
                                   Path(folder) / "report.png")
            figures.python_panels("download", 16, {"py-threading": rows}, "io", 2, "", Path(folder) / "p.png")
    labels = [axis.get_xlabel() for figure in drawn for axis in figure.axes if axis.get_xlabel()]
    expect(len(labels) == 3 and all("log scale" in label for label in labels),
           "report.png and python-download.png: x axes %s" % labels)


def check_python_no_baseline():
    """The Python plots of a sweep where no serial code ran (make bench MODELS=py-threading: the C serial code
    and py-serial left out) say why their left panel has no speedup, as the C plots do: gnuplot's said
    "speedup against n/a (no serial code ran at this size): the best serial code", matplotlib's "speedup
    against n/a (the best serial code)"."""
    from harness import gnuplot
    rows = [{"workers": p, "speedup": None, "baseline_median": None, "efficiency": None, "speedup_self": float(p),
             "ci_low": None, "ci_high": None, "amdahl_serial_fraction": None, "baseline": "n/a",
             "baseline_lane": "n/a", "median": 1.0 / p} for p in (1, 2)]
    script = gnuplot.python_plot("d.dat", {"py-threading": rows}, "matmul", 64, "cpu", 2, "", "p.png")
    expect(gnuplot.NO_BASELINE in script and "against n/a" not in script,
           "gnuplot's Python plot with no serial code run does not say so:\n%s" % script)
    try:
        from harness import figures
    except ImportError:
        return  # no matplotlib here: its figures are not drawn
    with kept_figures() as drawn:
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a log axis with no point on it
            figures.python_panels("matmul", 64, {"py-threading": rows}, "cpu", 2, "", Path(folder) / "p.png")
    title = drawn[0].axes[0].get_title().replace("\n", " ")
    expect(title == gnuplot.NO_BASELINE, "python-matmul.png's left panel: %r" % title)


def check_python_no_self():
    """The Python plots of a sweep with no run at one worker (WORKERS=2,4) say why their panel of self speedups
    is empty, in gnuplot's and matplotlib's title; it was titled as if it held lines. With a run at one worker,
    the title is the plain one."""
    from harness import gnuplot

    def rows(one):
        return [{"workers": p, "speedup": 1.0, "baseline_median": 1.0, "efficiency": 1.0 / p,
                 "speedup_self": float(p) if one else None, "ci_low": None, "ci_high": None,
                 "amdahl_serial_fraction": None, "baseline": "matmul-serial (P=1)", "baseline_lane": "C",
                 "median": 1.0} for p in ((1, 2, 4) if one else (2, 4))]
    said = "speedup over the same model at one worker: none, no run at one worker to a verified result"
    for one in (False, True):
        script = gnuplot.python_plot("d.dat", {"py-threading": rows(one)}, "matmul", 64, "cpu", 2, "", "p.png")
        expect((said in script) != one, "gnuplot's Python plot, %s run at one worker: %s"
               % ("a" if one else "no", re.findall(r"(?m)^set title .*$", script)))
    try:
        from harness import figures
    except ImportError:
        return  # no matplotlib here: its figures are not drawn
    with kept_figures() as drawn:
        with tempfile.TemporaryDirectory() as folder:
            figures.python_panels("matmul", 64, {"py-threading": rows(False)}, "cpu", 2, "", Path(folder) / "p.png")
    title = drawn[0].axes[1].get_title().replace("\n", " ")
    expect(title == said, "python-matmul.png's self-speedup panel with no run at one worker: %r" % title)


def check_python_targets():
    """make bench-python's verdicts: a target missed with the workers' start and end, but met without them
    (Pool.map on a machine where starting a pool costs what it misses by) says so beside NOT met; one
    missed either way is NOT met alone; one met is met. A bare pool's start and end, where measured, are
    said with the most a pool can reach for them over py-serial's median; where not, why."""
    from harness import speed_python
    targets = (("map", "py-multiprocessing", ("--api", "map"), 1.6, None),
               ("apply", "py-multiprocessing", ("--api", "apply"), 0.8, 1.2),
               ("threading", "py-threading", (), None, 1.2),
               ("futures", "py-futures", (), 1.6, None))
    part = speed_python.Part("factorial", "factorial", 3000, 2, [], [], (), targets)
    timed = {"py-serial": (0.38, 0, 0), "map": (0.27, 0.036, 0.006), "apply": (0.49, 0.04, 0.006),
             "threading": (0.2, 0.001, 0.001), "futures": (0.2, 0.03, 0.001)}
    samples = {config: [{"seconds": timed[config[0]][0], "setup": timed[config[0]][1],
                         "combine": timed[config[0]][2], "comm": 0, "compute": 0}]
               for config in part.configs() if config[0] in timed}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        speed_python.report(part, samples, {}, [], 1, bare=(0.036, 0.004))
    said = {label: re.search(r"(?m)^    %s +P=2 .*target [^:]+: (.*)$" % label, out.getvalue())
            for label in ("map", "apply", "threading", "futures")}
    left_out = "NOT met (met with the workers' start and end left out: they cost the difference)"
    for label, wanted in (("map", left_out), ("apply", left_out), ("threading", "NOT met"), ("futures", "met")):
        expect(said[label] and said[label].group(1) == wanted, "%s's verdict: %s, not %r (all it said:\n%s)" % (
            label, said[label] and said[label].group(1), wanted, out.getvalue()))
    # 0.38 / (0.38 / 2 + 0.036 + 0.004) = 1.65
    bare = re.search(r"(?m)^  a bare multiprocessing.Pool\(2\) .*: its first results 36.0 ms after it starts, its end "
                     r"4.0 ms after them .*reaches 1.65x at most here", out.getvalue())
    expect(bare, "a bare pool's start (36 ms) and end (4 ms), at most 1.65x over py-serial's 0.38 s: not said so "
           "(all it said:\n%s)" % out.getvalue())
    with contextlib.redirect_stdout(io.StringIO()) as out:
        speed_python.report(part, samples, {}, [], 1, bare="it could not start")
    expect("a bare multiprocessing.Pool(2): not measured (it could not start)" in out.getvalue(),
           "a bare pool that could not be measured: not said why (all it said:\n%s)" % out.getvalue())

    # Three rounds: a target's speedup is the median of each round's own ratio (here 1.48, 2.08, 1.49), not
    # the ratio of the medians (0.52 / 0.25 = 2.08, met), with the lowest and highest below it.
    rounds = {"py-serial": (0.37, 0.52, 0.52), "map": (0.25, 0.25, 0.35)}
    samples = {config: [{"seconds": seconds, "setup": 0.03, "combine": 0.005, "comm": 0, "compute": 0}
                        for seconds in rounds[config[0]]] for config in part.configs() if config[0] in rounds}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        speed_python.report(part, samples, {}, [], 3)
    said = re.search(r"(?m)^    map +P=2 +([\d.]+)x .*: (NOT met|met)\b.*\n +round by round ([\d.]+)x to ([\d.]+)x$",
                     out.getvalue())
    expect(said and said.groups() == ("1.49", "NOT met", "1.48", "2.08"),
           "map over three rounds said as %s, not 1.49x NOT met, 1.48x to 2.08x (all it said:\n%s)" % (
               said and said.groups(), out.getvalue()))

    # The rounds themselves: every config once a round, py-serial and the targets' lanes one after the other.
    ran, real_run = [], speed_python.run
    speed_python.run = lambda part, model, workers, extra, server_args: ran.append((model, workers, extra)) or {}
    configs = part.configs()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            speed_python.measure(part, configs, 3, random.Random(1), [])
    finally:
        speed_python.run = real_run
    paired = {config[1:] for config in configs if part.paired(config) == "targets"}
    expect(len(paired) == 1 + len(targets), "py-serial and the targets' lanes: %s" % paired)
    for number in range(3):
        done = ran[number * len(configs):(number + 1) * len(configs)]
        at = [i for i, run in enumerate(done) if run in paired]
        expect(sorted(done) == sorted(config[1:] for config in configs), "round %d ran %s" % (number + 1, done))
        expect(len(at) == len(paired) and at[-1] - at[0] == len(paired) - 1,
               "round %d ran py-serial and the targets' lanes apart: %s" % (number + 1, done))


def check_factorial_rounds():
    """make bench-factorial's self-speedups at P = 2: the median of the ratios of each round's own two runs
    (made one after the other) with its verdict, and beside it the lowest and highest, so a verdict on a noisy
    machine shows its spread."""
    from harness import speed_factorial
    seconds = {1: (1.9, 1.9, 2.4), 2: (1.0, 1.3, 1.05)}  # P = 1's third round slow, P = 2's second
    samples = {(m, p, extra): [{"seconds": str(seconds[p][r] if m != "gmp" else 1.87), "compute": "0",
                                "combine": "0", "comm": "0"} for r in range(3)]
               for m, p, extra in speed_factorial.BIG}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        speed_factorial.report_big(samples, 10000000, 3)
    said = re.findall(r"(?m)^  threads +([\d.]+) +(\S+(?: met)?) +round by round ([\d.]+) to ([\d.]+)$",
                      out.getvalue())
    wanted = ("1.90", "met", "1.46", "2.29")  # the median of 1.9 / 1.0, 1.9 / 1.3, 2.4 / 1.05; the lowest; the highest
    expect(len(said) == len(speed_factorial.KERNELS) and all(line == wanted for line in said),
           "threads' self-speedups said as %s, not %s each (all it said:\n%s)" % (said, wanted, out.getvalue()))

    # The rounds themselves: every config once a round, a lane's P = 1 and P = 2 one after the other.
    ran, real_run = [], speed_factorial.run
    speed_factorial.run = lambda model, workers, args: ran.append((model, workers, tuple(args[2:]))) or {}
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            speed_factorial.measure(speed_factorial.BIG, ["-n", 10], 3, random.Random(1),
                                    together=speed_factorial.same_lane)
    finally:
        speed_factorial.run = real_run
    configs = len(speed_factorial.BIG)
    for number, done in enumerate(ran[r:r + configs] for r in range(0, len(ran), configs)):
        expect(sorted(done) == sorted(speed_factorial.BIG), "round %d ran %s" % (number + 1, done))
        def lane(at):
            model, _, extra = done[at]
            return model, extra
        apart = [lane(i) for i in range(configs) if done[i][1] == 2 and
                 lane(i) not in [lane(j) for j in (i - 1, i + 1) if 0 <= j < configs]]
        expect(not apart, "round %d ran P = 1 and P = 2 of %s apart: %s" % (number + 1, apart, done))
    expect(len(ran) == 3 * configs, "3 rounds ran %d configs, not %d" % (len(ran), 3 * configs))


def check_own_models():
    """Models the colour table does not name (Python lanes of one's own: make turns python/<model>/ into
    bin/<workload>-py-<model>) get colours of their own, apart from each other and from every named model,
    in gnuplot's scripts and matplotlib's figures alike: they were all one grey, two lines no reader could
    tell apart."""
    from harness import gnuplot
    runs = [run_row("serial", 1, 1.0)] + [run_row(model, p, 1.0 / p)
                                          for model in ("py-mine", "py-yours", "py-threading") for p in (1, 2)]
    with tempfile.TemporaryDirectory() as folder:
        summary.write_summary(Path(folder) / "summary.csv", summary.summarize(runs, [studies.STUDIES[0]]))
        rows = summary.read_summary(Path(folder) / "summary.csv")
    models = gnuplot.plot_groups(rows)[("matmul", 64)]
    mine, yours = gnuplot.colour("py-mine"), gnuplot.colour("py-yours")
    named = set(gnuplot.MODEL_COLOURS.values()) | {gnuplot.OTHER_COLOUR}
    expect(mine != yours and not {mine, yours} & named, "py-mine %s, py-yours %s: not apart from each other and "
           "from the named models' colours" % (mine, yours))
    script = gnuplot.python_plot("d.dat", {m: r for m, r in models.items() if m.startswith("py-")}, "matmul", 64,
                                 "cpu", 2, "", "p.png")
    expect("lc rgb '%s' title 'py-mine'" % mine in script and "lc rgb '%s' title 'py-yours'" % yours in script,
           "gnuplot's Python plot does not draw py-mine and py-yours in their colours:\n%s" % script)


def check_gil_cores_label():
    """gnuplot's GIL figure says its shade (more workers than usable cores) halfway up, clear of the
    CPU-bound lines that lie flat at a speedup of 1 along its foot: at the foot (graph 0.04) the words sat on
    them wherever the top was about 25 (the reference sweep's own plots/gil.png: I/O threads at 21x)."""
    from harness import gnuplot

    def line(model, study, kind, speedups):
        return {"model": model, "study": study, "n": 16, "kind": kind, "label": model, "mark": "x",
                "rows": [{"workers": p, "speedup_self": s} for p, s in zip((1, 2, 4, 8, 16, 32), speedups)]}
    lines = [line("py-threading", "factorial-many", "cpu", (1, 0.9, 0.9, 1.0)),
             line("threads", "download", "io", (1, 2, 3.8, 7.3, 12.7, 20.8))]
    script = gnuplot.gil_plot("gil.dat", lines, 2, "set terminal pngcairo")
    top = float(re.search(r"set yrange \[0:([\d.]+)\]", script).group(1))
    said = re.search(r'set label 1 "more workers than usable cores \(2\)" at 2, graph ([\d.]+)', script)
    expect(said and float(said.group(1)) > 1 / top + 0.1,
           "the GIL figure's shade said at graph %s, where its flat lines lie (a speedup of 1: graph %.3f)"
           % (said.group(1) if said else "(nowhere)", 1 / top))


def check_gnuplot_fails():
    """A gnuplot that cannot draw (built without pngcairo, or not there at all: GNUPLOT= names it) costs
    the gnuplot plots alone, said with gnuplot's own words: the sweep ends with exit 0, its summary and
    report.md written (it ended in a traceback after the last run, with no report), and make plot too."""
    with tempfile.TemporaryDirectory() as folder:
        fake = Path(folder) / "gnuplot"
        fake.write_text("#!/bin/sh\necho \"%s\" >&2\nexit 1\n" % NO_PNGCAIRO)
        fake.chmod(0o755)
        bin_dir = make_bin(folder, real=["matmul-serial"])
        results = Path(folder) / "results"
        out = bench(bin_dir, results, ["--workers", "1", "--repeats", "1"], env=dict(os.environ, GNUPLOT=str(fake)))
        expect(out.returncode == 0 and "Traceback" not in out.stderr,
               "a sweep with a gnuplot that fails: exit %d, %s" % (out.returncode, out.stderr[-1500:]))
        expect("gnuplot (%s) failed on plots/matmul-n32.gp: %s" % (fake, NO_PNGCAIRO) in out.stderr,
               "gnuplot's failure not said with its message: %s" % out.stderr[-1500:])
        latest = results / "latest"
        expect((latest / "summary.csv").is_file() and (latest / "report.md").is_file(),
               "no summary.csv or report.md after gnuplot failed")
        expect("plots/speedup-" not in (latest / "report.md").read_text(), "report.md shows a gnuplot plot not drawn")
        (latest / "report.md").unlink()
        redraw = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--plot", str(latest)],
                                capture_output=True, text=True, timeout=300,
                                env=dict(os.environ, GNUPLOT=str(Path(folder) / "no-gnuplot")))
        expect(redraw.returncode == 0 and "Traceback" not in redraw.stderr and (latest / "report.md").is_file()
               and "gnuplot (%s) cannot run: No such file or directory" % (Path(folder) / "no-gnuplot")
               in redraw.stderr, "make plot with GNUPLOT= a gnuplot not there: exit %d, %s"
               % (redraw.returncode, redraw.stderr[-1500:]))


def check_no_plotters():
    """A machine with neither gnuplot nor matplotlib (a fresh Debian): the sweep ends with exit 0, and
    report.md, whose Plots section was empty without a word, says why none was drawn and what to
    install; the last line names no plots/ folder, since there is none."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, real=["matmul-serial"])
        results = Path(folder) / "results"
        # The PATH's commands but gnuplot, in one folder; matplotlib hidden from every interpreter.
        commands = Path(folder) / "path"
        commands.mkdir()
        for directory in os.environ.get("PATH", "").split(os.pathsep):
            try:
                found = list(Path(directory).iterdir()) if directory else []
            except OSError:  # a folder gone, or one this user may not read (another user's home)
                continue
            for command in found:
                if command.name != "gnuplot" and not os.path.lexists(commands / command.name):
                    (commands / command.name).symlink_to(command)
        hidden = dict(os.environ, PATH=str(commands), PYTHONPATH=str(HERE / "data" / "hide-packages"))
        for name in ("GNUPLOT", "PYTHON_MPL"):
            hidden.pop(name, None)
        out = bench(bin_dir, results, ["--workers", "1", "--repeats", "1"], env=hidden)
        expect(out.returncode == 0 and "Traceback" not in out.stderr,
               "a sweep without gnuplot and matplotlib: exit %d, %s" % (out.returncode, out.stderr[-1500:]))
        plots = (results / "latest" / "report.md").read_text().split("## Plots", 1)[-1].split("\n## ", 1)[0]
        expect("gnuplot not found" in plots and "install gnuplot-nox" in plots and "python3-matplotlib" in plots,
               "report.md's Plots section does not say why it has none: %r" % plots)
        expect("bench: done:" in out.stderr and "plots/)" not in out.stderr,
               "the sweep's last line names a plots/ folder it did not make: %s" % out.stderr[-300:])


def check_resume():
    """Ctrl-C keeps every finished row; RESUME finishes without duplicates or gaps."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, fakes=["matmul-sleepy"], real=["matmul-serial"])
        results = Path(folder) / "results"
        extra = ["--workers", "1,2,3", "--repeats", "3"]
        # Five quick runs, then runs that hold for a minute: the Ctrl-C lands mid-sweep however
        # long this process is kept off the CPU (make test runs cases side by side).
        held = dict(os.environ, FAKE_COUNT=str(Path(folder) / "runs-so-far"), FAKE_QUICK_RUNS="5")
        process = bench(bin_dir, results, extra, wait=False, env=held)
        runs_path = results / "latest" / "runs.csv"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if runs_path.exists() and len(runs_path.read_text().splitlines()) > 5:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        expect(process.returncode == 130, "interrupted bench exit %s: %s" % (process.returncode, err[-500:]))
        expect("RESUME=1" in err, "the interruption message does not say how to resume")
        kept = runs_of(results)
        expect(0 < len(kept) < 16, "%d rows after the interruption" % len(kept))
        # make plot of the sweep stopped part of the way: report.md says so and how far it came, where
        # it read as a whole sweep of 3 runs a configuration; once resumed to its end, no more.
        report = results / "latest" / "report.md"

        def said_interrupted():
            redraw = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--plot", str(results)],
                                    capture_output=True, text=True, timeout=300)
            expect(redraw.returncode == 0, "make plot failed: %s" % redraw.stderr[-1500:])
            return re.search(r"\*\*Interrupted\*\* at [^,]*, before the sweep finished: (\d+) of its 12 timed runs "
                             r"are recorded.*RESUME=1", report.read_text())
        timed = sum(r["warmup"] == "0" for r in kept)
        found = said_interrupted()
        expect(found and int(found.group(1)) == timed, "report.md of the interrupted sweep (%d timed runs): %s"
               % (timed, report.read_text()[:600]))
        env = dict(os.environ, RESUME="1")
        out = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir),
                              "--results", str(results)], capture_output=True, text=True, env=env, timeout=600)
        expect(out.returncode == 0, "resumed bench failed: %s" % out.stderr[-2000:])
        expect("Interrupted" not in report.read_text() and not said_interrupted(),
               "report.md of the resumed sweep still says it was interrupted")
        # A sweep killed without a word (SIGKILL, a node lost) has neither end in meta.json: make plot says so.
        meta = json.loads((results / "latest" / "meta.json").read_text())
        del meta["finished"]
        (results / "latest" / "meta.json").write_text(json.dumps(meta))
        subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--plot", str(results)],
                       capture_output=True, text=True, timeout=300)
        expect("**Unfinished**: no end of this sweep is recorded" in report.read_text()
               and "12 of its 12 timed runs are recorded" in report.read_text(),
               "report.md of a sweep with no end recorded: %s" % report.read_text()[:600])
        runs = runs_of(results)
        keys = [(r["model"], r["workers"], r["round"]) for r in runs]
        expect(len(keys) == len(set(keys)), "duplicate rows after resuming")
        configs = 1 + 3  # serial at P=1, sleepy at P=1..3
        expect(len(runs) == configs * 4, "%d rows after resuming, expected %d" % (len(runs), configs * 4))
        # RESUME=1 given the settings the sweep was started with (as RESUME=1 sbatch passes them on,
        # exported), written otherwise: nothing would change, so it goes on (nothing left); a setting
        # that differs is refused, naming it and what the sweep has.
        same = dict(env, WORKLOADS="matmul", WORKERS="3,2,1,2", SIZES="32", REPEATS="3", SEED="7", PRESET="quick")
        out = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir),
                              "--results", str(results)], capture_output=True, text=True, env=same, timeout=600)
        expect(out.returncode == 0 and "nothing left to run" in out.stderr,
               "RESUME=1 with the sweep's own settings: exit %d, %r" % (out.returncode, out.stderr[-800:]))
        out = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir),
                              "--results", str(results)], capture_output=True, text=True, timeout=600,
                             env=dict(same, WORKERS="1,2", REPEATS="4"))
        expect(out.returncode == 2 and "with WORKERS=1,2,3 REPEATS=3; WORKERS=1,2 REPEATS=4 would change it"
               in out.stderr, "RESUME=1 with WORKERS=1,2 REPEATS=4: exit %d, %r" % (out.returncode, out.stderr[-800:]))


def check_resume_elsewhere():
    """RESUME=1 where the usable cores or the CPU model are not those the sweep's runs had (a job resumed on
    another node type, another --cpus-per-task, taskset), or a program is not the code they ran (make bench
    RESUME=1 rebuilds an edited source first: its medians and plots mixed the two codes' runs): refused,
    exit 2, named, runs.csv untouched; where they are, it goes on."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, real=["matmul-serial"])
        results = Path(folder) / "results"
        out = bench(bin_dir, results, ["--workers", "1", "--repeats", "1"])
        expect(out.returncode == 0, "the sweep to resume failed: %s" % out.stderr[-1500:])
        meta_path = results / "latest" / "meta.json"
        meta = json.loads(meta_path.read_text())
        del meta["finished"]
        usable, model = meta["machine"]["usable_cores"], meta["machine"]["cpu_model"]
        rows = (results / "latest" / "runs.csv").read_text()
        resume = [sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir), "--results", str(results)]
        for key, was, said in (("usable_cores", usable + 2, "usable cores: %d here, %d in its runs"
                                % (usable, usable + 2)),
                               ("cpu_model", "Made-up CPU", "CPU: %s here, Made-up CPU in its runs" % model)):
            moved = json.loads(json.dumps(meta))
            moved["machine"][key] = was
            meta_path.write_text(json.dumps(moved))
            out = subprocess.run(resume, capture_output=True, text=True, timeout=300, env=dict(os.environ, RESUME="1"))
            expect(out.returncode == 2 and said in out.stderr and "Traceback" not in out.stderr,
                   "RESUME=1 with %s %r in meta.json: exit %d, %r" % (key, was, out.returncode, out.stderr[-800:]))
            expect((results / "latest" / "runs.csv").read_text() == rows, "the refused RESUME=1 changed runs.csv")
        meta_path.write_text(json.dumps(meta))
        # bin/matmul-serial rebuilt since (an edited source, other CFLAGS): here, a byte more, which it ignores
        program = bin_dir / "matmul-serial"
        program.unlink()
        shutil.copy(ROOT / "bin" / "matmul-serial", program)
        with open(program, "ab") as f:
            f.write(b"\0")
        out = subprocess.run(resume, capture_output=True, text=True, timeout=300, env=dict(os.environ, RESUME="1"))
        expect(out.returncode == 2 and "bin/matmul-serial is not the code its runs ran" in out.stderr
               and "Traceback" not in out.stderr and (results / "latest" / "runs.csv").read_text() == rows,
               "RESUME=1 with bin/matmul-serial rebuilt since its runs: exit %d, %r" % (out.returncode,
                                                                                   out.stderr[-800:]))
        program.unlink()
        program.symlink_to(ROOT / "bin" / "matmul-serial")
        out = subprocess.run(resume, capture_output=True, text=True, timeout=300, env=dict(os.environ, RESUME="1"))
        expect(out.returncode == 0 and "nothing left to run" in out.stderr,
               "RESUME=1 on the sweep's own machine: exit %d, %r" % (out.returncode, out.stderr[-800:]))


def held_sweep(folder, fakes, real, quick_runs):
    """What a sweep that is stopped mid-run needs, in folder: its bin/ (make_bin), its results/ and
    TMPDIR folders, the file the fakes count their runs in, and the environment in which every run
    after the first quick_runs holds for a minute (tests/fake_program's *-sleepy)."""
    bin_dir = make_bin(folder, fakes=fakes, real=real)
    results, tmp, count = Path(folder) / "results", Path(folder) / "tmp", Path(folder) / "runs-so-far"
    tmp.mkdir()
    held = dict(os.environ, FAKE_COUNT=str(count), FAKE_QUICK_RUNS=str(quick_runs), TMPDIR=str(tmp))
    return bin_dir, results, tmp, count, held


def check_hangup():
    """SIGHUP (the terminal or ssh connection of the sweep gone) ends it as Ctrl-C does: the run
    under way stopped, not left to run to its end, meta.json saying it was interrupted, nothing
    left in TMPDIR; where the sweep died at once, leaving all three."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir, results, tmp, count, held = held_sweep(folder, ["matmul-sleepy"], ["matmul-serial"], 5)
        process = bench(bin_dir, results, ["--workers", "1,2,3", "--repeats", "3"], wait=False, env=held)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (count.exists() and len(count.read_text().splitlines()) > 5):
            time.sleep(0.05)   # the sixth run has begun, and holds for a minute
        process.send_signal(signal.SIGHUP)
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise CheckFailed("the sweep still ran 30 s after SIGHUP")
        left = marked("FAKE_COUNT", count)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        expect(not left, "the run under way outlived the sweep: processes %s" % left)
        expect(process.returncode == 130, "the sweep exited %s after SIGHUP: %s" % (process.returncode, err[-500:]))
        meta = json.loads((results / "latest" / "meta.json").read_text())
        expect(meta.get("interrupted"), "meta.json does not say the sweep was interrupted")
        expect(not os.listdir(tmp), "left in TMPDIR: %s" % os.listdir(tmp))


def left_behind(variable, mark, tmp):
    """What a stopped sweep or check left: once its processes (variable=mark in their environment)
    are gone and tmp is empty, or KILLED_GONE_SECONDS have passed, the processes still there,
    each as 'PID COMMAND' (killed now, so that the check leaves nothing either)."""
    deadline = time.monotonic() + KILLED_GONE_SECONDS
    while time.monotonic() < deadline and (marked(variable, mark) or os.listdir(tmp)):
        time.sleep(0.05)
    left = marked(variable, mark)
    said = ["%d %s" % (pid, command_line(pid)) for pid in left]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return said


def check_killed():
    """A download sweep killed with SIGKILL (the OOM killer, kill -9: no finally runs) in the middle
    of a run: nothing of it is left, neither the run under way, nor its file server, nor its
    scratch folder (with the files downloaded into it) in TMPDIR."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir, results, tmp, count, held = held_sweep(folder, ["download-sleepy"], ["fileserver"], 1)
        with open(Path(folder) / "said", "w+") as said:  # not a pipe: what outlives the sweep would hold it open
            process = subprocess.Popen([sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir),
                                        "--results", str(results), "--workloads", "download", "--sizes", "4",
                                        "--workers", "1", "--repeats", "1"], stdout=subprocess.DEVNULL,
                                       stderr=said, env=held)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not (count.exists() and len(count.read_text().splitlines()) > 1):
                time.sleep(0.05)   # the second run has begun, and holds for a minute
            process.kill()
            process.wait()
            said.seek(0)
            expect(count.exists(), "the sweep made no run: %s" % said.read()[-800:])
        left = left_behind("FAKE_COUNT", count, tmp)
        expect(not left, "processes of the killed sweep left running: %s" % left)
        expect(not os.listdir(tmp), "the killed sweep left in TMPDIR: %s" % os.listdir(tmp))


# A speed check run with its records kept in argv[1] (not the checkout's results/speed/): argv[2] is
# tools/, argv[3] the check's script, the rest its arguments.
SPEED_CHECK_ELSEWHERE = """import runpy, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from harness import record
record.SPEED_FOLDER = Path(sys.argv[1])
sys.argv = sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
# The download speed check, small: a second a file, so that each client's run lasts seconds.
SPEED_DOWNLOAD = ["--files", "4", "--size", "1024", "--latency", "1000", "--rounds", "1", "--reps", "1"]


def check_speed_stopped():
    """make bench-download stopped in the middle of a client's run, by SIGTERM (kill, scancel) and by
    SIGKILL, sent to it alone: after SIGTERM, exit status 143 and a line saying so; after either,
    neither its file servers nor the client are left, nor its scratch folder in TMPDIR. (Its record
    goes in a folder of the check's; it prints nothing before the end, so it leaves none.)"""
    for signo in (signal.SIGTERM, signal.SIGKILL):
        with tempfile.TemporaryDirectory() as folder:
            tmp, speed, mark = Path(folder) / "tmp", Path(folder) / "speed", "%d-%d" % (os.getpid(), signo)
            tmp.mkdir()
            env = dict(os.environ, TMPDIR=str(tmp), SPEED_CHECK_MARK=mark)
            with open(Path(folder) / "said", "w+") as said:  # not a pipe: what outlives the check would hold it
                check = subprocess.Popen([sys.executable, "-c", SPEED_CHECK_ELSEWHERE, str(speed), str(ROOT / "tools"),
                                          str(ROOT / "tools" / "harness" / "speed_download.py")] + SPEED_DOWNLOAD,
                                         stdout=subprocess.DEVNULL, stderr=said, env=env)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and check.poll() is None and not any(
                        "/download-" in command_line(pid) for pid in marked("SPEED_CHECK_MARK", mark)):
                    time.sleep(0.05)   # until a client runs
                check.send_signal(signo)
                try:
                    check.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    check.kill()
                    check.wait()
                said.seek(0)
                err = said.read()
            left = left_behind("SPEED_CHECK_MARK", mark, tmp)
            name = signal.Signals(signo).name
            expect(not left, "processes of the check left after %s: %s" % (name, left))
            expect(not os.listdir(tmp), "left in TMPDIR after %s: %s" % (name, os.listdir(tmp)))
            expect(signo == signal.SIGKILL or check.returncode == 128 + signo and "Traceback" not in err
                   and "bench-download: stopped (SIGTERM)" in err,
                   "after SIGTERM: exit %s, %r" % (check.returncode, err[-800:]))


def check_unwritable():
    """A results folder that stops taking data (a full disk, a quota; here ulimit -f, which
    needs no root): the sweep stops at once with exit 1, one line naming the file, the
    system's reason and RESUME=1, no traceback; runs.csv holds whole rows only, and
    RESUME=1 with room again finishes it; make plot with no room says so, exit 1."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder)
        results = Path(folder) / "results"
        extra = ["--workers", "1,2", "--repeats", "19"]  # 60 rows, about 14 KiB
        argv = [sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir), "--results", str(results),
                "--workloads", "matmul", "--sizes", "32", "--seed", "7"] + extra
        limited = ["sh", "-c", 'ulimit -f %d && exec "$@"' % (UNWRITABLE_BYTES // 1024), "sh"] + argv
        out = subprocess.run(limited, capture_output=True, text=True, timeout=600)
        said = [line for line in out.stderr.splitlines() if "cannot write" in line]
        expect(out.returncode == 1 and "Traceback" not in out.stderr,
               "past ulimit -f: exit %s, %s" % (out.returncode, out.stderr[-1500:]))
        expect(said and "runs.csv: File too large" in said[0] and "RESUME=1" in said[0],
               "past ulimit -f, the line does not name runs.csv, the reason and RESUME=1: %s" % said)
        with open(results / "latest" / "runs.csv", newline="") as f:
            rows = list(csv.reader(f))
        expect(1 < len(rows) < 61 and all(len(row) == len(rows[0]) for row in rows),
               "runs.csv after the refusal: %d rows, lengths %s" % (len(rows), sorted({len(r) for r in rows})))
        out = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir),
                              "--results", str(results)], capture_output=True, text=True, timeout=600,
                             env=dict(os.environ, RESUME="1"))
        expect(out.returncode == 0, "RESUME=1 with room again failed: %s" % out.stderr[-2000:])
        runs = runs_of(results)
        keys = [(r["model"], r["workers"], r["round"]) for r in runs]
        expect(len(runs) == 60 and len(set(keys)) == 60, "%d rows after resuming, expected 60" % len(runs))
        redraw = ["sh", "-c", 'ulimit -f 1 && exec "$@"', "sh", sys.executable, str(ROOT / "tools" / "bench.py"),
                  "--plot", str(results / "latest")]
        out = subprocess.run(redraw, capture_output=True, text=True, timeout=600)
        expect(out.returncode == 1 and "Traceback" not in out.stderr and "once there is room make plot" in out.stderr,
               "make plot past ulimit -f: exit %s, %s" % (out.returncode, out.stderr[-1500:]))


def check_broken():
    """A results folder a sweep left half-written (meta.json empty, cut short, not an object, or short of
    what a sweep writes; a runs.csv row cut short): make plot and RESUME=1 name the file, exit 2, no
    traceback. RESUME=1 with settings that would change the sweep: refused, naming them."""
    bench_py = [sys.executable, str(ROOT / "tools" / "bench.py")]
    meta = {"preset": "quick", "repeats": 1, "seed": 7, "timeout": 120, "machine": {"usable_cores": 2},
            "selection": {"workloads": "matmul", "models": "serial", "workers": "1", "sizes": "32"}}
    header = ",".join(summary.RUN_COLUMNS)
    whole = "2026-01-01T00:00:00,matmul,matmul,serial,32,1,0,1,0.001,0,0,0.001,0,0.01,0,0,1000,0,yes,no,,"
    broken = {"meta.json empty": ("", header + "\n"),
              "meta.json cut short": (json.dumps(meta)[:40], header + "\n"),
              "meta.json not an object": ("[]", header + "\n"),
              "meta.json without its preset": (json.dumps({k: v for k, v in meta.items() if k != "preset"}),
                                               header + "\n"),
              "a runs.csv row cut short": (json.dumps(meta), header + "\n" + whole + "\n" + whole[:30] + "\n")}
    with tempfile.TemporaryDirectory() as scratch:
        for name, (meta_text, runs_text) in broken.items():
            results = Path(scratch) / name.replace(" ", "-")
            folder = results / "sweep"
            folder.mkdir(parents=True)
            (folder / "meta.json").write_text(meta_text)
            (folder / "runs.csv").write_text(runs_text)
            (results / "latest").symlink_to("sweep")
            said = "runs.csv line 3" if "runs.csv" in name else "meta.json"
            for what, argv, env in (("make plot", bench_py + ["--plot", str(folder)], None),
                                    ("RESUME=1", bench_py + ["--results", str(results)],
                                     dict(os.environ, RESUME="1"))):
                out = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
                expect(out.returncode == 2 and said in out.stderr and "Traceback" not in out.stderr,
                       "%s of a folder with %s: exit %d, %r" % (what, name, out.returncode, out.stderr[-600:]))
        results = Path(scratch) / "whole"
        (results / "sweep").mkdir(parents=True)
        (results / "sweep" / "meta.json").write_text(json.dumps(meta))
        (results / "sweep" / "runs.csv").write_text(header + "\n" + whole + "\n")
        (results / "latest").symlink_to("sweep")
        out = subprocess.run(bench_py + ["--results", str(results), "--workloads", "factorial"], capture_output=True,
                             text=True, timeout=120, env=dict(os.environ, RESUME="1", PRESET="python"))
        expect(out.returncode == 2 and "with PRESET=quick WORKLOADS=matmul; PRESET=python WORKLOADS=factorial "
               "would change it" in out.stderr,
               "RESUME=1 with other settings: exit %d, %r" % (out.returncode, out.stderr[-400:]))


def check_same_second():
    """Sweeps started in the same second in one results folder: each gets a folder of its own
    (<time>-<host>+2, +3, ...), where the second was refused ('File exists', said as a folder it
    could not make); results/latest points at the last one; the folders taken are left alone."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, real=["matmul-serial"])
        results = Path(folder) / "results"
        results.mkdir()
        # Every name the sweep could take in the next two minutes, and its +2, taken already.
        start, host = time.time(), socket.gethostname()
        taken = []
        for second in range(SAME_SECOND_WINDOW):
            stamp = time.strftime("%Y-%m-%dT%H%M%S", time.localtime(start + second))
            taken += [results / ("%s-%s" % (stamp, host)), results / ("%s-%s+2" % (stamp, host))]
        for name in taken:
            name.mkdir(exist_ok=True)
        out = bench(bin_dir, results, ["--workers", "1", "--repeats", "1"])
        expect(out.returncode == 0, "a sweep in a second whose name is taken: exit %d, %r"
               % (out.returncode, out.stderr[-800:]))
        made = sorted(set(results.iterdir()) - set(taken) - {results / "latest"})
        expect(len(made) == 1 and made[0].name.endswith("-%s+3" % host) and (made[0] / "runs.csv").is_file(),
               "the sweep made %s" % [m.name for m in made])
        expect(os.readlink(results / "latest") == made[0].name, "results/latest -> %s, not %s"
               % (os.readlink(results / "latest"), made[0].name))
        expect(not any(any(name.iterdir()) for name in taken), "a sweep wrote into a folder that was taken")


def check_interrupt_early():
    """Ctrl-C as soon as a sweep has said its first line (before or just after its results folder is made):
    exit 130, a line, no traceback; no results folder without its meta.json, and results/latest, if
    there, is a folder with one."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, real=["matmul-serial"])
        results = Path(folder) / "results"
        process = bench(bin_dir, results, ["--workers", "1", "--repeats", "1"], wait=False)
        first = process.stderr.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        err = first + err
        expect(process.returncode == 130 and "interrupted" in err and "Traceback" not in err,
               "bench interrupted at its first line: exit %s, %r" % (process.returncode, err[-800:]))
        folders = [f for f in results.iterdir() if f.name != "latest"] if results.exists() else []
        expect(all((f / "meta.json").is_file() for f in folders),
               "a results folder without its meta.json: %s" % [str(f) for f in folders])
        latest = results / "latest"
        expect(not os.path.lexists(latest) or (latest / "meta.json").is_file(),
               "results/latest points at %s, which has no meta.json" % os.path.realpath(latest))


# The tiny sweep of the Python lane: the GIL figure's programs, the C code beside them, the file
# server, and matmul-py-serial (meta.json asks it which BLAS core the lane runs; it is not swept).
def check_cluster():
    """make bench CLUSTER=2 RATE=1gbit, tiny: the MPI lane on this machine and across two shaped
    hosts, link and hosts in the results, the cluster in meta.json and report.md, brought up
    and taken down; a cluster of the user's that fits is used and left up (clusters.Clusters
    alone: no sweep); a sweep killed (SIGKILL) leaves no cluster and no folder of it (its
    Clusters: killed_clusters); bad CLUSTER= and RATE= refused. Where no cluster can be made
    here, the sweep must refuse, exit 2, and say why."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, real=["matmul-mpi"])
        results = Path(folder) / "results"
        for wrong, said in ((["--rate", "1gbit"], "give CLUSTER=N too"), (["--cluster", "9"], "from 2 to 8"),
                            (["--cluster", "2", "--rate", "fast"], "'fast'")):
            out = bench(bin_dir, results, wrong)
            expect(out.returncode == 2 and said in out.stderr, "%s: exit %d, %s" % (wrong, out.returncode,
                                                                                  out.stderr[-500:]))
        sweep = ["--cluster", "2", "--rate", "1gbit", "--models", "mpi", "--workers", "2", "--repeats", "1"]
        cluster = [str(ROOT / "tools" / "cluster")]
        env = dict(os.environ, CLUSTER_DIR=str(Path(folder) / "mine"))
        if subprocess.run(cluster + ["check", "--rate"], capture_output=True).returncode != 0:
            out = bench(bin_dir, results, sweep, env=env)
            expect(out.returncode == 2 and "cannot make a cluster" in out.stderr and not results.exists(),
                   "without namespaces: exit %d, %s" % (out.returncode, out.stderr[-500:]))
            return
        out = bench(bin_dir, results, sweep, env=env)
        expect(out.returncode == 0, "bench CLUSTER=2 failed: %s" % out.stderr[-2000:])
        runs = runs_of(results)
        expect(len(runs) == 2 * 2 and all(r["exit"] == "0" and r["verified"] == "yes" for r in runs),
               "2 configurations x 2 rounds, every run verified: %s" % runs)
        hosts = {(r["link"], r["figures"].split("hosts=")[-1].split()[0]) for r in runs}
        expect(hosts == {("", "1"), ("1gbit", "2")}, "this machine: hosts=1, the cluster: hosts=2: %s" % hosts)
        latest = results / "latest"
        with open(latest / "summary.csv", newline="") as f:
            rows = {(r["model"], r["link"]): r["hosts"] for r in csv.DictReader(f)}
        expect(rows == {("mpi", ""): "1", ("mpi", "1gbit"): "2"}, "summary.csv: a row per link, with its hosts: %s"
               % rows)
        meta = json.loads((latest / "meta.json").read_text())
        said = meta.get("cluster") or {}
        made = said.get("links", {}).get("1gbit", {})
        expect(said.get("hosts") == 2 and said.get("rates") == ["1gbit"] and made.get("rate") == "1gbit"
               and made.get("brought_up") is True and "tcp" in (said.get("transports") or "")
               and "vader" in (said.get("transports") or ""), "meta.json's cluster: hosts, rate, transports: %s" % said)
        expect(meta["selection"].get("cluster") == "2", "meta.json's selection: %s" % meta["selection"])
        report = (latest / "report.md").read_text()
        expect("## The clusters" in report and "mpi, cluster 1gbit" in report, "report.md says nothing of the cluster")
        if has_matplotlib():
            expect((latest / "phases.png").stat().st_size > 1000, "phases.png missing or empty")
        left = subprocess.run([admin_command("ip"), "netns", "list"], capture_output=True, text=True).stdout
        expect(made.get("tag") and made["tag"] + "-" not in left, "the cluster's namespaces are left: %s" % left)
        expect(not Path(made.get("dir") or "/nonexistent").exists(), "the cluster's folder is left: %s" % made)

        # the user's own cluster, up with the sweep's hosts and one of its rates: used, and left up
        up = subprocess.run(cluster + ["up", "2", "--down-with", str(os.getpid())], capture_output=True, text=True,
                            env=env)
        expect(up.returncode == 0, "tools/cluster up 2: %s" % up.stderr)
        try:
            hosts = clusters.Clusters(2, ["unshaped"], Path(folder) / "sweep", yours=env["CLUSTER_DIR"])
            expect(hosts.up() == ["unshaped"] and hosts.folder("unshaped") == Path(env["CLUSTER_DIR"]).resolve(),
                   "the user's cluster was not used: %s" % hosts.reused)
            hosts.down()
            still = subprocess.run(cluster + ["status"], capture_output=True, text=True, env=env)
            expect(still.returncode == 0 and "cluster=up" in still.stdout, "the user's cluster was not left up")
        finally:
            subprocess.run(cluster + ["down"], capture_output=True, env=env)
    killed_clusters()


# A sweep's Clusters, in a process of its own: up, its folder said, then waiting to be killed.
CLUSTERS_THEN_WAIT = """import sys, time
sys.path.insert(0, sys.argv[1])
from harness import clusters
hosts = clusters.Clusters(2, ["unshaped"], yours="/nonexistent/cluster")   # none of the user's to use
hosts.up()
print(hosts.folder("unshaped"), flush=True)
time.sleep(600)
"""
# Seconds a killed sweep's clusters may take to go down (tools/cluster up --down-with).
KILLED_DOWN_SECONDS = 30


def killed_clusters():
    """A sweep killed with its clusters up (SIGKILL: no finally runs): they go down with it,
    and nothing of them is left, their folders included."""
    sweep = subprocess.Popen([sys.executable, "-c", CLUSTERS_THEN_WAIT, str(ROOT / "tools")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    folder = Path(sweep.stdout.readline().strip() or "/nonexistent")
    sweep.kill()
    _, err = sweep.communicate()
    expect(folder.is_dir(), "the sweep's cluster did not come up: %s" % err[-500:])
    tag = subprocess.run([str(ROOT / "tools" / "cluster"), "status"], capture_output=True, text=True,
                         env=dict(os.environ, CLUSTER_DIR=str(folder))).stdout.split("tag=")[-1].split()[0]
    deadline = time.monotonic() + KILLED_DOWN_SECONDS
    while time.monotonic() < deadline and (folder.exists() or folder.parent.name.startswith("bench-cluster-")
                                           and folder.parent.exists()):
        time.sleep(0.2)
    left = subprocess.run([admin_command("ip"), "netns", "list"], capture_output=True, text=True).stdout
    expect(tag + "-" not in left, "a killed sweep's cluster is left: %s" % left)
    expect(not folder.exists(), "a killed sweep's cluster folder is left: %s" % folder)
    expect(not (folder.parent.name.startswith("bench-cluster-") and folder.parent.exists()),
           "a killed sweep left its clusters' folder: %s" % folder.parent)


PYTHON_SWEEP = ["factorial-py-serial", "factorial-py-threading", "factorial-py-multiprocessing", "factorial-serial",
                "factorial-threads", "download-py-threading", "download-threads", "fileserver", "matmul-py-serial"]


def has_matplotlib():
    """Whether bench.py will find a Python with matplotlib (it asks the same ones)."""
    for candidate in (sys.executable, "python3", "/usr/bin/python3"):
        found = shutil.which(candidate)
        if found and subprocess.run([found, "-c", "import matplotlib"], capture_output=True).returncode == 0:
            return True
    return False


def check_python():
    """A tiny sweep with the Python lane: its rows, baselines in either language,
    its plots and the GIL figure, meta.json's python_lane; then PYTHON=0 (--no-python)."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = make_bin(folder, real=PYTHON_SWEEP)
        results = Path(folder) / "results"
        argv = [sys.executable, str(ROOT / "tools" / "bench.py"), "--bin", str(bin_dir), "--results", str(results),
                "--workloads", "factorial-many,download", "--sizes", "8", "--workers", "1,2", "--repeats", "1",
                "--seed", "7"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        expect(out.returncode == 0, "bench failed: %s" % out.stderr[-2000:])
        ran = {(r["study"], r["model"], int(r["workers"])) for r in runs_of(results)}
        python = {c for c in ran if programs.is_python(c[1])}
        expect(python == {("factorial-many", "py-serial", 1), ("factorial-many", "py-threading", 1),
                          ("factorial-many", "py-threading", 2), ("factorial-many", "py-multiprocessing", 1),
                          ("factorial-many", "py-multiprocessing", 2), ("download", "py-threading", 1),
                          ("download", "py-threading", 2)}, "the Python lanes swept: %s" % sorted(python))
        expect(all(r["exit"] == "0" and r["verified"] == "yes" for r in runs_of(results)), "every run verified")
        chunks = {(r["model"], r["figures"].split("chunk=")[1].split()[0]) for r in runs_of(results)
                  if r["study"] == "factorial-many"}
        expect(all(chunk == (str(studies.PYTHON_CHUNK) if programs.is_python(model) else "1")
                   for model, chunk in chunks), "factorial-many's chunks, Python's of %d: %s" % (
                       studies.PYTHON_CHUNK, sorted(chunks)))
        latest = results / "latest"
        with open(latest / "summary.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        medians = {(r["study"], r["model"], r["workers"]): float(r["median"]) for r in rows}
        for row in rows:
            if row["study"] == "factorial-many" and programs.is_python(row["model"]):
                best = min(("serial", "C"), ("py-serial", "Python"),
                           key=lambda lane: medians[("factorial-many", lane[0], "1")])
                expect((row["baseline"], row["baseline_lane"]) == ("factorial-%s (P=1)" % best[0], best[1]),
                       "%s's baseline %s (%s), not the faster serial code" % (
                           row["model"], row["baseline"], row["baseline_lane"]))
                expect(row["startup"] != "n/a", "%s has no start-up" % row["model"])
        plots = latest / "plots"
        for png in ["gil.png", "python-factorial-many-n8.png", "python-download-n8.png",
                    "speedup-factorial-many-n8.png"] + (["../gil.png", "../python-factorial-many.png"]
                                                        if has_matplotlib() else []):
            expect((plots / png).exists() and (plots / png).stat().st_size > 1000, "%s missing or empty" % png)
        drawn = [line for line in (plots / "gil.dat").read_text().splitlines() if line.startswith("#")]
        expect(drawn == ["# py-threading factorial-many n=8", "# py-threading download n=8",
                         "# py-multiprocessing factorial-many n=8", "# threads factorial-many n=8",
                         "# threads download n=8"], "the GIL figure's lines: %s" % drawn)
        expect("The GIL" in out.stdout, "no GIL figure on the terminal")
        expect("py-" not in (plots / "factorial-many-n8.dat").read_text(), "a Python lane in a C plot")
        meta = json.loads((latest / "meta.json").read_text())
        lane = meta["machine"].get("python_lane", {})
        expect("error" not in lane, "meta.json's python_lane: %s" % lane.get("error"))
        expect(lane.get("interpreter") and lane.get("version") and
               set(lane.get("packages", {})) == set(machine.PYTHON_LANE_PACKAGES) and
               lane["packages"]["numpy"] and lane.get("numpy_blas", {}).get("architecture") and
               lane.get("blas_run", {}).get("blas_core"), "meta.json's python_lane is incomplete: %s" % lane)
        expect(meta["sizes"] == {"download": {"C": [8], "Python": [8]}, "factorial-many": {"C": [8], "Python": [8]}},
               "meta.json's sizes: %s" % meta["sizes"])
        report = (latest / "report.md").read_text()
        expect("## The Python lane" in report and "the Python lanes (baseline:" in report, "report.md lacks the lane")

        argv[argv.index("--workloads") + 1] = "factorial-many"
        out = subprocess.run(argv + ["--no-python"], capture_output=True, text=True, timeout=600)
        expect(out.returncode == 0, "bench --no-python failed: %s" % out.stderr[-2000:])
        models = {r["model"] for r in runs_of(results)}
        expect(models == {"serial", "threads"}, "PYTHON=0 ran %s" % sorted(models))
        meta = json.loads((latest / "meta.json").read_text())
        expect("python_lane" not in meta["machine"] and meta["selection"]["python"] is False,
               "PYTHON=0's meta.json: %s" % meta["selection"])
        expect(not list((latest / "plots").glob("*gil*")), "PYTHON=0 drew a GIL figure")


def results_folder(folder, cpu, rows):
    """A results folder of summary.csv rows (study, model, workers, median, ci, (min, max)[, runs: 6 unless
    given]) and a meta.json."""
    folder.mkdir()
    summary.write_summary(folder / "summary.csv", [
        {"study": study, "workload": "matmul", "model": model, "n": 64, "workers": workers,
         "runs": (runs or [6])[0], "median": median, "ci_low": ci[0] if ci else None,
         "ci_high": ci[1] if ci else None, "min": spread[0], "max": spread[1], "speedup": 1.0,
         "link": clusters.LOCAL}
        for study, model, workers, median, ci, spread, *runs in rows])
    (folder / "meta.json").write_text(json.dumps({
        "preset": "quick", "repeats": 6, "warnings": [],
        "machine": {"cpu_model": cpu, "usable_cores": 2, "kernel": "Linux 6.1", "git_commit": "abc",
                    "load_before": [0.1, 0.1, 0.1],
                    "reference_lanes": {"matmul-blas": {"blas_core": "Haswell", "blas_choice": "detected"}}}}))
    return folder


# make bench's variables, which a check's make must not take from the environment it runs in.
BENCH_SETTINGS = ("PRESET", "WORKLOADS", "MODELS", "WORKERS", "SIZES", "REPEATS", "SEED", "CLUSTER", "RATE",
                  "FORCE", "RESUME", "RESULTS", "WITH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
# A sweep of two runs (a warm-up and one timed), as make bench's variables.
TINY_SWEEP = ["WORKLOADS=matmul", "MODELS=serial", "WORKERS=1", "SIZES=32", "REPEATS=1", "PYTHON=0", "SEED=7"]


def make_bench(*variables):
    """make bench with these variables, run in the checkout as a user would (-o all: the
    programs as built, nothing rebuilt); results/ must stay as it was: a sweep that went
    there is taken out again, and said."""
    results = ROOT / "results"
    before = set(results.iterdir())
    latest = os.readlink(results / "latest") if os.path.islink(results / "latest") else None
    env = {k: v for k, v in os.environ.items() if k not in BENCH_SETTINGS}
    out = subprocess.run(["make", "--no-print-directory", "-o", "all", "bench"] + list(variables), cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env=env)
    strays = sorted(set(results.iterdir()) - before - {results / "latest"})
    if os.path.islink(results / "latest") and os.readlink(results / "latest") != latest:
        strays.append(results / "latest")
        os.unlink(results / "latest")
        if latest:
            os.symlink(latest, results / "latest")
    for stray in strays:
        shutil.rmtree(stray, ignore_errors=True)
    expect(not strays, "make bench %s wrote into the checkout's results/: %s" % (" ".join(variables),
                                                                                [s.name for s in strays]))
    return out


def check_results_dir():
    """make bench RESULTS=DIR (a space in it): the sweep's folder and latest in DIR, none in results/;
    make plot RESULTS=DIR redraws DIR/latest; make bench RESUME=1 RESULTS=DIR goes on with that sweep."""
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "my results"
        out = make_bench("RESULTS=%s" % results, *TINY_SWEEP)
        expect(out.returncode == 0 and "results in %s/" % results in out.stderr,
               "make bench RESULTS=%r: exit %d, %r" % (str(results), out.returncode, out.stderr[-800:]))
        folders = [f for f in results.iterdir() if f.name != "latest"]
        expect(len(folders) == 1 and (results / "latest").resolve() == folders[0].resolve()
               and len(runs_of(results)) == 2, "RESULTS=%s holds %s" % (results, sorted(results.iterdir())))
        plot = subprocess.run(["make", "--no-print-directory", "plot", "RESULTS=%s" % results], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        expect(plot.returncode == 0 and "redrawn: %s/report.md" % folders[0] in plot.stderr,
               "make plot RESULTS=%r: exit %d, %r" % (str(results), plot.returncode, plot.stderr[-600:]))
        out = make_bench("RESUME=1", "RESULTS=%s" % results)
        expect(out.returncode == 0 and "nothing left to run" in out.stderr and len(list(results.iterdir())) == 2,
               "make bench RESUME=1 RESULTS=%r: exit %d, %r" % (str(results), out.returncode, out.stderr[-600:]))


def check_caches():
    """meta.json's caches: as sysfs lists cpu0's, or where it lists none (many VMs and containers), as
    sysconf reports them, which the matmul kernel sizes its blocks from (it said "unreadable" there)."""
    l1d = subprocess.run(["getconf", "LEVEL1_DCACHE_SIZE"], capture_output=True, text=True).stdout.strip()
    reported = {"L1d": "%dK" % (int(l1d) // 1024)} if l1d.isdigit() and int(l1d) > 0 else {}
    found = machine.caches()
    expect(found != machine.UNREADABLE or not reported, "caches unreadable where sysconf reports %s" % reported)
    with tempfile.TemporaryDirectory() as sysfs:
        index = Path(sysfs) / "index0"
        index.mkdir()
        for name, value in (("level", "1"), ("type", "Data"), ("size", "32K")):
            (index / name).write_text(value + "\n")
        expect(machine.caches(sysfs) == {"L1d": "32K"}, "sysfs's caches: %s" % machine.caches(sysfs))
        shutil.rmtree(index)
        found = machine.caches(sysfs)
        expect(found == machine.UNREADABLE if not reported else found.get("L1d") == reported["L1d"],
               "no caches in sysfs: %s, where sysconf reports %s" % (found, reported or "none"))


# A stand-in for matmul-serial whose runs take ALONE seconds, or TOGETHER where another runs at once: each run
# counts itself in the count file beside it; cores_together runs one alone, then two at once, so runs 1, 4, 7,
# ... are alone.
STAND_IN_TOGETHER = r"""#!/bin/sh
count_file=$(dirname "$0")/count
count=$(flock "$count_file" sh -c 'n=$(($(cat "$0" 2>/dev/null || echo 0) + 1)); echo $n >"$0"; echo $n' \
        "$count_file")
seconds=TOGETHER; [ $((count % 3)) = 1 ] && seconds=ALONE
for rep in 0 1 2 3; do echo "workload=matmul model=serial n=512 workers=1 rep=$rep seconds=$seconds"; done
"""


def check_cores_together():
    """make doctor's and the speed checks' probe of whether the usable cores compute independently: a run
    alone against one per core at once; slower together past TOGETHER_SLOWER said as the bound it puts on
    a speedup; no program, one core or a failed run: not measured."""
    with tempfile.TemporaryDirectory() as folder:
        bin_dir = Path(folder)
        stand_in = bin_dir / machine.TOGETHER_PROGRAM
        for alone, together, expected in (("0.10", "0.104", 1.04), ("0.10", "0.16", 1.6)):
            (bin_dir / "count").unlink(missing_ok=True)
            stand_in.write_text(STAND_IN_TOGETHER.replace("ALONE", alone).replace("TOGETHER", together))
            stand_in.chmod(0o755)
            ratio = machine.cores_together(2, bin_dir)
            expect(ratio is not None and abs(ratio - expected) < 1e-6, "%s s alone, %s s together: ratio %s" % (
                alone, together, ratio))
        said = machine.cores_together_said(1.04, 2)
        expect(said.endswith("independent"), "1.04x: %s" % said)
        said = machine.cores_together_said(1.6, 2)
        expect("not independent" in said and "can reach about 1.2x at best" in said, "1.6x: %s" % said)
        stand_in.write_text("#!/bin/sh\nexit 1\n")
        expect(machine.cores_together(2, bin_dir) is None, "a failed run measured")
        expect(machine.cores_together(1, bin_dir) is None, "one core measured")
        stand_in.unlink()
        expect(machine.cores_together(2, bin_dir) is None and machine.cores_together_said(None, 2) is None,
               "no program measured")


def check_page_faults():
    """make doctor's and the speed checks' figures for a page fault (build/faults): the three figures, each a
    positive number of its unit, said with what a MiB written copy-on-write costs; nothing to say where a
    figure is missing or not a number. make doctor's memory after a pause (--idle): its two figures, and
    whether the host takes memory back said from their ratio; a bad --idle, exit 2 and why."""
    found = machine.page_faults()
    figures = {key: found.get(key) for key in ("first_touch_us", "copy_on_write_us", "fork_exit_ms")}
    expect(all(re.fullmatch(r"\d+\.\d\d", value or "") and float(value) > 0 for value in figures.values()),
           "build/faults's figures: %s (all it printed: %s)" % (figures, found))
    said = machine.page_faults_said({"first_touch_us": "10.00", "copy_on_write_us": "15.00", "fork_exit_ms": "3.40"})
    expect(said is not None and said[0] == "10.0 us first touch, 15.0 us copy-on-write"
           and "first, 3.8 ms a MiB written copy-on-write" in said[1] and "fork + exit + wait 3.4 ms" in said[1],
           "10 us, 15 us, 3.4 ms said as %s" % (said,))
    for broken in ({}, {"first_touch_us": "10.00", "copy_on_write_us": "unknown", "fork_exit_ms": "3.40"}):
        expect(machine.page_faults_said(broken) is None, "%s said as %s" % (broken, machine.page_faults_said(broken)))
    # make doctor's memory after a pause: both figures measured where asked for, and what their ratio means
    found = machine.page_faults(1)
    expect(all(re.fullmatch(r"\d+\.\d{3}", found.get(key, "")) for key in ("fresh_ms_per_mib", "idle_ms_per_mib"))
           and found.get("idle_seconds") == "1", "build/faults --idle 1 printed %s" % found)
    taken = machine.idle_memory_said({"fresh_ms_per_mib": "0.060", "idle_ms_per_mib": "0.950", "idle_seconds": "3"})
    kept = machine.idle_memory_said({"fresh_ms_per_mib": "0.060", "idle_ms_per_mib": "0.070", "idle_seconds": "3"})
    expect(taken and taken[0] == "0.95 ms a MiB" and "16x the 0.06 ms a MiB" in taken[1]
           and "the host takes back" in taken[1], "0.95 ms after a pause, 0.06 ms right after a free: %s" % (taken,))
    expect(kept and kept[1].endswith("nothing taken back"), "0.07 ms after a pause, 0.06 ms right after: %s" % (kept,))
    expect(machine.idle_memory_said(found | {"idle_ms_per_mib": "-"}) is None
           and machine.idle_memory_said({}) is None, "memory after a pause said without its figures")
    for argv, wanted in ((["--idle", "0"], "want whole seconds from 1 to 60"), (["--idle"], "usage: faults"),
                         (["--idle", "2x"], "want whole seconds"), (["-x"], "usage: faults")):
        out = subprocess.run([str(ROOT / "build" / "faults")] + argv, capture_output=True, text=True, timeout=60)
        expect(out.returncode == 2 and wanted in out.stderr and not out.stdout,
               "build/faults %s: exit %d, %r" % (" ".join(argv), out.returncode, out.stderr + out.stdout))


def check_virtualized():
    """meta.json's virtualized: the hypervisor the kernel's log names is read from it, and given where
    systemd-detect-virt names another (a hypervisor that answers CPUID as bhyve does) or none; the same
    one named two ways (KVM, kvm) is not given twice."""
    log = "[    0.000000] DMI not present or invalid.\n[    0.000000] Hypervisor detected: PVM\n[    0.1] x\n"
    expect(machine.kernel_hypervisor(log) == "PVM", "the log's hypervisor read as %r" % machine.kernel_hypervisor(log))
    expect(machine.kernel_hypervisor("[    0.0] Linux version 6.1\n") is None, "a hypervisor read from no mention")
    said = machine.virtualized("NoSuchHypervisor")
    expect("NoSuchHypervisor" in said and said != "no", "the kernel's hypervisor left out: %r" % said)
    vm = machine.command_output(["systemd-detect-virt", "--vm"], "")
    if vm and vm != "none":
        said = machine.virtualized(vm.upper())
        expect(said.count(vm.upper()) == 0, "%s named twice: %r" % (vm, said))


def check_environment():
    """meta.json's environment: every variable that changes how the models run, the suite's own block sizes
    (MATMUL_KC: a sweep's matmul figures under it are another kernel's), Numba's and Dask's among them;
    none that does not."""
    told = {"MATMUL_KC": "16", "NUMBA_NUM_THREADS": "3", "DASK_DISTRIBUTED__WORKER__DAEMON": "False",
            "GOTO_NUM_THREADS": "2", "OMP_PROC_BIND": "true"}
    saved = dict(os.environ)
    try:
        os.environ.update(told, SUITE_CHECK_UNRELATED="1")
        recorded = machine.recorded_environment()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    missing = {k: v for k, v in told.items() if recorded.get(k) != v}
    expect(not missing, "meta.json's environment lacks %s: %s" % (missing, recorded))
    expect("SUITE_CHECK_UNRELATED" not in recorded, "meta.json's environment records an unrelated variable")


def check_git_commit():
    """meta.json's git_commit: this checkout's HEAD where it is a git work tree of its own; none
    (unreadable, as for a plain export) for an export of it that sits inside another repository's
    work tree, whose HEAD it had recorded."""
    def recorded(root):
        out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'tools'); "
                              "from harness import machine; print(machine.git_commit())"],
                             cwd=root, capture_output=True, text=True, timeout=60)
        expect(out.returncode == 0, "machine.git_commit() in %s: %s" % (root, out.stderr[-400:]))
        return out.stdout.strip()

    top = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode == 0 and Path(top.stdout.strip()).resolve() == ROOT.resolve():
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
        expect(recorded(ROOT).split("-dirty")[0] == head.stdout.strip(), "this checkout's commit: %s, HEAD %s"
               % (recorded(ROOT), head.stdout.strip()))
    with tempfile.TemporaryDirectory() as scratch:
        outer = Path(scratch) / "projects"
        outer.mkdir()
        git = ["git", "-C", str(outer), "-c", "user.name=check", "-c", "user.email=check@localhost"]
        (outer / "notes.txt").write_text("another repository\n")
        for step in (["init", "-q"], ["add", "notes.txt"], ["commit", "-q", "-m", "another repository"]):
            subprocess.run(git + step, capture_output=True, check=True)
        export = outer / "suite"
        for part in (("tools", "harness"), ("python", "common")):  # the harness's own, and the code it shares
            shutil.copytree(ROOT.joinpath(*part), export.joinpath(*part), ignore=shutil.ignore_patterns("__pycache__"))
        said = recorded(export)
        expect(said == machine.UNREADABLE, "an export inside another repository records commit %s" % said)


# ---- make: what bin/ is built with --------------------------------------------

# What make reads from the environment that would change the build in a copy
# (the check's makes give their own values, or none).
MAKE_SETTINGS = ("CC", "MPICC", "MPIRUN", "CFLAGS", "OMPFLAGS", "BLAS_LIBS", "PYTHON", "PYTHON_LANE", "CI",
                 "FLAVOR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
# What the rebuild check builds in its copy: one program and every object it is made of.
REBUILT = "bin/matmul-serial"
# The package managers' databases the Makefile watches (PACKAGE_DATABASES) while something is missing.
PACKAGE_DATABASES = ("/var/lib/dpkg/status", "/var/lib/rpm/Packages", "/var/lib/rpm/rpmdb.sqlite")


def checkout_copy(folder):
    """The files git tracks (or would: new ones not ignored), and build/config.mk: a checkout
    to build in, as configured here."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in listed + ["build/config.mk"]:
        if name and (ROOT / name).exists():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name, follow_symlinks=False)
    return folder


def compiled(out):
    """The files a make's output says it compiled or linked (each command's -o)."""
    words = [line.split() for line in out.stdout.splitlines()]
    return {line[line.index("-o") + 1] for line in words if "-o" in line[:-1]}


def check_rebuild():
    """make in a copy of the checkout: a changed CFLAGS rebuilds every object of a program with it, said,
    and the same make again rebuilds nothing; an interpreter configure found that is gone, or a package
    installed since configure missed something, makes it look again, rebuilding nothing when the build is
    the same; another CC looks again and rebuilds everything with it; meta.json's build and compiler are
    build/flags', what bin/ was built with."""
    other_cc = "clang" if shutil.which("clang") else "gcc"
    env = {k: v for k, v in os.environ.items() if k not in MAKE_SETTINGS}
    with tempfile.TemporaryDirectory() as scratch:
        copy = checkout_copy(Path(scratch))
        config, flags = copy / "build" / "config.mk", copy / "build" / "flags"
        # What configure finds now: the checkout's build/config.mk may have been written before a package
        # came or in another environment (without pkg-config's flags for OpenBLAS, say), and then looking
        # again below would rightly rebuild everything.
        subprocess.run(["make", "--no-print-directory", "NO_INSTALL=1", "config"], cwd=copy, capture_output=True,
                       timeout=600, env=env, check=True)

        def make(*settings):
            out = subprocess.run(["make", "--no-print-directory", "-j2", "NO_INSTALL=1"] + list(settings) + [REBUILT],
                                 cwd=copy, capture_output=True, text=True, timeout=600, env=env)
            expect(out.returncode == 0, "make %s: exit %d: %s" % (" ".join(settings), out.returncode,
                                                                 out.stderr[-600:]))
            return out

        def configured(*settings):
            """Whether a make looked again (rewrote build/config.mk), and the make."""
            before = config.stat().st_mtime_ns
            out = make(*settings)
            return config.stat().st_mtime_ns != before, out

        first = compiled(make("CFLAGS=-O0"))
        expect(REBUILT in first and "build/matmul.o" in first, "make built %s" % sorted(first))
        looked, same = configured("CFLAGS=-O0")
        expect(not looked and not compiled(same), "make again, nothing changed: configure ran %s, built %s"
               % (looked, sorted(compiled(same))))
        changed = make("CFLAGS=-O1")
        expect(compiled(changed) >= first and all(" -O1 " in line + " " for line in changed.stdout.splitlines()
                                                    if " -o " in line),
               "CFLAGS=-O1 rebuilt %s of %s:\n%s" % (sorted(compiled(changed)), sorted(first), changed.stdout[-800:]))
        expect("the build changed" in changed.stderr and "CFLAGS=-O1" in changed.stderr,
               "CFLAGS=-O1 rebuilt without saying why: %r" % changed.stderr[-400:])
        expect("CFLAGS=-O1" in flags.read_text().splitlines(), "build/flags:\n%s" % flags.read_text())
        expect(not compiled(make("CFLAGS=-O1")), "make CFLAGS=-O1 a second time rebuilt something")

        config.write_text(re.sub(r"(?m)^PYTHON := .*$", "PYTHON := /nonexistent/python3", config.read_text()))
        looked, out = configured("CFLAGS=-O1")
        expect(looked and "/nonexistent/" not in config.read_text() and not compiled(out),
               "the interpreter configure found is gone: configure ran %s, built %s" % (looked, sorted(compiled(out))))

        config.write_text(re.sub(r"(?m)^CONFIG_COMPLETE := .*$", "CONFIG_COMPLETE := no", config.read_text()))
        os.utime(copy / "tools" / "configure.sh", (1e9, 1e9))  # 2001: older than any package database
        looked, _ = configured("CFLAGS=-O1")
        expect(not looked, "something missing, nothing installed since: configure ran again")
        database = next((Path(p) for p in PACKAGE_DATABASES if Path(p).exists()), None)
        if database:  # as though a package had been installed after configure ran
            before = database.stat().st_mtime - 60
            os.utime(config, (before, before))
            looked, _ = configured("CFLAGS=-O1")
            expect(looked, "something missing and %s changed since: configure did not look again" % database)

        looked, out = configured("CC=" + other_cc, "CFLAGS=-O1")
        expect(looked and "CONFIGURED_SIG := %s|" % other_cc in config.read_text(),
               "CC=%s: configure did not look again:\n%s" % (other_cc, config.read_text()[:300]))
        lines = [line for line in out.stdout.splitlines() if " -o " in line and not line.startswith("ar ")]
        expect(compiled(out) >= first and all(line.startswith(other_cc + " ") for line in lines),
               "CC=%s rebuilt %s of %s:\n%s" % (other_cc, sorted(compiled(out)), sorted(first), out.stdout[-800:]))
        if other_cc == "clang":
            comment = subprocess.run(["readelf", "-p", ".comment", str(copy / REBUILT)], capture_output=True,
                                     text=True).stdout
            expect("clang version" in comment, "%s's .comment: %s" % (REBUILT, comment))
        looked, again = configured("CC=" + other_cc, "CFLAGS=-O1")
        expect(not looked and not compiled(again), "make CC=%s again: configure ran %s, built %s"
               % (other_cc, looked, sorted(compiled(again))))

        described = subprocess.run(
            [sys.executable, "-c", "import json, sys; sys.path.insert(0, 'tools'); from harness import machine; "
             "info = machine.describe({'CC': 'env-cc', 'CFLAGS': '-Oenv'}); "
             "print(json.dumps([info['compiler'], info['build'], info['build_flags']]))"],
            cwd=copy, capture_output=True, text=True, timeout=120, env=dict(env, CC="env-cc", CFLAGS="-Oenv"))
        expect(described.returncode == 0, "machine.describe: %s" % described.stderr[-400:])
        compiler, build, recorded = json.loads(described.stdout)
        version = subprocess.run([other_cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        expect(build == {"CC": other_cc, "CFLAGS": "-O1", "OMPFLAGS": "-fopenmp", "MPICC": "mpicc"}
               and compiler == [version] and recorded.get("CC_VERSION") == version,
               "meta.json would record build %s, compiler %s (built with %s -O1, %s)"
               % (build, compiler, other_cc, version))


# A C compiler that has no -march (gcc on POWER: it takes -mcpu=native instead): cc, refusing -march=.
NO_MARCH_CC = """#!/bin/sh
for argument; do
    case $argument in -march=*) echo "cc: error: unrecognized command-line option '$argument'" >&2; exit 1;; esac
done
exec cc "$@"
"""


def check_native_flag():
    """make with the default CFLAGS and a compiler that has no -march=native (gcc on POWER) builds:
    configure finds the flag it takes instead, or none, and build/flags records it."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_SETTINGS}
    with tempfile.TemporaryDirectory() as scratch:
        copy = checkout_copy(Path(scratch) / "checkout")
        compiler = Path(scratch) / "no-march-cc"
        compiler.write_text(NO_MARCH_CC)
        compiler.chmod(0o755)
        out = subprocess.run(["make", "--no-print-directory", "-j2", "NO_INSTALL=1", "CC=%s" % compiler, REBUILT],
                             cwd=copy, capture_output=True, text=True, timeout=600, env=env)
        expect(out.returncode == 0, "make CC=%s: exit %d: %s" % (compiler.name, out.returncode, out.stderr[-600:]))
        flags = (copy / "build" / "flags").read_text().splitlines() if (copy / "build" / "flags").exists() else []
        cflags = next((line for line in flags if line.startswith("CFLAGS=")), "no CFLAGS= line")
        expect(cflags.startswith("CFLAGS=-O3") and "-march=" not in cflags,
               "build/flags records %r for a compiler without -march" % cflags)


def check_compare():
    """make compare's tool: what differs between two sweeps' machines (an uncommitted edit too), and a verdict
    per configuration both ran that says faster or slower only beyond both intervals; bad folders refused
    with status 2."""
    tool = ROOT / "tools" / "harness" / "compare.py"
    with tempfile.TemporaryDirectory() as scratch:
        here = results_folder(Path(scratch) / "here", "Intel Xeon", [
            ("matmul", "serial", 1, 1.0, (0.9, 1.1), (0.8, 1.2)),      # apart from 2.0's interval: faster
            ("matmul", "threads", 2, 1.0, (0.9, 1.1), (0.8, 1.2)),     # overlapping: no clear difference
            ("matmul", "openmp", 2, 3.0, None, (2.9, 3.1)),             # no interval: the ranges decide
            ("matmul", "processes", 2, 1.0, None, (1.0, 1.0), 1),        # one run each: a point, no range
            ("matmul", "blas", 2, 1.0, None, (0.9, 1.1), 2),             # two runs each: ranges apart by chance
            ("matmul", "threads", 4, None, None, (None, None), 0),      # every run failed here (not "only there")
            ("matmul", "mpi", 2, 1.0, (0.9, 1.1), (0.8, 1.2))])         # only here
        other = results_folder(Path(scratch) / "other", "AMD EPYC", [
            ("matmul", "serial", 1, 2.0, (1.9, 2.1), (1.8, 2.2)),
            ("matmul", "threads", 2, 1.05, (1.0, 1.2), (0.9, 1.3)),
            ("matmul", "openmp", 2, 1.0, None, (0.9, 1.1)),
            ("matmul", "processes", 2, 2.0, None, (2.0, 2.0), 1),
            ("matmul", "blas", 2, 2.0, None, (1.9, 2.1), 2),
            ("matmul", "threads", 4, 0.5, (0.4, 0.6), (0.3, 0.7))])

        def compare(*folders):
            return subprocess.run([sys.executable, str(tool)] + [str(f) for f in folders], capture_output=True,
                                  text=True, timeout=60)

        out = compare(here, other)
        expect(out.returncode == 0, "compare exited %d: %s" % (out.returncode, out.stderr[-500:]))
        lines = out.stdout.splitlines()
        expect(any(line.startswith("| CPU | Intel Xeon | AMD EPYC |") for line in lines),
               "the CPUs' difference not said:\n%s" % out.stdout)
        expect(not any(line.startswith(("| kernel |", "| usable cores |", "| reference lanes |")) for line in lines),
               "a field both sweeps share said as a difference:\n%s" % out.stdout)
        verdicts = {line.split(" | ")[2] + (" P=4" if line.split(" | ")[3] == "4" else ""): line.split(" | ")[7]
                    for line in lines if line.startswith("| matmul | 64 |")}
        expect(verdicts == {"serial": "faster", "threads": "no clear difference",
                            "openmp": "slower (runs' ranges apart; under 6 runs)",
                            "processes": "no clear difference (1 and 1 runs: too few to tell)",
                            "blas": "no clear difference (2 and 2 runs: too few to tell)",
                            "threads P=4": "every run failed here"},
               "verdicts %s, expected faster, no clear difference, slower on the ranges, too few runs to tell "
               "twice, every run failed here" % verdicts)
        expect("faster in 1, slower in 1, no clear difference in 3, every run failed here in 1; "
               "1 configurations only here, 0 only in"
               in out.stdout, "the counts are wrong:\n%s" % out.stdout[-400:])
        same = compare(here, here)
        expect(same.returncode == 0 and "Nothing recorded" in same.stdout
               and "no clear difference in 6, every run failed in both in 1;"
               in same.stdout, "a sweep against itself: %s" % same.stdout[-600:])
        # the same machine before an edit and after it, uncommitted: the same commit, -dirty after, and the
        # programs built from the edited code named (meta.json's programs); it said "Nothing recorded"
        commit = "0123456789abcdef0123456789abcdef01234567"
        for name, state, digest in (("before", commit, "1111"), ("after", commit + "-dirty", "2222")):
            shutil.copytree(here, Path(scratch) / name)
            meta = json.loads((Path(scratch) / name / "meta.json").read_text())
            meta["machine"]["git_commit"] = state
            meta["programs"] = {"matmul-serial": "abcd", "matmul-threads": digest}
            (Path(scratch) / name / "meta.json").write_text(json.dumps(meta))
        edited = compare(Path(scratch) / "after", Path(scratch) / "before")
        expect(edited.returncode == 0 and "| commit | 0123456789ab-dirty | 0123456789ab |" in edited.stdout
               and "| programs built from other code | matmul-threads |" in edited.stdout,
               "a sweep after an uncommitted edit against one before it: %s" % edited.stdout[:900])
        # make compare passes RESULTS= and WITH= whole to the tool: a space and a quote in them too.
        spaced, other_spaced = Path(scratch) / "my sweep's copy", Path(scratch) / "the other one"
        shutil.copytree(here, spaced)
        shutil.copytree(other, other_spaced)
        made = subprocess.run(["make", "--no-print-directory", "compare", "RESULTS=%s" % spaced,
                               "WITH=%s" % other_spaced], cwd=ROOT, capture_output=True, text=True, timeout=120)
        expect(made.returncode == 0 and "| CPU | Intel Xeon | AMD EPYC |" in made.stdout,
               "make compare RESULTS=%r WITH=%r: exit %d, %r" % (str(spaced), str(other_spaced), made.returncode,
                                                                 (made.stderr or made.stdout)[-600:]))
        cut = results_folder(Path(scratch) / "cut", "AMD EPYC", [("matmul", "serial", 1, 2.0, None, (1.8, 2.2))])
        (cut / "summary.csv").write_text((cut / "summary.csv").read_text()[:-40])
        unlike = results_folder(Path(scratch) / "unlike", "AMD EPYC", [("matmul", "serial", 1, 2.0, None, (1, 3))])
        (unlike / "meta.json").write_text("[]")
        # a sweep cut short (Ctrl-C, scancel, a batch job's time limit): runs.csv, meta.json, no summary.csv yet
        stopped = results_folder(Path(scratch) / "stopped", "AMD EPYC", [("matmul", "serial", 1, 2.0, None, (1, 3))])
        (stopped / "summary.csv").rename(stopped / "runs.csv")
        meta = json.loads((stopped / "meta.json").read_text())
        (stopped / "meta.json").write_text(json.dumps(dict(meta, interrupted="2026-01-01T00:00:00")))
        for folder, said in ((Path(scratch) / "nowhere", "no such folder"),
                             (Path(scratch), "is not a results folder: it has no summary.csv"),
                             (cut, "summary.csv line 2 has"), (unlike, "meta.json is not a sweep's record"),
                             (stopped, "%s is a sweep that was interrupted before its summary: make bench RESUME=1 "
                                       "finishes it, make plot RESULTS=%s summarises the runs it has"
                              % (stopped, stopped))):
            bad = compare(here, folder)
            expect(bad.returncode == 2 and said in bad.stderr and "Traceback" not in bad.stderr
                   and bad.stdout == "", "compare with %s: exit %d, %r" % (folder, bad.returncode, bad.stderr))
    unsaid = subprocess.run(["make", "--no-print-directory", "compare"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    expect(unsaid.returncode == 2 and "WITH=results/reference/" in unsaid.stderr,
           "make compare without WITH=: exit %d, %r" % (unsaid.returncode, unsaid.stderr[-300:]))


def check_record():
    """make bench-*'s records (harness/record.py): what the check printed, headed by the machine and ended by
    how it ended, with the machine's JSON beside it; none for a check that printed nothing."""
    from harness import record

    def recorded(main):
        """(exit status or the SystemExit, the record's text, the machine's JSON) of main run recorded."""
        before = set(record.SPEED_FOLDER.glob("*"))
        try:
            status = record.run_recorded("bench-check", main)
        except SystemExit as e:
            status = e
        made = sorted(set(record.SPEED_FOLDER.glob("*")) - before)
        text = next((p.read_text() for p in made if p.suffix == ".txt"), None)
        info = next((json.loads(p.read_text()) for p in made if p.suffix == ".json"), None)
        return status, text, info, made

    def broken():
        print("figure 2")
        sys.exit("the check broke")

    with tempfile.TemporaryDirectory() as scratch:
        record.SPEED_FOLDER = Path(scratch) / "speed"
        status, text, info, made = recorded(lambda: print("figure 1") or 0)
        expect(status == 0 and len(made) == 2, "a finished check: status %r, files %s" % (status, made))
        lines = text.splitlines()
        expect(lines[0].startswith("# make bench-check (") and lines[1].startswith("# CPU: ")
               and lines[2].startswith("# commit ") and "figure 1" in lines and lines[-1].startswith("# finished, "),
               "the record of a finished check:\n%s" % text)
        expect(info and info.get("cpu_model") and "usable_cores" in info and "reference_lanes" in info,
               "the machine's JSON: %s" % (sorted(info) if info else info))
        status, text, _, _ = recorded(broken)
        expect(isinstance(status, SystemExit) and "figure 2" in text
               and text.splitlines()[-1].startswith("# ended: the check broke, "),
               "the record of a check that broke:\n%s" % text)
        status, text, _, made = recorded(lambda: sys.exit("not built: matmul-blas"))
        expect(isinstance(status, SystemExit) and not made, "a check that printed nothing left %s" % made)

        def interrupted():
            print("figure 3")
            raise KeyboardInterrupt

        status, text, _, _ = recorded(interrupted)   # Ctrl-C: exit status 130, no traceback, kept
        expect(status == 130 and "figure 3" in text and text.splitlines()[-1].startswith("# interrupted (Ctrl-C), "),
               "a check interrupted: status %r, the record:\n%s" % (status, text))

        # A folder that stops taking data part way (ulimit -f standing in for a full disk), or from the start:
        # the check runs on, its figures on the terminal, said, and no record cut short is left.
        def many_figures():
            for line in range(RECORD_LINES):
                print("figure %d" % line)
            return 0

        for limit, said in ((8 << 10, "cannot keep the record in"), (1 << 10, "cannot keep a record in")):
            before = resource.getrlimit(resource.RLIMIT_FSIZE)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, before[1]))
            stderr = io.StringIO()
            try:
                with contextlib.redirect_stdout(io.StringIO()) as stdout, contextlib.redirect_stderr(stderr):
                    status, _, _, made = recorded(many_figures)
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, before)
            expect(status == 0 and not made and said in stderr.getvalue() and
                   stdout.getvalue().count("figure") == RECORD_LINES,
                   "past ulimit -f %d: status %r, files %s, said %r" % (limit, status, made, stderr.getvalue()))


# Run by each interpreter the build compiled the suite's Python sources with: of the files given,
# those it has no current bytecode for (none in __pycache__, another interpreter version's, or one
# compiled from an older source), as importlib would judge them.
STALE_BYTECODE = r"""
import importlib.util, os, sys
stale = []
for source in sys.argv[1:]:
    try:
        with open(importlib.util.cache_from_source(source), "rb") as f:
            head = f.read(16)
        with open(source, "rb") as f:
            text = f.read()
    except OSError:
        stale.append(source)
        continue
    flags, info = int.from_bytes(head[4:8], "little"), os.stat(source)
    if flags & 1:   # hash-based (compileall under SOURCE_DATE_EPOCH)
        current = head[8:16] == importlib.util.source_hash(text)
    else:
        current = (int.from_bytes(head[8:12], "little") == int(info.st_mtime) & 0xFFFFFFFF
                   and int.from_bytes(head[12:16], "little") == info.st_size & 0xFFFFFFFF)
    if head[:4] != importlib.util.MAGIC_NUMBER or not current:
        stale.append(source)
print("\n".join(stale))
"""


def check_bytecode():
    """make compiled the suite's Python sources (the lane's, the harness's, the tests') with each interpreter
    that runs them, PYTHON and PYTHON_LANE: each has current bytecode for every one of them, so none compiles
    them again at every start where PYTHONDONTWRITEBYTECODE is set. A source with none is said to have none."""
    config = (ROOT / "build" / "config.mk").read_text()
    interpreters = sorted({m.group(2) for m in re.finditer(r"(?m)^(PYTHON|PYTHON_LANE) := (\S+)$", config)})
    expect(interpreters, "build/config.mk names no PYTHON or PYTHON_LANE")
    sources = sorted(str(p) for pattern in ("python/*/*.py", "tools/*.py", "tools/*/*.py", "tests/*.py")
                     for p in ROOT.glob(pattern))
    with tempfile.TemporaryDirectory() as scratch:
        never_compiled = Path(scratch) / "never_compiled.py"
        never_compiled.write_text("print('never compiled')\n")
        for interpreter in interpreters:
            out = subprocess.run([interpreter, "-c", STALE_BYTECODE] + sources + [str(never_compiled)],
                                 capture_output=True, text=True, timeout=120)
            stale = out.stdout.split()
            expect(out.returncode == 0, "%s: exit %d: %s" % (interpreter, out.returncode, out.stderr[-400:]))
            expect(stale == [str(never_compiled)], "%s has no current bytecode for %s" % (
                interpreter, ", ".join(str(Path(s).relative_to(ROOT)) if s.startswith(str(ROOT)) else s
                                       for s in stale) or "nothing, not even a file never compiled"))


CHECKS = {"stats": check_stats, "summary": check_summary, "programs": check_programs, "plan": check_plan,
          "fileserver": check_fileserver, "runner": check_runner, "runner_mpi": check_runner_mpi,
          "sweep": check_sweep, "failing": check_failing, "resume": check_resume,
          "resume_elsewhere": check_resume_elsewhere,
          "python": check_python, "cluster": check_cluster, "compare": check_compare, "record": check_record,
          "unwritable": check_unwritable, "rebuild": check_rebuild, "native_flag": check_native_flag,
          "bytecode": check_bytecode,
          "results_dir": check_results_dir,
          "same_second": check_same_second, "git_commit": check_git_commit,
          "broken": check_broken, "interrupt_early": check_interrupt_early, "gnuplot_fails": check_gnuplot_fails,
          "no_plotters": check_no_plotters,
          "no_baseline": check_no_baseline, "coarse_timer": check_coarse_timer,
          "caches": check_caches, "cores_together": check_cores_together, "page_faults": check_page_faults,
          "environment": check_environment, "virtualized": check_virtualized,
          "many_cores": check_many_cores,
          "cores_shading": check_cores_shading, "hangup": check_hangup, "killed": check_killed,
          "speed_stopped": check_speed_stopped, "quota_peak": check_quota_peak, "no_one_worker": check_no_one_worker,
          "amdahl_curves": check_amdahl_curves, "log_axis": check_log_axis,
          "python_no_baseline": check_python_no_baseline, "gil_cores_label": check_gil_cores_label,
          "python_no_self": check_python_no_self, "own_models": check_own_models,
          "python_targets": check_python_targets, "factorial_rounds": check_factorial_rounds}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit("usage: harness_checks.py %s" % "|".join(CHECKS))
    try:
        CHECKS[sys.argv[1]]()
    except CheckFailed as e:
        print("harness check %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
