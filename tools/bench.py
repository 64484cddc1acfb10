#!/usr/bin/env python3
"""tools/bench.py — the benchmark harness: sweep, record honestly, summarize, plot.

Usage: tools/bench.py [--preset quick|python|full] [--workloads W,..] [--models M,..]
                      [--workers P,..] [--sizes N,..] [--repeats R] [--seed S] [--no-python]
                      [--cluster N [--rate R,..] [--cluster-dir DIR]]
                      [--force] [--resume] [--bin DIR] [--results DIR]
       tools/bench.py --plot RESULTS_DIR      redraw plots and report from runs.csv
`make bench` runs it; the make variables PRESET, WORKLOADS, MODELS, WORKERS,
SIZES, REPEATS, SEED, CLUSTER, RATE, FORCE=1 and RESUME=1 become these flags,
PYTHON=0 becomes --no-python, and RESULTS=DIR --results DIR: the folder the
sweep's own folder (<date>T<time>-<host>) and the latest link go in
(default: results/), where RESUME=1 finds the sweep to go on with.

Every program in bin/ named <workload>-<model> is swept over worker counts
(tools/harness/studies.py says which sizes and workers per preset), each run
a fresh process, configurations interleaved in a shuffled order. The Python
lane (bin/<workload>-py-<model>) is swept too: a sample of it under quick,
all of it under python (with the C code it is measured against) and full;
--no-python leaves it out. Each run's row lands in runs.csv at once, so
Ctrl-C loses nothing and --resume goes on where it stopped; killed with
SIGKILL, it leaves no run, server or scratch folder behind (harness/guard.py).
At the end: summary.csv, meta.json, plots, report.md, and the speedup plots
as text.
results/README.md documents every file and column.

--cluster N (make bench CLUSTER=N) sweeps the MPI lanes instead, across the N
hosts of clusters on this machine, one per link rate in --rate
(RATE=unshaped,1gbit,...; default unshaped), and on this machine alone beside
them (tools/harness/clusters.py). A cluster of yours that is up with N hosts
and one of those rates (tools/cluster up, in build/cluster/ or $CLUSTER_DIR)
is used and left up; the sweep brings up the others itself, one folder per
rate, in --cluster-dir (default: a fresh temporary folder each), and takes them
down at the end, on Ctrl-C and on an error too (killed, they go down with it). Where no cluster can be made it
says why and exits 2 before any run.
"""
import argparse
import csv
import datetime
import hashlib
import io
import json
import math
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import clusters, gnuplot, guard, machine, record, report, runner, stats, studies, summary  # noqa: E402
from harness.programs import (ROOT, FileServer, FileServerError, is_mpi, is_python, launch,  # noqa: E402
                              parse_result_line, split_name)

# The largest seed the programs take (--seed: 64 bits).
SEED_MOST = (1 << 64) - 1

PRESETS = {
    # repeats: timed runs per configuration (full: the fewest whose medians have a
    # 95 % confidence interval, which the error bars and make compare use);
    # timeout: seconds one run may take;
    # anywhere: bounded enough for a login node (the others need a batch job or FORCE=1)
    "quick": {"repeats": 3, "timeout": 120, "anywhere": True},
    studies.PYTHON_PRESET: {"repeats": 3, "timeout": 120, "anywhere": True},
    "full": {"repeats": stats.fewest_runs_with_ci(), "timeout": 900, "anywhere": False},
}
DEFAULT_PRESET = "quick"
# The sweeps kept in the project to compare with (make compare WITH=results/reference/<machine>).
REFERENCE = ROOT / "results" / "reference"
# What meta.json must hold for make plot to redraw a folder, and for RESUME=1 to go on with its sweep.
REDRAW_NEEDS = ("machine", "preset", "repeats")
RESUME_NEEDS = REDRAW_NEEDS + ("selection", "seed", "timeout")
# A run shorter than this many clock ticks is measured too coarsely to trust.
MIN_TICKS_PER_RUN = 1000
TIME_STAMP = "%Y-%m-%dT%H%M%S"


def say(message):
    """Progress and warnings go to stderr; stdout stays for the final plots."""
    print("bench: " + message, file=sys.stderr, flush=True)


def split_list(text, cast=str):
    """"1,2,4" -> [1, 2, 4]; empty -> None (not narrowed)."""
    items = [t for t in (text or "").replace(" ", ",").split(",") if t]
    return [cast(t) for t in items] if items else None


def whole_numbers(parser, name, text, least):
    """A list of whole numbers, each at least `least`, from WORKERS=, SIZES=,
    REPEATS= or SEED= (or its flag), as split_list gives it; a usage error
    naming the variable and the item otherwise, before anything runs. The
    same number twice is kept once."""
    whole = record.whole_number(least)  # the speed checks' rule for a count
    numbers = []
    for item in split_list(text) or []:
        try:
            numbers.append(whole(item))
        except argparse.ArgumentTypeError as e:
            parser.error("%s=%s: %s" % (name, text, e))
    return list(dict.fromkeys(numbers)) or None


def one_number(parser, name, text, least):
    """REPEATS= or SEED= as whole_numbers says, but one of them (None: not given)."""
    numbers = whole_numbers(parser, name, text, least)
    if numbers and len(numbers) > 1:
        parser.error("%s=%s: one whole number" % (name, text))
    return numbers[0] if numbers else None


def as_set(text, cast=str):
    """A list setting (WORKLOADS=, WORKERS=, ...) as the set it names, to compare: order and
    repeats change no sweep; the text itself where it does not read as one."""
    try:
        return frozenset(split_list(text, cast) or ())
    except ValueError:
        return text


def as_rates(text):
    """RATE= as the set of links it names (empty: unshaped), to compare; the text where it names none."""
    try:
        return frozenset(clusters.parse_rates(text))
    except clusters.ClusterError:
        return text


def as_hosts(text):
    """CLUSTER= as a number of hosts (empty: None), to compare; the text where it is none."""
    try:
        return clusters.parse_hosts(text) if text else None
    except clusters.ClusterError:
        return text


