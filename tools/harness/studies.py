"""tools/harness/studies.py — what `make bench` measures: the studies, and the programs found in bin/.

A study is one question asked of a workload ("how does matmul scale?",
"factorial, one huge product", "factorial, many small tasks", "download").
The table below is the one place that says, per study, which flags every run
gets and which sizes each preset uses. Which workloads and models exist is
not written anywhere: it is read from bin/<workload>-<model> (the Python
lane's bin/<workload>-py-<model> too: programs.py says which names count),
and each program says its own limits (--describe). A workload with no row
here is still measured, at its default size.
"""
import os
import subprocess
from pathlib import Path

from harness import programs


class Study:
    """One question asked of a workload; see the module's docstring."""

    def __init__(self, name, workload, kind, args=(), sizes=None, baselines=("serial",),
                 figure=None, server=None):
        self.name = name            # "factorial-big": names files and plot titles
        self.workload = workload    # "factorial": which bin/<workload>-* programs run it
        self.kind = kind            # "cpu" or "io": I/O sweeps go far past the core count
        self.args = list(args)      # flags every run gets
        self.sizes = sizes or {}    # preset -> list of -n values
        self.baselines = baselines  # models whose one-worker runs may be the serial baseline
        self.figure = figure        # a result-line figure worth plotting (e.g. gflops)
        self.server = server or {}  # io: preset -> bin/fileserver flags

    def sizes_for(self, preset, default):
        """The -n values this study sweeps under a preset."""
        return self.sizes.get(preset) or [default]


# The studies, and their sizes per preset. quick: seconds in all, for a
# laptop or a login node; full: runs long enough (tenths of a second to
# seconds) for the parallel overheads to be small beside the work.
STUDIES = [
    Study("matmul", "matmul", "cpu",
          sizes={"quick": [1024], "full": [1024, 2048]},
          baselines=("serial", "blas"), figure="gflops"),
    Study("factorial-big", "factorial", "cpu", args=["--mode", "big"],
          sizes={"quick": [300000], "full": [1000000, 4000000]},
          baselines=("serial", "gmp")),
    Study("factorial-many", "factorial", "cpu", args=["--mode", "many", "--schedule", "dynamic"],
          sizes={"quick": [3000], "full": [10000]}, baselines=("serial", "gmp")),
    Study("download", "download", "io", args=["--size", "64K"],
          sizes={"quick": [32], "full": [64]},
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
        self.clock_tick = float(description.get("clock_tick", 0))


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


def discover(bin_dir):
    """Every program in bin_dir named <workload>-<model> that can describe itself."""
    found = []
    for path in sorted(Path(bin_dir).iterdir()):
        name = programs.split_name(path.name)
        if not name or not path.is_file() or not os.access(path, os.X_OK):
            continue
        description = describe(path) or {}
        found.append(Program(path, name[0], name[1], description))
    return found


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


def worker_counts(kind, preset, usable):
    """How many workers each model is run with. quick: at most 4 (a login
    node's share). full, CPU-bound: a ladder of 1, 2, 3, 4, 6, 8, 12, ... up to
    twice the usable cores (the second half oversubscribed on purpose, to show
    the flattening). full, I/O-bound: powers of two up to 128, far past the cores."""
    if preset == "quick":
        return [1, 2, 3, 4]
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
