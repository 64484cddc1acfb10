"""tests/suite.py — what every test table is made of: a case, how it runs, the checks.

A case is one row of a table: a program, its arguments, the exit status it
must end with, and checks on what it printed. Each case runs in its own
process (the program under test), so one crash cannot hide another.

How a program is named, launched and its result line parsed, and the file
server fixture, are tools/harness/programs.py's, shared with the harness;
they are named here too (launch, parse_result_line, FileServer, ...) so a
table needs only this module.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from harness import programs  # noqa: E402
from harness.programs import (BIN, MPIRUN, ROOT, FileServer, FileServerError, is_mpi,  # noqa: E402,F401
                              parse_result_line, parse_result_lines, split_name)

# Keys every result line carries (results/README.md, "The result line").
RESULT_KEYS = ("workload", "model", "n", "workers", "rep", "seconds", "setup",
               "comm", "compute", "combine", "verified")
PHASE_KEYS = ("seconds", "setup", "comm", "compute", "combine")
# Figures whose values are words, not numbers.
TEXT_FIGURES = ("kernel", "isa", "mode", "blas_core", "blas_choice", "blas_core_fits", "gmp_version")
# Bad command lines every program keeping the contract (results/README.md)
# refuses with exit 2, and what its message must name; each workload's
# table adds its own flags.
SHARED_BAD_INPUT = (
    (["-n", "abc"], "'abc'"),
    (["-n", "12abc"], "'12abc'"),
    (["-n", "1e3"], "'1e3'"),
    (["-n", "99999999999999999999999"], "99999999999999999999999"),
    (["-n", ""], "-n"),
    (["-n"], "-n needs a value"),
    (["-p", "0"], "'0'"),
    (["-p", "-1"], "'-1'"),
    (["-p", "two"], "'two'"),
    (["-p", "100000"], "100000"),
    (["--seed", "x"], "'x'"),
    (["-r", "0"], "'0'"),
    (["--warmup", "1.5"], "'1.5'"),
    (["--no-verify=1"], "--no-verify takes no value"),
    (["--frobnicate"], "'--frobnicate'"),
    (["17"], "'17'"),
)
# Seconds a case may run before it counts as hung.
DEFAULT_TIMEOUT = 120
# Every process of a case carries this variable, its value the case's own: what it started in a
# session of its own (a probe's program, a cluster's daemons) is found by it and killed when the
# case is killed (a time limit, Ctrl-C), not left running beside the later cases.
CASE_MARK = "TEST_SUITE_CASE"
# Every process the run starts carries this one (mark_run), so that a run stopped by Ctrl-C or
# SIGTERM ends what its tables' setup was starting at that moment (a server half-way through
# subprocess.Popen, or not yet stored where teardown looks), as it ends its cases'.
RUN_MARK = "TEST_SUITE_RUN"
# Seconds a case's processes may take to end after its first process did (Python's resource
# tracker, an exiting child); any still there then are killed and fail the case.
LEFTOVER_GRACE = 5.0
# Seconds the output of a killed case may take to reach its end (every writer killed).
DRAIN_SECONDS = 10
# Where administration commands (ip, tc) are when a normal user's PATH leaves
# them out, as Debian's does (tools/cluster looks there too).
ADMIN_PATH = "/usr/sbin:/sbin"


def needs_mpirun():
    """needs= of a case that runs Open MPI's mpirun (through tools/mpirun): that mpirun,
    where tools/mpirun finds it ($MPIRUN, or on the PATH); where it is not, a reason
    in place of a file, so the case is skipped saying why."""
    name = os.environ.get("MPIRUN") or "mpirun"
    return [shutil.which(name) or "(%s not found: apt-get install openmpi-bin, or module load openmpi)" % name]


def admin_command(name):
    """An administration command (ip, tc) where tools/cluster finds it: on the
    PATH or in ADMIN_PATH; the bare name when nowhere."""
    return shutil.which(name, path=os.environ.get("PATH", "") + os.pathsep + ADMIN_PATH) or name

def usable_cores():
    """tools/cores: the cores this process may use (1 when it cannot say)."""
    try:
        return max(1, int(subprocess.run([str(ROOT / "tools" / "cores")], capture_output=True, text=True,
                                         timeout=10).stdout.strip()))
    except (OSError, ValueError, subprocess.SubprocessError):
        return 1


# tests/under_memory_cgroup: a command in a cgroup below one with a memory limit, and the exit
# status by which it says no such cgroup can be made here.
UNDER_MEMORY_CGROUP = ROOT / "tests" / "under_memory_cgroup"
# bash -c RANK_ONE_LIMITED KIB PROGRAM ARGS...: an MPI job's rank runs PROGRAM, under `ulimit -v KIB` where it
# is rank 1 (Open MPI's OMPI_COMM_WORLD_RANK): as though rank 1's host had less memory than rank 0's.
RANK_ONE_LIMITED = 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then ulimit -v "$0"; fi; exec "$@"'
UNDER_MEMORY_CGROUP_CANNOT = 77


# More MPI ranks than usable cores, as few as that takes (the tables' oversubscribed
# case: each rank is a process to launch, and a launch of many costs seconds).
MPI_MORE_THAN_CORES = usable_cores() + 1
# The variables that name a proxy, as libcurl and Python read them: the
# download clients must ignore them all (tests set them to a refusing port).
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
# A stand-in for a broken program (fails_on): prints nothing, exits 0.
SILENT_STAND_IN = ["true"]
# Runs a program, looking at its threads (/proc/PID/task) every few milliseconds
# until it ends; says the most it saw on stderr, and exits with its status.
MOST_THREADS = ("import os, subprocess, sys, time; p = subprocess.Popen(sys.argv[1:]); most = 0\n"
                "while p.poll() is None:\n"
                "    try: most = max(most, len(os.listdir('/proc/%d/task' % p.pid)))\n"
                "    except OSError: pass\n"
                "    time.sleep(0.002)\n"
                "print('most threads: %d' % most, file=sys.stderr); sys.exit(p.returncode)")


class Case:
    """One row of a table: run argv, expect exit status, then apply checks.

    A check is a function (Outcome) -> None or a message saying what is wrong.
    A case made by fails_on() turns this round: it passes only when its
    exit status or a check finds something wrong.
    """

    def __init__(self, name, argv, expect_exit=0, checks=(), env=None,
                 timeout=DEFAULT_TIMEOUT, stdout_path=None, memory_limit=None,
                 needs=(), must_fail=False, skip_exit=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.expect_exit = expect_exit
        self.checks = tuple(checks)
        self.env = env or {}              # None as a value removes the variable
        self.timeout = timeout
        self.stdout_path = stdout_path      # send stdout there instead (e.g. /dev/full)
        self.memory_limit = memory_limit    # RLIMIT_AS in bytes, like ulimit -v
        self.needs = tuple(str(p) for p in needs)  # files that must exist to run it
        self.must_fail = must_fail          # argv is a broken stand-in the expectations must catch
        self.skip_exit = skip_exit          # the exit status by which argv says part of it could not
                                            # run on this machine (its last stdout line says what): skipped


def fails_on(case, stand_in, what, needs=()):
    """The proof that a case can fail: its exit status and checks applied to
    stand_in (argv of a program broken in a known way, e.g. one that prints
    nothing and exits 0) must find something wrong."""
    return Case("%s: fails on %s" % (case.name, what), stand_in, case.expect_exit, case.checks, env=case.env,
                timeout=case.timeout, stdout_path=case.stdout_path, memory_limit=case.memory_limit,
                needs=needs, must_fail=True)


class Outcome:
    """What a case's process did."""

    def __init__(self, exit_code, stdout, stderr, seconds):
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds


def run_case(case):
    """Run one case; return (ok, message). Never raises for a misbehaving program."""
    missing = [p for p in case.needs if not Path(p).exists()]
    if missing:
        return None, "not here: " + ", ".join(missing)
    env = dict(os.environ)
    # Each case has a folder of its own, removed when it ends, and when it is killed: a run
    # stopped by Ctrl-C or SIGTERM kills its cases, whose own clean-up then never runs. It is
    # the case's TMPDIR (a lesson's copy of the tree, configure's probes, a check's scratch
    # folders), and Open MPI's session directory: jobs that start at once share
    # /tmp/ompi.<host>.<uid> and race to create and remove it (MPI_Init then fails now and then).
    session = tempfile.mkdtemp(prefix="test-case-")
    env["TMPDIR"] = session
    env["OMPI_MCA_orte_tmpdir_base"] = session
    env[CASE_MARK] = session
    # Dask's LocalCluster keeps its workers' lock files in /tmp/dask-worker-space (or
    # -<uid> when another user's is there) and leaves them; in the case's folder they go with it.
    env.setdefault("DASK_TEMPORARY_DIRECTORY", session)
    # The cases share the cores: a rank waiting for a message (a verdict, a
    # hung exchange) lets other cases' processes have its core (sched_yield),
    # as on an oversubscribed node, rather than spinning on it, which is Open
    # MPI's default while the ranks fit the cores. What the programs do is the same.
    env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    for key, value in case.env.items():  # None: the variable is removed
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    try:
        return run_argv(case, env)
    finally:
        shutil.rmtree(session, ignore_errors=True)