def changed_settings(options, meta):
    """The settings given to RESUME=1 that would change the sweep it goes on with:
    [("NAME=given", "NAME=recorded")], each compared as the sweep uses it (a list as
    the set it names, a number as a number), so that the values the sweep was started
    with, given again (RESUME=1 sbatch with the settings still exported), change nothing."""
    selection = meta["selection"]

    def recorded(name):
        return selection.get(name) or ""

    def said(name, value):
        return "%s=%s" % (name, value) if value not in ("", None) else "no %s" % name

    settings = [  # (name, given text, given as compared, recorded as compared, recorded text)
        ("PRESET", options.preset_given, options.preset_given, meta["preset"], meta["preset"]),
        ("WORKLOADS", options.workloads, as_set(options.workloads), as_set(recorded("workloads")),
         recorded("workloads")),
        ("MODELS", options.models, as_set(options.models), as_set(recorded("models")), recorded("models")),
        ("WORKERS", options.workers, as_set(options.workers, int), as_set(recorded("workers"), int),
         recorded("workers")),
        ("SIZES", options.sizes, as_set(options.sizes, int), as_set(recorded("sizes"), int), recorded("sizes")),
        ("REPEATS", options.repeats, options.repeats, meta["repeats"], meta["repeats"]),
        ("SEED", options.seed, options.seed, meta["seed"], meta["seed"]),
        ("CLUSTER", options.cluster, options.hosts, as_hosts(recorded("cluster")), recorded("cluster")),
        ("RATE", options.rate, as_rates(options.rate), as_rates(recorded("rate")), recorded("rate"))]
    changed = [(said(name, text), said(name, recorded_text)) for name, text, value, recorded_value, recorded_text
               in settings if text not in (None, "") and value != recorded_value]
    if not options.python and selection.get("python", True):
        changed.append(("PYTHON=0", "the Python lane in"))
    if options.timeout is not None and options.timeout != meta["timeout"]:
        changed.append(("--timeout %g" % options.timeout, "--timeout %g" % meta["timeout"]))
    return changed


def parse_arguments():
    env = os.environ.get
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # -OO leaves no docstring
    parser.add_argument("--preset", default=env("PRESET") or None, choices=sorted(PRESETS))
    parser.add_argument("--workloads", default=env("WORKLOADS", ""), help="e.g. matmul,factorial-many")
    parser.add_argument("--models", default=env("MODELS", ""), help="e.g. serial,threads,mpi")
    parser.add_argument("--workers", default=env("WORKERS", ""), help="e.g. 1,2,4,8")
    parser.add_argument("--sizes", default=env("SIZES", ""), help="-n values, e.g. 512,1024")
    parser.add_argument("--repeats", default=env("REPEATS", ""), help="timed runs of each configuration")
    parser.add_argument("--seed", default=env("SEED", ""), help="seed of every program's inputs")
    parser.add_argument("--timeout", type=float, default=None, help="seconds one run may take")
    parser.add_argument("--no-python", dest="python", action="store_false",
                        help="leave the Python lane (bin/*-py-*) out (make bench PYTHON=0)")
    parser.add_argument("--cluster", default=env("CLUSTER", ""), metavar="N",
                        help="sweep the MPI lanes across N hosts of clusters on this machine (make bench CLUSTER=N)")
    parser.add_argument("--rate", default=env("RATE", ""), metavar="R,..",
                        help="the clusters' link rates, one cluster each: unshaped, 1gbit, 100mbit, ... (RATE=)")
    parser.add_argument("--cluster-dir", default=None, metavar="DIR",
                        help="where the clusters' folders go (default: a fresh temporary folder each)")
    parser.add_argument("--force", action="store_true", default=env("FORCE") == "1")
    parser.add_argument("--resume", action="store_true", default=env("RESUME") == "1")
    parser.add_argument("--bin", default=str(ROOT / "bin"))
    parser.add_argument("--results", default=str(ROOT / "results"),
                        help="the folder the sweep's folder and latest go in (make bench RESULTS=DIR)")
    parser.add_argument("--plot", metavar="RESULTS_DIR", help="only redraw from an existing folder")
    options = parser.parse_args()
    options.preset_given, options.preset = options.preset, options.preset or DEFAULT_PRESET
    if options.preset not in PRESETS:  # argparse checks the flag's choices, not PRESET='s default
        parser.error("PRESET=%s: one of %s" % (options.preset, ", ".join(sorted(PRESETS))))
    if options.plot is not None and not options.plot.strip():
        parser.error("--plot: which results folder? (make plot RESULTS=results/<folder>)")
    if not Path(options.bin).is_dir():
        parser.error("--bin %s: no such folder (make builds the programs into bin/)" % options.bin)
    if options.timeout is not None and not 0 < options.timeout < math.inf:
        parser.error("--timeout %s: seconds above 0" % options.timeout)
    if not options.python and any(is_python(model) for model in split_list(options.models) or []):
        parser.error("MODELS=%s names a Python lane, and PYTHON=0 leaves the Python lane out: drop one of them"
                     % options.models)
    options.worker_list = whole_numbers(parser, "WORKERS", options.workers, 1)
    options.size_list = whole_numbers(parser, "SIZES", options.sizes, 1)
    options.repeats = one_number(parser, "REPEATS", options.repeats, 1)
    options.seed = one_number(parser, "SEED", options.seed, 0)
    if options.seed is not None and options.seed > SEED_MOST:
        parser.error("SEED=%d: the programs take seeds up to %d" % (options.seed, SEED_MOST))
    try:
        cluster_options(options)
    except clusters.ClusterError as e:
        parser.error(str(e))
    return options


def cluster_options(options):
    """options.hosts (None: no cluster) and options.links (the rates, one cluster each) from
    --cluster and --rate; ClusterError for a bad one, or a rate without a cluster."""
    options.hosts = clusters.parse_hosts(options.cluster) if options.cluster else None
    links = clusters.parse_rates(options.rate)  # a bad rate is said first, whether or not CLUSTER= is given
    if options.hosts is None and options.rate:
        raise clusters.ClusterError("RATE=%s shapes the links of a cluster: give CLUSTER=N too "
                                    "(e.g. make bench CLUSTER=2 RATE=%s)" % (options.rate, options.rate))
    options.links = links if options.hosts else []


