#!/usr/bin/env python3
"""tools/doctor.py — what `make bench` will do on this machine, and why (`make doctor`).

Reads, never changes: cores and SMT, root or not, batch job or login node,
the toolchains the build found, what tools/mpirun will add, the governor,
the load, the Python lane (its interpreter, the models built and the ones
skipped with why, NumPy's BLAS core), whether a cluster on this machine
can be made (make bench CLUSTER=N: which kind, or why not; ip and tc), and
the sweep the default preset would run.
"""
import argparse
import errno
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine, studies  # noqa: E402
from harness.programs import is_python, split_name  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# How a write to stdout fails where what doctor found cannot reach it (its own calls catch their errors).
STDOUT_LOST = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EPIPE, errno.EBADF, errno.EIO)
COMPONENTS = [("HAVE_OPENMP", "OpenMP", "*-openmp"), ("HAVE_MPI", "MPI", "*-mpi"),
              ("HAVE_GMP", "GMP", "factorial-*"), ("HAVE_CURL", "libcurl", "download-*"),
              ("HAVE_BLAS", "OpenBLAS", "matmul-blas")]


def line(label, value, note=""):
    print("  %-22s %s%s" % (label, value, ("   (" + note + ")") if note else ""))


def main():
    argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0].partition(" — ")[2],
                            epilog="Run it as make doctor, which hands it what the build found.").parse_args()
    if not any(variable in os.environ for variable, _, _ in COMPONENTS):
        print("doctor: run it as make doctor: what the build found (tools/configure.sh) comes through make",
              file=sys.stderr)
        return 2
    cores = machine.cores()
    usable = cores["usable_cores"]
    print("machine")
    line("CPU", machine.cpu_model())
    line("usable cores", usable, "affinity %d, cgroup quota %s, %d CPUs online" % (
        cores["affinity_cpus"], cores["cgroup_cpu_quota"], cores["total_cpus"]))
    line("threads per core", cores["threads_per_core"],
         "SMT: %d workers on one core share it" % cores["threads_per_core"] if cores["threads_per_core"] > 1
         else "no SMT")
    copies = int(machine.usable_cpus(cores))
    together = machine.cores_together(copies)
    line("cores together", "%.2fx alone" % together if together else "not measured",
         machine.cores_together_said(together, copies) or machine.TOGETHER_UNMEASURED)
    found = machine.page_faults(machine.IDLE_SECONDS)
    line("page faults", *(machine.page_faults_said(found) or ("not measured", machine.FAULTS_UNMEASURED)))
    line("memory after a pause", *(machine.idle_memory_said(found) or ("not measured", machine.FAULTS_UNMEASURED)))
    line("virtualized", machine.virtualized())
    line("governor", machine.governor(), "want 'performance' for stable clocks")
    line("turbo", machine.turbo())
    load = os.getloadavg()[0]
    line("load average", "%.2f" % load, machine.load_warning(load, usable) or "quiet enough")
    line("user", "root" if os.geteuid() == 0 else "not root",
         "tools/mpirun adds Open MPI's run-as-root variables" if os.geteuid() == 0 else "")
    job = machine.batch_job()
    line("batch job", job or "no", "preset full allowed" if job else
         "a login node or a workstation: only the quick preset runs unless FORCE=1")

    toolchains()

    print("reference lanes (what a user would pick instead)")
    lanes = machine.reference_lanes(ROOT / "bin")
    blas = lanes.get("matmul-blas")
    if blas:
        choice = {"detected": "OpenBLAS's own choice", "user": "set by OPENBLAS_CORETYPE",
                  "corrected": "corrected from a generic core OpenBLAS fell back to"}.get(blas.get("blas_choice"), "")
        line("OpenBLAS core", blas.get("blas_core", machine.UNREADABLE), choice)
        for warning in machine.reference_warnings(lanes):
            line("", "WARNING: " + warning)
    else:
        line("OpenBLAS core", "matmul-blas not built")
    gmp = lanes.get("factorial-gmp")
    line("GMP", gmp.get("gmp_version", machine.UNREADABLE) if gmp else "factorial-gmp not built",
         "fixed when GMP was built" if gmp else "")

    print("one core's limit for matmul (build/peak)")
    limit = machine.peak()
    if limit:
        line("peak", "%s GFLOP/s per core" % limit.get("peak_gflops_per_core", "unknown"),
             "%s GHz x %s doubles per vector x %s FMA units x 2" % (
                 limit.get("clock_ghz"), limit.get("vector_doubles"), limit.get("fma_units")))
        line("clock", "%s GHz" % limit.get("clock_ghz"), limit.get("clock_source", "") +
             "; a short burst on one core: sustained or all-core clocks can be lower, and a VM's may vary")
    else:
        line("peak", "unknown", "build/peak not built (make)")

    python_lane()

    print("MPI launches (tools/mpirun --explain)")
    for ranks in sorted({1, usable, usable + 1}):
        explained = machine.key_values(machine.command_output([str(ROOT / "tools" / "mpirun"), "--explain",
                                                              str(ranks)], ""))
        if explained.get("mpi") == "none":   # no mpirun: the MPI lanes, C and mpi4py, cannot run
            line("mpirun", "MISSING", "not on the PATH (or MPIRUN=): apt-get install openmpi-bin, "
                 "or module load openmpi")
            break
        line("%d ranks" % ranks, explained.get("mpirun_flags") or "no extra flags",
             explained.get("mpi_environment") or "no extra environment")

    cluster()

    print("make bench (preset quick)")
    found = studies.discover(ROOT / "bin")
    if not found:
        line("programs", "none built yet", "run make")
        return 0
    points, _ = studies.plan(found, "quick", usable)
    for study in studies.studies_for(found):
        mine = [(program, n, p) for s, program, n, p in points if s is study]
        for lane, python in (("", False), (" py-*", True)):
            said = {}  # model -> {n: worker counts}
            for program, n, p in mine:
                if is_python(program.model) == python:
                    said.setdefault(program.model, {}).setdefault(n, []).append(p)
            if said:
                line(study.name + lane, "%d configurations" % sum(len(ps) for by_n in said.values()
                                                                  for ps in by_n.values()),
                     "; ".join("%s %s" % (model, sweep_said(by_n)) for model, by_n in sorted(said.items())))
    line("runs", "%d" % (len(points) * 4), "each configuration: 1 warm-up + 3 timed runs, shuffled")
    line("Python lane", "a sample", "PRESET=python sweeps all of it; MODELS=py-... one model; PYTHON=0 none")
    return 0


