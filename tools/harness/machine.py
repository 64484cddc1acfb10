"""tools/harness/machine.py — what machine the numbers came from (meta.json).

Everything here is read, never changed: the harness reports the governor,
it does not set it. Values the machine does not expose are recorded as
"unreadable" rather than guessed.
"""
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

from . import programs

ROOT = Path(__file__).resolve().parent.parent.parent
UNREADABLE = "unreadable"
# Environment variables that change how the models run, recorded whole: OpenMP's, Open MPI's and
# Slurm's, the BLAS libraries' (OpenBLAS also reads GOTO_NUM_THREADS), the suite's own MATMUL_KC,
# MATMUL_MC and MATMUL_NC (the blocked kernel's blocks), Numba's and Dask's.
RECORDED_PREFIXES = ("OMP_", "GOMP_", "KMP_", "OMPI_", "PMIX_", "SLURM_", "OPENBLAS_", "GOTO_", "MKL_", "MATMUL_",
                     "NUMBA_", "DASK_")
# Variables that say "this is a batch job", per scheduler.
BATCH_JOB_VARIABLES = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "JOB_ID")
# A load average above this share of the usable cores makes timings suspect.
LOAD_WARNING_SHARE = 0.10
# What make last built bin/ with (the Makefile's $(BUILD)/flags): NAME=value lines.
BUILD_FLAGS = ROOT / "build" / "flags"
# The compiler settings meta.json's build holds (build_flags has the rest of the file).
BUILD_SETTINGS = ("CC", "CFLAGS", "OMPFLAGS", "MPICC")


def read(path, default=UNREADABLE):
    """A small sysfs or procfs file's text, stripped, or default."""
    try:
        return Path(path).read_text().strip()
    except OSError:
        return default


def command_output(argv, default=UNREADABLE):
    """A command's stdout, stripped, or default if it cannot run."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        return out.stdout.strip() if out.returncode == 0 else default
    except (OSError, subprocess.TimeoutExpired):
        return default


def key_values(text):
    """key=value lines as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def cores():
    """tools/cores --explain: usable cores (affinity and cgroup quota), total, SMT."""
    explained = key_values(command_output([str(ROOT / "tools" / "cores"), "--explain"], ""))
    return {
        "usable_cores": int(explained.get("usable_cores", os.cpu_count() or 1)),
        "total_cpus": int(explained.get("total_cpus", os.cpu_count() or 1)),
        "affinity_cpus": int(explained.get("affinity_cpus", os.cpu_count() or 1)),
        "cgroup_cpu_quota": explained.get("cgroup_cpu_quota", UNREADABLE),
        "threads_per_core": int(explained.get("threads_per_core", 1)),
    }


def usable_cpus(found):
    """The CPUs' worth of time workers can use, from cores(): the usable cores, or
    fewer under a cgroup quota of part of one (1.5, which usable_cores rounds up to 2)."""
    try:
        return min(float(found["usable_cores"]), float(found["cgroup_cpu_quota"]))
    except (TypeError, ValueError):   # no quota ("max"), or none recorded
        return float(found["usable_cores"])


# Whether the usable cores compute independently: matmul-serial at a size whose matrices stay in each core's
# caches (so only the cores themselves are shared, not the memory), alone, then one copy per usable core at
# once; a probe of the cores, not a result, so unchecked (the check would only lengthen it).
TOGETHER_PROGRAM = "matmul-serial"
TOGETHER_ARGS = ["-n", "512", "--warmup", "2", "-r", "30", "--no-verify"]
# Slower together than alone by more than this: the cores share something the workers of a model would share.
TOGETHER_SLOWER = 1.10
# Times the probe runs (alone, then together), its figure their median: a host's other guests come and go.
TOGETHER_TRIES = 3
# Why cores_together measured nothing.
TOGETHER_UNMEASURED = "one usable core, bin/%s not built, or a run of it failed" % TOGETHER_PROGRAM