class Config:
    """One point of the sweep: a program, a study's flags, a size, a worker count, and
    the link it runs across (clusters.LOCAL: this machine alone; else a cluster's rate)."""

    def __init__(self, study, program, n, workers, usable, link=clusters.LOCAL):
        self.study = study
        self.program = program
        self.n = n
        self.workers = workers
        self.link = link
        self.oversubscribed = "yes" if workers > usable else "no"

    def key(self):
        return (self.study.name, self.program.model, self.link, self.n, self.workers)

    def label(self):
        return "%s %s%s n=%d P=%d" % (self.study.name, self.program.model,
                                      " (%s)" % clusters.link_said(self.link) if self.link else "", self.n, self.workers)


def build_configs(options, programs, usable):
    """(studies, configurations, sizes per study and lane): every configuration
    of the sweep, in a fixed order (shuffled per round later), as
    studies.plan lays it out. MPI ranks count as oversubscribed past the cores
    the launcher can use, which in a Slurm job over several nodes are more
    than this node's."""
    mpi_cores = machine.mpi_cores(usable)
    chosen = studies.studies_for(programs, split_list(options.workloads))
    if options.hosts:
        points, sizes = studies.cluster_plan(programs, options.preset, usable, options.hosts, options.links,
                                             split_list(options.workloads), split_list(options.models),
                                             options.worker_list, options.size_list, python=options.python)
    else:
        points, sizes = studies.plan(programs, options.preset, usable, split_list(options.workloads),
                                     split_list(options.models), options.worker_list, options.size_list,
                                     python=options.python)
        points = [point + (clusters.LOCAL,) for point in points]
    configs = [Config(study, program, n, p, mpi_cores if is_mpi(program.model) else usable, link)
               for study, program, n, p, link in points]
    return [s for s in chosen if s.name in sizes], configs, sizes


def python_lane_said(options, configs):
    """One line on what the sweep does with the Python lane."""
    lanes = sorted({(c.study.name, c.program.model) for c in configs if is_python(c.program.model)})
    if not options.python:
        return "Python lane left out (PYTHON=0)"
    if not lanes:
        return "no Python lane in this sweep (none built, or WORKLOADS/MODELS left it out)"
    by_study = {}
    for study, model in lanes:
        by_study.setdefault(study, []).append(model)
    said = "; ".join("%s: %s" % (study, ", ".join(models)) for study, models in sorted(by_study.items()))
    if (options.preset in studies.SAMPLED_PRESETS and not options.hosts
            and not any(is_python(m) for m in split_list(options.models) or ())):
        return ("Python lane, a sample (%s); PRESET=python sweeps all of it, MODELS=py-... one model, "
                "PYTHON=0 none" % said)
    return "Python lane: %s" % said


def command(config, extra, warmup_round=False):
    """argv for one run: one timed repetition after one untimed one, MPI through tools/mpirun
    (with --cluster on a cluster's link). In the warm-up round, whose runs no
    statistic counts, the one repetition is all: an untimed one before it would
    warm up nothing that round 0 is not already there to warm."""
    warmups = "0" if warmup_round else "1"
    args = ["-n", str(config.n), "-r", "1", "--warmup", warmups] + config.study.args_for(config.program.model) + extra
    return launch(config.program.path, config.program.model, config.workers, args,
                  cluster=config.link != clusters.LOCAL)


def row_for(config, round_number, result):
    """The runs.csv row of one run."""
    lines = [parse_result_line(line, strict=False) for line in result.stdout.splitlines() if "=" in line]
    pairs = lines[-1] if lines else {}
    known = {"workload", "model", "n", "workers", "rep", "seconds", "setup", "comm", "compute", "combine",
             "verified"}
    return {
        "timestamp": datetime.datetime.now().isoformat(timespec="seconds"),
        "study": config.study.name, "workload": config.program.workload, "model": config.program.model,
        "link": config.link, "n": config.n, "workers": config.workers, "round": round_number, "warmup": int(round_number == 0),
        "seconds": pairs.get("seconds", "n/a"), "setup": pairs.get("setup", "n/a"),
        "comm": pairs.get("comm", "n/a"), "compute": pairs.get("compute", "n/a"),
        "combine": pairs.get("combine", "n/a"),
        "wall": "%.6f" % result.wall, "user": "%.6f" % result.user, "sys": "%.6f" % result.sys,
        "max_rss_kb": result.max_rss_kb, "exit": result.exit_code,
        "verified": pairs.get("verified", "no"), "oversubscribed": config.oversubscribed,
        "figures": " ".join("%s=%s" % kv for kv in pairs.items() if kv[0] not in known),
    }


def resumed(options):
    """(folder, meta) of the sweep RESUME=1 continues: the one results/latest points at."""
    latest = Path(options.results) / "latest"
    if not (latest / "runs.csv").exists() or not (latest / "meta.json").exists():
        sys.exit("bench: nothing to resume: %s has no runs.csv and meta.json" % latest)
    try:
        meta = summary.read_meta(latest, RESUME_NEEDS)
        for row in summary.read_runs(latest / "runs.csv"):  # what sweep reads of each row to know it ran
            try:
                int(row["n"]), int(row["workers"]), int(row["round"])
            except (KeyError, ValueError):
                raise summary.FolderError("%s/runs.csv: a row whose n, workers or round is not a whole number "
                                          "(%s)" % (latest, ",".join(map(str, row.values())))) from None
    except summary.FolderError as e:
        say("cannot resume the sweep in %s: %s" % (latest, e))
        sys.exit(2)
    changed = changed_settings(options, meta)
    if changed:
        say("RESUME=1 goes on with the sweep in %s as it was started, with %s; %s would change it: leave %s out "
            "(or give the values it was started with), or start a new sweep without RESUME=1"
            % (latest, " ".join(was for _, was in changed), " ".join(given for given, _ in changed),
               "it" if len(changed) == 1 else "them"))
        sys.exit(2)
    options.preset = meta["preset"]  # the sweep is the one that was started
    for name in ("workloads", "models", "workers", "sizes"):
        setattr(options, name, meta["selection"].get(name) or "")
    options.python = meta["selection"].get("python", True)
    options.cluster = meta["selection"].get("cluster") or ""
    options.rate = meta["selection"].get("rate") or ""
    options.worker_list = split_list(options.workers, int)
    options.size_list = split_list(options.sizes, int)
    cluster_options(options)
    return latest.resolve(), meta


