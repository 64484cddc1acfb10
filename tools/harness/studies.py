"""tools/harness/studies.py — what `make bench` measures: the studies, the programs in bin/, the plan of a sweep.

A study is one question asked of a workload ("how does matmul scale?",
"factorial, one huge product", "factorial, many small tasks", "download").
The table below is the one place that says, per study, which flags every run
gets and which sizes each preset uses. Which workloads and models exist is
not written anywhere: it is read from bin/<workload>-<model> (the Python
lane's bin/<workload>-py-<model> too: programs.py says which names count),
and each program says its own limits (--describe). A workload with no row
here is still measured, at its default size.

The Python lane is swept like the C models, with three differences, said here once:
- sizes: pure-Python factorial is ten times or more slower than C's, so where
  the C sizes would take too long the Python lanes run a smaller n
  (python_sizes), and the C code they are measured against (the study's
  serial code and threads: COMPANIONS) runs at that n too, so every Python
  run has C code of the same size beside it; meta.json and the report name
  the sizes each lane ran;
- the quick preset runs a sample of the lane (PYTHON_SAMPLE: the lanes of the
  GIL figure), to stay within about two minutes on two cores; the preset
  `python` runs every Python lane (and the companions), MODELS= naming a
  py- model runs that one on every study, and PYTHON=0 leaves the lane out;
- each Python model takes the studies PYTHON_MODEL_STUDIES allows.
"""
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import programs


class Study:
    """One question asked of a workload; see the module's docstring."""

    def __init__(self, name, workload, kind, args=(), sizes=None, baselines=("serial",),
                 figure=None, server=None, python_sizes=None, python_args=()):
        self.name = name            # "factorial-big": names files and plot titles
        self.workload = workload    # "factorial": which bin/<workload>-* programs run it
        self.kind = kind            # "cpu" or "io": I/O sweeps go far past the core count
        self.args = list(args)      # flags every run gets
        self.python_args = list(python_args)  # and the Python lanes' runs besides
        self.sizes = sizes or {}    # preset -> list of -n values
        self.baselines = baselines  # models whose one-worker runs may be the serial baseline
        self.figure = figure        # a result-line figure worth plotting (e.g. gflops)
        self.server = server or {}  # io: preset -> bin/fileserver flags
        self.python_sizes = python_sizes or {}  # preset -> the Python lanes' -n values, where not the C ones

    def sizes_for(self, preset, default, python=False):
        """The -n values this study sweeps under a preset: the C lanes' or (python) the Python lanes'.
        A preset with no row of its own (python) takes the quick preset's."""
        if python and self.python_sizes.get(preset):
            return self.python_sizes[preset]
        return self.sizes.get(preset) or self.sizes.get(BASE_PRESET.get(preset)) or [default]

    def args_for(self, model):
        """The study's flags for a run of model: args, and python_args after them for a Python lane."""
        return self.args + (self.python_args if programs.is_python(model) else [])

    def server_for(self, preset):
        """The bin/fileserver flags of an I/O study under a preset."""
        return self.server.get(preset) or self.server.get(BASE_PRESET.get(preset), [])


# The preset `python` is the quick preset for the Python lane: its rows default to quick's.
PYTHON_PRESET = "python"
BASE_PRESET = {PYTHON_PRESET: "quick"}


