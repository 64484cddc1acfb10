#!/usr/bin/env python3
"""tools/harness/speed_matmul.py — matmul's speed targets, measured side by side in one run.

Usage: tools/harness/speed_matmul.py [-n N ...] [--rounds K] [--reps R]   (make bench-matmul)

At each size (default n = 1024 and 2048) it runs OpenBLAS (one thread and
two), the serial blocked kernel, and every parallel model at P = 1 and 2,
in a shuffled order each round, and prints medians:
  - one core's peak GFLOP/s (build/peak: clock x vector width x FMA units x 2)
    and each lane's share of the peak of the cores its P workers can use (at
    most the usable cores, or a cgroup quota's share of them: tools/cores);
  - serial blocked GFLOP/s as a fraction of single-threaded OpenBLAS on the
    core that fits this CPU, named (target >= 0.8);
  - OpenMP at P = 2 against OpenBLAS on two threads;
  - parallel efficiency at P = 2, T_serial / (2 * T_2), for threads,
    processes and OpenMP (target >= 0.9) and MPI (target >= 0.85), with the
    self-relative efficiency T_1 / (2 * T_2) beside it.
OpenBLAS runs as the environment has it; when that is a core below what the
CPU supports (OPENBLAS_CORETYPE set to an older core), it also runs without
that setting, and the targets are against that run: a comparison with a
crippled reference lane would flatter the kernel.
Figures, not a test: nothing here fails the build.
"""
import argparse
import os
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import machine, record, runner, stats  # noqa: E402
from harness.programs import ROOT, launch, parse_result_lines  # noqa: E402

SERIAL_TARGET = 0.8
TARGETS = {"threads": 0.9, "processes": 0.9, "openmp": 0.9, "mpi": 0.85}
# The lanes: (name, program model, workers, environment changes); "blas-fit"
# is added when the environment holds OpenBLAS to a core below the CPU's.
LANES = [("blas", "blas", 1, {}), ("blas", "blas", 2, {}), ("serial", "serial", 1, {})] + \
        [(m, m, p, {}) for m in TARGETS for p in (1, 2)]
# Timed runs per process shrink with the size, so every size takes a similar time.
REFERENCE_N = 1024


def run(model, workers, n, reps, env_changes):
    """(seconds of each timed run, the last result line) of one process of bin/matmul-<model>."""
    exe = str(ROOT / "bin" / ("matmul-" + model))
    args = ["-n", str(n), "-r", str(reps), "--warmup", "2"]
    argv = launch(exe, model, workers, args)
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    out = runner.run(argv, runner.NO_LIMIT, env=env)  # stopped by Ctrl-C or SIGTERM, SIGTERM first: mpirun ends ranks
    if out.exit_code != 0:
        sys.exit("bench_matmul: %s failed (exit %d):\n%s" % (" ".join(argv), out.exit_code, out.stderr))
    lines = parse_result_lines(out.stdout)
    return [float(line["seconds"]) for line in lines], lines[-1]


def blas_lanes():
    """LANES, plus OpenBLAS without the environment's core when that core is below the CPU's."""
    lane = machine.reference_lanes(ROOT / "bin").get("matmul-blas", {})
    if lane.get("blas_core_fits") == "no" and lane.get("blas_choice") == "user":
        fit = {"OPENBLAS_CORETYPE": None}
        return LANES + [("blas-fit", "blas", 1, fit), ("blas-fit", "blas", 2, fit)], lane
    return LANES, lane


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # -OO leaves no docstring
    parser.add_argument("-n", type=record.whole_number(1), nargs="+", default=[1024, 2048])
    parser.add_argument("--rounds", type=record.whole_number(1), default=5)
    parser.add_argument("--reps", type=record.whole_number(1), default=5, help="timed runs per process at n = 1024")
    parser.add_argument("--seed", type=record.whole_number(0), default=1)
    options = parser.parse_args()
    return record.run_recorded("bench-matmul", lambda: speed_check(options))