def moved(meta, usable):
    """What differs between the machine RESUME=1 would go on with a sweep on and the one its runs
    ran on (meta.json's machine), that no run compares across: ["usable cores: 2 here, 4 in its runs", ...].
    Those runs would share a median with the ones to come, and the worker counts and oversubscribed
    flags of a sweep are its usable cores'."""
    machine_was = meta["machine"]
    differs = []
    if machine_was.get("usable_cores") not in (None, usable):
        differs.append("usable cores: %d here, %s in its runs" % (usable, machine_was["usable_cores"]))
    model = machine.cpu_model()
    if machine_was.get("cpu_model") not in (None, model):
        differs.append("CPU: %s here, %s in its runs" % (model, machine_was["cpu_model"]))
    return differs


def fingerprints(programs):
    """{program name: digest of what it runs}: its file, and for a Python lane the model's source and
    python/common's besides (its bin/ file only starts the interpreter on them). meta.json's programs,
    which RESUME=1 holds the programs it would run against."""
    found = {}
    for program in programs:
        files = [Path(program.path)]
        if is_python(program.model):
            files += [ROOT / "python" / program.model[len("py-"):] / ("%s.py" % program.workload)]
            files += sorted((ROOT / "python" / "common").glob("*.py"))
        digest = hashlib.sha256()
        for path in files:
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"unreadable")
        found[Path(program.path).name] = digest.hexdigest()[:16]
    return found


def rebuilt(meta, configs):
    """The programs RESUME=1 would run whose code is not what the sweep's runs ran (meta.json's programs:
    rebuilt since, from an edited source, other CFLAGS or another commit; a Python lane's source edited),
    by name; none for a sweep from before meta.json recorded them."""
    was = meta.get("programs") if isinstance(meta.get("programs"), dict) else {}
    now = fingerprints({c.program.path: c.program for c in configs}.values())
    return sorted(name for name, digest in now.items() if name in was and was[name] != digest)


def new_folder(options):
    """A fresh, empty results/<time>-<host>, this sweep's alone (point_latest follows once it
    holds meta.json): a sweep started in the same second (another shell, a job array on a
    shared file system) has taken that name, so this one takes <time>-<host>+2, +3, ... as
    the speed checks' records do; mkdir, which refuses a name taken, decides between two
    sweeps that try the same name at once."""
    results = Path(options.results)
    results.mkdir(parents=True, exist_ok=True)
    name = "%s-%s" % (datetime.datetime.now().strftime(TIME_STAMP), socket.gethostname())
    taken = 1
    while True:
        folder = results / (name if taken == 1 else "%s+%d" % (name, taken))
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            taken += 1


def point_latest(folder):
    """results/latest pointing at folder, in one step (a new link renamed over the old one)."""
    latest = folder.parent / "latest"
    fresh = folder.parent / (".latest-%d" % os.getpid())
    fresh.symlink_to(folder.name)
    os.replace(fresh, latest)


def write_meta(folder, meta):
    """folder/meta.json, whole or not at all (summary.write_whole): a sweep
    stopped in the middle leaves the last complete one."""
    summary.write_whole(folder / "meta.json", json.dumps(meta, indent=2) + "\n")


def past_limits(options, programs, configs):
    """A warning for each program of the sweep whose limits leave out worker
    counts WORKERS= or sizes SIZES= asked for (the program would refuse
    them; studies.plan leaves them out); a serial program takes one worker,
    as everyone expects, and is not named for that. The programs of the
    sweep: those its configurations run, and the C ones of its workloads
    that the limits left out entirely (a Python lane outside quick's sample
    is out of the sweep anyway)."""
    workloads = {study.workload for study in studies.studies_for(programs, split_list(options.workloads))}
    swept = {c.program.path for c in configs}
    warnings = []
    for program in sorted(programs, key=lambda p: p.path.name):
        if program.path not in swept and (program.workload not in workloads or is_python(program.model)):
            continue
        past = [p for p in options.worker_list or [] if p > program.max_workers]
        if past and program.max_workers > 1:
            warnings.append("WORKERS=%s: %s takes at most %d workers, so %s left out" % (
                options.workers, program.path.name, program.max_workers, ",".join(map(str, past))))
        outside = [n for n in options.size_list or [] if not program.n_min <= n <= program.n_max]
        if outside:
            warnings.append("SIZES=%s: %s takes -n from %d to %d, so %s left out" % (
                options.sizes, program.path.name, program.n_min, program.n_max, ",".join(map(str, outside))))
    return warnings


