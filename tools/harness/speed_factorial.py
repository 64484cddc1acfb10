#!/usr/bin/env python3
"""tools/harness/speed_factorial.py — factorial's speed targets, measured side by side in one run.

Usage: tools/harness/speed_factorial.py [--big-n N] [--many-n N] [--tiny-n N] [--rounds K] [--seed S]
                                        [--only big|many|tiny ...] [--no-verify]   (make bench-factorial)

Runs every configuration below once per round, each a process of its own
(--mode big: two untimed runs in it first, BIG_WARMUP), in a shuffled order
each round, and prints medians:
  --mode big, n = 10^7: GMP's mpz_fac_ui, and for each kernel (--kernel
    primes, the default; split-tree; tree) the serial model and every
    parallel model at P = 1 and P = 2:
      - speedup at P = 2 over the same model and kernel at P = 1 (target >= 1.8):
        each round runs the two one after the other (in either order), and
        the speedup is the median of the rounds' ratios, with the lowest and
        highest beside it;
      - the best model at P = 2 against mpz_fac_ui on one core (target:
        faster than it).
  --mode many, n = 20000: the serial model, and every parallel model at
    P = 2 under each schedule:
      - dynamic's speedup over serial (target >= 1.8);
      - static block against cyclic and dynamic (it must be visibly worse:
        at least 1.2 times slower than both).
  the granularity trap: --mode many with tiny tasks (n = 100, chunk 1) at
    P = 2 against serial: per_task_us, and whether the parallel run is slower.
Figures, not a test: nothing here fails the build.
"""
import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import machine, record, runner, stats  # noqa: E402
from harness.programs import ROOT, launch, parse_result_lines  # noqa: E402

PARALLEL = ("threads", "processes", "openmp", "mpi")
SCHEDULES = ("static", "cyclic", "dynamic")
BIG_SPEEDUP_TARGET = 1.8
KERNELS = ("primes", "split-tree", "tree")
MANY_SPEEDUP_TARGET = 1.8
STATIC_SLOWER_TARGET = 1.2   # "visibly worse": static at least this many times slower than cyclic and dynamic
# Tiny runs take microseconds and vary by milliseconds (a sleeping core waking
# up), so they get this many rounds for each round of the others.
TINY_ROUNDS_PER_ROUND = 5
# Untimed runs before --mode big's one timed run in each process: its huge
# numbers are fresh memory to a new process, and on a virtual machine whose
# host takes back freed memory the second run at P = 2 still pays for some
# (a fork()ed child's blocks are new in every run, and two workers ask for
# more at once than one). On the 2-core AMD EPYC Zen 5 VM, n = 10^7, a fresh
# process each pair with another program run between: the second run at
# P = 2 took 1.27-1.30 s (processes) and 1.07-1.13 s (threads), the third
# 1.01-1.08 s and 0.99-1.03 s; at P = 1 the two were alike (1.9 s).
BIG_WARMUP = 2
# What each part runs: (model, P, extra flags); warm-up runs first where the
# first runs of a process pay for fresh memory (--mode big's huge numbers).
BIG = [("gmp", 1, ())] + [(m, p, ("--kernel", k)) for k in KERNELS for m in ("serial",) + PARALLEL
                           for p in ((1,) if m == "serial" else (1, 2))]
MANY = [("serial", 1, ("--schedule", "dynamic"))] + [
    (m, 2, ("--schedule", s)) for m in PARALLEL for s in SCHEDULES]
TINY = [("serial", 1, ())] + [(m, 2, ()) for m in PARALLEL]


def run(model, workers, args):
    """The result line of one process of bin/factorial-<model>, as a dict."""
    exe = str(ROOT / "bin" / ("factorial-" + model))
    argv = launch(exe, model, workers, args)
    out = runner.run(argv, runner.NO_LIMIT)  # stopped by Ctrl-C or SIGTERM, SIGTERM first: mpirun ends its ranks
    if out.exit_code != 0:
        sys.exit("bench_factorial: %s failed (exit %d):\n%s" % (" ".join(argv), out.exit_code, out.stderr))
    return parse_result_lines(out.stdout)[-1]


def measure(configs, common, rounds, order, together=None):
    """Every config once per round, shuffled; the result lines per config.
    Configs for which together(config) is the same run one after the other in
    every round (stats.round_order), so that a ratio of theirs compares runs
    made seconds apart."""
    samples = {c: [] for c in configs}
    for round_number in range(rounds):
        for model, workers, extra in stats.round_order(configs, order, together):
            samples[(model, workers, extra)].append(run(model, workers, list(common) + list(extra)))
        print("  round %d of %d done" % (round_number + 1, rounds), file=sys.stderr)
    return samples


