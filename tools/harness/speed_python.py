#!/usr/bin/env python3
"""tools/harness/speed_python.py — the Python lane's speed targets, measured side by side in one run.

Usage: tools/harness/speed_python.py [--rounds K] [--seed S] [--only factorial|download|matmul ...]
       (make bench-python)

Runs every configuration below once per round, each a process of its own
(`--warmup 1 -r 1`: its start-up is paid every time, as a user pays it), in
a shuffled order each round, and prints medians, each against py-serial of
the same workload and n. py-serial and the lanes with a target run one after
the other in each round, and a target's speedup is the median of the rounds'
own ratios, with their lowest and highest (the host a VM shares drifts over
minutes, and a ratio of runs made minutes apart measures the drift):
  factorial --mode many --chunk 50, n = 3000, Python's own integers, at P = 2:
    - py-threading (target <= 1.2x: the GIL lets one thread compute at a time);
    - py-multiprocessing --api map (target >= 1.6x) and --api apply (about 1x:
      Pool.apply waits for each task before it sends the next);
    - py-multiprocessing --start-method forkserver and spawn (figures: the
      pool's workers started from a server process or a fresh interpreter,
      against the default fork);
  download, 64 files x 256 KiB, server latency 50 ms, at P = 32:
    - py-threading (target >= 15x: a thread waiting on the network lets go of the GIL);
  matmul, n = 1024, the NumPy kernel, at P = 2:
    - py-threading (target >= 1.6x: NumPy lets go of the GIL inside the BLAS);
  every other Python model that is built, at the same P (figures, no target);
  beside each speedup at P = 2, the same with every run's setup and combine
  phases left out (what starting and ending the pool, the threads or the
  cluster cost: a target missed only because of them says so; not at
  P = 32, where the first workers download while the last start);
  under factorial's figures, what a bare multiprocessing.Pool(2) costs here
  to start and end (nothing of the suite's in it) and so the most a pool at
  P = 2 can reach over py-serial, whatever its code;
  the C lanes at the same n (the serial code, the reference lane, the
  parallel models at the same P), and the ratio of each Python lane's best
  time to the best C lane's;
  each Python lane's start-up (the interpreter and its imports, outside the
  timed region), its setup (starting the pool or the threads, inside it)
  and its comm and compute time (download's time is comm: waiting on the
  network), side by side.
A model not built yet is skipped with a line saying so. Figures, not a test:
a failed run is reported and left out, and nothing here fails the build.
"""
import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import guard, machine, record, runner, stats  # noqa: E402
from harness.programs import BIN, FileServer, FileServerError, is_python, launch, parse_result_lines  # noqa: E402
from harness.studies import PYTHON_CHUNK, PYTHON_MODEL_WORKLOADS, PYTHON_MODELS  # noqa: E402

# Seconds one process may take before it is given up on (py-serial's download is files x latency).
RUN_TIMEOUT = 600
# "About 1x" for Pool.apply: one task at a time, give or take a round trip per task.
APPLY_BAND = (0.8, 1.2)
SERVER_LATENCY_MS = 50
# Characters of a lane's label in the tables (the longest: py-multiprocessing --start-method forkserver).
LABEL_WIDTH = 44