def start_meta(options, configs, programs, usable, sizes):
    """meta.json as the sweep starts: preset, seed, selection, the sizes each
    lane runs, the machine (with the Python lane's interpreter and packages
    when the sweep runs it), first warnings."""
    preset = PRESETS[options.preset]
    build = {k: os.environ.get(k, "") for k in ("CC", "CFLAGS", "OMPFLAGS", "MPICC")}
    info = machine.describe(build)
    python_programs = [c.program for c in configs if is_python(c.program.model)]
    if python_programs:
        interpreter = next((p.interpreter for p in python_programs if p.interpreter), None)
        info["python_lane"] = machine.python_lane(interpreter or os.environ.get("PYTHON_LANE"), options.bin)
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(1 << 31)
    meta = {"preset": options.preset, "seed": seed, "repeats": options.repeats or preset["repeats"],
            "timeout": options.timeout or preset["timeout"], "started": datetime.datetime.now().isoformat(),
            "configurations": len(configs), "machine": info,
            "clock_tick": {p.path.name: p.clock_tick for p in programs}, "programs": fingerprints(programs),
            "selection": {"workloads": options.workloads, "models": options.models,
                          "workers": options.workers, "sizes": options.sizes, "python": options.python,
                          "cluster": options.cluster, "rate": options.rate},
            "sizes": sizes}
    warnings = [w for w in [machine.load_warning(info["load_before"][0], usable)] if w]
    if info["governor"] not in ("performance", machine.UNREADABLE):
        warnings.append("CPU governor is '%s', not 'performance': clock speed may change during runs"
                        % info["governor"])
    if info["virtualized"] != "no":
        warnings.append("running virtualized (%s): timings include its overheads" % info["virtualized"])
    if not preset["anywhere"] and not info["batch_job"]:
        warnings.append("preset '%s' forced outside a batch job" % options.preset)
    warnings += past_limits(options, programs, configs)
    meta["start_warnings"] = warnings
    for warning in warnings:
        say("warning: " + warning)
    return meta


def format_duration(seconds):
    return "%dm%02ds" % divmod(int(seconds), 60) if seconds >= 60 else "%.0fs" % seconds


def server_for(options, config, hosts):
    """The download study's file server for a configuration: on 127.0.0.1, or on the head of
    the cluster its link runs on (hosts: the Clusters), where every host reaches it."""
    flags = ["--quiet"] + config.study.server_for(options.preset)
    binary = Path(options.bin) / "fileserver"
    if config.link == clusters.LOCAL:
        return FileServer(flags, binary=binary)
    return hosts.file_server(config.link, flags, binary)


class ResultsUnwritable(Exception):
    """A results file the system would not let the harness write (a full disk, a quota,
    ulimit -f): its path and the system's reason."""

    def __init__(self, path, error):
        super().__init__(path)
        self.path, self.reason = path, error.strerror or str(error)


class RunsFile:
    """runs.csv, opened to add rows, each row whole or not at all: written with one
    write() at the end of the file, and cut back to where it began when the system
    refuses part of it (ResultsUnwritable), so that RESUME=1 and make plot read every
    row recorded before and lose none."""

    def __init__(self, path, columns, header):
        self.path, self.columns = path, columns
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as e:
            raise ResultsUnwritable(path, e) from e
        if header:
            self.write(dict(zip(columns, columns)))

    def write(self, row):
        text = io.StringIO()
        csv.DictWriter(text, fieldnames=self.columns, extrasaction="ignore").writerow(row)
        data = text.getvalue().encode()
        start = os.lseek(self.fd, 0, os.SEEK_END)
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError as e:
            try:
                os.ftruncate(self.fd, start)
            except OSError:
                pass  # nothing more to do: make plot names a last row cut short
            raise ResultsUnwritable(self.path, e) from e

    def close(self):
        os.close(self.fd)


def expected_wall(walls, config, warmup_round):
    """Seconds a run of config will take, for the ETA: its last run of the same
    kind (walls: by (key, warm-up round or not)); a timed run whose configuration
    has run only in the warm-up round, twice that (the timed one runs twice in
    its process); else the mean of every run so far."""
    if (config.key(), warmup_round) in walls:
        return walls[config.key(), warmup_round]
    if not warmup_round and (config.key(), True) in walls:
        return 2 * walls[config.key(), True]
    return sum(walls.values()) / len(walls)


def resume_command(options):
    """What goes on with an interrupted sweep: make bench RESUME=1 (with its RESULTS=
    where the sweep is not in results/), or in a Slurm batch job (a batch script, not
    one of srun's steps), a new job of tools/bench.sbatch."""
    results = "" if Path(options.results).resolve() == ROOT / "results" else " RESULTS=" + shlex.quote(options.results)
    if machine.batch_job() and os.environ.get("SLURM_JOB_ID") and not os.environ.get("SLURM_STEP_ID"):
        return "'RESUME=1%s sbatch tools/bench.sbatch', from the same folder," % results
    return "'make bench RESUME=1%s'" % results


def sweep(options, configs, folder, seed, repeats, timeout, hosts=None):
    """Run every (round, configuration) not yet in runs.csv; returns (runs done, harness seconds).
    hosts: the Clusters the configurations' links run on (None: no cluster)."""
    runs_path = folder / "runs.csv"
    done = {(r["study"], r["model"], r.get("link", clusters.LOCAL), int(r["n"]), int(r["workers"]), int(r["round"]))
            for r in summary.read_runs(runs_path)}
    rng = random.Random(seed)
    plan = []
    for round_number in range(repeats + 1):  # round 0 is the warm-up round
        order = configs[:]
        rng.shuffle(order)
        plan += [(round_number, c) for c in order if c.key() + (round_number,) not in done]
    if not plan:
        say("nothing left to run")
        return 0, 0.0
    say("%d runs to do (%d configurations x (1 warm-up + %d) rounds%s)" % (
        len(plan), len(configs), repeats, ", resuming" if done else ""))

    servers = {}
    # The download's scratch folder; the file servers and runs started from here on go with the
    # sweep, and the folder too, even when it is killed with SIGKILL (guard.py).
    guarded = guard.Guard("bench-download-")
    scratch = Path(guarded.folder)
    new_file = not runs_path.exists()
    columns = summary.RUN_COLUMNS if new_file else summary.run_columns(runs_path)
    walls = {}
    harness_seconds = 0.0
    started = time.monotonic()
    index = 0
    runs_file = None
    try:
        runs_file = RunsFile(runs_path, columns, header=new_file)
        for index, (round_number, config) in enumerate(plan, 1):
            extra = []
            if config.study.kind == "io":
                where = (config.study.name, config.link)
                if where not in servers:
                    servers[where] = server_for(options, config, hosts)
                extra = ["--server", servers[where].address, "-o", str(scratch)]
            before = time.monotonic()
            result = runner.run(command(config, extra, warmup_round=round_number == 0), timeout,
                                env=hosts.env(config.link) if hosts else None)
            runs_file.write(row_for(config, round_number, result))
            harness_seconds += time.monotonic() - before - result.wall
            walls[config.key(), round_number == 0] = result.wall
            if result.exit_code != 0:
                say("%s failed (exit %s): %s" % (config.label(), result.exit_code, last_words(result.stderr)))
            remaining = sum(expected_wall(walls, c, r == 0) for r, c in plan[index:])
            say("[%*d/%d] round %d/%d  %-40s %8.3f s   ETA %s" % (
                len(str(len(plan))), index, len(plan), round_number, repeats, config.label(),
                result.wall, format_duration(remaining)))
    except KeyboardInterrupt:
        say("interrupted after %d of %d runs; every finished run is in %s; %s goes on from there"
            % (index - 1, len(plan), runs_path, resume_command(options)))
        raise
    finally:
        if runs_file:
            runs_file.close()
        for server in servers.values():
            server.stop()
        guarded.end()
    say("swept in %s" % format_duration(time.monotonic() - started))
    return len(plan), harness_seconds