def toolchains():
    """What the build found (build/config.mk, through make's environment), and what a missing one costs."""
    print("toolchains (build/config.mk)")
    for variable, name, programs in COMPONENTS:
        found = os.environ.get(variable) == "yes"
        line(name, "found" if found else "MISSING", "" if found else programs + " not built; see 'make config'")
    line("gnuplot", os.environ.get("GNUPLOT") or "MISSING", "" if os.environ.get("GNUPLOT") else
         "no plots; Debian: apt-get install gnuplot-nox, RHEL: dnf install gnuplot")
    line("matplotlib", os.environ.get("PYTHON_MPL") or "MISSING", "" if os.environ.get("PYTHON_MPL") else
         "no report figures; Debian: apt-get install python3-matplotlib, RHEL: dnf install python3-matplotlib")


def sweep_said(by_n):
    """{n: worker counts} as "n=1000,3000 P=1", or "n=1000 P=1,2,4, n=3000 P=1,2,3,4" where they differ."""
    def counts(ps):
        return ",".join(map(str, sorted(ps)))
    if len({counts(ps) for ps in by_n.values()}) == 1:
        return "n=%s P=%s" % (",".join(map(str, sorted(by_n))), counts(next(iter(by_n.values()))))
    return ", ".join("n=%d P=%s" % (n, counts(ps)) for n, ps in sorted(by_n.items()))


