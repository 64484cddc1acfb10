#!/usr/bin/env python3
"""tools/harness/speed_download.py — download's speed targets, measured side by side in one run.

Usage: tools/harness/speed_download.py [--files N] [--size BYTES] [--latency MS] [--rounds K] [--reps R]
                                      [--wide P]
       (make bench-download)

Starts bin/fileserver --latency 50 (and a second one with no latency, to
measure what moving the bytes alone costs), then runs every client in a
shuffled order each round and prints medians:
  - serial against files × latency (it waits for each file in turn);
  - the best client at P = 64 (--wide) against the latency-bound ideal,
    ceil(files / P) × latency (target: within 1.25×), and against that ideal
    plus the time the same bytes take with no latency at all;
  - ours against Debian's curl --parallel --parallel-max 64 on the same URL
    list, whole process against whole process (target: ratio <= 0.6);
  - the speedup of threads at P = 32 over P = 1, next to matmul's (the
    I/O-bound workload scales far past the cores, the CPU-bound one stops).
Figures, not a test: nothing here fails the build.
"""
import argparse
import math
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import guard, machine, record, runner, stats  # noqa: E402
from harness.programs import BIN, FileServer, FileServerError, launch, parse_result_lines  # noqa: E402

WIDE = 64                                  # the P of the speed target (--wide)
WIDE_MODELS = ("threads", "processes", "openmp", "mpi", "async")
CURL_LANES = ("async", "threads")           # ours, in the comparison with curl --parallel
MATMUL_N = 1024
TARGET_IDEAL, TARGET_CURL = 1.25, 0.6


def start_server(latency_ms):
    """bin/fileserver on a free port with this latency: (server, port)."""
    try:
        server = FileServer(["--latency", latency_ms, "--quiet"])
    except FileServerError as e:
        sys.exit("bench_download: %s" % e)
    return server, server.port


def client_argv(model, workers, args):
    return launch(BIN / ("download-" + model), model, workers, args)


def result_seconds(argv):
    """Seconds of each timed run (the result lines' seconds=)."""
    out = runner.run(argv, runner.NO_LIMIT)  # stopped by Ctrl-C or SIGTERM, SIGTERM first: mpirun ends its ranks
    if out.exit_code != 0:
        sys.exit("bench_download: %s failed (exit %d):\n%s" % (" ".join(argv), out.exit_code, out.stderr[-2000:]))
    return [float(line["seconds"]) for line in parse_result_lines(out.stdout)]


def run_client(model, workers, port, options, directory):
    """Timed runs of one client against the server on port."""
    reps = 1 if workers == 1 else options.reps  # the P = 1 runs take files × latency each
    args = ["--server", "127.0.0.1:%d" % port, "--files", str(options.files), "--size", str(options.size),
            "-o", directory, "-r", str(reps), "--warmup", "1"]
    return result_seconds(client_argv(model, workers, args))


def wall(argv, directory):
    """Whole-process wall time of one command, starting from an empty directory."""
    shutil.rmtree(directory, ignore_errors=True)
    Path(directory).mkdir()
    started = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True)
    took = time.monotonic() - started
    if out.returncode != 0:
        sys.exit("bench_download: %s failed (exit %d):\n%s" % (" ".join(argv[:6]), out.returncode, out.stderr[-2000:]))
    return took


def curl_comparison(port, options, scratch):
    """Median whole-process seconds of curl --parallel and of our clients on one URL list."""
    urls = ["http://127.0.0.1:%d/files/file-42-%06d.bin?size=%d" % (port, i, options.size)
            for i in range(1, options.files + 1)]
    url_list = Path(scratch) / "urls.txt"
    url_list.write_text("\n".join(urls) + "\n")
    directory = str(Path(scratch) / "compare")
    lanes = {"curl": ["curl", "--no-progress-meter", "--fail", "--noproxy", "*",  # as ours: never a proxy
                      "--parallel", "--parallel-max", str(options.wide),
                      "--output-dir", directory, "--remote-name-all"] + urls}
    for model in CURL_LANES:
        lanes[model] = client_argv(model, options.wide, ["-i", str(url_list), "-o", directory, "-r", "1",
                                                         "--warmup", "0"])
    samples = {lane: [] for lane in lanes}
    order = random.Random(options.seed)
    for _ in range(options.rounds * options.reps):
        names = list(lanes)
        order.shuffle(names)
        for lane in names:
            samples[lane].append(wall(lanes[lane], directory))
    return {lane: statistics.median(s) for lane, s in samples.items()}


def matmul_speedup(options):
    """matmul-threads' T(P=1) / T(P=32), medians, for the contrast."""
    exe = BIN / "matmul-threads"
    if not exe.exists():
        return None
    times = {}
    for p in (1, 32):
        times[p] = statistics.median(result_seconds([str(exe), "-n", str(MATMUL_N), "-p", str(p), "-r",
                                                     str(options.reps), "--warmup", "1"]))
    return times[1] / times[32]


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # -OO leaves no docstring
    parser.add_argument("--files", type=record.whole_number(1), default=64)
    parser.add_argument("--size", type=record.whole_number(1), default=256 << 10)
    parser.add_argument("--latency", type=record.whole_number(0), default=50, help="milliseconds")
    parser.add_argument("--rounds", type=record.whole_number(1), default=5)
    parser.add_argument("--reps", type=record.whole_number(1), default=3)
    parser.add_argument("--seed", type=record.whole_number(0), default=1)
    parser.add_argument("--wide", type=record.whole_number(1), default=WIDE,
                        help="the P of the wide lanes and of curl --parallel-max (the targets are stated at %d; "
                             "fewer ranks and processes start faster)" % WIDE)
    options = parser.parse_args()
    return record.run_recorded("bench-download", lambda: speed_check(options))