def last_words(stderr):
    """A failed run's last line that says something: Open MPI frames its messages in lines of
    dashes, and mpirun's failures end with the frame."""
    said = [line.strip() for line in stderr.splitlines() if any(c.isalnum() for c in line)]
    return said[-1] if said else "no message"


def run_warnings(runs, summary_rows, clock_ticks):
    """Warnings about the measurements themselves: noisy configurations, coarse timer (clock_ticks:
    meta.json's clock_tick, each program's, as the sweep recorded them: make plot has no programs to ask)."""
    warnings = []
    for row in summary_rows:
        if row.get("cv") is not None and row["runs"] >= 3 and row["cv"] > stats.NOISY_CV:
            warnings.append("%s %s n=%d P=%d: runs vary by %.0f%% (CV above %.0f%%)" % (
                row["study"], summary.series_name(row), row["n"], row["workers"], row["cv"] * 100,
                stats.NOISY_CV * 100))
    tick = max([t for t in clock_ticks.values() if isinstance(t, (int, float))] or [0])
    short = sorted({(r["study"], r["model"]) for r in runs if r["warmup"] == "0" and r["seconds"] not in ("n/a", "")
                    and tick and float(r["seconds"]) < MIN_TICKS_PER_RUN * tick})
    for study, model in short:
        warnings.append("%s %s: some runs last under %d clock ticks (%.2g s each): timer too coarse for them"
                        % (study, model, MIN_TICKS_PER_RUN, tick))
    below = sorted({summary.figure_text(r, "blas_core") or "?" for r in runs
                    if summary.figure_text(r, "blas_core_fits") == "no"})
    if below:
        warnings.append("reference lane runs on OpenBLAS core %s, below what this CPU supports: speedups "
                        "against it flatter the models (see blas_choice= in runs.csv)" % ", ".join(below))
    return warnings


def finish(folder, meta, chosen):
    """summary.csv, plots, report.md; returns the terminal plots' text."""
    runs = summary.read_runs(folder / "runs.csv")
    rows = summary.summarize(runs, chosen)
    summary.write_summary(folder / "summary.csv", rows)
    ticks = meta.get("clock_tick") if isinstance(meta.get("clock_tick"), dict) else {}
    meta["warnings"] = [w for w in meta.get("start_warnings", [])] + run_warnings(runs, rows, ticks)
    for warning in meta["warnings"][len(meta.get("start_warnings", [])):]:
        say("warning: " + warning)
    write_meta(folder, meta)
    rows = summary.read_summary(folder / "summary.csv")
    pngs, dumb = [], {}
    not_drawn = []  # why plots are missing, said here and in report.md, where a reader finds none
    gnuplot_exe = os.environ.get("GNUPLOT") or shutil.which("gnuplot")
    usable = meta["machine"]["usable_cores"]
    if gnuplot_exe:
        try:
            dumb = gnuplot.draw(folder, rows, chosen, usable, gnuplot_exe, meta.get("sizes"))
            pngs += sorted("plots/" + p.name for p in (folder / "plots").glob("*.png"))
        except gnuplot.GnuplotFailed as e:  # the matplotlib figures and the report are drawn all the same
            not_drawn.append("%s: no gnuplot PNGs or terminal plots (plots/ keeps their data and scripts; make "
                             "plot draws them with a gnuplot that runs and has the pngcairo terminal: "
                             "GNUPLOT=/path/to/gnuplot)" % e)
    else:
        not_drawn.append("gnuplot not found: no PNG or terminal plots (install gnuplot-nox or 'module load "
                         "gnuplot', then make plot)")
    python_mpl = os.environ.get("PYTHON_MPL") or python_with_matplotlib()
    if python_mpl:
        out = subprocess.run([python_mpl, str(ROOT / "tools" / "harness" / "figures.py"), str(folder)],
                             capture_output=True, text=True)
        if out.returncode == 0:
            pngs = out.stdout.split() + pngs
        else:
            not_drawn.append("matplotlib figures failed: " + (out.stderr.strip().splitlines() or ["?"])[-1])
    else:
        not_drawn.append("no Python with matplotlib found: report figures skipped (install python3-matplotlib, "
                         "then make plot)")
    if gnuplot_exe or python_mpl:  # figures of self speedups left out for want of any: said, not silently
        not_drawn += [reason for reason in gnuplot.unmeasured(rows, {s.name: s.kind for s in chosen})
                      if python_mpl or not reason.startswith("cpu-vs-io")]
    for reason in not_drawn:
        say(reason)
    report.write(folder, meta, rows, pngs, dumb, not_drawn)
    return dumb


def drawn(folder, meta, chosen):
    """finish(); or None, said, where the folder will not take the files (a full disk, a quota)."""
    try:
        return finish(folder, meta, chosen)
    except OSError as e:
        say("cannot write %s: %s; every run is in %s/runs.csv, and once there is room make plot RESULTS=%s "
            "draws them" % (e.filename or "the summary, plots and report", e.strerror or e, folder, folder))
        return None