# The studies, and their sizes per preset. quick: seconds in all, for a
# laptop or a login node; full: runs long enough (tenths of a second to
# seconds) for the parallel overheads to be small beside the work.
#
# The Python lanes' sizes (python_sizes), where they differ: matmul's NumPy
# kernel and download take the C sizes. Pure-Python factorial does not: its
# products of Python ints run ten to twenty times slower than C's, so its
# sizes are a step down, about a second of work or less per run where the C
# sizes would take tens: --mode big n = 100000 (full: 300000, the C quick
# size); --mode many keeps the C quick size, n = 3000 (make bench-python's
# too: smaller, and a pool's start and a round trip per task would hide
# whether its processes run at once), and full takes it where C takes 10000.
# The Python lanes of --mode many hand out tasks of PYTHON_CHUNK numbers, as
# Pool.map(f, range(n)) chunks a list by itself (by default n / (4 P) numbers
# a task, 375 at n = 3000 and P = 2; 50 keeps the workers evenly loaded,
# since the last numbers cost the most): a task per number would measure a
# pickled round trip per number (lesson 8's granularity), not whether the
# processes run at once, and the GIL figure's processes would stay flat. C
# keeps a task per number, cheap to hand out there. make bench-python and
# lesson 10 use the same chunk.
PYTHON_CHUNK = 50
# download's quick size, 16 files: every lane's run at one worker waits for
# each file in turn, and at 32 files those runs alone took about half of the
# quick preset's two minutes (on the 2-core AMD EPYC Zen 5 VM the preset took
# 110-121 s with 32 files, 95 s with 16); 16 files still halve the rounds of
# waiting at every step of 1, 2, 4, 8, 16 workers.
STUDIES = [
    Study("matmul", "matmul", "cpu",
          sizes={"quick": [1024], "full": [1024, 2048]},
          baselines=("serial", "blas"), figure="gflops"),
    Study("factorial-big", "factorial", "cpu", args=["--mode", "big"],
          sizes={"quick": [300000], "full": [1000000, 4000000]},
          baselines=("serial", "gmp"),
          python_sizes={"quick": [100000], "python": [100000], "full": [300000]}),
    Study("factorial-many", "factorial", "cpu", args=["--mode", "many", "--schedule", "dynamic"],
          sizes={"quick": [3000], "full": [10000]}, baselines=("serial", "gmp"),
          python_sizes={"full": [3000]}, python_args=["--chunk", str(PYTHON_CHUNK)]),
    Study("download", "download", "io", args=["--size", "64K"],
          sizes={"quick": [16], "full": [64]},
          server={"quick": ["--latency", "10"], "full": ["--latency", "50"]}),
]


class Program:
    """A bin/<workload>-<model>, with what it said about itself (--describe)."""

    def __init__(self, path, workload, model, description):
        self.path = path
        self.workload = workload
        self.model = model
        self.max_workers = int(description.get("max_workers", 1))
        self.n_default = int(description.get("n_default", 0))
        self.n_min = int(description.get("n_min", 0))
        self.n_max = int(description.get("n_max", 1 << 64))  # unsaid: no limit the harness knows
        self.clock_tick = float(description.get("clock_tick", 0))
        self.interpreter = description.get("interpreter")  # the Python lane's: the interpreter it runs on