def same_lane(config):
    """A model with one kernel, at every P: its runs at P = 1 and P = 2 go together in each round."""
    model, _, extra = config
    return model, extra


def median(samples, key):
    """The median of one figure over a config's runs."""
    return statistics.median(float(line[key]) for line in samples)


def verdict(met):
    return "met" if met else "NOT met"


def say_noisy(named_samples):
    """A line naming the configurations whose runs varied by more than stats.NOISY_CV, if any."""
    line = stats.noisy_line([(name, [float(r["seconds"]) for r in runs]) for name, runs in named_samples])
    if line:
        print(line)


def report_big(samples, n, rounds):
    t = {(m, p, extra[-1] if extra else "mpz_fac_ui"): median(s, "seconds") for (m, p, extra), s in samples.items()}
    print("factorial --mode big n=%d, medians of %d runs (%d rounds, shuffled)" % (n, rounds, rounds))
    print("%-10s %-10s %2s %10s %10s %10s %10s" % ("model", "kernel", "P", "seconds", "compute", "combine", "comm"))
    for (m, p, extra), s in samples.items():
        kernel = extra[-1] if extra else "mpz_fac_ui"
        print("%-10s %-10s %2d %10.3f %10.3f %10.3f %10.3f" % (m, kernel, p, t[(m, p, kernel)], median(s, "compute"),
                                                              median(s, "combine"), median(s, "comm")))
    say_noisy([("%s %s P=%d" % (m, extra[-1] if extra else "mpz_fac_ui", p), s)
               for (m, p, extra), s in samples.items()])
    gmp = t[("gmp", 1, "mpz_fac_ui")]
    for kernel in KERNELS:
        print("\n--kernel %s: speedup at P=2 over the same model at P=1, the median of each round's pair of runs "
              "(target >= %.1f)" % (kernel, BIG_SPEEDUP_TARGET))
        for m in PARALLEL:
            each = round_speedups(samples[(m, 1, ("--kernel", kernel))], samples[(m, 2, ("--kernel", kernel))])
            speedup = statistics.median(each)
            print("  %-10s %5.2f  %-7s  round by round %.2f to %.2f" % (
                m, speedup, verdict(speedup >= BIG_SPEEDUP_TARGET), min(each), max(each)))
        best = min(PARALLEL, key=lambda m: t[(m, 2, kernel)])
        print("  best at P=2: %s, %.3f s; against factorial-gmp (mpz_fac_ui, one core) %.3f s: %.2fx its speed, %s"
              % (best, t[(best, 2, kernel)], gmp, gmp / t[(best, 2, kernel)],
                 verdict(t[(best, 2, kernel)] < gmp) + " (target: faster)"))
        print("  serial / gmp = %.2f" % (t[("serial", 1, kernel)] / gmp))
    print()


def round_speedups(one, two):
    """P = 1's time over P = 2's, round by round (each round ran the two one after the other): their
    median is the self-speedup, their lowest and highest how far it could move on this machine now."""
    return stats.round_ratios([float(a["seconds"]) for a in one], [float(b["seconds"]) for b in two])


def report_many(samples, n, rounds):
    t = {(m, p, extra[-1]): median(s, "seconds") for (m, p, extra), s in samples.items()}
    print("factorial --mode many n=%d, chunk 1, medians of %d runs (%d rounds, shuffled)" % (n, rounds, rounds))
    print("%-10s %2s %-8s %10s %12s" % ("model", "P", "schedule", "seconds", "per_task_us"))
    for (m, p, extra), s in samples.items():
        print("%-10s %2d %-8s %10.3f %12.2f" % (m, p, extra[-1], t[(m, p, extra[-1])], median(s, "per_task_us")))
    say_noisy([("%s %s P=%d" % (m, extra[-1], p), s) for (m, p, extra), s in samples.items()])
    serial = t[("serial", 1, "dynamic")]
    print("\nspeedup over serial at P=2 (dynamic target >= %.1f; static must be >= %.1fx slower than both others)"
          % (MANY_SPEEDUP_TARGET, STATIC_SLOWER_TARGET))
    print("  %-10s %7s %7s %7s %9s %15s" % ("model", "static", "cyclic", "dynamic", "dynamic", "static worse"))
    for m in PARALLEL:
        speedup = {s: serial / t[(m, 2, s)] for s in SCHEDULES}
        worse = min(t[(m, 2, "static")] / t[(m, 2, "cyclic")], t[(m, 2, "static")] / t[(m, 2, "dynamic")])
        print("  %-10s %7.2f %7.2f %7.2f %9s %8.2fx %s" % (
            m, speedup["static"], speedup["cyclic"], speedup["dynamic"],
            verdict(speedup["dynamic"] >= MANY_SPEEDUP_TARGET), worse, verdict(worse >= STATIC_SLOWER_TARGET)))
    print()