def lane_configs(wide):
    """(model, P) of every lane measured: the serial code, threads at 1 and 32, every model at wide."""
    return [("serial", 1), ("threads", 1), ("threads", 32)] + [(m, wide) for m in WIDE_MODELS]


def speed_check(options):
    """The measurements and the figures printed, for the parsed options."""
    measured = lane_configs(options.wide)
    missing = sorted({"download-" + m for m, _ in measured if not (BIN / ("download-" + m)).exists()}
                     | ({"fileserver"} if not (BIN / "fileserver").exists() else set()))
    if missing:
        sys.exit("bench_download: not built: %s (%s)" % (", ".join(missing), record.NOT_BUILT))
    if not shutil.which("curl"):
        sys.exit("bench_download: needs the curl command (apt-get install curl) for the comparison")
    # The clients' scratch folder; the servers and clients started from here on go with this
    # check, and the folder too, even when it is killed with SIGKILL (guard.py).
    guarded = guard.Guard("bench-download-")
    scratch = guarded.folder
    server, port = start_server(options.latency)
    try:
        bare, bare_port = start_server(0)
    except SystemExit:  # the first one must not outlive us
        server.stop()
        raise
    try:
        order = random.Random(options.seed)
        samples = {c: [] for c in measured}
        floor = []
        for round_number in range(options.rounds):
            shuffled = measured[:]
            order.shuffle(shuffled)
            for model, workers in shuffled:
                samples[(model, workers)] += run_client(model, workers, port, options, scratch + "/runs")
            floor += run_client("async", options.wide, bare_port, options, scratch + "/runs")
            print("round %d of %d done" % (round_number + 1, options.rounds), file=sys.stderr)
        compared = curl_comparison(port, options, scratch)
        matmul = matmul_speedup(options)
    finally:
        for running in (server, bare):
            running.stop()
        guarded.end()

    median = {c: statistics.median(s) for c, s in samples.items()}
    latency, files, megabytes = options.latency / 1000.0, options.files, options.files * options.size / 1e6
    print("download: %d files × %d bytes, server latency %d ms; medians of %d rounds (shuffled, seed %d)" % (
        files, options.size, options.latency, options.rounds, options.seed))
    print("%-10s %3s %10s %9s" % ("model", "P", "seconds", "MB/s"))
    for config in measured:
        print("%-10s %3d %10.4f %9.1f" % (config[0], config[1], median[config], megabytes / median[config]))
    noisy = stats.noisy_line([("%s P=%d" % config, runs) for config, runs in samples.items()])
    if noisy:
        print(noisy)

    serial_bound = files * latency
    print("\nserial: %.3f s, files × latency = %.3f s (%.2f×): it waits for one file at a time" % (
        median[("serial", 1)], serial_bound, median[("serial", 1)] / serial_bound))

    wide = options.wide
    ideal = math.ceil(files / wide) * latency
    best = min((c for c in measured if c[1] == wide), key=lambda c: median[c])
    moving = statistics.median(floor)
    ratio = median[best] / ideal
    print("best at P=%d: %s, %.4f s; latency-bound ideal ceil(%d/%d) × %d ms = %.3f s: %.2f× (target <= %.2f): %s" % (
        wide, best[0], median[best], files, wide, options.latency, ideal, ratio, TARGET_IDEAL,
        "met" if ratio <= TARGET_IDEAL else "NOT met"))
    print("  the same bytes with no latency take %.4f s here (async, P=%d): ideal + that = %.4f s, %.2f×" % (
        moving, wide, ideal + moving, median[best] / (ideal + moving)))

    print("\nwhole process, same %d URLs, P=%d, medians of %d: curl --parallel %.4f s" % (
        files, wide, options.rounds * options.reps, compared["curl"]))
    for lane in CURL_LANES:
        r = compared[lane] / compared["curl"]
        print("  %-8s %.4f s, ratio to curl %.2f (target <= %.1f): %s" % (
            lane, compared[lane], r, TARGET_CURL, "met" if r <= TARGET_CURL else "NOT met"))

    speedup = median[("threads", 1)] / median[("threads", 32)]
    usable = machine.cores()["usable_cores"]
    print("\nspeedup of threads at P=32 over P=1 (%d usable core%s here):" % (usable, "" if usable == 1 else "s"))
    print("  download (I/O-bound)  %6.1f×" % speedup)
    if matmul is not None:
        print("  matmul   (CPU-bound)  %6.1f×   (n=%d)" % (matmul, MATMUL_N))
    else:
        print("  matmul: bin/matmul-threads not built")
    return 0


if __name__ == "__main__":
    sys.exit(main())
