#!/usr/bin/env python3
"""tools/harness/speed_matmul.py — matmul's speed targets, measured side by side in one run.

Usage: tools/harness/speed_matmul.py [-n N] [--rounds K] [--reps R]   (make bench-matmul)

Runs OpenBLAS (one thread), the serial blocked kernel, and every parallel
model at P = 1 and P = 2, in a shuffled order each round, and prints medians:
  - serial blocked GFLOP/s as a fraction of single-threaded OpenBLAS (target >= 0.5)
  - parallel efficiency at P = 2, T_serial / (2 * T_2), for threads, processes
    and OpenMP (target >= 0.9) and MPI (target >= 0.8), with the self-relative
    efficiency T_1 / (2 * T_2) of the same model beside it.
Figures, not a test: nothing here fails the build.
"""
import argparse
import random
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.programs import ROOT, launch, parse_result_lines  # noqa: E402

TARGETS = {"threads": 0.9, "processes": 0.9, "openmp": 0.9, "mpi": 0.8}
CONFIGS = [("blas", 1), ("serial", 1)] + [(m, p) for m in TARGETS for p in (1, 2)]


def run(model, workers, n, reps):
    """Seconds of each timed run of one process of bin/matmul-<model>."""
    exe = str(ROOT / "bin" / ("matmul-" + model))
    args = ["-n", str(n), "-r", str(reps), "--warmup", "2"]
    argv = launch(exe, model, workers, args)
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("bench_matmul: %s failed (exit %d):\n%s" % (" ".join(argv), out.returncode, out.stderr))
    return [float(line["seconds"]) for line in parse_result_lines(out.stdout)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()

    missing = [m for m, _ in CONFIGS if not (ROOT / "bin" / ("matmul-" + m)).exists()]
    if missing:
        sys.exit("bench_matmul: not built: %s (run make)" % ", ".join(sorted(set(missing))))
    order = random.Random(options.seed)
    samples = {c: [] for c in CONFIGS}
    for round_number in range(options.rounds):
        configs = CONFIGS[:]
        order.shuffle(configs)
        for config in configs:
            samples[config] += run(*config, options.n, options.reps)
        print("round %d of %d done" % (round_number + 1, options.rounds), file=sys.stderr)

    median = {c: statistics.median(s) for c, s in samples.items()}
    flops = 2.0 * options.n ** 3
    print("matmul n=%d, medians of %d runs each (%d rounds, shuffled, seed %d)" % (
        options.n, options.rounds * options.reps, options.rounds, options.seed))
    print("%-10s %2s %12s %9s" % ("model", "P", "seconds", "GFLOP/s"))
    for config in CONFIGS:
        print("%-10s %2d %12.6f %9.2f" % (config[0], config[1], median[config], flops / median[config] / 1e9))
    ratio = median[("blas", 1)] / median[("serial", 1)]
    print("\nserial blocked / OpenBLAS 1 thread: %.2f of its GFLOP/s (target >= 0.5): %s" % (
        ratio, "met" if ratio >= 0.5 else "NOT met"))
    print("\nefficiency at P=2    vs serial  self-relative  target")
    for model, target in TARGETS.items():
        versus_serial = median[("serial", 1)] / (2 * median[(model, 2)])
        self_relative = median[(model, 1)] / (2 * median[(model, 2)])
        print("  %-10s %14.2f %14.2f  >= %.1f %s" % (model, versus_serial, self_relative, target,
                                                    "met" if versus_serial >= target else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