def speed_check(options):
    """The measurements and the figures printed, for the parsed options."""
    lanes, env_lane = blas_lanes()
    missing = sorted({m for _, m, _, _ in lanes if not (ROOT / "bin" / ("matmul-" + m)).exists()})
    if missing:
        sys.exit("bench_matmul: not built: %s (%s)" % (", ".join(missing), record.NOT_BUILT))
    machine.say_cores_together("before the rounds")
    machine.say_page_faults()
    limit = machine.peak()
    peak = float(limit["peak_gflops_per_core"]) if limit.get("peak_gflops_per_core", "unknown") != "unknown" else None
    order = random.Random(options.seed)
    configs = [(n,) + lane[:3] for n in options.n for lane in lanes]
    changes = {(lane[0], lane[2]): lane[3] for lane in lanes}
    samples = {c: [] for c in configs}
    said = {}
    for round_number in range(options.rounds):
        order.shuffle(configs)
        for n, name, model, workers in configs:
            reps = max(1, round(options.reps * (REFERENCE_N / n) ** 3))
            seconds, last = run(model, workers, n, reps, changes[(name, workers)])
            samples[(n, name, model, workers)] += seconds
            said[name] = last
        print("round %d of %d done" % (round_number + 1, options.rounds), file=sys.stderr)

    if peak:
        print("one core's peak: %.1f GFLOP/s (%s GHz x %s doubles x %s FMA units x 2; clock %s)" % (
            peak, limit.get("clock_ghz"), limit.get("vector_doubles"), limit.get("fma_units"),
            limit.get("clock_source")))
    else:
        print("one core's peak: unknown (build/peak measures it on x86-64 only)")
    cpus = machine.usable_cpus(machine.cores())
    if peak and cpus < max(p for _, _, p, _ in lanes):
        print("usable here: %g CPU%s (tools/cores), so a lane's share is of min(P, %g) cores' peak" % (
            cpus, "" if cpus == 1 else "s", cpus))
    for name in ("blas", "blas-fit"):
        if name in said:
            line = said[name]
            print("OpenBLAS %s: core %s (%s%s)" % (
                "as the environment has it" if name == "blas" else "without OPENBLAS_CORETYPE",
                line.get("blas_core"), line.get("blas_choice"),
                "" if line.get("blas_core_fits") == "yes" else ", below what this CPU supports"))
    reference = "blas-fit" if "blas-fit" in said else "blas"
    print("serial kernel: isa=%s" % said.get("serial", {}).get("isa", "?"))

    for n in options.n:
        median = {(name, p): statistics.median(samples[(n, name, model, p)])
                  for (size, name, model, p) in samples if size == n}
        flops = 2.0 * n ** 3
        print("\nmatmul n=%d, medians of the timed runs (%d rounds, shuffled, seed %d)" % (
            n, options.rounds, options.seed))
        print("%-10s %2s %12s %9s %14s" % ("lane", "P", "seconds", "GFLOP/s", "of its cores'"))
        for (name, p), seconds in sorted(median.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            gflops = flops / seconds / 1e9
            share = "%13.0f%%" % (100 * gflops / (min(p, cpus) * peak)) if peak else "%14s" % "n/a"
            print("%-10s %2d %12.6f %9.2f %s" % (name, p, seconds, gflops, share))
        line = stats.noisy_line([("%s P=%d" % (name, p), runs) for (size, name, _, p), runs in samples.items()
                                 if size == n])
        if line:
            print(line)
        ratio = median[(reference, 1)] / median[("serial", 1)]
        core = said[reference].get("blas_core")
        print("serial blocked / OpenBLAS (%s core) 1 thread: %.2f of its GFLOP/s (target >= %.1f): %s" % (
            core, ratio, SERIAL_TARGET, "met" if ratio >= SERIAL_TARGET else "NOT met"))
        if ("openmp", 2) in median:
            print("OpenMP P=2 / OpenBLAS (%s core) 2 threads: %.2f of its GFLOP/s" % (
                core, median[(reference, 2)] / median[("openmp", 2)]))
        print("efficiency at P=2    vs serial  self-relative  target")
        for model, target in TARGETS.items():
            versus_serial = median[("serial", 1)] / (2 * median[(model, 2)])
            self_relative = median[(model, 1)] / (2 * median[(model, 2)])
            print("  %-10s %14.2f %14.2f  >= %.2f %s" % (model, versus_serial, self_relative, target,
                                                       "met" if versus_serial >= target else "NOT met"))
    if env_lane.get("blas_core_fits") == "no":
        print("\nnote: the environment holds OpenBLAS to its %s core (%s); the targets above are against "
              "OpenBLAS without that setting" % (env_lane.get("blas_core"), env_lane.get("blas_choice")))
    machine.say_cores_together("after the rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