class Part:
    """One workload's measurements: its n, flags (the Python lanes' own
    beside the shared ones), the P of its parallel lanes, its configurations
    and targets."""

    def __init__(self, name, workload, n, workers, args, python_args, c_lanes, targets, lanes=(), between=True,
                 bare_pool=False):
        self.name = name                # "factorial --mode many": the heading
        self.workload = workload        # bin/<workload>-*
        self.n = n
        self.workers = workers          # P of every parallel lane
        self.args = list(args)          # flags every lane gets
        self.python_args = list(python_args)  # and the Python lanes besides
        self.c_lanes = c_lanes          # ((model, P), ...): the C lanes to compare with
        self.targets = targets          # ((label, model, extra flags, low, high), ...): speedup over py-serial
        self.lanes = lanes              # ((label, model, extra flags), ...): more Python lanes, figures only
        # Whether a speedup with setup and combine left out means something: it does where every
        # worker starts before any has done much (P = 2 here); at P = 32 the first threads download
        # while the last start, and leaving setup out would leave their work out too.
        self.between = between
        # Whether to measure a bare pool's start and end beside the part (bare_pool below): what its pool
        # lanes pay whatever their code, and the most they can reach for it.
        self.bare_pool = bare_pool

    def configs(self):
        """(label, model, P, extra flags) of every lane, the targets' first, then the part's own lanes,
        then every other Python model."""
        found = [("py-serial", "py-serial", 1, ())]
        found += [(label, model, self.workers, tuple(extra)) for label, model, extra, _, _ in self.targets]
        found += [(label, model, self.workers, tuple(extra)) for label, model, extra in self.lanes]
        taken = {model for _, model, _, _ in found}
        found += [(model, model, self.workers, ()) for model in PYTHON_MODELS
                  if model not in taken and self.workload in PYTHON_MODEL_WORKLOADS.get(model, (self.workload,))]
        found += [(model, model, workers, ()) for model, workers in self.c_lanes]
        return found

    def paired(self, config):
        """What runs together in each round (stats.round_order): py-serial and the lanes with a target,
        whose speedups over it are the targets' verdicts; every other lane on its own."""
        label = config[0]
        return "targets" if label == "py-serial" or label in {t[0] for t in self.targets} else config


# Python lanes whose only kernel is their own: they take no --kernel.
OWN_KERNEL = ("py-numba",)

PARTS = {
    # Tasks of PYTHON_CHUNK numbers (60 of them at n = 3000), as a tutorial's Pool.map(f, xs) would get from
    # its default chunksize: one number per task measures the pool's messages, not the GIL (studies.py).
    "factorial": Part("factorial --mode many --chunk %d" % PYTHON_CHUNK, "factorial", 3000, 2,
                      ["--mode", "many", "--chunk", str(PYTHON_CHUNK)], [],
                      (("serial", 1), ("gmp", 1), ("threads", 2), ("processes", 2), ("openmp", 2), ("mpi", 2)),
                      (("py-threading", "py-threading", (), None, 1.2),
                       ("py-multiprocessing --api map", "py-multiprocessing", ("--api", "map"), 1.6, None),
                       ("py-multiprocessing --api apply", "py-multiprocessing", ("--api", "apply")) + APPLY_BAND),
                      # The pool's workers started the other two ways: what each costs to start and to compute.
                      tuple(("py-multiprocessing --start-method %s" % method, "py-multiprocessing",
                             ("--start-method", method)) for method in ("forkserver", "spawn")), bare_pool=True),
    "download": Part("download, 64 files x 256 KiB, latency %d ms" % SERVER_LATENCY_MS, "download", 64, 32,
                     ["--size", "256K"], [], (("threads", 32), ("async", 32)),
                     (("py-threading", "py-threading", (), 15.0, None),), between=False),
    "matmul": Part("matmul, NumPy kernel", "matmul", 1024, 2, [], ["--kernel", "numpy"],
                   (("serial", 1), ("blas", 1), ("blas", 2), ("threads", 2), ("openmp", 2), ("processes", 2),
                    ("mpi", 2)),
                   (("py-threading", "py-threading", (), 1.6, None),)),
}


# A bare pool: multiprocessing.Pool(P) in the lane's interpreter with nothing of the suite's loaded, started,
# given one task per worker and ended, BARE_POOL_RUNS times after one left out (it pays the imports and fresh
# memory); it prints the medians of the seconds to the first results and of the seconds to end it after them.
BARE_POOL_RUNS = 5
BARE_POOL = """
import multiprocessing, statistics, sys, time
workers, runs = int(sys.argv[1]), int(sys.argv[2])
first, end = [], []
for _ in range(runs + 1):
    start = time.perf_counter()
    with multiprocessing.Pool(workers) as pool:
        pool.map(abs, range(workers), chunksize=1)
        done = time.perf_counter()
    first.append(done - start)
    end.append(time.perf_counter() - done)
print(statistics.median(first[1:]), statistics.median(end[1:]))
"""


