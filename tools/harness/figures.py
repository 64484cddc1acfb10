#!/usr/bin/env python3
"""tools/harness/figures.py — the report's matplotlib figures, from a results folder.

Usage: PYTHON_WITH_MATPLOTLIB tools/harness/figures.py RESULTS_DIR

Run by tools/bench.py with an interpreter that has matplotlib (the one the
harness itself runs under may not). Writes into RESULTS_DIR:
  report.png     speedup against the best serial code, one panel per study (the C models), with
                 each model's fitted Amdahl curve, as gnuplot's speedup plots draw it
  phases.png     where each model's time goes: setup, communication, compute, combine, waiting;
                 after a sweep across clusters (make bench CLUSTER=N), a panel per study and size
                 the MPI lanes ran across them, a bar per link: this machine alone, then each
                 cluster's link, fastest first
  cpu-vs-io.png  speedup against workers on a log2 axis: CPU-bound work flattens at the
                 usable cores, I/O-bound work keeps rising far past them
  matmul-gflops.png  matmul's GFLOP/s per model against OpenBLAS's (its core in the key) and
                 under the machine's estimated peak times the cores used (meta.json's peak;
                 at most the CPUs a cgroup quota allows, 1.5 under docker --cpus 1.5)
  python-<study>.png the Python lanes of one study, at their largest size: speedup against
                 the best serial code of either language (log scale), and against themselves at P = 1
  gil.png        the GIL figure: Python threads on CPU-bound and on I/O-bound work, Python
                 processes on CPU-bound work, C threads beside them
and prints the names of the files it wrote.
"""
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from harness.gnuplot import (MOST_WORKER_TICS, NO_BASELINE, amdahl_fit, colour, fitted_title,  # noqa: E402
                             gil_lines, link_rank, panels_of, plot_groups, python_note, self_line, self_speedup_top,
                             self_title, workers_title)
from harness.machine import usable_cpus  # noqa: E402
from harness.programs import is_python  # noqa: E402
from harness.studies import STUDIES  # noqa: E402
from harness.summary import read_summary, series_link  # noqa: E402

PHASES = ("setup", "comm", "compute", "combine")
PHASE_COLOURS = {"setup": "#ff7f0e", "comm": "#d62728", "compute": "#2ca02c", "combine": "#9467bd",
                 "waiting": "#c7c7c7"}
DPI = 110
# A model's lines on different links (see gnuplot.link_rank): this machine alone first.
LINK_LINES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)))
LINK_MARKERS = ("o", "s", "^", "D", "v")
# The phases plot after a sweep across clusters: panels per row, inches per bar at least, and
# past how many bars a panel's labels are slanted (they would run into each other).
CLUSTER_PHASE_COLUMNS = 2
INCHES_PER_BAR = 0.8
CROWDED_BARS = 5
# Room above the tallest bar of a phases panel, as a share of its height.
BAR_HEADROOM = 0.08
# Inches at the top of the phases figure for its key.
KEY_INCHES = 0.35


def value_or_nan(value):
    """A point's value, or NaN (matplotlib leaves the point out) where it was not measured: a speedup
    where no serial code ran to a verified result at its size, a self speedup where the model failed at one worker."""
    return math.nan if value is None else value


def line_style(name, names):
    """(linestyle, marker) of series name among names: one per link."""
    rank = link_rank(name, names)
    return LINK_LINES[rank % len(LINK_LINES)], LINK_MARKERS[rank % len(LINK_MARKERS)]


def largest_sizes(groups):
    """{study: (n, models)} at each study's largest size."""
    chosen = {}
    for (study, n), models in sorted(groups.items()):
        chosen[study] = (n, models)
    return chosen


# Points of the ideal line: enough that y = x, a curve on a log2 axis of workers, draws smooth.
IDEAL_POINTS = 64


def ideal_line(axis, most):
    """y = x from 1 to most, at points spaced evenly on a log axis (a straight
    line on a linear axis, a smooth curve on a log one, not a bend at each power of two)."""
    xs = [most ** (i / IDEAL_POINTS) for i in range(IDEAL_POINTS + 1)]
    axis.plot(xs, xs, linestyle=":", color="gray", label="ideal")


def worker_axis(axis, kind, workers):
    """The x axis of workers: log2 for I/O-bound studies (they run far past
    the cores), linear otherwise; a tick at each worker count that ran,
    written as a plain number, and none between (no "1.5 workers")."""
    counts = sorted(set(workers))
    if kind == "io":
        axis.set_xscale("log", base=2)
        axis.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    if len(counts) <= MOST_WORKER_TICS:
        axis.set_xticks(counts)
    elif kind != "io":  # too many to tick each: whole numbers (a log2 axis keeps its powers of two)
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axis.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: "%g" % x))