def python_lane():
    """The Python lane: its interpreter and packages, the programs built and
    the ones skipped with the Debian packages they lack, NumPy's BLAS core."""
    print("the Python lane (bin/*-py-*)")
    interpreter = os.environ.get("PYTHON_LANE")
    if not interpreter:
        line("interpreter", "MISSING", "no Python 3.8+ that imports the lane's packages; see 'make config'")
        return
    lane = machine.python_lane(interpreter, ROOT / "bin")
    if lane.get("error"):
        line("interpreter", interpreter, lane["error"])
        return
    line("interpreter", interpreter, "Python %s; PYTHON_LANE= chooses another" % lane.get("version"))
    built = {}
    for path in sorted((ROOT / "bin").glob("*-py-*")):
        name = split_name(path.name)
        if name:
            built.setdefault(name[1], []).append(name[0])
    line("models built", ", ".join("%s (%s)" % (model, " ".join(workloads)) for model, workloads in
                                   sorted(built.items())) or "none", "" if built else "run make")
    for entry in os.environ.get("PY_SKIPPED_NEEDS", "").split():
        program, _, packages = entry.partition(":")
        line("not built", program, "apt-get install %s" % packages.replace(",", " ") if packages else "")
    packages = lane.get("packages", {})
    missing = [name for name, version in packages.items() if not version]
    line("packages", "%d of %d import" % (len(packages) - len(missing), len(packages)),
         "missing: " + ", ".join(missing) if missing else "")
    blas, run = lane.get("numpy_blas") or {}, lane.get("blas_run") or {}
    if blas:
        line("NumPy's BLAS", "%s %s, core %s" % (blas.get("internal_api"), blas.get("version"),
                                                 blas.get("architecture")),
             "threadpoolctl's record" + ("; below what this CPU supports" if blas.get("core_fits") == "no" else ""))
        if run.get("blas_core"):
            line("the lane runs", "core %s (%s)" % (run["blas_core"], run.get("blas_choice")),
                 "bin/matmul-py-serial: blas_choice says who chose it (results/README.md)")
    else:
        line("NumPy's BLAS", "unknown", "numpy or threadpoolctl does not import")


# What each kind of cluster tools/cluster check may find is, as doctor says it.
CLUSTER_MODES = {"root": ("ip netns", "as root: named network namespaces"),
                 "userns": ("user namespaces", "not root: unprivileged user namespaces (unshare --user --net)")}


def cluster():
    """A cluster on this machine (tools/cluster check, which makes nothing that lasts): which
    kind will work, or why none can; whether ip and tc are there."""
    print("a cluster on this machine (tools/cluster, make bench CLUSTER=N)")
    try:
        out = subprocess.run([str(ROOT / "tools" / "cluster"), "check", "--rate"], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        line("hosts", "unknown", "tools/cluster check: %s" % e)
        return
    said = machine.key_values(out.stdout)
    mode = said.get("mode", "none")
    found = {tool: not said.get(tool, "missing").startswith("missing") for tool in ("ip", "tc")}
    if mode in CLUSTER_MODES:
        kind, how = CLUSTER_MODES[mode]
        if not found["tc"]:
            unshaped = ", unshaped only (no tc)"
        elif said.get("shaping", "yes") != "yes":
            unshaped = ", unshaped only (tc cannot shape a link here)"
        else:
            unshaped = ""
        works = "make bench CLUSTER=N will work" + unshaped if found["ip"] else "but without ip no host can be made"
        line("hosts", kind, "%s; %s" % (how, works))
    else:
        line("hosts", "NONE", "neither kind of network namespace can be made here; make bench CLUSTER=N exits 2")
    for kind in ("root_netns", "userns"):
        line("  " + {"root_netns": "ip netns", "userns": "user namespaces"}[kind], said.get(kind, "unknown"))
    for tool, purpose in (("ip", "makes the hosts and their links"), ("tc", "shapes the links: RATE=, --rate")):
        where = said.get(tool, "unknown")
        line(tool, where if not where.startswith("missing") else "MISSING", purpose if not where.startswith(
            "missing") else purpose + "; " + where)
    for reason in out.stderr.strip().splitlines():
        line("", reason.replace("tools/cluster: ", "", 1))


if __name__ == "__main__":
    try:
        status = main()
        sys.stdout.flush()
        sys.exit(status)
    except KeyboardInterrupt:   # Ctrl-C: a line, not a traceback, and a shell's exit status
        print("doctor: interrupted (Ctrl-C)", file=sys.stderr)
        sys.exit(130)
    except OSError as e:  # what it found could not be written: a full disk, a quota, a closed pipe or stdout
        if e.errno not in STDOUT_LOST:
            raise
        print("doctor: cannot write what it found to stdout: %s" % e.strerror, file=sys.stderr)
        sys.exit(1)