def bare_pool(workers):
    """(seconds to a bare pool's first results, seconds to end it then) at P = workers, medians, in the Python
    lane's interpreter (bin/factorial-py-multiprocessing --describe names it); or a string saying why not."""
    out = runner.run([exe("factorial", "py-multiprocessing"), "--describe"], RUN_TIMEOUT)
    interpreter = next((pairs["interpreter"] for pairs in parse_result_lines(out.stdout, strict=False)
                        if "interpreter" in pairs), None) if out.exit_code == 0 else None
    if not interpreter:
        return "bin/factorial-py-multiprocessing --describe named no interpreter"
    out = runner.run([interpreter, "-c", BARE_POOL, str(workers), str(BARE_POOL_RUNS)], RUN_TIMEOUT)
    try:
        first, end = (float(word) for word in out.stdout.split())
    except ValueError:
        return "%s could not start one (exit %s): %s" % (interpreter, out.exit_code,
                                                           (out.stderr.strip().splitlines() or ["no message"])[-1])
    return first, end


def bare_pool_said(bare, workers, serial):
    """The line on a bare pool's start and end (bare_pool), and the most a pool at P = workers can reach over
    py-serial's median (serial) for them: py-serial's work split exactly in P, plus the bare pool's costs."""
    if isinstance(bare, str):
        return "a bare multiprocessing.Pool(%d): not measured (%s)" % (workers, bare)
    first, end = bare
    said = ("a bare multiprocessing.Pool(%d) of this Python, nothing of the suite's in it: its first results %.1f "
            "ms after it starts, its end %.1f ms after them (medians of %d)" % (workers, first * 1e3, end * 1e3,
                                                                               BARE_POOL_RUNS))
    if not serial:
        return said
    return said + ("; so a pool at P = %d reaches %.2fx at most here, were py-serial's work split exactly in %d"
                   % (workers, serial / (serial / workers + first + end), workers))


def exe(workload, model):
    return BIN / ("%s-%s" % (workload, model))


def run(part, model, workers, extra, server_args):
    """The result line of one process, as a dict, or a string saying why there is none."""
    # py-numba has one kernel of its own (the loops it compiles): the others' --kernel is not for it
    python_args = part.python_args if is_python(model) and model not in OWN_KERNEL else []
    args = ["-n", part.n] + part.args + python_args + list(extra)
    argv = launch(exe(part.workload, model), model, workers, args + server_args + ["--warmup", 1, "-r", 1])
    out = runner.run(argv, RUN_TIMEOUT)  # stopped by Ctrl-C or SIGTERM, SIGTERM first: mpirun ends its ranks
    if out.timed_out:
        return "took over %d s" % RUN_TIMEOUT
    if out.exit_code != 0:
        return "exit %d: %s" % (out.exit_code, (out.stderr.strip().splitlines() or ["no message"])[-1])
    try:
        return parse_result_lines(out.stdout)[-1]
    except (ValueError, IndexError):
        return "no result line"


def measure(part, configs, rounds, order, server_args):
    """Every config once per round, shuffled, py-serial and the targets' lanes one after the other
    (part.paired); {config: [result lines]} and {config: why it failed}. A config that failed once is
    left out of the rounds after and of the figures, so each one left has a run in every round."""
    samples, failed = {c: [] for c in configs}, {}
    for round_number in range(rounds):
        for config in stats.round_order([c for c in configs if c not in failed], order, part.paired):
            _, model, workers, extra = config
            result = run(part, model, workers, extra, server_args)
            if isinstance(result, str):
                failed[config] = result
            else:
                samples[config].append(result)
        print("  %s: round %d of %d done" % (part.workload, round_number + 1, rounds), file=sys.stderr)
    return {c: s for c, s in samples.items() if s and c not in failed}, failed