def mark_cores(axis, usable, said_at="top"):
    """A dotted vertical line at the usable core count, said at the top of the
    line, or (said_at="middle", where a wide legend covers the top and the
    lines start at the foot) written up along it, halfway. Returns what the
    x axis's label adds: "" then; where the usable cores are past every worker
    count drawn (a quick sweep on a node of many cores), no line, which would
    stretch the axis to them and squeeze every run against its left edge, and
    the label says them instead."""
    if usable > axis.dataLim.x1:  # the largest x drawn so far: the callers draw the runs first
        return " (usable cores: %d, more than any run used)" % usable
    axis.axvline(usable, color="gray", linestyle=":", linewidth=1)
    if said_at == "middle":
        axis.annotate("usable cores", (usable, 0.5), xycoords=("data", "axes fraction"), color="gray", fontsize=8,
                      rotation=90, ha="left", va="center", xytext=(3, 0), textcoords="offset points")
        return ""
    axis.annotate("usable cores", (usable, 0.98), xycoords=("data", "axes fraction"),
                  color="gray", fontsize=8, ha="left", va="top", xytext=(3, 0), textcoords="offset points")
    return ""


def amdahl_curve(axis, fit, most, colour_):
    """A model's fitted Amdahl curve (gnuplot.amdahl_fit: its speedup at one worker, serial fraction f),
    dashed in its colour, from one worker to most, as gnuplot's speedup plots draw it; no key of its own
    (the model's name in the key gives f)."""
    one, fraction = fit
    xs = [most ** (i / IDEAL_POINTS) for i in range(IDEAL_POINTS + 1)]
    axis.plot(xs, [one / (fraction + (1 - fraction) / x) for x in xs], linestyle="--", linewidth=1, color=colour_,
              label="_nolegend_")


def speedup_panels(chosen, kinds, usable, out):
    """report.png: one speedup panel per study: each model's medians with their confidence intervals,
    and its fitted Amdahl curve (named in the key with its serial fraction)."""
    count = len(chosen)
    columns = min(2, count)
    rows = (count + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(6.4 * columns, 4.4 * rows), squeeze=False)
    for axis, (study, (n, models)) in zip(axes.flat, chosen.items()):
        most = max(r["workers"] for runs in models.values() for r in runs)
        for model, runs in models.items():
            workers = [r["workers"] for r in runs]
            speedup = [value_or_nan(r["speedup"]) for r in runs]
            base = runs[0]["baseline_median"] or 0
            low = [s - (base / r["ci_high"] if r["ci_high"] else s) for s, r in zip(speedup, runs)]
            high = [(base / r["ci_low"] if r["ci_low"] else s) - s for s, r in zip(speedup, runs)]
            style, marker = line_style(model, models)
            fit = amdahl_fit(runs)
            axis.errorbar(workers, speedup, yerr=[low, high], marker=marker, linestyle=style, capsize=3,
                          color=colour(model), label=fitted_title(model, fit))
            if fit:
                amdahl_curve(axis, fit, most, colour(model))
        ideal_line(axis, most)
        worker_axis(axis, kinds.get(study), [r["workers"] for runs in models.values() for r in runs])
        # the key, with the fitted fractions, is wide: the cores said halfway up, not under it at the top
        cores_said = mark_cores(axis, usable, said_at="middle")
        baseline = next(iter(models.values()))[0]["baseline"]
        axis.set_title("%s, n = %d\n%s" % (study, n, "speedup against %s" % baseline if baseline != "n/a"
                                             else NO_BASELINE), fontsize=10)
        axis.set_xlabel(workers_title(kinds.get(study)) + cores_said)
        axis.set_ylabel("speedup (×)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    for axis in list(axes.flat)[count:]:
        axis.set_visible(False)
    figure.tight_layout()
    figure.savefig(out, dpi=DPI)
    plt.close(figure)


def phase_bars(chosen, usable, out, columns=None):
    """phases.png: per study, one stacked bar per model at the most workers
    not above the usable cores (one for the single-worker models); a model on
    a cluster's link has a bar per link. chosen: {study or (study, n): (n,
    models)}; columns: panels per row (default: all in one row)."""
    count = len(chosen)
    columns = min(columns or count, count)
    rows = (count + columns - 1) // columns
    bars = max(len(models) for _, models in chosen.values())
    width = max(5.2, INCHES_PER_BAR * bars)
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, 4.8 * rows), squeeze=False)
    for axis, (key, (n, models)) in zip(axes.flat, chosen.items()):
        study = key[0] if isinstance(key, tuple) else key
        crowded = len(models) > CROWDED_BARS   # then one slanted line per bar
        names, bottoms = [], []
        for index, (model, runs) in enumerate(models.items()):
            fitting = [r for r in runs if r["workers"] <= usable] or runs[:1]
            run = fitting[-1]
            hosts = " hosts=%s" % run["hosts"] if series_link(model) and run.get("hosts") not in (None, "n/a") else ""
            # uncrowded: the model, its link and its ranks each on a line of their own
            said = model if crowded else model.replace(", ", "\n")
            names.append("%s%sP=%d%s" % (said, " " if crowded else "\n", run["workers"], hosts))
            bottom = 0.0
            parts = [(phase, run[phase] or 0.0) for phase in PHASES]
            parts.append(("waiting", max(0.0, run["median"] - sum(v for _, v in parts))))
            for phase, value in parts:
                if value > 0:   # a segment of no height would pin the axis's top to the bar's
                    axis.bar(index, value * 1e3, bottom=bottom * 1e3, color=PHASE_COLOURS[phase])
                bottom += value
            bottoms.append(bottom)
        axis.set_ylim(0, max(bottoms + [0.0]) * 1e3 * (1 + BAR_HEADROOM) or None)
        axis.set_xticks(range(len(names)))
        if crowded:
            axis.set_xticklabels(names, fontsize=7, rotation=30, ha="right", rotation_mode="anchor")
        else:
            axis.set_xticklabels(names, fontsize=8)
        axis.set_ylabel("milliseconds (median run)")
        axis.set_title("%s, n = %d: where the time goes" % (study, n), fontsize=10)
    for axis in list(axes.flat)[count:]:
        axis.set_visible(False)
    # One key for every panel, above them, where it covers no bar.
    figure.legend(handles=[matplotlib.patches.Patch(color=PHASE_COLOURS[phase], label=phase)
                           for phase in PHASE_COLOURS], loc="upper center", ncol=len(PHASE_COLOURS), fontsize=9,
                  frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 1 - KEY_INCHES / (4.8 * rows)))
    figure.savefig(out, dpi=DPI)
    plt.close(figure)