# The cases' processes running now (each the leader of a process group of its own), and
# their CASE_MARK values, so that a Ctrl-C of the run can end them (stop_running).
RUNNING = {}
RUNNING_LOCK = threading.Lock()
STOPPED = threading.Event()   # set by stop_running: a case started after it is killed at once


def stop_running():
    """Kill every running case's processes (the run was interrupted), and any started later."""
    with RUNNING_LOCK:
        STOPPED.set()
        for proc, mark in RUNNING.items():
            kill_case(proc, mark)


def kill_group(proc):
    """SIGKILL to a case's process group."""
    try:
        os.killpg(proc.pid, 9)
    except OSError:
        pass  # ended already


def kill_case(proc, mark):
    """SIGKILL to a case's process group and to every process carrying its mark
    (those it started in sessions of their own), until none is left."""
    kill_group(proc)
    kill_marked(CASE_MARK, mark)


def mark_run():
    """From now on every process this run starts carries RUN_MARK, its value this run's own."""
    os.environ[RUN_MARK] = "%d-%s" % (os.getpid(), uuid.uuid4().hex)


def stop_marked_run():
    """SIGKILL to every process the run started that is still there (after an
    interrupted run's teardown: what a table's setup was starting when the
    signal came, which no one holds to stop)."""
    if RUN_MARK in os.environ:
        kill_marked(RUN_MARK, os.environ[RUN_MARK])


def kill_marked(name, value):
    """SIGKILL to every process whose environment carries name=value, until none is left."""
    for _ in range(10):   # a process not yet killed may fork meanwhile
        found = [pid for pid, _ in marked_processes(name, value) if pid != os.getpid()]
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, 9)
            except OSError:
                pass  # ended meanwhile


def case_processes(mark, group=None):
    """marked_processes of the case whose CASE_MARK is mark."""
    return marked_processes(CASE_MARK, mark, group)