def python_with_matplotlib():
    """An interpreter that can import matplotlib (the one running this may not), or None."""
    for candidate in (sys.executable, "python3", "/usr/bin/python3"):
        found = shutil.which(candidate)
        if found and subprocess.run([found, "-c", "import matplotlib"], capture_output=True).returncode == 0:
            return found
    return None


def studies_in(runs):
    """The studies a results folder holds (for redrawing it)."""
    known = {s.name: s for s in studies.STUDIES}
    names = sorted({(r["study"], r["workload"]) for r in runs})
    return [known.get(name) or studies.Study(name, workload, "cpu") for name, workload in names]


def redraw(folder, force=False):
    """make plot: summary, plots and report again from a folder's runs.csv
    (a reference sweep, whose files are the project's own, only with FORCE=1); a
    folder that holds sweeps (make bench RESULTS=folder): its latest."""
    folder = summary.sweep_in(folder)
    problem = summary.not_a_sweep(folder, ("runs.csv", "meta.json"))
    if problem:
        say(problem)
        return 2
    folder = Path(folder).resolve()
    if REFERENCE in folder.parents and not force:
        say("%s is a reference sweep, kept in the project as it was drawn; redraw a copy (cp -r %s /tmp/mine; "
            "make plot RESULTS=/tmp/mine), or give FORCE=1 to redraw it in place" % (folder, folder))
        return 2
    try:
        meta = summary.read_meta(folder, REDRAW_NEEDS)
        runs = summary.read_runs(folder / "runs.csv")
    except summary.FolderError as e:
        say("cannot redraw %s: %s" % (folder, e))
        return 2
    dumb = drawn(folder, meta, studies_in(runs))
    if dumb is None or not shown(dumb, folder):
        return 1
    say("redrawn: %s/report.md" % folder)
    return 0


def shown(dumb, folder):
    """The plots as text on stdout; False, having said so, where stdout cannot take them (a full disk, a
    quota, a closed pipe): the sweep's files in folder are whole all the same."""
    try:
        print("\n".join(dumb.values()), flush=True)
        return True
    except OSError as e:
        say("cannot write the plots to stdout: %s; the sweep's files are whole in %s" % (e.strerror, folder))
        return False


def names_not_here(options):
    """A message for a WORKLOADS= or MODELS= name that no program in bin/
    answers to (a typo, or a model this machine did not build), which the
    sweep would otherwise leave out without a word; None when every name
    has a program, or bin/ has none at all (make has not run)."""
    bin_dir = Path(options.bin)
    names = [split_name(path.name) for path in bin_dir.iterdir() if path.is_file() and os.access(path, os.X_OK)] \
        if bin_dir.is_dir() else []
    names = [name for name in names if name]
    workloads = {workload for workload, _ in names}
    here = {"WORKLOADS": workloads | {study.name for study in studies.STUDIES if study.workload in workloads},
            "MODELS": {model for _, model in names}}
    for variable, text in (("WORKLOADS", options.workloads), ("MODELS", options.models)):
        missing = [name for name in split_list(text) or [] if name not in here[variable]]
        if names and missing:
            return ("%s=%s: %s has no program of the %s %s (it has: %s); make doctor says what this machine "
                    "builds" % (variable, text, bin_dir, variable[:-1].lower(), ", ".join(missing),
                                ", ".join(sorted(here[variable]))))
    return None