def across_clusters(every):
    """After a sweep across clusters: {(study, n): (n, series)} of every study and size at
    which a model ran on a cluster's link, with every series of that size (both languages);
    {} after any other sweep."""
    return {key: (key[1], models) for key, models in sorted(every.items())
            if any(series_link(name) for name in models)}


def best_parallel(models):
    """The model with the highest speedup over itself at one worker (serial lanes, and models with no
    self speedup to draw, excluded: gnuplot.self_line)."""
    parallel = {m: runs for m, runs in models.items() if self_line(runs)}
    if not parallel:
        return None, None
    model = max(parallel, key=lambda m: max(r["speedup_self"] or 0 for r in parallel[m]))
    return model, parallel[model]


def cpu_versus_io(chosen, kinds, usable, out):
    """cpu-vs-io.png: each study's best parallel model, self-relative speedup
    against workers on a log2 axis. False, and nothing drawn, where no model has
    a self speedup to draw (gnuplot.unmeasured says why)."""
    if not any(best_parallel(models)[0] for _, models in chosen.values()):
        return False
    figure, axis = plt.subplots(figsize=(8, 5.2))
    most, drawn = 1, [1]
    for study, (n, models) in chosen.items():
        model, runs = best_parallel(models)
        if not model:
            continue
        workers = [r["workers"] for r in runs]
        style = "-" if kinds.get(study) == "io" else "--"
        axis.plot(workers, [value_or_nan(r["speedup_self"]) for r in runs], style, marker="o",
                  label="%s (%s, %s-bound)" % (study, model, "I/O" if kinds.get(study) == "io" else "CPU"))
        most = max(most, max(workers))
        drawn += workers
    ideal_line(axis, most)
    worker_axis(axis, "io", drawn)
    axis.set_xlabel("workers (log scale)" + mark_cores(axis, usable))
    axis.set_ylabel("speedup over the same model at one worker (×)")
    axis.set_title("CPU-bound work stops scaling at the core count; I/O-bound work keeps going")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=DPI)
    plt.close(figure)
    return True


