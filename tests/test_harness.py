"""tests/test_harness.py — the benchmark harness: statistics, shared layer, sweeps, failures, resuming, Python, clusters."""
import os
import re
import shutil
import subprocess
import sys

from suite import ROOT, Case, needs_mpirun, program, stderr_lacks, stderr_says, stdout_empty, stdout_says

sys.path.insert(0, str(ROOT / "tests"))
from harness_checks import PYTHON_SWEEP  # noqa: E402

CHECKS = ROOT / "tests" / "harness_checks.py"
# sh -c COMMAND run in this checkout made read-only (a private mount namespace: a bind mount of it, read-only),
# as root or not (a user namespace of this user's).
READ_ONLY_CHECKOUT = (["unshare", "--mount"] if os.geteuid() == 0 else
                      ["unshare", "--user", "--map-root-user", "--mount"]) + [
    "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && cd "$0" && eval "$1"', ROOT]

# A line that names every package of Open MPI, GMP, OpenBLAS and libFuzzer (whatever else this
# machine lacks beside them), as a regular expression.
MISSING_ON_ONE_LINE = "".join(r"(?=[\w .+-]*\b%s\b)" % re.escape(package) for package in (
    "openmpi-bin", "libopenmpi-dev", "libgmp-dev", "libopenblas-dev", "clang", "libclang-rt-14-dev"))

# sh: $out/shims/python3, a script that execs an interpreter (%s: a word of sh that makes the words that run it),
# as a pyenv shim does.
SHIM = 'printf \'#!/bin/sh\\nexec %%s "$@"\\n\' %s > "$out/shims/python3" && chmod +x "$out/shims/python3"'
# sh: modules the shim's PYTHONPATH shows that the interpreter run directly does not: a matplotlib that imports
# and a numpy that does not. Python with or without matplotlib and numpy answers configure's probe
# otherwise (matplotlib needs numpy), so configure records the shim, not what it execs.
OTHER_MODULES = 'touch "$out/modules/matplotlib.py" && echo "raise ImportError" > "$out/modules/numpy.py"'


def stderr_matches(pattern):
    """Check: stderr matches a regular expression somewhere."""
    def check(outcome):
        return None if re.search(pattern, outcome.stderr) else "stderr does not match %r" % pattern
    return check


def shares_of_one_core(outcome):
    """Check: make bench-matmul on one usable CPU says so, and each lane's share of the peak, P = 2 too, is of
    that one core's (its GFLOP/s over one core's peak), not of P cores' the CPU does not give it."""
    peak = re.search(r"(?m)^one core's peak: ([\d.]+) GFLOP/s", outcome.stdout)
    if not peak:
        return "no peak measured (build/peak) to take a share of"
    if not re.search(r"(?m)^usable here: 1 CPU \(tools/cores\)", outcome.stdout):
        return "stdout does not say 'usable here: 1 CPU'"
    rows = re.findall(r"(?m)^(\S+) +(\d+) +[\d.]+ +([\d.]+) +(\d+)%$", outcome.stdout)
    wrong = [row for row in rows if abs(int(row[3]) - 100 * float(row[2]) / float(peak.group(1))) > 1]
    if not any(row[1] == "2" for row in rows) or wrong:
        return "shares not of one core's peak (%s GFLOP/s): %s" % (peak.group(1), wrong or rows)
    return None


def read_only_unavailable():
    """needs= of a case run in READ_ONLY_CHECKOUT: nothing where this user can make a mount namespace,
    else why not (not root, and no unprivileged user namespaces: a container's seccomp profile, a
    kernel or sysctl that forbids them), so the case is skipped saying so rather than failed."""
    try:
        probe = subprocess.run(READ_ONLY_CHECKOUT[:READ_ONLY_CHECKOUT.index("sh")] + ["true"], capture_output=True,
                               text=True, stdin=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return ["(no read-only view of the checkout can be made here: %s)" % e]
    return [] if probe.returncode == 0 else [
        "(no read-only view of the checkout can be made here: %s)" % (probe.stderr.strip() or "unshare failed")]


def cases():
    """Each check of tests/harness_checks.py, in its own process."""
    needs = [program("matmul-serial"), program("matmul-threads")]
    return [
        Case("harness statistics: median, CI ranks, Karp-Flatt, Amdahl fit against known values",
             [sys.executable, CHECKS, "stats"]),
        Case("harness summary: speedup against the best serial code (a Python lane's: either language, labelled), "
             "failures kept out", [sys.executable, CHECKS, "summary"]),
        Case("harness programs.py: names (the Python lane's too), launch lines, result lines, discovery",
             [sys.executable, CHECKS, "programs"]),
        Case("harness plan: the Python lane sampled in quick, whole in PRESET=python or when MODELS names it, "
             "out with PYTHON=0, its sizes with the C serial code and threads beside it; a parallel program WORKERS= "
             "leaves no count for left out",
             [sys.executable, CHECKS, "plan"]),
        Case("harness programs.py: the file server fixture serves content.py's files; a non-server is refused",
             [sys.executable, CHECKS, "fileserver"], needs=[program("fileserver")]),
        Case("harness runner.py: exit codes, output, a timed-out run's whole group killed, a Ctrl-C at any "
             "moment of a run (around fork() too) raised without waiting for the run, nothing left running",
             [sys.executable, CHECKS, "runner"]),
        Case("harness runner.py: an MPI run stopped at its time limit gets SIGTERM first, so mpirun ends its "
             "ranks and removes its session folder and shared-memory files; nothing of it left",
             [sys.executable, CHECKS, "runner_mpi"], needs=[program("factorial-mpi")] + needs_mpirun()),
        Case("harness compare.py (make compare): what differs between two sweeps' machines (an uncommitted edit: "
             "-dirty, the programs built from other code); faster or slower "
             "only beyond both intervals (the runs' ranges under 6 runs, never on 1 or 2 runs); every run failed "
             "in one said, not 'only in the other'; a folder that is not a sweep refused, exit 2; RESULTS= and "
             "WITH= with a space and a quote", [sys.executable, CHECKS, "compare"]),
        Case("harness record.py (make bench-*): a speed check's figures kept under results/speed/, headed by its "
             "machine, ended by how it ended; none for a check that printed nothing; on a full disk the check runs on, "
             "said, and no record cut short is left",
             [sys.executable, CHECKS, "record"]),
        Case("harness make (in a copy of the checkout): a changed CFLAGS or CC rebuilds every object with it, "
             "said, and the same make again rebuilds nothing; configure looks again for another CC, an interpreter "
             "it found gone, a package installed while something was missing; meta.json records build/flags",
             [sys.executable, CHECKS, "rebuild"], needs=[ROOT / "build" / "config.mk"], timeout=400),
        Case("harness make compiled the Python sources (python/, tools/, tests/) with PYTHON and PYTHON_LANE: each "
             "has current bytecode for every one, and a source never compiled is said to have none",
             [sys.executable, CHECKS, "bytecode"], needs=[ROOT / "build" / "config.mk"]),
        Case("harness make with the default CFLAGS and a compiler that has no -march=native (gcc on POWER) "
             "builds: configure finds the flag it takes instead (-mcpu=native), or none",
             [sys.executable, CHECKS, "native_flag"], needs=[ROOT / "build" / "config.mk"], timeout=300),
        Case("harness make bench RESULTS=DIR (a space in it): the sweep in DIR, not in results/; make plot "
             "RESULTS=DIR redraws DIR/latest; RESUME=1 RESULTS=DIR goes on with it",
             [sys.executable, CHECKS, "results_dir"], needs=[program("matmul-serial")], timeout=300),
        Case("harness make doctor's and the speed checks' probe of the cores: one compute-bound run alone against "
             "one per usable core at once, the bound a slowdown puts on a speedup said; not measured without "
             "matmul-serial or a second core", [sys.executable, CHECKS, "cores_together"]),
        Case("harness make bench-python's verdicts: each target's lane runs beside py-serial in every round, its "
             "speedup the median of the rounds' own ratios; a target missed only by the workers' start and end (the "
             "pool's) says so beside NOT met; one missed either way, NOT met alone",
             [sys.executable, CHECKS, "python_targets"]),
        Case("harness make bench-factorial's self-speedups at P = 2: each round runs a lane's P = 1 and P = 2 one "
             "after the other; the median of the rounds' ratios and its verdict, and beside it the lowest and "
             "highest", [sys.executable, CHECKS, "factorial_rounds"]),
        Case("harness make doctor's and the speed checks' page faults (build/faults): a first touch, a "
             "copy-on-write and a fork + exit, each a positive figure, and what a MiB of copy-on-write costs; "
             "nothing said where a figure is missing; memory after a pause (--idle), whether the host takes "
             "memory back said from it; a bad --idle, exit 2", [sys.executable, CHECKS, "page_faults"],
             needs=[ROOT / "build" / "faults"]),
        Case("harness meta.json's virtualized: the hypervisor the kernel's log names, where systemd-detect-virt "
             "names another or none", [sys.executable, CHECKS, "virtualized"]),
        Case("harness meta.json's caches: sysfs's, or where sysfs lists none (a VM, a container) sysconf's, "
             "as the matmul kernel reads them, not 'unreadable'", [sys.executable, CHECKS, "caches"]),
        Case("harness meta.json's environment records what changes the models' runs: the blocked kernel's "
             "MATMUL_KC (a sweep tuned by it recorded no trace of it), Numba's, Dask's, GOTO_NUM_THREADS",
             [sys.executable, CHECKS, "environment"]),
        Case("harness meta.json's git_commit: the checkout's HEAD; none for an export inside another "
             "repository's work tree (it recorded that repository's HEAD)", [sys.executable, CHECKS, "git_commit"]),
        *bad_variables(),
        *workers_offered(),
        Case("harness tiny sweep: configurations x repeats rows, summary, meta, PNGs; WORKERS= past the only "
             "program's limit: nothing to run, exit 1; make plot RESULTS= of a path with a space and a quote",
             [sys.executable, CHECKS, "sweep"], needs=needs, timeout=300),
        Case("harness records a failing variant instead of dropping it; WORKLOADS=matmul asks no other "
             "workload's program to describe itself",
             [sys.executable, CHECKS, "failing"], needs=needs, timeout=300),
        Case("harness a serial code that failed every run: the speedups it leaves unmeasured are left out of "
             "the plots (gnuplot and matplotlib), whose titles say why, not drawn flat at 0",
             [sys.executable, CHECKS, "no_baseline"], needs=[program("matmul-threads")], timeout=300),
        Case("harness runs under 1000 clock ticks warned of in meta.json and report.md, by the sweep and again "
             "by make plot", [sys.executable, CHECKS, "coarse_timer"], timeout=300),
        Case("harness matplotlib's figures of workers 1 to 4 on 64 usable cores: the x axis spans the workers, "
             "its label names the cores (a line at 64 squeezed every run against the left edge)",
             [sys.executable, CHECKS, "many_cores"]),
        Case("harness matplotlib's peak line under a cgroup quota of 1.5 CPUs on 2 usable cores: 1.5 cores' "
             "peak at 2 workers, not 2", [sys.executable, CHECKS, "quota_peak"]),
        Case("harness gnuplot's plots shade the workers past the usable cores only where a run had more "
             "(workers 1, 2, 4 on 4 cores: no sliver beside no run, its words off the plot)",
             [sys.executable, CHECKS, "cores_shading"]),
        Case("harness a sweep with no run at one worker (WORKERS=2,4): the GIL figure and cpu-vs-io.png, which have "
             "no self speedup to draw, are left out and report.md says why, not drawn empty under a key of lines; "
             "the GIL figure of Python lanes that failed every run too",
             [sys.executable, CHECKS, "no_one_worker"]),
        Case("harness report.png (matplotlib) draws each model's fitted Amdahl curve and its serial fraction in the "
             "key, as gnuplot's speedup plots do", [sys.executable, CHECKS, "amdahl_curves"]),
        Case("harness the download study's log2 axis of workers says 'log scale' in every plot of it, gnuplot's and "
             "matplotlib's; a CPU-bound study's linear one does not", [sys.executable, CHECKS, "log_axis"]),
        Case("harness the Python plots where no serial code ran (MODELS=py-threading): their titles say why there is "
             "no speedup, as the C plots' do, not 'speedup against n/a'",
             [sys.executable, CHECKS, "python_no_baseline"]),
        Case("harness gnuplot's GIL figure says its shade past the usable cores halfway up, clear of the flat "
             "CPU-bound lines along its foot", [sys.executable, CHECKS, "gil_cores_label"]),
        Case("harness the Python plots with no run at one worker (WORKERS=2,4): their empty panel of self speedups "
             "says why, in gnuplot's and matplotlib's title", [sys.executable, CHECKS, "python_no_self"]),
        Case("harness models the colour table does not name (a Python lane of one's own, python/<model>/) get "
             "colours of their own, apart from each other and the named ones, not one grey",
             [sys.executable, CHECKS, "own_models"]),
        Case("harness make bench and make plot with a gnuplot that cannot draw (no pngcairo) or is not there: "
             "said with gnuplot's words, exit 0, summary and report.md written, no traceback",
             [sys.executable, CHECKS, "gnuplot_fails"], needs=[program("matmul-serial")], timeout=300),
        Case("harness make bench with neither gnuplot nor matplotlib (a fresh Debian): exit 0, and report.md says "
             "why it has no plots and what to install, where its Plots section was empty",
             [sys.executable, CHECKS, "no_plotters"], needs=[program("matmul-serial")], timeout=300),
        Case("harness on a results folder that stops taking data (ulimit -f standing in for a full disk): exit 1, "
             "a line naming runs.csv, the reason and RESUME=1, no traceback; whole rows only; RESUME=1 finishes",
             [sys.executable, CHECKS, "unwritable"], needs=needs, timeout=300),
        Case("harness resumes an interrupted sweep without duplicate or lost rows (make plot of it before: report.md "
             "says it was interrupted, and how far it came); RESUME=1 given the sweep's own settings goes on, given "
             "others refuses them, naming the sweep's",
             [sys.executable, CHECKS, "resume"], needs=needs, timeout=300),
        Case("harness RESUME=1 where the usable cores or the CPU model differ from those the sweep's runs had (a "
             "job resumed on another node type or --cpus-per-task), or a program was rebuilt since (an edited "
             "source): refused, exit 2, naming both or the program, runs.csv untouched; on the sweep's own machine "
             "and code it goes on",
             [sys.executable, CHECKS, "resume_elsewhere"], needs=[program("matmul-serial")], timeout=300),
        Case("harness SIGHUP (the terminal or ssh connection gone) ends a sweep as Ctrl-C does: the run under way "
             "stopped, meta.json's interrupted, nothing left in TMPDIR",
             [sys.executable, CHECKS, "hangup"], needs=needs, timeout=300),
        Case("harness a download sweep killed with SIGKILL (kill -9, the OOM killer) in the middle of a run: "
             "neither the run, nor the file server, nor the scratch folder in TMPDIR is left",
             [sys.executable, CHECKS, "killed"], needs=[program("fileserver")], timeout=120),
        Case("harness make bench-download stopped by SIGTERM (kill, scancel) in the middle of a client's run: exit "
             "143 and a line saying so; by SIGTERM or SIGKILL, no file server, client or scratch folder left",
             [sys.executable, CHECKS, "speed_stopped"],
             needs=[program("download-" + model) for model in ("serial", "threads", "processes", "openmp", "mpi",
                                                              "async")]
             + [program("fileserver"), shutil.which("curl") or "(no curl: apt-get install curl)"] + needs_mpirun(),
             timeout=120),
        Case("harness make plot and RESUME=1 of a half-written results folder: the file named, exit 2, no "
             "traceback; RESUME=1 with settings that would change the sweep refused", [sys.executable, CHECKS, "broken"]),
        Case("harness a sweep whose <time>-<host> folder (and +2) is taken, as by another sweep started in the "
             "same second: its own folder, +3, and results/latest on it; the others untouched",
             [sys.executable, CHECKS, "same_second"], needs=[program("matmul-serial")]),
        Case("harness Ctrl-C at a sweep's first line: exit 130, a line, no traceback, no folder without meta.json",
             [sys.executable, CHECKS, "interrupt_early"], needs=[program("matmul-serial")]),
        Case("harness tiny sweep with the Python lane: its rows and baselines, its plots and the GIL figure, "
             "meta.json's python_lane; then PYTHON=0 (--no-python) leaves it out",
             [sys.executable, CHECKS, "python"], needs=[program(name) for name in PYTHON_SWEEP], timeout=400),
        Case("harness make bench CLUSTER=2 RATE=1gbit, tiny: the MPI lane on this machine and across shaped hosts, "
             "link and hosts in runs.csv and summary.csv, the cluster in meta.json and report.md, brought up and "
             "down; a cluster of the user's that fits used and left up; a killed sweep's clusters and their folders "
             "gone; bad CLUSTER= and RATE= refused",
             [sys.executable, CHECKS, "cluster"], needs=[program("matmul-mpi")],
             timeout=300),
    ]


# make bench's variables that name a list or a number, each with a value a
# user might mistype, and what the refusal must name.
BAD_VARIABLES = [("PRESET", "fast", "PRESET=fast: one of full, python, quick"),
                 ("WORKERS", "0", "WORKERS=0: '0' should be a whole number, at least 1"),
                 ("WORKERS", "1,two", "'two' should be a whole number"),
                 ("SIZES", "-512", "SIZES=-512: '-512' should be a whole number, at least 1"),
                 ("REPEATS", "0", "REPEATS=0: '0' should be a whole number, at least 1"),
                 ("REPEATS", "3,5", "REPEATS=3,5: one whole number"),
                 ("SEED", "-1", "SEED=-1: '-1' should be a whole number, at least 0"),
                 ("SEED", str(1 << 64), "SEED=%d: the programs take seeds up to %d" % (1 << 64, (1 << 64) - 1)),
                 ("RATE", "fast", "RATE: 'fast' is neither unshaped nor a rate tc understands"),
                 ("RATE", "99999999999tbit", "from 1kbit to 1000tbit")]
# tools/bench.py's own flags with values it cannot use, and what the refusal must name.
BAD_FLAGS = [(["--plot", ""], "--plot: which results folder?"),
             (["--bin", "/nonexistent"], "--bin /nonexistent: no such folder"),
             (["--timeout", "nan"], "--timeout nan: seconds above 0"),
             (["--timeout", "-1"], "--timeout -1.0: seconds above 0"),
             (["--no-python", "--models", "serial,py-serial"], "names a Python lane, and PYTHON=0 leaves")]


def workers_said(outcome):
    """Check: the help (after --describe's line) gives -p the range --describe's max_workers does."""
    described = re.search(r"max_workers=(\d+)", outcome.stdout)
    helped = re.search(r"-p P is ([^.]*)\.", outcome.stdout)
    if not described or not helped:
        return "no max_workers= line or no '-p P is ...' in the help:\n%s" % outcome.stdout[:400]
    top = int(described.group(1))
    said = "always 1 here" if top == 1 else "1 to %d" % top
    return None if helped.group(1) == said else "--help says -p P is %s; --describe offers %d (%s)" % (
        helped.group(1), top, said)


def workers_offered():
    """The workers a program's --help offers are the ones its --describe gives the harness: a serial
    program, one whose limit is found at run time (OpenBLAS's), one of C's and one of Python's (the help
    said '1 or more' of every one)."""
    exes = [program(name) for name in ("matmul-serial", "matmul-blas", "download-threads", "download-py-threading")]
    return [Case("harness %s: --help offers -p the workers --describe gives the harness" % exe.name,
                 ["sh", "-c", '"$0" --describe && exec "$0" --help', exe], 0, [workers_said], needs=[exe])
            for exe in exes]


def bad_variables():
    """make bench refuses each mistyped variable at once, exit 2, naming it, before
    it runs anything (bin/ is a folder with no programs: a sweep that began would
    fail with status 1); and a WORKLOADS= or MODELS= name with no program in the
    real bin/, which a sweep would leave out without a word; and make plot of a
    folder that is not a sweep, and the speed checks' mistyped counts."""
    bench_script = [sys.executable, ROOT / "tools" / "bench.py"]

    def bench(bin_dir):
        return bench_script + ["--bin", bin_dir, "--results", ROOT / "tests" / "data" / "no-results"]
    cases = [Case("harness make bench %s=%s refused before anything runs, exit 2" % (name, value),
                  bench(ROOT / "tests" / "data"), 2, [stderr_says(said), stdout_empty], env={name: value})
             for name, value, said in BAD_VARIABLES]
    cases += [Case("harness tools/bench.py %s refused before anything runs, exit 2" % " ".join(flags),
                   bench(ROOT / "tests" / "data") + flags, 2, [stderr_says(said), stdout_empty])
              for flags, said in BAD_FLAGS]
    reference = ROOT / "results" / "reference" / "amd-epyc-zen5"
    cases.append(Case("harness make plot of a reference sweep refused without FORCE=1 (its files are the project's)",
                      bench_script + ["--plot", reference], 2,
                      [stderr_says("is a reference sweep", "FORCE=1"), stdout_empty], env={"FORCE": ""}))
    # A name no program in bin/ answers to: refused, not left out in silence.
    return cases + [
        Case("harness make bench %s=%s refused: no program of that name in bin/, exit 2" % (name, value),
             bench(ROOT / "bin"), 2,
             [stderr_says("%s=%s: " % (name, value), "has no program of the %s %s" % (kind, wrong), "(it has: "),
              stdout_empty], env={name: value}, needs=[program("matmul-serial")])
        for name, value, kind, wrong in (("WORKLOADS", "matmul,matmull", "workload", "matmull"),
                                         ("MODELS", "serial,openmpi", "model", "openmpi"))] + [
        Case("harness make plot RESULTS=%s refused: %s, exit 2" % (folder.name, said),
             bench_script + ["--plot", folder], 2, [stderr_says(said), stdout_empty])
        for folder, said in ((ROOT / "tests" / "data" / "no-results", "no such folder"),
                             (ROOT / "tests" / "data", "is not a results folder: it has no runs.csv or meta.json"))] + [
        Case("harness make bench-%s's script refuses %s before it measures, exit 2" % (check, " ".join(flags)),
             [sys.executable, ROOT / "tools" / "harness" / ("speed_%s.py" % check)] + flags, 2,
             [stderr_says("argument %s: '%s' should be a whole number, at least %d" % (flags[0], flags[1], least)),
              stdout_empty])
        for check, flags, least in (("matmul", ["--rounds", "0"], 1), ("factorial", ["--big-n", "1e7"], 1),
                                    ("download", ["--latency", "-5"], 0), ("python", ["--rounds", "0"], 1))] + [
        Case("harness make plot with stdout on a full disk: exit 1, said in a line naming the sweep's folder, no "
             "traceback (make bench ends the same way)",
             ["sh", "-c", 'd=$(mktemp -d) || exit 1; cp "$0/runs.csv" "$0/meta.json" "$d/" && "$1" "$2" --plot "$d" '
                          '>/dev/full; status=$?; rm -rf "$d"; exit $status',
              ROOT / "results" / "reference" / "amd-epyc-zen5", sys.executable, ROOT / "tools" / "bench.py"], 1,
             [stderr_says("bench: cannot write the plots to stdout: No space left on device; the sweep's files are "
                          "whole in"), stderr_lacks("Traceback")],
             env={"GNUPLOT": "/nonexistent/gnuplot", "PYTHON_MPL": None,  # no plotter: nothing drawn, all said
                  "PYTHONPATH": str(ROOT / "tests" / "data" / "hide-packages")}),
        Case("harness make bench and make plot started with stdout closed (>&-): they run (here, refuse a folder that "
             "is none, exit 2), no traceback",
             ["sh", "-c", 'exec "$0" "$1" --plot "$2" >&-', sys.executable, ROOT / "tools" / "bench.py",
              ROOT / "tests" / "data" / "no-results"], 2, [stderr_says("no such folder"), stderr_lacks("Traceback")]),
        Case("harness make plot and make bench-python started with stderr closed (2>&-): usage errors, exit 2, "
             "nothing on stdout (the message on stdout; the speed check's usage there and exit 1)",
             ["sh", "-c", 'exec 2>&-; "$0" "$1" --plot "$3"; [ $? = 2 ] || exit 3; exec "$0" "$2" --rounds 0',
              sys.executable, ROOT / "tools" / "bench.py", ROOT / "tools" / "harness" / "speed_python.py",
              ROOT / "tests" / "data" / "no-results"], 2, [stdout_empty]),
        Case("harness make compare with stdout on a full disk, then closed (>&-): exit 1 each, said, no traceback "
             "(a traceback; and exit 0 with the comparison lost)",
             ["sh", "-c", '"$0" "$1" "$2" "$2" >/dev/full; [ $? = 1 ] || exit 3; exec "$0" "$1" "$2" "$2" >&-',
              sys.executable, ROOT / "tools" / "harness" / "compare.py",
              ROOT / "results" / "reference" / "amd-epyc-zen5"],
             1, [stderr_says("compare: cannot write the comparison to stdout: No space left on device",
                             "compare: cannot write the comparison to stdout: Bad file descriptor"),
                 stderr_lacks("Traceback")]),
        Case("harness make doctor with stdout on a full disk: exit 1, said in a line, no traceback",
             [sys.executable, ROOT / "tools" / "doctor.py"], 1,
             [stderr_says("doctor: cannot write what it found to stdout: No space left on device"),
              stderr_lacks("Traceback")], stdout_path="/dev/full",
             env={"HAVE_OPENMP": "yes", "PYTHONUNBUFFERED": "1"}),  # as make passes it; the first line fails at once
        Case("harness make bench, plot, compare, doctor, bench-* and test under PYTHONOPTIMIZE=2 (-OO, which strips "
             "docstrings, whose first line each --help shows): usage, exit 0, no traceback",
             ["sh", "-c", 'python=$0; for script; do "$python" "$script" --help || exit; done', sys.executable]
             + [ROOT / "tools" / "bench.py", ROOT / "tools" / "doctor.py", ROOT / "tools" / "harness" / "compare.py"]
             + [ROOT / "tools" / "harness" / ("speed_%s.py" % check) for check in ("matmul", "factorial", "download",
                                                                                   "python")]
             + [ROOT / "tests" / "run_tests.py"], 0,
             [stdout_says(r"usage: doctor\.py"), stdout_says(r"usage: run_tests\.py"), stderr_lacks("Traceback")],
             env={"PYTHONOPTIMIZE": "2"}),
        # python/common sets what the Python lane's programs run with as it loads; the harness loads it too,
        # and every program it runs (make bench's, each test's) would have been given those settings.
        Case("harness tools hand what they run the user's environment, not what python/common sets for the Python "
             "lane as the harness loads it (OPENBLAS_NUM_THREADS, SETUPTOOLS_USE_DISTUTILS)",
             [sys.executable, "-c", "import os, sys; sys.path.insert(0, %r); import harness; print('threads=%%s "
              "distutils=%%s' %% (os.environ.get('OPENBLAS_NUM_THREADS'), os.environ.get('SETUPTOOLS_USE_DISTUTILS')))"
              % str(ROOT / "tools")], 0, [stdout_says(r"^threads=3 distutils=None$")],
             env={"OPENBLAS_NUM_THREADS": "3", "SETUPTOOLS_USE_DISTUTILS": None})] + [
        Case("harness make in a read-only checkout, built (a workshop's shared one): nothing to do, nothing "
             "written, so make bench RESULTS=DIR runs there",
             READ_ONLY_CHECKOUT + ["make --no-print-directory all"], 0,
             [stderr_lacks("cannot create", "Read-only file system", "Permission denied")],
             needs=[program("matmul-serial"), ROOT / "build" / "flags"] + read_only_unavailable(), timeout=120),
        Case("harness make's configure with a TMPDIR that names no folder (a site's scratch not made yet): its "
             "probes go to /tmp, as the compilers' and Python's do; it finds what the machine has; python3 on the "
             "PATH a script that execs an interpreter (a pyenv shim) is recorded as that interpreter",
             ["sh", "-c", 'out=$(TMPDIR= mktemp -d) || exit 1; mkdir "$out/shims" && ' + SHIM % '"$1"' + ' && '
                          'PATH=$out/shims:$PATH "$0" "$out/config.mk" && cat "$out/config.mk"; '
                          'status=$?; rm -rf "$out"; exit $status', ROOT / "tools" / "configure.sh", sys.executable], 0,
             [stdout_says(r"(?m)^HAVE_GMP := yes$"), stdout_says(r"(?m)^PYTHON := %s$" % re.escape(sys.executable)),
              stderr_lacks("mktemp", "configure.XXXXXX")],
             env={"TMPDIR": "/nonexistent/scratch", "NO_INSTALL": "1", "CI": None},
             needs=[program("factorial-serial")], timeout=120),
        # The probe loads python/common first, from python/, whose folders python/joblib/, python/numba/, ...
        # would pass for the packages they are named after were python/ still on the path as it imports them.
        Case("harness make's configure with an interpreter that has none of the lane's packages (no site-packages): "
             "it finds none, not python/'s folders of the same names",
             ["sh", "-c", 'out=$(mktemp -d) || exit 1; printf \'#!/bin/sh\\nexec %s -S "$@"\\n\' "$1" >"$out/bare" && '
                          'chmod +x "$out/bare" && PYTHON_LANE=$out/bare "$0" "$out/config.mk" && cat "$out/config.mk"; '
                          'status=$?; rm -rf "$out"; exit $status', ROOT / "tools" / "configure.sh", sys.executable], 0,
             [stdout_says(r"(?m)^PY_PACKAGES := *$")],
             env={"NO_INSTALL": "1", "CI": None}, needs=[program("factorial-serial")], timeout=120),
        Case("harness make's configure where Open MPI, GMP, OpenBLAS and clang are missing: each named with its "
             "packages, then every Debian package on a line of its own that runs as pasted (not joined to dnf and "
             "module by '|', a pipeline that installed nothing); config.mk keeps them for later makes' messages",
             ["sh", "-c", 'out=$(mktemp -d) || exit 1; mkdir "$out/shims" "$out/modules" && ' + SHIM % (
                 '"env PYTHONPATH=$out/modules $1"') + ' && ' + OTHER_MODULES + ' && '
                          'PATH=$out/shims:$PATH "$0" "$out/config.mk" && cat "$out/config.mk"; '
                          'status=$?; rm -rf "$out"; exit $status', ROOT / "tools" / "configure.sh", sys.executable], 0,
             [stderr_says("GMP not found", "apt-get install libgmp-dev (Debian)"),
              stderr_matches(r"(?m)^  apt-get install %s[\w .+-]*$" % MISSING_ON_ONE_LINE),
              stderr_lacks("|"),
              stdout_says(r"(?m)^MISSING_DEBIAN := %s[\w .+-]*$" % MISSING_ON_ONE_LINE),
              stdout_says(r"(?m)^PYTHON := /.*/shims/python3$")],
             env={"MPICC": "/nonexistent/mpicc", "GMP_LIBS": "-lno-such-gmp", "BLAS_LIBS": "-lno-such-blas",
                  "FUZZ_CC": "/nonexistent/clang", "NO_INSTALL": "1", "CI": None},
             timeout=120),
        Case("harness make doctor where gnuplot and matplotlib were not found: each line names its packages",
             [sys.executable, "-c", "import sys; sys.path.insert(0, %r); import doctor; doctor.toolchains()"
              % str(ROOT / "tools")], 0,
             [stdout_says(r"(?m)^  gnuplot +MISSING .*apt-get install gnuplot-nox.*dnf install gnuplot\)$"),
              stdout_says(r"(?m)^  matplotlib +MISSING .*apt-get install python3-matplotlib.*"
                          r"dnf install python3-matplotlib\)$")],
             env={"GNUPLOT": None, "PYTHON_MPL": None}, timeout=60),
        Case("harness make bench-matmul where programs are not built (no OpenBLAS, no Open MPI): it names them and "
             "points at make config, not at 'run make', which make bench-matmul had just run",
             ["sh", "-c", 'copy=$(mktemp -d) || exit 1; cp -r "$0/tools" "$copy/" && mkdir "$copy/bin" && '
                          'ln -s "$0/python" "$copy/python" && '
                          '"$1" "$copy/tools/harness/speed_matmul.py"; status=$?; rm -rf "$copy"; exit $status',
              ROOT, sys.executable], 1,
             [stderr_says("bench_matmul: not built: blas, mpi, openmp, processes, serial, threads (make built every "
                          "program it could; make config says what the others need, and what to install)"),
              stderr_lacks("run make", "Traceback")], timeout=120),
        Case("harness make bench-download on one usable core (taskset, the first CPU of the mask): the line over "
             "the threads' speedup at P = 32 says '1 usable core here', where it said '2 cores here' on any machine",
             ["sh", "-c", 'copy=$(mktemp -d) || exit 1; cp -r "$0/tools" "$copy/" && ln -s "$0/bin" "$copy/bin" && '
                          'ln -s "$0/python" "$copy/python" && '
                          'cpu=$(sed -n "s/^Cpus_allowed_list:[[:space:]]*\\([0-9]*\\).*/\\1/p" /proc/self/status) '
                          '&& taskset -c "$cpu" "$1" "$copy/tools/harness/speed_download.py" --files 2 --size 1 '
                          '--latency 1 --rounds 1 --reps 1 --wide 8; status=$?; rm -rf "$copy"; exit $status',
              ROOT, sys.executable], 0,
             [stdout_says(r"(?m)^speedup of threads at P=32 over P=1 \(1 usable core here\):$")],
             needs=[program("download-" + model) for model in ("serial", "threads", "processes", "openmp", "mpi",
                                                              "async")]
             + [program("fileserver"), program("matmul-threads"), shutil.which("taskset") or "(no taskset)",
                shutil.which("curl") or "(no curl: apt-get install curl)"] + needs_mpirun(), timeout=300),
        Case("harness make bench-matmul on one usable core (taskset, the first CPU of the mask): each lane's share "
             "of the peak is of the cores its workers can use, one, where P = 2 lanes' was of two cores' peak, half "
             "what one core let them reach",
             ["sh", "-c", 'copy=$(mktemp -d) || exit 1; cp -r "$0/tools" "$copy/" && ln -s "$0/bin" "$copy/bin" && '
                          'ln -s "$0/python" "$copy/python" && '
                          'mkdir "$copy/build" && cp "$0/build/peak" "$copy/build/" && '
                          'cpu=$(sed -n "s/^Cpus_allowed_list:[[:space:]]*\\([0-9]*\\).*/\\1/p" /proc/self/status) '
                          '&& taskset -c "$cpu" "$1" "$copy/tools/harness/speed_matmul.py" -n 256 --rounds 1 --reps 1; '
                          'status=$?; rm -rf "$copy"; exit $status', ROOT, sys.executable], 0, [shares_of_one_core],
             needs=[program("matmul-" + model) for model in ("serial", "blas", "threads", "processes", "openmp", "mpi")]
             + [ROOT / "build" / "peak", shutil.which("taskset") or "(no taskset)"] + needs_mpirun(), timeout=300),
        Case("harness make bench where it cannot make its results folder: says where and why, exit 1, runs nothing",
             bench(ROOT / "bin") + ["--workloads", "matmul", "--models", "serial", "--workers", "1", "--sizes", "64",
                                    "--results", ROOT / "README.md" / "results"],  # the last --results counts
             1, [stderr_says("cannot make a results folder in", "README.md/results", "Not a directory",
                             "give it RESULTS=DIR"),
                 stdout_empty], needs=[program("matmul-serial")])]