def interrupt(signum, frame):
    """SIGTERM (a batch job's time limit, scancel, kill) ends the sweep as Ctrl-C does,
    once: a second one must not cut short the recording of where it stopped. A Slurm
    batch job can send two at once (with proctrack/linuxproc Slurm signals every
    process of the job, and tools/bench.sbatch passes on the one it gets)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    raise KeyboardInterrupt


# stdout and stderr where they go to a terminal (as main() began: one hung up is no longer one).
ON_TERMINAL = []


def hang_up(signum, frame):
    """SIGHUP (the terminal or ssh connection the sweep ran in is gone) ends it as Ctrl-C does,
    its last lines sent to /dev/null where they went to that terminal, which refuses them (EIO)."""
    null = os.open(os.devnull, os.O_WRONLY)
    for stream in ON_TERMINAL:
        os.dup2(null, stream.fileno())
    os.close(null)
    interrupt(signum, frame)


def main():
    # Ctrl-C, SIGTERM and SIGHUP stop the sweep cleanly, even when started from a
    # shell that ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    # (a stream the shell closed, >&-, is None)
    ON_TERMINAL.extend(stream for stream in (sys.stdout, sys.stderr) if stream is not None and stream.isatty())
    signal.signal(signal.SIGHUP, hang_up)
    options = parse_arguments()
    if options.plot:
        return redraw(options.plot, options.force)
    folder, meta = resumed(options) if options.resume else (None, None)
    if not PRESETS[options.preset]["anywhere"] and not machine.batch_job() and not options.force:
        if machine.slurm_allocation_shell():  # SLURM_JOB_ID is set, and yet this is no batch job
            sys.exit("bench: preset '%s' runs for a long time on every core, and this is salloc's shell, which "
                     "runs where salloc ran (a login node), not on the job's node: start the sweep there "
                     "(srun -n 1 make bench PRESET=%s), or submit tools/bench.sbatch"
                     % (options.preset, options.preset))
        sys.exit("bench: preset '%s' runs for a long time on every core; outside a batch job it needs FORCE=1 "
                 "(login nodes kill heavy jobs; see tools/bench.sbatch)" % options.preset)
    if options.preset == studies.PYTHON_PRESET and not options.python:
        sys.exit("bench: PRESET=python sweeps the Python lane, and PYTHON=0 leaves it out: drop one of them")
    missing = names_not_here(options)
    if missing:
        say(missing)
        return 2
    if options.hosts:
        try:  # before anything else: a machine that cannot make clusters is told so at once
            mode = clusters.check(options.links)
        except clusters.ClusterError as e:
            say("CLUSTER=%d: %s" % (options.hosts, e))
            return e.code
        say("CLUSTER=%d: the MPI lanes across %d hosts (%s), links %s, and on this machine alone beside them"
            % (options.hosts, options.hosts, "ip netns" if mode == "root" else "user namespaces",
               ", ".join(options.links)))
    usable = machine.cores()["usable_cores"]
    differs = moved(meta, usable) if meta else []
    if differs:
        say("RESUME=1 cannot go on with the sweep in %s here: %s (tools/cores --explain says where the cores "
            "come from). Its runs would share their medians with runs that do not compare with them, and its "
            "worker counts and oversubscribed flags are its own cores': resume it where it ran (the same node "
            "type, --cpus-per-task, taskset), or start a new sweep without RESUME=1" % (folder, "; ".join(differs)))
        return 2
    models = split_list(options.models)
    # The workloads WORKLOADS= names, by name or by a study of theirs (factorial-many): only their programs
    # are asked to describe themselves (a Python one's answer costs its interpreter's start).
    wanted = split_list(options.workloads)
    workloads = set(wanted or []) | {study.workload for study in studies.STUDIES if study.name in (wanted or [])}
    programs = studies.discover(options.bin, keep=lambda workload, model: (options.python or not is_python(model))
                                and (not models or model in models) and (not wanted or workload in workloads))
    if not programs:
        sys.exit("bench: no programs in %s%s; run make first" % (
            options.bin, "" if not models else " among MODELS=%s" % options.models))
    chosen, configs, sizes = build_configs(options, programs, usable)
    changed = rebuilt(meta, configs) if meta else []
    if changed:
        say("RESUME=1 cannot go on with the sweep in %s: %s %s not the code its runs ran (rebuilt since: an edited "
            "source, other CFLAGS, another commit). Its runs would share their medians, and its plots, with runs "
            "of other code: start a new sweep without RESUME=1 (or put the code back as it was)"
            % (folder, ", ".join("bin/" + name for name in changed), "is" if len(changed) == 1 else "are"))
        return 2
    across = [c for c in configs if c.link != clusters.LOCAL]
    if not configs and not options.hosts:
        for warning in past_limits(options, programs, configs):
            say("warning: " + warning)
        sys.exit("bench: WORKLOADS/MODELS/WORKERS/SIZES leave nothing to run")
    if options.hosts and not across:
        say("CLUSTER=%d: no MPI program with two ranks or more to run across the hosts (bin/*-mpi, "
            "bin/*-py-mpi4py, among what WORKLOADS/MODELS/WORKERS leave)" % options.hosts)
        return 2
    say(python_lane_said(options, configs))

    hosts = None
    try:
        if across:  # the clusters: up before the results folder, so a cluster that fails leaves none
            hosts = clusters.Clusters(options.hosts, options.links, options.cluster_dir)
            reused = hosts.up()
            for rate in options.links:
                say("cluster %s: %d hosts, %s" % (rate, options.hosts, "yours, in %s (left up at the end)"
                                                  % hosts.folder(rate) if rate in reused
                                                  else "brought up in %s" % hosts.folder(rate)))
        if meta is None:
            meta = start_meta(options, configs, programs, usable, sizes)
            try:
                folder = new_folder(options)
            except OSError as e:  # a checkout this user cannot write to (a shared one on a login node)
                say("cannot make a results folder in %s: %s; run make bench in a checkout you can write to, "
                    "or give it RESULTS=DIR, a folder you can write to (tools/bench.py: --results DIR)"
                    % (options.results, e.strerror or e))
                return 1
        if hosts:
            meta["cluster"] = hosts.describe(max(c.workers for c in across))
        try:
            write_meta(folder, meta)
        except OSError as e:  # a full disk or a quota: no run made, nothing worth keeping
            if not options.resume:
                shutil.rmtree(folder, ignore_errors=True)
            say("cannot write %s: %s; no run was made" % (folder / "meta.json", e.strerror or e))
            return 1
        point_latest(folder)  # only now: results/latest is always a folder with its meta.json
        say("results in %s" % folder)
        count, harness_seconds = sweep(options, configs, folder, meta["seed"], meta["repeats"], meta["timeout"],
                                       hosts)
    except KeyboardInterrupt:
        if folder and (folder / "meta.json").exists():  # sweep said how far it came
            meta["interrupted"] = datetime.datetime.now().isoformat()
            write_meta(folder, meta)
        else:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)  # made a moment ago, nothing in it yet
            say("interrupted before the first run; nothing was recorded")
        return 130
    except ResultsUnwritable as e:  # a full disk, a quota, ulimit -f: the rows written so far are whole
        say("cannot write %s: %s; every run before it is in it: once there is room, %s goes on from there"
            % (e.path, e.reason, resume_command(options)))
        return 1
    except FileServerError as e:  # the I/O-bound study's server: not built, or it did not start
        sys.exit("bench: %s; every finished run is in %s" % (e, folder / "runs.csv"))
    except clusters.ClusterError as e:  # a cluster that could not be brought up: no run was made
        say("CLUSTER=%d: %s" % (options.hosts, e))
        return e.code
    finally:
        if hosts:
            hosts.down()
            if hosts.rates != list(hosts.reused):
                say("the clusters it brought up are down")
    meta.pop("interrupted", None)
    meta["finished"] = datetime.datetime.now().isoformat()
    meta["machine"]["load_after"] = list(os.getloadavg())
    if count:
        meta["harness_overhead_ms_per_run"] = round(1e3 * harness_seconds / count, 3)
    try:
        dumb = drawn(folder, meta, chosen)
    except KeyboardInterrupt:
        say("interrupted while drawing the plots; every run is in %s/runs.csv, and make plot RESULTS=%s "
            "draws them" % (folder, folder))
        return 130
    if dumb is None or not shown(dumb, folder):
        return 1
    files = ["summary.csv", "runs.csv", "meta.json"] + (["plots/"] if (folder / "plots").is_dir() else [])
    say("done: %s/report.md (%s)" % (folder, ", ".join(files)))
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except KeyboardInterrupt:  # before the sweep began, or while make plot redrew: a line, not a traceback
        say("interrupted")
        status = 130
    # all is said: now they would only break Python's own exit
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    sys.exit(status)