def blas_label(lane):
    """The reference line's name in the key: OpenBLAS and the core it ran (meta.json's
    reference_lanes), and when that core is below what the CPU supports, so it says."""
    core = lane.get("blas_core")
    if not core:
        return "OpenBLAS dgemm"
    below = ", below this\nCPU's best" if lane.get("blas_core_fits") == "no" else ""
    return "OpenBLAS dgemm\n(core %s%s)" % (core, below)


def peak_line(axis, peak, usable, workers, quota="max"):
    """The machine's estimated peak (meta.json's peak_gflops_per_core: vector width x FMA
    units x clock) times the cores P workers can use, at each P that ran: the physical limit.
    A cgroup's CPU quota of part of a core (quota: meta.json's cgroup_cpu_quota, 1.5) holds
    them to that share of the usable cores, which round it up (2)."""
    try:
        per_core = float(peak.get("peak_gflops_per_core"))
    except (TypeError, ValueError):
        return   # not estimated on this machine
    cpus = usable_cpus({"usable_cores": usable, "cgroup_cpu_quota": quota})
    xs = sorted(set(workers))
    axis.plot(xs, [per_core * min(p, cpus) for p in xs], linestyle="-.", color="gray",
              label="peak: %.0f GFLOP/s a core\n(vector × FMA × clock)%s" % (
                  per_core, "\nat most %g CPUs (cgroup quota)" % cpus if cpus < usable else ""))


def matmul_gflops(groups, usable, out, blas_lane, peak, quota="max"):
    """matmul-gflops.png: GFLOP/s per model against workers, OpenBLAS as the reference line
    (blas_lane: meta.json's reference_lanes["matmul-blas"], what its key says) and the
    machine's peak (meta.json's peak, under quota: its cgroup_cpu_quota) above them."""
    sizes = sorted(n for (study, n) in groups if study == "matmul")
    if not sizes:
        return False
    models = groups[("matmul", sizes[-1])]
    figure, axis = plt.subplots(figsize=(10, 5.2))
    for model, runs in models.items():
        values = [value_or_nan(r["figure_median"]) for r in runs]
        style, marker = line_style(model, models)
        style = "--" if model == "blas" else style
        axis.plot([r["workers"] for r in runs], values, linestyle=style, marker=marker, color=colour(model),
                  label=blas_label(blas_lane) if model == "blas" else model)
    workers = [r["workers"] for runs in models.values() for r in runs]
    peak_line(axis, peak, usable, workers, quota)
    worker_axis(axis, "cpu", workers)
    axis.set_xlabel("workers" + mark_cores(axis, usable))
    axis.set_ylabel("GFLOP/s (median run)")
    axis.set_title("matmul, n = %d: our kernel in every model against OpenBLAS" % sizes[-1])
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))   # beside the lines, never on them
    figure.tight_layout()
    figure.savefig(out, dpi=DPI)
    plt.close(figure)
    return True