def median(lines, key):
    values = [float(line[key]) for line in lines if key in line]
    return statistics.median(values) if values else None


def between(lines):
    """seconds - setup - combine of each run: the runs with their workers' start and end left out."""
    return [float(line["seconds"]) - float(line["setup"]) - float(line["combine"]) for line in lines
            if all(key in line for key in ("seconds", "setup", "combine"))]


def speedups(serial_lines, lines, paired):
    """The speedups over py-serial of a lane's runs, and of the same with their workers' start and end left
    out ([] where the runs do not say them): where the lane ran together with py-serial in every round
    (paired), the ratio of each round's two runs; otherwise py-serial's median over each of the lane's."""
    serial, without = [float(line["seconds"]) for line in serial_lines], between(lines)
    if not paired:
        serial = [statistics.median(serial)] * len(lines)
    return (stats.round_ratios(serial, [float(line["seconds"]) for line in lines]),
            stats.round_ratios(serial, without) if len(without) == len(lines) else [])


def verdict(value, low, high):
    """'met' or 'NOT met' for a target low <= value <= high (either end may be open)."""
    met = (low is None or value >= low) and (high is None or value <= high)
    return "met" if met else "NOT met"


def target_said(low, high):
    if low is not None and high is not None:
        return "about 1x (%.1f to %.1f)" % (low, high)
    return ">= %.1fx" % low if low is not None else "<= %.1fx" % high


def report(part, samples, failed, skipped, rounds, bare=None):
    """The part's tables: every lane, the targets, Python against C, start-up beside compute; bare: a bare
    pool's start and end (bare_pool), where the part measured them."""
    seconds = {c: median(s, "seconds") for c, s in samples.items()}
    print("%s, n = %d: medians of %d runs per lane (one process each, %d rounds, shuffled)" % (
        part.name, part.n, rounds, rounds))
    print("  %-*s %3s %10s %10s %10s %10s %10s" % (LABEL_WIDTH, "lane", "P", "seconds", "startup", "setup", "comm",
                                                 "compute"))
    for config, lines in samples.items():
        label, model, workers, _ = config
        startup = median(lines, "startup")
        print("  %-*s %3d %10.4f %10s %10.4f %10.4f %10.4f" % (
            LABEL_WIDTH, label, workers, seconds[config], "%.3f" % startup if startup is not None else "-",
            median(lines, "setup"), median(lines, "comm"), median(lines, "compute")))
    noisy = stats.noisy_line([("%s P=%d" % (label, workers), [float(r["seconds"]) for r in lines])
                              for (label, _, workers, _), lines in samples.items()])
    if noisy:
        print("  " + noisy)
    for line in skipped:
        print("  " + line)
    for (label, _, workers, _), why in failed.items():
        print("  %s P=%d: failed (%s); left out" % (label, workers, why))

    serial_config = next((c for c in seconds if c[0] == "py-serial"), None)
    serial = seconds.get(serial_config)
    targets = {label: (low, high) for label, _, _, low, high in part.targets}
    print("\n  speedup over py-serial at the same n (%s).%s%s" % (
        "its median %.4f s" % serial if serial else "not measured",
        "\n  A lane with a target ran one after the other with py-serial in each round: its speedup is the median "
        "of\n  the rounds' own ratios, their lowest and highest below it." if targets and serial else "",
        "\n  In brackets, each run's setup and combine (starting and ending the workers) left out: what the same "
        "lane\n  would do had they cost nothing." if part.between else ""))
    for config, lines in samples.items():
        label, model, workers, _ = config
        if not serial or not is_python(model) or label == "py-serial":
            continue
        each, each_between = speedups(samples[serial_config], lines, label in targets)
        speedup = statistics.median(each)
        without = statistics.median(each_between) if part.between and each_between else None
        said = "%6.2fx %9s" % (speedup, "(%.2fx)" % without if without else "")
        if label in targets:
            low, high = targets[label]
            met = verdict(speedup, low, high)
            if met != "met" and without and verdict(without, low, high) == "met":
                met += " (met with the workers' start and end left out: they cost the difference)"
            print("    %-*s P=%-3d %s   target %s: %s" % (LABEL_WIDTH, label, workers, said, target_said(low, high),
                                                          met))
            print("    %-*s        round by round %.2fx to %.2fx" % (LABEL_WIDTH, "", min(each), max(each)))
        else:
            print(("    %-*s P=%-3d %s" % (LABEL_WIDTH, label, workers, said)).rstrip())
    for label in targets:
        if label not in {c[0] for c in seconds}:
            print("    %-*s target not measured (see above)" % (LABEL_WIDTH, label))
    if bare is not None:
        print("  " + bare_pool_said(bare, part.workers, serial))

    c_times = {c: t for c, t in seconds.items() if not is_python(c[1])}
    if not c_times:
        print("\n  no C lane measured: no ratio to C")
        return
    best_c = min(c_times, key=c_times.get)
    print("\n  each Python lane's best time against the best C lane's (%s P=%d, %.4f s):" % (
        best_c[0], best_c[2], c_times[best_c]))
    best = {}
    for config, t in seconds.items():
        if is_python(config[1]) and (config[1] not in best or t < seconds[best[config[1]]]):
            best[config[1]] = config
    for model, config in sorted(best.items(), key=lambda item: seconds[item[1]]):
        print("    %-*s P=%-3d %10.4f s  %8.1fx the best C lane's time" % (
            LABEL_WIDTH, config[0], config[2], seconds[config], seconds[config] / c_times[best_c]))