def describe(path):
    """The key=value pairs a program prints for --describe, or None if it cannot."""
    try:
        out = subprocess.run([str(path), "--describe"], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    pairs = programs.parse_result_line(out.stdout, strict=False)
    return pairs if "workload" in pairs else None


# Programs asked --describe at once: a Python program's answer is mostly its
# interpreter starting, which a few at a time overlap.
DESCRIBE_AT_ONCE = 4


def discover(bin_dir, keep=None):
    """Every program in bin_dir named <workload>-<model> that can describe itself;
    keep(workload, model) -> False leaves a program out without asking it."""
    candidates = []
    for path in sorted(Path(bin_dir).iterdir()):
        name = programs.split_name(path.name)
        if not name or not path.is_file() or not os.access(path, os.X_OK) or (keep and not keep(*name)):
            continue
        candidates.append((path, name))
    with ThreadPoolExecutor(max_workers=DESCRIBE_AT_ONCE) as pool:
        descriptions = list(pool.map(lambda candidate: describe(candidate[0]) or {}, candidates))
    return [Program(path, name[0], name[1], description)
            for (path, name), description in zip(candidates, descriptions)]


def studies_for(programs, wanted_workloads=None):
    """The studies whose workload has programs (and was asked for), plus a
    default study for any workload the table does not know."""
    workloads = sorted({p.workload for p in programs})
    chosen = []
    for workload in workloads:
        rows = [s for s in STUDIES if s.workload == workload] or [Study(workload, workload, "cpu")]
        for study in rows:
            if not wanted_workloads or workload in wanted_workloads or study.name in wanted_workloads:
                chosen.append(study)
    return chosen


# The quick preset's workers, C and Python alike on CPU-bound work (worker_counts).
QUICK_WORKERS = [1, 2, 4]


def worker_counts(kind, preset, usable, python=False):
    """How many workers each model is run with. quick: 1, 2 and 4, at most 4
    (a login node's share; the points of the plots' log2 axis, and a quarter
    fewer runs than 1-4: on a 2-core AMD EPYC Zen 5 VM, 118 s instead of
    144 s, within the two minutes the preset is meant for). full,
    CPU-bound: a ladder of 1, 2, 3, 4, 6, 8, 12, ... up to twice the usable
    cores (the second half oversubscribed on purpose, to show the
    flattening). full, I/O-bound: powers of two up to 128, far past the
    cores.
    The Python lanes (python) under quick and python: PYTHON_WORKERS."""
    if python and preset in PYTHON_WORKERS:
        return PYTHON_WORKERS[preset][kind]
    if preset in ("quick", PYTHON_PRESET):
        return QUICK_WORKERS
    if kind == "io":
        return [1, 2, 4, 8, 16, 32, 64, 128]
    ladder = {1, usable, 2 * usable}
    step = 2
    while step <= 2 * usable:
        ladder.add(step)
        if step + step // 2 <= 2 * usable:
            ladder.add(step + step // 2)
        step *= 2
    return sorted(ladder)


# ---- the Python lane in the sweep -------------------------------------------

# The Python lane's models (issue 10's table), in the order plots list them.
PYTHON_MODELS = ("py-serial", "py-threading", "py-multiprocessing", "py-futures", "py-joblib", "py-mpi4py",
                 "py-dask", "py-ipyparallel", "py-numba", "py-asyncio")
# The workloads of the Python models that do not run all three (issue 10's table).
PYTHON_MODEL_WORKLOADS = {"py-ipyparallel": ("factorial",), "py-numba": ("matmul",), "py-asyncio": ("download",)}
# The studies a Python model takes, where not every study of its workloads:
# IPython Parallel runs factorial's many small tasks, not one huge product.
PYTHON_MODEL_STUDIES = {"py-ipyparallel": ("factorial-many",)}
# The quick preset's sample of the Python lane: the lanes the GIL figure draws
# (threads on CPU-bound and on I/O-bound Python, processes on CPU-bound) and
# py-serial beside them. About half a minute on two cores, where every
# Python lane on every study would take several minutes.
PYTHON_SAMPLE = {"factorial-many": ("py-serial", "py-threading", "py-multiprocessing"),
                 "download": ("py-serial", "py-threading")}
SAMPLED_PRESETS = ("quick",)
# Worker counts of the Python lanes under the presets that bound them (full:
# the C ladder): CPU-bound the C lanes' 1, 2 and 4 in quick (the GIL figure's
# processes rise to the cores, and on two cores flatten past them, beside C
# threads on the same points; a few seconds more than 1 and 2), 1 to 4 in
# python; I/O-bound far past any core count, the GIL figure's point.
PYTHON_WORKERS = {"quick": {"cpu": QUICK_WORKERS, "io": [1, 4, 16]},
                  PYTHON_PRESET: {"cpu": [1, 2, 3, 4], "io": [1, 2, 4, 8, 16, 32]}}
# The C models run beside the Python lanes at their sizes when those are not
# the C lanes' own, besides the study's serial code (every Python lane's
# speedup baseline, at one worker): threads, the GIL figure's comparison,
# which also runs the Python lanes' worker counts its own leave out (P = 16
# on download in quick).
COMPANIONS = ("threads",)


def python_lane_in(model, study, preset, named):
    """Whether the sweep runs Python model on study: the study is one it takes,
    and under a sampled preset it is in the sample, unless MODELS named a
    Python model (named), which runs it whole."""
    allowed = PYTHON_MODEL_STUDIES.get(model)
    if allowed is not None and study.name not in allowed:
        return False
    if preset in SAMPLED_PRESETS and not named:
        return model in PYTHON_SAMPLE.get(study.name, ())
    return True


def plan(programs_found, preset, usable, workloads=None, models=None, workers=None, sizes=None, python=True):
    """The sweep: ([(study, program, n, workers)], {study: {"C": sizes, "Python": sizes}}).

    Every configuration in a fixed order, and the sizes each lane ran per study
    (the C lanes' own, not the companions'). workloads, models, workers and
    sizes narrow it as WORKLOADS=, MODELS=, WORKERS= and SIZES= do (None: not
    narrowed); python=False (PYTHON=0) leaves the Python lane out. The
    preset `python` runs the Python lanes and their companions only."""
    named = any(programs.is_python(m) for m in models or ())
    points, lane_sizes = [], {}

    def add(study, program, ns, counts):
        if counts:
            # A count past a program's limit is left out, as a size out of its range is: a
            # parallel program left none runs none; a serial one (a worker at most) runs at one.
            counts = [p for p in counts if p <= program.max_workers] or ([1] if program.max_workers == 1 else [])
            ns = [n for n in ns if program.n_min <= n <= program.n_max]  # the program would refuse the rest
            points.extend((study, program, n, p) for n in ns for p in counts)

    for study in studies_for(programs_found, workloads):
        members = [p for p in programs_found if p.workload == study.workload and (not models or p.model in models)]
        python_sizes, c_sizes = set(), set()
        for program in members:
            if programs.is_python(program.model) and python and python_lane_in(program.model, study, preset, named):
                ns = sizes or study.sizes_for(preset, program.n_default, python=True)
                add(study, program, ns, workers or worker_counts(study.kind, preset, usable, python=True))
                python_sizes.update(ns)
        python_counts = workers or worker_counts(study.kind, preset, usable, python=True)
        for program in members:
            if programs.is_python(program.model):
                continue
            ns = [] if preset == PYTHON_PRESET else sizes or study.sizes_for(preset, program.n_default)
            counts = workers or worker_counts(study.kind, preset, usable)
            add(study, program, ns, counts)
            c_sizes.update(ns)
            if program.model in study.baselines:
                add(study, program, sorted(python_sizes - set(ns)), [1])
            elif program.model in COMPANIONS:  # the Python lanes' counts too, where its own leave them out
                for n in sorted(python_sizes):
                    add(study, program, [n], [p for p in python_counts if n not in ns or p not in counts])
        lanes = {lane: sorted(found) for lane, found in (("C", c_sizes), ("Python", python_sizes)) if found}
        if lanes:
            lane_sizes[study.name] = lanes
    return points, lane_sizes


# ---- a sweep across a cluster (make bench CLUSTER=N) ------------------------

def cluster_worker_counts(preset, hosts, usable):
    """The ranks of the MPI lanes in a cluster sweep: one, one per host and two per host
    (quick and python), and with the full preset the CPU-bound ladder too."""
    counts = {1, hosts, 2 * hosts}
    if preset not in ("quick", PYTHON_PRESET):
        counts |= set(worker_counts("cpu", preset, usable))
    return sorted(counts)


def cluster_plan(programs_found, preset, usable, hosts, links, workloads=None, models=None, workers=None,
                 sizes=None, python=True):
    """The sweep of make bench CLUSTER=hosts: ([(study, program, n, workers, link)], sizes as plan's).

    The MPI lanes (mpi and, unless python is False, py-mpi4py) on every study
    at cluster_worker_counts (or workers): each count on this machine alone
    (link ""), and from two ranks on also on each link in links (a cluster
    per link: a single rank runs on one host wherever it is); beside them the
    study's serial code at one worker, the speedups' baseline. models narrows
    among these; the Python lane is never sampled here (py-mpi4py is the lane)."""
    baselines = {m for study in STUDIES for m in study.baselines}
    allowed = [m for m in programs.MPI_MODELS if python or not programs.is_python(m)] + sorted(baselines)
    chosen = [m for m in allowed if not models or m in models]
    if not chosen:
        return [], {}
    points, lane_sizes = plan(programs_found, preset, usable, workloads, chosen,
                              workers or cluster_worker_counts(preset, hosts, usable), sizes, python)
    swept = []
    for study, program, n, p in points:
        if programs.is_mpi(program.model):
            swept.append((study, program, n, p, ""))
            swept.extend((study, program, n, p, link) for link in links if p > 1)
        elif program.model in study.baselines and p == 1:
            swept.append((study, program, n, p, ""))
    return swept, lane_sizes