def marked_processes(name, value, group=None):
    """(pid, state) of the processes whose environment carries name=value (and of
    process group `group`, if given); zombies are not counted, they hold nothing."""
    needle, found = ("%s=%s" % (name, value)).encode(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rpartition(")")[2].split()
            if fields[0] in ("Z", "X") or (group is not None and fields[2] != str(group)):
                continue
            with open("/proc/%s/environ" % entry, "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append((int(entry), fields[0]))
        except (OSError, IndexError):
            continue   # gone meanwhile, or not ours to read
    return found


def leftovers(proc, mark):
    """The processes a case that ended left running in its process group, once
    LEFTOVER_GRACE has passed (then killed), described; [] when there are none."""
    try:
        os.killpg(proc.pid, 0)   # cheap: almost always the group is empty (ESRCH)
    except OSError:
        return []
    deadline = time.monotonic() + LEFTOVER_GRACE
    while True:
        left = [pid for pid, _ in case_processes(mark, group=proc.pid)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    described = ["%d (%s)" % (pid, command_line(pid)[:80].rstrip()) for pid in left]
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass  # ended meanwhile
    return described


def drain(proc):
    """The rest of a killed case's output; given up after DRAIN_SECONDS (a process
    outside its reach, without its mark, holding the pipes) rather than hanging the run."""
    try:
        return proc.communicate(timeout=DRAIN_SECONDS)
    except subprocess.TimeoutExpired:
        proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()
        return b"", b""


def run_argv(case, env):
    """run_case's work once the environment is set."""
    argv = case.argv
    if case.memory_limit:  # like ulimit -v, set by a shell (preexec_fn is unsafe with threads)
        argv = ["sh", "-c", 'ulimit -v %d && exec "$@"' % (case.memory_limit // 1024), "sh"] + argv
    start = time.monotonic()
    stdout_file = open(case.stdout_path, "w") if case.stdout_path else subprocess.PIPE
    try:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=stdout_file, stderr=subprocess.PIPE,
                                start_new_session=True)
        mark = env[CASE_MARK]
        with RUNNING_LOCK:
            RUNNING[proc] = mark
            if STOPPED.is_set():
                kill_case(proc, mark)
        try:
            out, err = proc.communicate(timeout=case.timeout)
        except subprocess.TimeoutExpired:
            kill_case(proc, mark)
            drain(proc)
            return False, "timed out after %ss (a hang?)" % case.timeout
        finally:
            with RUNNING_LOCK:
                RUNNING.pop(proc, None)
        left = leftovers(proc, mark)
    except OSError as e:
        return False, "could not start %s: %s" % (case.argv[0], e)
    finally:
        if case.stdout_path:
            stdout_file.close()
    outcome = Outcome(proc.returncode, (out or b"").decode(errors="replace"),
                      err.decode(errors="replace"), time.monotonic() - start)
    if case.skip_exit is not None and outcome.exit_code == case.skip_exit:
        return None, tail(outcome.stdout, 1)
    problems = []
    if left:
        problems.append("left processes running after it ended (killed now): %s" % "; ".join(left))
    if outcome.exit_code != case.expect_exit:
        problems.append("exit status %s, expected %s" % (outcome.exit_code, case.expect_exit))
    for check in case.checks:
        try:
            message = check(outcome)
        except Exception as e:  # a check that breaks on odd output is a bug in the check: say so, never pass
            return False, "check %s raised %s: %s\n      command: %s" % (
                getattr(check, "__qualname__", check), type(e).__name__, e, " ".join(case.argv))
        if message:
            problems.append(message)
    if case.must_fail:
        if problems:
            return True, ""
        return False, "the expectations pass a stand-in broken on purpose: they cannot fail\n      command: %s" % (
            " ".join(case.argv))
    if problems:
        detail = "; ".join(problems)
        return False, "%s\n      command: %s\n      stderr: %s" % (
            detail, " ".join(case.argv), tail(outcome.stderr))
    return True, ""


def tail(text, lines=6):
    """The last lines of a program's stderr, indented for the report."""
    kept = text.strip().splitlines()[-lines:]
    return "\n        ".join(kept) if kept else "(empty)"


# ---- checks ----------------------------------------------------------------

def parsed_stdout(outcome):
    """(stdout's result lines as dicts, None), or (None, what is wrong): no
    result line at all, or a token that is not key=value. For checks of every
    line's figures, which would otherwise pass a program that printed nothing."""
    try:
        lines = parse_result_lines(outcome.stdout)
    except ValueError as e:
        return None, "stdout: %s" % e
    if not lines:
        return None, "no result line on stdout"
    return lines, None


def result_lines(workload, model, n, workers, reps=1, verified="yes", figures=()):
    """Check: stdout is exactly reps result lines keeping the contract."""
    def check(outcome):
        lines = outcome.stdout.splitlines()
        if len(lines) != reps:
            return "expected %d result lines on stdout, got %d: %r" % (reps, len(lines), outcome.stdout[:300])
        for number, line in enumerate(lines, 1):
            try:
                pairs = parse_result_line(line)
            except ValueError as e:
                return "result line %d: %s" % (number, e)
            missing = [k for k in RESULT_KEYS + tuple(figures) if k not in pairs]
            if missing:
                return "result line %d lacks %s" % (number, ", ".join(missing))
            expected = {"workload": workload, "model": model, "n": str(n),
                        "workers": str(workers), "rep": str(number), "verified": verified}
            for key, value in expected.items():
                if pairs[key] != value:
                    return "result line %d: %s=%s, expected %s" % (number, key, pairs[key], value)
            for key in PHASE_KEYS + tuple(figures):
                if key in TEXT_FIGURES:
                    continue
                try:
                    number_value = float(pairs[key])
                except ValueError:
                    return "result line %d: %s=%r is not a number" % (number, key, pairs[key])
                if not number_value >= 0:
                    return "result line %d: %s=%s is negative" % (number, key, pairs[key])
            if not float(pairs["seconds"]) > 0:
                return "result line %d: seconds=%s, a run takes some time" % (number, pairs["seconds"])
        return None
    return check


def wrong_warmup_line(workload, model, n, workers):
    """Check: stdout is one result line, the warm-up run's (rep=0), saying verified=no."""
    def check(outcome):
        lines = outcome.stdout.splitlines()
        if len(lines) != 1:
            return "expected the wrong warm-up run's result line alone, got %d lines: %r" % (
                len(lines), outcome.stdout[:300])
        try:
            pairs = parse_result_line(lines[0])
        except ValueError as e:
            return "warm-up result line: %s" % e
        expected = {"workload": workload, "model": model, "n": str(n), "workers": str(workers),
                    "rep": "0", "verified": "no"}
        for key, value in expected.items():
            if pairs.get(key) != value:
                return "warm-up result line: %s=%s, expected %s" % (key, pairs.get(key), value)
        return None
    return check


SUMMARY = re.compile(r": summary of (\d+) timed runs: median_seconds=([0-9.]+) min_seconds=([0-9.]+) "
                     r"max_seconds=([0-9.]+)$", re.M)


def summary_line(reps):
    """Check: with reps >= 3 one summary line on stderr whose median, min and
    max agree with the result lines; with fewer, none."""
    def check(outcome):
        found = SUMMARY.findall(outcome.stderr)
        if reps < 3:
            return "a summary line for only %d runs: %r" % (reps, found) if found else None
        if len(found) != 1:
            return "expected one summary line on stderr, found %d" % len(found)
        count, median, low, high = int(found[0][0]), float(found[0][1]), float(found[0][2]), float(found[0][3])
        seconds = sorted(float(parse_result_line(line)["seconds"]) for line in outcome.stdout.splitlines())
        if count != reps or len(seconds) != reps:
            return "summary counts %d runs, expected %d" % (count, reps)
        middle = seconds[reps // 2] if reps % 2 else (seconds[reps // 2 - 1] + seconds[reps // 2]) / 2
        for name, said, actual in (("median", median, middle), ("min", low, seconds[0]), ("max", high, seconds[-1])):
            if abs(said - actual) > 2e-9:
                return "summary %s_seconds=%s, but the result lines give %.9f" % (name, said, actual)
        return None
    return check


def stdout_empty(outcome):
    """Check: nothing on stdout (a refused run prints no result)."""
    return "stdout should be empty, got %r" % outcome.stdout[:200] if outcome.stdout.strip() else None


def stderr_empty(outcome):
    """Check: nothing on stderr (a run that went well says nothing there)."""
    return "stderr should be empty, got %r" % outcome.stderr[-300:] if outcome.stderr.strip() else None


def stderr_says(*fragments):
    """Check: stderr contains each fragment (e.g. the bad argument, named)."""
    def check(outcome):
        for fragment in fragments:
            if fragment not in outcome.stderr:
                return "stderr does not mention %r" % fragment
        return None
    return check


def stderr_lacks(*fragments):
    """Check: stderr contains none of the fragments (a message that must not be given)."""
    def check(outcome):
        said = [fragment for fragment in fragments if fragment in outcome.stderr]
        return "stderr mentions %r" % said[0] if said else None
    return check


def said_once(fragment):
    """Check: stderr says fragment exactly once (an MPI job's ranks say a usage error once, not per rank)."""
    def check(outcome):
        count = outcome.stderr.count(fragment)
        return None if count == 1 else "stderr says %r %d times, expected once" % (fragment, count)
    return check


def stdout_says(pattern):
    """Check: stdout matches a regular expression somewhere."""
    def check(outcome):
        return None if re.search(pattern, outcome.stdout) else "stdout does not match %r" % pattern
    return check


# What each sanitizer prints when it reports: ASan, UBSan, TSan, LeakSanitizer.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "WARNING: ThreadSanitizer", "ERROR: LeakSanitizer")


def sanitizer_report(text):
    """The first sanitizer report in text, said in a line (what it found, and its SUMMARY line, which
    names the source line: a failure's stderr tail is often only the shadow bytes' legend); None if none."""
    lines = text.splitlines()
    first = next((line for line in lines if any(marker in line for marker in SANITIZER_MARKERS)), None)
    if first is None:
        return None
    headline = re.sub(r"^==\d+==", "", first.strip())
    summary = next((line.strip() for line in lines if line.startswith("SUMMARY: ")), None)
    return headline + (" / " + summary if summary else "")


def no_sanitizer_report(outcome):
    """Check: no ASan, UBSan or TSan report on stderr."""
    report = sanitizer_report(outcome.stderr)
    return "sanitizer report: " + report if report else None


def command_line(pid):
    """A process's command line, its arguments joined by spaces; "" once it is gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ---- launching ---------------------------------------------------------------

def program(name, flavor=""):
    """Path of bin/<name>, or bin/<flavor>/<name> for a sanitizer build."""
    return (BIN / flavor / name) if flavor else (BIN / name)


def built_with(key, default):
    """A setting that build/flags (written by make) records for bin/, e.g. CC."""
    flags = ROOT / "build" / "flags"
    lines = flags.read_text().splitlines() if flags.exists() else []
    return next((line.split("=", 1)[1] for line in lines if line.startswith(key + "=")), default)


def launch(workload, model, workers, args, flavor="", cluster=False):
    """argv that runs bin/<workload>-<model> (or its sanitizer build) with the
    given workers: MPI models through tools/mpirun -np workers, the others
    with -p workers (programs.launch says which is which)."""
    exe = program(programs.program_name(workload, model), flavor)
    return programs.launch(exe, model, workers, args, cluster)


def sanitizer_env(flavor, model):
    """Environment for a sanitizer run: fail on the first report; Open MPI's
    own allocations at exit are not ours, so leaks are not checked for MPI."""
    if flavor == "asan":
        leaks = "0" if is_mpi(model) else "1"
        return {"ASAN_OPTIONS": "detect_leaks=%s:abort_on_error=0" % leaks,
                "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    if flavor == "tsan":
        return {"TSAN_OPTIONS": "halt_on_error=1"}
    return {}
