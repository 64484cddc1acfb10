#!/usr/bin/env python3
"""tools/doctor.py — what `make bench` will do on this machine, and why (`make doctor`).

Reads, never changes: cores and SMT, root or not, batch job or login node,
the toolchains the build found, what tools/mpirun will add, the governor,
the load, and the sweep the default preset would run.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine, studies  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS = [("HAVE_OPENMP", "OpenMP", "*-openmp"), ("HAVE_MPI", "MPI", "*-mpi"),
              ("HAVE_GMP", "GMP", "factorial-*"), ("HAVE_CURL", "libcurl", "download-*"),
              ("HAVE_BLAS", "OpenBLAS", "matmul-blas")]


def line(label, value, note=""):
    print("  %-22s %s%s" % (label, value, ("   (" + note + ")") if note else ""))


def main():
    cores = machine.cores()
    usable = cores["usable_cores"]
    print("machine")
    line("CPU", machine.cpu_model())
    line("usable cores", usable, "affinity %d, cgroup quota %s, %d CPUs online" % (
        cores["affinity_cpus"], cores["cgroup_cpu_quota"], cores["total_cpus"]))
    line("threads per core", cores["threads_per_core"],
         "SMT: two workers on one core share it" if cores["threads_per_core"] > 1 else "no SMT")
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

    print("toolchains (build/config.mk)")
    for variable, name, programs in COMPONENTS:
        found = os.environ.get(variable) == "yes"
        line(name, "found" if found else "MISSING", "" if found else programs + " not built; see 'make config'")
    line("gnuplot", os.environ.get("GNUPLOT") or "MISSING", "" if os.environ.get("GNUPLOT") else "no plots")
    line("matplotlib", os.environ.get("PYTHON_MPL") or "MISSING",
         "" if os.environ.get("PYTHON_MPL") else "no report figures")

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

    print("MPI launches (tools/mpirun --explain)")
    for ranks in sorted({1, usable, usable + 1}):
        explained = machine.key_values(machine.command_output([str(ROOT / "tools" / "mpirun"), "--explain",
                                                              str(ranks)], ""))
        line("%d ranks" % ranks, explained.get("mpirun_flags") or "no extra flags",
             explained.get("mpi_environment") or "no extra environment")

    print("make bench (preset quick)")
    programs = studies.discover(ROOT / "bin")
    if not programs:
        line("programs", "none built yet", "run make")
        return 0
    total = 0
    for study in studies.studies_for(programs):
        members = [p for p in programs if p.workload == study.workload]
        counts = studies.worker_counts(study.kind, "quick", usable)
        configs = sum(len(study.sizes_for("quick", p.n_default)) *
                      len([c for c in counts if c <= p.max_workers] or [1]) for p in members)
        total += configs
        line(study.name, "%d configurations" % configs, "models %s; n = %s; workers %s" % (
            ",".join(p.model for p in members), study.sizes_for("quick", members[0].n_default), counts))
    line("runs", "%d" % (total * 4), "each configuration: 1 warm-up + 3 timed runs, shuffled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