def cores_together(copies, bin_dir=ROOT / "bin"):
    """How much longer a compute-bound run takes when copies of it run at once, one per
    usable core, than alone: the slowest copy's median time over the lone run's (1.0:
    independent cores), the median of TOGETHER_TRIES tries. Another program running here
    takes a core's share (the load average says so too); under a hypervisor two vCPUs
    can also be one core's two hardware threads, or share a host's cores with other
    guests, for a while or for good. Then no parallel lane can reach its speedup,
    however good its code. None where it cannot be measured (fewer than 2 copies, matmul-serial not
    built, a run that failed)."""
    program = bin_dir / TOGETHER_PROGRAM
    if copies < 2 or not program.exists():
        return None

    def medians(count):
        runs = [subprocess.Popen([str(program)] + TOGETHER_ARGS, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 stdin=subprocess.DEVNULL, text=True) for _ in range(count)]
        outputs = [run.communicate()[0] for run in runs]  # every run waited for, before any is judged
        found = []
        for run, out in zip(runs, outputs):
            seconds = [float(pairs["seconds"]) for pairs in programs.parse_result_lines(out, strict=False)
                       if pairs.get("rep", "0") != "0" and "seconds" in pairs]
            if run.returncode != 0 or not seconds:
                return None
            found.append(sorted(seconds)[len(seconds) // 2])
        return found

    ratios = []
    for _ in range(TOGETHER_TRIES):
        alone, together = medians(1), medians(copies)
        if not alone or not together:
            return None
        ratios.append(max(together) / alone[0])
    return sorted(ratios)[len(ratios) // 2]


def cores_together_said(ratio, copies):
    """A line on cores_together's ratio for copies at once, or None where it was not measured."""
    if ratio is None:
        return None
    if ratio <= TOGETHER_SLOWER:
        return "%d compute-bound runs at once, one per usable core, each took %.2fx its time alone: independent" % (
            copies, ratio)
    return ("%d compute-bound runs at once, one per usable core, took up to %.2fx their time alone: the cores "
            "are not independent now (another program running here, two hardware threads of one core, or a "
            "host's cores shared with others); "
            "while it lasts, a lane at P = %d can reach about %.1fx at best" % (copies, ratio, copies,
                                                                                 copies / ratio))


def say_cores_together(when):
    """Print whether the usable cores compute independently now (cores_together), headed by when
    ("before the rounds"): a speed check's figures at P > 1 are bounded by it."""
    copies = int(usable_cpus(cores()))
    said = cores_together_said(cores_together(copies), copies)
    print("cores together, %s: %s" % (when, said or "not measured (%s)" % TOGETHER_UNMEASURED))


def page_faults(idle=None):
    """What a page fault costs here, as build/faults measures it (tools/faults.c): first_touch_us and
    copy_on_write_us a 4 KiB page, fork_exit_ms; with idle (seconds), fresh_ms_per_mib and idle_ms_per_mib
    too (memory on huge pages freed just before, and after idle seconds); {} where it is not built or failed."""
    return key_values(command_output([str(ROOT / "build" / "faults")] + (["--idle", str(idle)] if idle else []), ""))


# Why page_faults_said and idle_memory_said have nothing to say.
FAULTS_UNMEASURED = "build/faults not built (make), or it failed"
# Pages of 4 KiB in a MiB: page_faults_said's price of writing a MiB a process shares copy-on-write.
PAGES_PER_MIB = 256


def page_faults_said(found):
    """(figures, what they mean) on page_faults()'s figures, or None where they were not measured."""
    try:
        first, shared, fork = (float(found[key]) for key in ("first_touch_us", "copy_on_write_us", "fork_exit_ms"))
    except (KeyError, ValueError):
        return None
    return ("%.1f us first touch, %.1f us copy-on-write" % (first, shared),
            "a 4 KiB page each; a fork()ed child, or a Python pool's parent and workers, pays one for every "
            "page it writes first, %.1f ms a MiB written copy-on-write here; fork + exit + wait %.1f ms; "
            "lessons 3 and 10" % (shared * PAGES_PER_MIB / 1000, fork))


# Seconds make doctor leaves memory idle before it touches it again: Linux reports free pages to a
# host that asks for them after 2 s.
IDLE_SECONDS = 3
# Slower after the pause than right after a free by more than this: the host took the memory back.
IDLE_SLOWER = 2.0


def idle_memory_said(found):
    """(figure, what it means) on page_faults(idle)'s two figures for memory touched after a pause, or None
    where they were not measured."""
    try:
        fresh, idle = float(found["fresh_ms_per_mib"]), float(found["idle_ms_per_mib"])
    except (KeyError, ValueError):
        return None
    figure, after = "%.2f ms a MiB" % idle, "fresh memory after %s s idle" % found.get("idle_seconds", IDLE_SECONDS)
    if fresh <= 0 or idle <= IDLE_SLOWER * fresh:
        return figure, "%s, against %.2f ms a MiB right after a free: nothing taken back" % (after, fresh)
    return figure, ("%s, %.0fx the %.2f ms a MiB right after a free: the host takes back the memory this machine "
                    "frees, by free page reporting or a balloon, and gives it back page by page; the first run "
                    "after a pause, and a fork()ed child touching more than was freed just before it, pay this; "
                    "lesson 3" % (after, idle / fresh, fresh))


def say_page_faults():
    """Print what a page fault costs here, and fresh memory after a pause (page_faults with IDLE_SECONDS):
    the price the fork()ed lanes pay for memory, which their first runs and fresh children pay most."""
    found = page_faults(IDLE_SECONDS)
    for name, said in (("page faults", page_faults_said(found)), ("memory after a pause", idle_memory_said(found))):
        print("%s: %s" % (name, "%s (%s)" % said if said else "not measured (%s)" % FAULTS_UNMEASURED))


def mpi_cores(usable):
    """The cores MPI ranks can run on, as tools/mpirun counts them: this node's
    usable cores, or a Slurm job's tasks when it spans several nodes."""
    explained = key_values(command_output([str(ROOT / "tools" / "mpirun"), "--explain", "1"], ""))
    try:
        return int(explained.get("rank_cores", usable))
    except ValueError:
        return usable


def cpu_model():
    """The CPU's name from /proc/cpuinfo."""
    for line in read("/proc/cpuinfo", "").splitlines():
        if line.startswith(("model name", "Model", "cpu model")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or UNREADABLE


# Where sysfs lists cpu0's caches.
CPU0_CACHES = Path("/sys/devices/system/cpu/cpu0/cache")
# The caches as glibc's sysconf reports them (getconf's names), where sysfs lists none (many VMs and
# containers): the sizes the matmul kernel sizes its blocks from (common/matmul_kernel.c).
SYSCONF_CACHES = (("L1d", "LEVEL1_DCACHE_SIZE"), ("L1i", "LEVEL1_ICACHE_SIZE"), ("L2", "LEVEL2_CACHE_SIZE"),
                  ("L3", "LEVEL3_CACHE_SIZE"))


def caches(sysfs=CPU0_CACHES):
    """cpu0's caches, e.g. {"L1d": "48K", "L2": "1024K", "L3": "32768K"}: as sysfs lists them, or
    where it lists none, as sysconf reports them (getconf)."""
    found = {}
    for index in sorted(Path(sysfs).glob("index*")):
        level, kind = read(index / "level", ""), read(index / "type", "")
        suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
        if level:
            found["L%s%s" % (level, suffix)] = read(index / "size")
    if not found:
        for name, variable in SYSCONF_CACHES:
            size = command_output(["getconf", variable], "")
            if size.isdigit() and int(size) > 0:
                found[name] = "%dK" % (int(size) // 1024)
    return found or UNREADABLE


def governor():
    """cpu0's frequency governor ("performance", "powersave", ...), if exposed."""
    return read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")


def turbo():
    """Whether turbo/boost is on: "on", "off", or unreadable (e.g. in a VM)."""
    no_turbo = read("/sys/devices/system/cpu/intel_pstate/no_turbo", "")
    if no_turbo:
        return "off" if no_turbo == "1" else "on"
    boost = read("/sys/devices/system/cpu/cpufreq/boost", "")
    if boost:
        return "on" if boost == "1" else "off"
    return UNREADABLE


def kernel_hypervisor(log=None):
    """The hypervisor the kernel found at boot ("Hypervisor detected: KVM" in its log), or None where the
    log does not say or cannot be read (dmesg is often for root only)."""
    if log is None:
        log = command_output(["dmesg"], "")
    for line in log.splitlines():
        said = line.partition("Hypervisor detected:")[2].strip()
        if said:
            return said
    return None


def virtualized(kernel_said=None):
    """"no", or what runs this: a container (docker, lxc, ...) and/or a virtual machine, as systemd-detect-virt
    names it; where the kernel's log names another hypervisor (one that answers CPUID as another
    does), that one too. kernel_said: what kernel_hypervisor found (default: ask it)."""
    found = []
    container = command_output(["systemd-detect-virt", "--container"], "")
    if container and container != "none":
        found.append("container " + container)
    vm = command_output(["systemd-detect-virt", "--vm"], "")
    kernel = kernel_said if kernel_said is not None else kernel_hypervisor()
    if vm and vm != "none":
        found.append("virtual machine " + vm)
        if kernel and vm.lower() not in kernel.lower():  # "Xen HVM" is systemd's xen, "Microsoft Hyper-V" microsoft
            found[-1] += " (so says systemd-detect-virt; the kernel detected %s)" % kernel
    elif kernel:
        found.append("virtual machine " + kernel)
    elif " hypervisor" in read("/proc/cpuinfo", ""):
        found.append("virtual machine")
    return ", ".join(found) or "no"


def batch_job():
    """The scheduler's job id if this is a batch job, else None: salloc's shell
    is not one, though it has the job's SLURM_JOB_ID (slurm_allocation_shell)."""
    for variable in BATCH_JOB_VARIABLES:
        if os.environ.get(variable) and not (variable == "SLURM_JOB_ID" and slurm_allocation_shell()):
            return "%s=%s" % (variable, os.environ[variable])
    return None


def slurm_allocation_shell():
    """Whether this runs in salloc's shell: inside a Slurm allocation, but where
    salloc ran (on most sites the login node) rather than on the job's node.
    slurmd, which starts a batch script and srun's tasks on the job's nodes,
    sets SLURMD_NODENAME; salloc's own shell has SLURM_JOB_ID without it (a
    site that starts that shell on the node, with srun, gives it both)."""
    return bool(os.environ.get("SLURM_JOB_ID")) and not os.environ.get("SLURMD_NODENAME")


def openmp_version(cc, ompflags):
    """The _OPENMP date the compiler defines (e.g. 201511 is OpenMP 4.5)."""
    try:
        out = subprocess.run([cc] + ompflags.split() + ["-dM", "-E", "-"], input="", capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return UNREADABLE
    for line in out.stdout.splitlines():
        if line.startswith("#define _OPENMP "):
            return line.split()[-1]
    return UNREADABLE


def git_commit():
    """The commit measured, with "-dirty" when the tree had uncommitted changes;
    none (UNREADABLE) where the suite is not a git work tree of its own: an
    export (git archive, a tarball) has no commit, even when it sits inside
    another repository's work tree, whose HEAD git would otherwise find by
    walking up. git status only reads: without --no-optional-locks it writes
    the index back when it can, under .git/index.lock, which a git of the user's
    running at the same moment then finds taken, and which a git killed while
    writing it (past ulimit -f, SIGXFSZ) leaves behind."""
    top = command_output(["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"])
    if top == UNREADABLE or Path(top).resolve() != ROOT.resolve():
        return UNREADABLE
    commit = command_output(["git", "-C", str(ROOT), "rev-parse", "HEAD"])
    if commit != UNREADABLE and command_output(["git", "--no-optional-locks", "-C", str(ROOT), "status",
                                                "--porcelain", "--untracked-files=no"], ""):
        commit += "-dirty"
    return commit


def built_with(path=BUILD_FLAGS):
    """What the programs in bin/ were built with, as make wrote it in build/flags:
    the compilers as named, where they are and their version, every flag; None
    where make has not written it (programs built before make wrote it, or not
    by make)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def recorded_environment():
    """Every variable that changes how the models run."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(RECORDED_PREFIXES)}


# The reference lanes' own account of what they run: a tiny run of each, and
# the result-line keys that say it.
REFERENCE_PROBES = {
    "matmul-blas": (["-n", "64", "--warmup", "0"], ("blas_core", "blas_choice", "blas_core_fits", "blas_threads")),
    "factorial-gmp": (["-n", "10", "--warmup", "0"], ("gmp_version",)),
}


def reference_lanes(bin_dir=ROOT / "bin"):
    """What each built reference lane runs (OpenBLAS's core and who chose it,
    GMP's version), from one tiny run of it; its stderr notes (e.g. a core
    corrected or kept below the CPU) under "notes"."""
    lanes = {}
    for name, (args, keys) in REFERENCE_PROBES.items():
        exe = Path(bin_dir) / name
        if not exe.exists():
            continue
        try:
            out = subprocess.run([str(exe)] + args, capture_output=True, text=True, timeout=60,
                                 stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as e:
            lanes[name] = {"error": str(e)}
            continue
        pairs = dict(token.split("=", 1) for token in out.stdout.split() if "=" in token)
        lane = {key: pairs.get(key, UNREADABLE) for key in keys}
        notes = [line.split(": ", 1)[-1] for line in out.stderr.splitlines() if line.strip()]
        if out.returncode != 0:
            lane["error"] = "exit %d" % out.returncode
        if notes:
            lane["notes"] = notes
        lanes[name] = lane
    return lanes


def peak():
    """One core's peak double-precision GFLOP/s and how it was found (build/peak's key=value lines)."""
    return key_values(command_output([str(ROOT / "build" / "peak")], ""))


def reference_warnings(lanes):
    """Warnings for meta.json and the report: a reference lane that ran an
    OpenBLAS core below what this CPU supports makes every speedup against it
    look better than it is."""
    blas = lanes.get("matmul-blas", {})
    if blas.get("blas_core_fits") != "no":
        return []
    why = ("set by OPENBLAS_CORETYPE in the environment" if blas.get("blas_choice") == "user"
           else "the best this OpenBLAS has here")
    return ["the OpenBLAS reference lane runs its %s core, below what this CPU supports (%s): "
            "it is slower than OpenBLAS can be here" % (blas.get("blas_core"), why)]


def describe(environment_build=None):
    """meta.json's machine part. The build is what make built bin/ with
    (build/flags), not what this make was given: make rebuilds what a change
    affects, and a program not run through make builds nothing; only where
    build/flags is missing, environment_build (CC, CFLAGS, OMPFLAGS, MPICC as
    make passed them in)."""
    flags = built_with()
    build = {k: flags.get(k, "") for k in BUILD_SETTINGS} if flags is not None else dict(environment_build or {})
    compiler = ([flags["CC_VERSION"]] if flags and flags.get("CC_VERSION")
                else command_output([build.get("CC") or "cc", "--version"]).splitlines()[0:1])
    info = {"host": socket.gethostname(), "cpu_model": cpu_model()}
    info.update(cores())
    info.update({
        "caches": caches(),
        "governor": governor(),
        "turbo": turbo(),
        "virtualized": virtualized(),
        "kernel": "%s %s" % (platform.system(), platform.release()),
        "load_before": list(os.getloadavg()),
        "batch_job": batch_job(),
        "compiler": compiler,
        "build": build,
        "build_flags": flags,
        "openmp_version": openmp_version(build.get("CC") or "cc", build.get("OMPFLAGS") or "-fopenmp"),
        "mpi": key_values(command_output([str(ROOT / "tools" / "mpirun"), "--explain", "1"], "")),
        "environment": recorded_environment(),
        "reference_lanes": reference_lanes(),
        "peak": peak(),
        "page_faults": page_faults(),
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "python_clock": str(time.get_clock_info("monotonic")),
    })
    return info


def load_warning(load, usable):
    """A warning if the 1-minute load average exceeds 10% of the usable cores."""
    if load > LOAD_WARNING_SHARE * usable:
        return ("load average %.2f is above %d%% of the %d usable cores: something else was running"
                % (load, LOAD_WARNING_SHARE * 100, usable))
    return None


# ---- the Python lane ------------------------------------------------------------

# The packages the Python lane's models import (tools/configure.sh's list), whose versions meta.json records.
PYTHON_LANE_PACKAGES = ("numpy", "threadpoolctl", "requests", "crcmod", "gmpy2", "mpi4py", "joblib", "dask",
                        "distributed", "numba", "aiohttp", "ipyparallel")
# Run by the lane's interpreter: its version, each package's version (None:
# it does not import), and threadpoolctl's record of the BLAS NumPy loaded,
# picked as python/common/blas.py picks it, with whether its core is below
# what the CPU supports. The packages are imported as the programs import them,
# after python/common (its settings: distutils from the standard library), but
# with python/ off the path, so a folder there (python/numba/) cannot stand in
# for one.
PYTHON_LANE_PROBE = r"""
import importlib, json, platform, sys
argv = sys.argv[1:]
python_dir, names = argv[0], argv[1:]
sys.path.insert(0, python_dir)
importlib.import_module("common")
sys.path.remove(python_dir)
packages = {}
for name in names:
    try:
        module = importlib.import_module(name)
    except Exception:  # a package that is absent or broken: both mean the lane cannot use it
        packages[name] = None
        continue
    version = getattr(module, "__version__", None)
    if version is None:
        try:
            from importlib import metadata
            version = metadata.version(name)
        except Exception:
            version = "unknown"
    packages[name] = str(version) if getattr(module, "__file__", None) else None
blas = None
if packages.get("numpy") and packages.get("threadpoolctl"):
    import numpy, threadpoolctl
    sys.path.insert(0, python_dir)
    from common import blas as lane_blas
    entry = lane_blas.openblas_entry(threadpoolctl)
    if entry:
        blas = {key: entry.get(key) for key in ("internal_api", "version", "architecture", "threading_layer",
                                               "num_threads", "filepath")}
        if entry.get("internal_api") == "openblas":
            fits = lane_blas.core_tier(entry.get("architecture") or "") >= lane_blas.cpu_tier()
            blas["core_fits"] = "yes" if fits else "no"
print(json.dumps({"version": platform.python_version(), "implementation": platform.python_implementation(),
                  "packages": packages, "numpy_blas": blas}))
"""
# The lane's run that says which BLAS core its matmul programs run (after
# blas.py's correction, if OpenBLAS chose a core below the CPU's), and the keys that say it.
PYTHON_LANE_BLAS_RUN = ("matmul-py-serial", ["-n", "64", "--warmup", "0"], ("blas_core", "blas_choice", "blas_threads"))


def python_lane(interpreter, bin_dir=ROOT / "bin"):
    """meta.json's python_lane: the interpreter bin/*-py-* run, its version,
    each package's version (null: it does not import), the BLAS NumPy loads
    (threadpoolctl's record: numpy_blas) and the core the lane's matmul runs
    (blas_run, from one tiny run of bin/matmul-py-serial); "error" when the
    interpreter cannot be asked."""
    lane = {"interpreter": interpreter or UNREADABLE}
    if not interpreter:
        lane["error"] = "no Python lane interpreter (PYTHON_LANE in build/config.mk)"
        return lane
    try:
        out = subprocess.run([interpreter, "-c", PYTHON_LANE_PROBE, str(ROOT / "python")] + list(PYTHON_LANE_PACKAGES),
                             capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        lane["error"] = "cannot ask %s: %s" % (interpreter, e)
        return lane
    try:  # the last line: a package may have printed something as it was imported
        lane.update(json.loads((out.stdout.strip().splitlines() or [""])[-1]))
    except ValueError:
        lane["error"] = "%s could not say (exit %d): %s" % (
            interpreter, out.returncode, (out.stderr.strip().splitlines() or ["no message"])[-1])
        return lane
    name, args, keys = PYTHON_LANE_BLAS_RUN
    exe = Path(bin_dir) / name
    if not exe.exists():
        return lane
    try:
        out = subprocess.run([str(exe)] + args, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        lane["blas_run"] = {"error": str(e)}
        return lane
    pairs = dict(token.split("=", 1) for token in out.stdout.split() if "=" in token)
    lane["blas_run"] = {key: pairs.get(key, UNREADABLE) for key in keys}
    if out.returncode != 0:
        lane["blas_run"]["error"] = "exit %d" % out.returncode
    return lane