def python_panels(study, n, models, kind, usable, note, out):
    """python-<study>.png: the Python lanes of one study at one size, in rows of
    two panels (at most MAX_LINES models each): speedup against the best
    serial code of either language on a log scale, and against the same
    model at one worker."""
    chunks = panels_of(models)
    figure, axes = plt.subplots(len(chunks), 2, figsize=(15, 4.8 * len(chunks)), squeeze=False)
    for (left, right), chunk in zip(axes, chunks):
        most = max(r["workers"] for runs in chunk.values() for r in runs)
        baseline = next((r["baseline"] + ", " + r["baseline_lane"] for runs in chunk.values() for r in runs
                         if r["baseline"] != "n/a"), "n/a")
        for model, runs in chunk.items():
            measured = [r for r in runs if r["speedup"]]
            style, marker = line_style(model, chunk)
            if measured:
                left.plot([r["workers"] for r in measured], [r["speedup"] for r in measured], marker=marker,
                          linestyle=style, color=colour(model), label=model if len(runs) > 1 else model + " (P=1)")
            if len(runs) > 1:
                right.plot([r["workers"] for r in runs], [value_or_nan(r["speedup_self"]) for r in runs], marker=marker,
                           linestyle=style, color=colour(model), label=model)
        left.axhline(1, color="black", linestyle=":", linewidth=1, label="as fast as the baseline")
        left.set_yscale("log")
        left.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: "%g" % y))
        left.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        left.set_title(("speedup against %s\n(the best serial code; log scale)" % baseline) if baseline != "n/a"
                       else NO_BASELINE.replace(": ", ":\n", 1), fontsize=10)
        left.set_ylabel("speedup (×)")
        right.set_title(self_title(chunk).replace(": ", ":\n", 1), fontsize=10)
        right.set_ylabel("speedup (×)")
        for axis in (left, right):
            ideal_line(axis, most)
            worker_axis(axis, kind, [r["workers"] for runs in chunk.values() for r in runs])
            axis.set_xlabel(workers_title(kind) + mark_cores(axis, usable))
            axis.grid(alpha=0.3)
        right.set_ylim(0, self_speedup_top(runs for runs in chunk.values() if len(runs) > 1))
        # One key for the row, beside it: the panels share their colours, and
        # up to MAX_LINES lines leave no corner of a panel that no line crosses.
        keyed = {}
        for axis in (left, right):
            for handle, label in zip(*axis.get_legend_handles_labels()):
                keyed.setdefault(label, handle)
        right.legend(keyed.values(), keyed.keys(), fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    figure.suptitle("%s, n = %d: the Python lanes%s" % (study, n, " (%s)" % note if note else ""), fontsize=11)
    figure.tight_layout()
    figure.savefig(out, dpi=DPI)
    plt.close(figure)


def gil_figure(lines, usable, out):
    """gil.png: speedup over the same model at one worker, against workers on a log2 axis."""
    figure, axis = plt.subplots(figsize=(9, 5.6))
    most = 1
    for line in lines:
        workers = [r["workers"] for r in line["rows"]]
        axis.plot(workers, [value_or_nan(r["speedup_self"]) for r in line["rows"]],
                  "--" if line["kind"] == "io" else "-", marker="o", color=colour(line["model"]), label=line["label"])
        most = max(most, max(workers))
    ideal_line(axis, most)
    worker_axis(axis, "io", [r["workers"] for line in lines for r in line["rows"]])
    # The key's five long lines cover the top; every line starts at 1 on the foot,
    # while halfway up, at the cores, only the ideal line passes (far to the right).
    axis.set_xlabel("workers (log scale)" + mark_cores(axis, usable, said_at="middle"))
    axis.set_ylabel("speedup over the same model at one worker (×)")
    axis.set_ylim(0, self_speedup_top(line["rows"] for line in lines))
    axis.set_title("The GIL: Python threads speed up waiting, not computing; processes do both")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=DPI)
    plt.close(figure)


def lane_groups(groups, python):
    """The groups with only the Python lane's models (python) or only the C models; empty groups left out."""
    chosen = {}
    for key, models in groups.items():
        kept = {m: runs for m, runs in models.items() if is_python(m) == python}
        if kept:
            chosen[key] = kept
    return chosen


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: figures.py RESULTS_DIR")
    results = Path(sys.argv[1])
    summary = read_summary(results / "summary.csv")
    meta = json.loads((results / "meta.json").read_text())
    usable = meta["machine"]["usable_cores"]
    kinds = {s.name: s.kind for s in STUDIES}
    every = plot_groups(summary)
    groups = lane_groups(every, python=False)
    chosen = largest_sizes(groups)
    python_chosen = largest_sizes(lane_groups(every, python=True))
    if not chosen and not python_chosen:
        print("figures: no verified runs to draw", file=sys.stderr)
        return 0
    written = []
    clusters = across_clusters(every)
    if chosen:
        speedup_panels(chosen, kinds, usable, results / "report.png")
        written.append("report.png")
    if clusters:  # a sweep across clusters: the links side by side, both languages
        phase_bars(clusters, usable, results / "phases.png", CLUSTER_PHASE_COLUMNS)
        written.append("phases.png")
    elif chosen:
        phase_bars(chosen, usable, results / "phases.png")
        written.append("phases.png")
    if chosen and cpu_versus_io(chosen, kinds, usable, results / "cpu-vs-io.png"):
        written.append("cpu-vs-io.png")
    else:  # none to draw: nor one an earlier make plot drew of fewer runs
        (results / "cpu-vs-io.png").unlink(missing_ok=True)
    blas_lane = meta["machine"].get("reference_lanes", {}).get("matmul-blas", {})
    if matmul_gflops(groups, usable, results / "matmul-gflops.png", blas_lane, meta["machine"].get("peak") or {},
                     meta["machine"].get("cgroup_cpu_quota", "max")):
        written.append("matmul-gflops.png")
    for study, (n, models) in python_chosen.items():
        name = "python-%s.png" % study
        python_panels(study, n, models, kinds.get(study, "cpu"), usable,
                      python_note(study, n, meta.get("sizes")), results / name)
        written.append(name)
    lines = gil_lines(summary, kinds)
    if lines:
        gil_figure(lines, usable, results / "gil.png")
        written.append("gil.png")
    else:
        (results / "gil.png").unlink(missing_ok=True)
    print("\n".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