def run_part(key, options, order, scratch):
    """Measure and report one part; a part that cannot run says why."""
    part = PARTS[key]
    configs, skipped = [], []
    for config in part.configs():
        label, model, workers, _ = config
        if exe(part.workload, model).exists():
            configs.append(config)
        elif is_python(model):
            skipped.append("%s: skipped, bin/%s-%s is not built (make; make doctor says why)"
                           % (label, part.workload, model))
    if not any(c[1] == "py-serial" for c in configs):
        print("%s: skipped: bin/%s-py-serial is not built, and every figure here is against it (%s)\n"
              % (part.name, part.workload, record.NOT_BUILT))
        return
    server, server_args = None, []
    if part.workload == "download":
        try:
            server = FileServer(["--latency", SERVER_LATENCY_MS, "--quiet"])
        except FileServerError as e:
            print("%s: skipped: %s\n" % (part.name, e))
            return
        server_args = ["--server", server.address, "-o", str(scratch)]
    print("%s, n = %d" % (part.name, part.n), file=sys.stderr)
    try:
        samples, failed = measure(part, configs, options.rounds, order, server_args)
    finally:
        if server:
            server.stop()
    bare = bare_pool(part.workers) if part.bare_pool and exe(part.workload, "py-multiprocessing").exists() else None
    report(part, samples, failed, skipped, options.rounds, bare)
    print()


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # -OO leaves no docstring
    parser.add_argument("--rounds", type=record.whole_number(1), default=3)
    parser.add_argument("--seed", type=record.whole_number(0), default=1)
    parser.add_argument("--only", action="append", choices=sorted(PARTS),
                        help="run only this part (may be repeated); default: all three")
    options = parser.parse_args()
    return record.run_recorded("bench-python", lambda: speed_check(options))


def speed_check(options):
    """The measurements and the figures printed, for the parsed options."""
    order = random.Random(options.seed)
    machine.say_cores_together("before the rounds")
    machine.say_page_faults()
    # download's scratch folder; the server and runs started from here on go with this check,
    # and the folder too, even when it is killed with SIGKILL (guard.py).
    guarded = guard.Guard("bench-python-")
    try:
        for key in options.only or ["factorial", "download", "matmul"]:
            run_part(key, options, order, Path(guarded.folder))
    finally:
        guarded.end()
    machine.say_cores_together("after the rounds")
    print("Figures from one machine at one time: on a shared or loaded machine they move; "
          "results/README.md says what each column means.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