def report_tiny(samples, n, rounds):
    """Medians and the fastest run: tiny runs are often bimodal (a core awake, or asleep)."""
    t = {m: median(s, "seconds") for (m, _, _), s in samples.items()}
    fastest = {m: min(float(line["seconds"]) for line in s) for (m, _, _), s in samples.items()}
    per_task = {m: median(s, "per_task_us") for (m, _, _), s in samples.items()}
    print("the granularity trap: --mode many n=%d, dynamic, chunk 1 (tasks of about a microsecond), %d runs each"
          % (n, rounds))
    print("  %-10s %2s %10s %12s %-16s %10s %s" % ("model", "P", "median s", "per_task_us", "against serial",
                                                  "fastest s", "against serial's fastest"))
    for (m, p, _), _s in samples.items():
        note = "" if m == "serial" else compared(t[m], t["serial"])
        best = "" if m == "serial" else compared(fastest[m], fastest["serial"])
        print("  %-10s %2d %10.6f %12.3f %-16s %10.6f %s" % (m, p, t[m], per_task[m], note, fastest[m], best))


def compared(seconds, serial):
    """'3.2x slower' or '1.1x faster': a time against serial's."""
    if seconds > serial:
        return "%.1fx slower" % (seconds / serial)
    return "%.1fx faster" % (serial / seconds)


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # -OO leaves no docstring
    parser.add_argument("--big-n", type=record.whole_number(1), default=10000000)
    parser.add_argument("--many-n", type=record.whole_number(1), default=20000)
    parser.add_argument("--tiny-n", type=record.whole_number(1), default=100)
    parser.add_argument("--rounds", type=record.whole_number(1), default=3)
    parser.add_argument("--seed", type=record.whole_number(0), default=1)
    parser.add_argument("--only", action="append", choices=("big", "many", "tiny"),
                        help="run only this part (may be repeated); default: all three")
    parser.add_argument("--no-verify", action="store_true",
                        help="pass --no-verify: quicker, the check is outside the timed region anyway")
    options = parser.parse_args()
    return record.run_recorded("bench-factorial", lambda: speed_check(options))


def speed_check(options):
    """The measurements and the figures printed, for the parsed options."""
    parts = options.only or ["big", "many", "tiny"]
    check = ["--no-verify"] if options.no_verify else []

    needed = {m for m, _, _ in BIG + MANY}
    missing = sorted(m for m in needed if not (ROOT / "bin" / ("factorial-" + m)).exists())
    if missing:
        sys.exit("bench_factorial: not built: %s (%s)" % (", ".join(missing), record.NOT_BUILT))
    machine.say_cores_together("before the rounds")
    machine.say_page_faults()
    order = random.Random(options.seed)
    if "big" in parts:
        print("--mode big n=%d" % options.big_n, file=sys.stderr)
        big = measure(BIG, ["-n", options.big_n, "--warmup", BIG_WARMUP] + check, options.rounds, order,
                      together=same_lane)
        report_big(big, options.big_n, options.rounds)
    if "many" in parts:
        print("--mode many n=%d" % options.many_n, file=sys.stderr)
        many = measure(MANY, ["--mode", "many", "-n", options.many_n, "--warmup", 0] + check, options.rounds, order)
        report_many(many, options.many_n, options.rounds)
    if "tiny" in parts:
        print("--mode many n=%d (tiny tasks)" % options.tiny_n, file=sys.stderr)
        rounds = options.rounds * TINY_ROUNDS_PER_ROUND
        tiny = measure(TINY, ["--mode", "many", "-n", options.tiny_n, "--chunk", 1, "--warmup", 1, "-r", 1] + check,
                       rounds, order)
        report_tiny(tiny, options.tiny_n, rounds)
    machine.say_cores_together("after the rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
