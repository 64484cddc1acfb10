"""tools/harness/gnuplot.py — speedup and efficiency plots from summary.csv, drawn by gnuplot.

For every study and size: a speedup plot of the C models (the ideal line,
each model's measured medians with the 95 % confidence interval as error
bars, each model's fitted Amdahl curve, the usable cores marked, the
baseline named in the title) and an efficiency plot (the cores marked
too), as PNG; and the same speedup plot as text (gnuplot's dumb
terminal) for a terminal over ssh.
Where the Python lane ran, its models get a plot of their own (two panels:
speedup against the best serial code of either language, on a log scale,
and against the same model at one worker), and the GIL figure (gil.png, and
as text) sets Python threads on CPU-bound and on I/O-bound work beside
Python processes and C threads. No panel holds more than MAX_LINES models.
A model that also ran across a cluster (make bench CLUSTER=N) has a line per
link ("mpi", "mpi, cluster unshaped", "mpi, cluster 1gbit"), in the model's
colour with a dash and point type per link. The data and the scripts stay
beside the PNGs (plots/), so a plot can be redrawn or edited.
"""
import subprocess
from pathlib import Path

from .clusters import link_order
from .programs import is_python
from .studies import PYTHON_MODELS
from .summary import series_link, series_model, series_name

# One colour per model, the same in every plot (and in the matplotlib figures).
MODEL_COLOURS = {"serial": "#000000", "threads": "#1f77b4", "processes": "#ff7f0e", "openmp": "#2ca02c",
                 "mpi": "#d62728", "blas": "#9467bd", "gmp": "#9467bd", "async": "#8c564b",
                 # the Python lane's, apart from every C model's (the GIL figure shows both)
                 "py-serial": "#636363", "py-threading": "#17becf", "py-multiprocessing": "#e377c2",
                 "py-futures": "#bcbd22", "py-joblib": "#7b4173", "py-mpi4py": "#ad494a", "py-dask": "#393b79",
                 "py-ipyparallel": "#637939", "py-numba": "#e6550d", "py-asyncio": "#6b6ecf"}
OTHER_COLOUR = "#7f7f7f"
# Colours of the models MODEL_COLOURS does not name (a Python lane of one's own: make turns a folder
# python/<model>/ into bin/<workload>-py-<model>), apart from every named one's and from each other's;
# plot_groups gives them out, in the order of the names, so that gnuplot and matplotlib agree.
SPARE_COLOURS = ("#e6ab02", "#1b9e77", "#b15928", "#fb9a99", "#6a3d9a", "#b2df8a", "#fdbf6f", "#a6cee3")
spare_colours = {}  # model -> its spare colour
# The most models one panel draws: more, and the lines cannot be told apart.
MAX_LINES = 7
PYTHON_PNG_SIZE = "1680,640"
# In the terminal plot, where there is no colour, each model is drawn with its initial.
OTHER_MARK = "x"
PNG_SIZE = "960,640"
DUMB_SIZE = "100,28"


def colour(model):
    """The model's colour (a series' on a cluster link: its model's); a model MODEL_COLOURS does not
    name, its spare colour (plot_groups), where they had all been one grey."""
    name = series_model(model)
    return MODEL_COLOURS.get(name) or spare_colours.get(name, OTHER_COLOUR)


# A model's lines on different links: this machine alone solid with circles, then each link,
# fastest first, with its own dash type (gnuplot's) and point type.
LINK_DASHES = (1, 2, 4, 5, 3)
LINK_POINTS = (7, 5, 9, 13, 11)


def link_rank(name, names):
    """Where the link of series name comes among the links of the series names, fastest
    first (0: this machine alone, or no cluster at all)."""
    links = sorted({series_link(other) for other in names}, key=link_order)
    return links.index(series_link(name)) % len(LINK_DASHES)


def plot_groups(summary):
    """{(study, n): {series: [rows by workers]}} for the rows with a median; a series is a
    model, or a model on a cluster's link (summary.series_name). Gives the models MODEL_COLOURS
    does not name their spare colours (colour)."""
    groups = {}
    for row in summary:
        if row.get("median") is None:
            continue
        models = groups.setdefault((row["study"], row["n"]), {})
        models.setdefault(series_name(row), []).append(row)
    for models in groups.values():
        for rows in models.values():
            rows.sort(key=lambda r: r["workers"])
    unnamed = {series_model(name) for models in groups.values() for name in models} - set(MODEL_COLOURS)
    for model in sorted(unnamed - set(spare_colours)):   # each its own, the same in both plotters
        spare_colours[model] = SPARE_COLOURS[len(spare_colours) % len(SPARE_COLOURS)]
    return groups


def write_data(path, models):
    """One block per model: workers speedup speedup_low speedup_high efficiency (NaN where there
    is no speedup: no serial code ran to a verified result at this size; gnuplot leaves the point out)."""
    with open(path, "w") as f:
        for model, rows in models.items():
            f.write("# %s\n" % model)
            for r in rows:
                speedup, base = r["speedup"], r["baseline_median"] or 0
                low = base / r["ci_high"] if r.get("ci_high") and speedup else speedup
                high = base / r["ci_low"] if r.get("ci_low") and speedup else speedup
                f.write("%d %s %s %s %s\n" % (r["workers"], number(speedup), number(low), number(high),
                                              number(r["efficiency"])))
            f.write("\n\n")


# What a speedup plot's title says where no serial code ran to a verified result at its size (baseline n/a:
# MODELS= left it out, or it failed every run).
NO_BASELINE = "no speedup: no serial code ran to a verified result at this size"


def against(baseline):
    """A speedup plot's title's words on its baseline."""
    return NO_BASELINE if baseline == "n/a" else "speedup against %s, the best serial code" % baseline


# Past this many different worker counts, the x axis keeps gnuplot's own tics
# (a label at every count would run together).
MOST_WORKER_TICS = 12


def worker_axis(kind, rows):
    """The x axis of workers: log2 for I/O-bound studies (they run far past
    the cores), linear otherwise, a tic at each worker count that ran and
    none between (no "1.5 workers")."""
    workers = sorted({r["workers"] for r in rows})
    most = workers[-1]
    lines = (["set logscale x 2", "set xrange [0.8:%g]" % (most * 1.25)] if kind == "io"
             else ["set xrange [0.5:%g]" % (most + 0.5)])
    if len(workers) <= MOST_WORKER_TICS:
        lines.append("set xtics (%s)" % ", ".join("%d" % w for w in workers))
    return lines


def workers_label(kind, said):
    """The x axis's label: said (what the workers are), and on an I/O-bound study's log2 axis that it is one,
    where equal steps are doublings (1, 2, 4, 16: the last step four times the one before)."""
    return "%s, log scale" % said if kind == "io" else said


def workers_title(kind):
    """The x axis's label where it does not say what the workers are (matplotlib's panels): "workers",
    "workers (log scale)" on a log2 axis (workers_label)."""
    return "workers (log scale)" if kind == "io" else "workers"


def cores_mark(usable, dumb, most, label=True, said_at="foot"):
    """Where workers outnumber the usable cores: shaded (and said, with label) in a PNG,
    a vertical line of dots at the usable cores in text. Nothing where no run had more
    workers (most) than the cores: a sliver at the axis's right end, its words running
    off the plot, would mark no run. said_at="middle": the words written up along the
    shade's edge, halfway, where a plot's lines run along its foot (the GIL figure's
    CPU-bound lines, flat at 1, crossed them at the foot)."""
    if most <= usable:
        return []
    if dumb:
        return ['set arrow 1 from %g, graph 0 to %g, graph 1 nohead dashtype "."' % (usable, usable)]
    lines = ['set object 1 rect from %g, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind'
             % usable]
    if label and said_at == "middle":
        lines.append('set label 1 "more workers than usable cores (%d)" at %g, graph 0.5 center rotate by 90 '
                     'offset 1,0 tc rgb "#777777"' % (usable, usable))
    elif label:
        lines.append('set label 1 "more workers than usable cores (%d)" at %g, graph 0.04 offset 1,0 '
                     'tc rgb "#777777"' % (usable, usable))
    return lines


def speedup_plot(data, models, study, n, kind, usable, baseline, terminal):
    """The gnuplot commands for one speedup plot on the given terminal."""
    most = max(r["workers"] for rows in models.values() for r in rows)
    lines = [terminal,
             'set title "%s, n = %d: %s"' % (study, n, against(baseline)),
             'set xlabel "workers (%s)"' % workers_label(kind, "threads, processes or MPI ranks"),
             'set ylabel "speedup (times faster than the baseline)"',
             "set key top left", "set grid"]
    lines += worker_axis(kind, [r for rows in models.values() for r in rows])
    dumb = terminal.startswith("set terminal dumb")
    lines += cores_mark(usable, dumb, most)
    plots = ['x title "ideal" with lines dashtype 2 lc "gray"']
    for index, (model, rows) in enumerate(models.items()):
        if dumb:
            plots.append("'%s' index %d using 1:2 with linespoints pt '%s' title '%s'"
                         % (data, index, (model or OTHER_MARK)[0], model))
            continue
        fit = amdahl_fit(rows)
        rank = link_rank(model, models)
        plots.append("'%s' index %d using 1:2:3:4 with yerrorlines lw 2 dt %d pt %d lc rgb '%s' title '%s'"
                     % (data, index, LINK_DASHES[rank], LINK_POINTS[rank], colour(model), fitted_title(model, fit)))
        if fit:  # the fitted curve, dashed, in the model's colour, from one worker on
            one, fraction = fit
            plots.append("[x=1:%g] %.6g / (%.6g + (1 - %.6g) / x) with lines dashtype 2 lc rgb '%s' notitle"
                         % (most, one, fraction, fraction, colour(model)))
    lines.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(lines) + "\n"


def amdahl_fit(rows):
    """(speedup at one worker, serial fraction f) of a model's fitted Amdahl curve, one / (f + (1 - f) / P),
    drawn from one worker on in the speedup plots of both plotters; None where there is none to draw (no
    fit, f = 1, no speedup at one worker, a single point)."""
    fraction = rows[0].get("amdahl_serial_fraction")
    one = next((r["speedup"] for r in rows if r["workers"] == 1), None)
    return (one, fraction) if fraction is not None and fraction < 1 and one and len(rows) > 1 else None


def fitted_title(model, fit):
    """A model's name in a speedup plot's key, with its fitted serial fraction (amdahl_fit) where it has one."""
    return "%s (Amdahl fit: serial fraction %.2f)" % (model, fit[1]) if fit else model


def efficiency_plot(data, models, study, n, kind, usable, baseline, terminal):
    """The gnuplot commands for one efficiency plot."""
    lines = [terminal,
             'set title "%s, n = %d: parallel efficiency (%s)"' % (
                 study, n, NO_BASELINE if baseline == "n/a" else "speedup against %s / workers" % baseline),
             'set xlabel "workers (%s)"' % workers_label(kind, "threads, processes or MPI ranks"),
             'set ylabel "efficiency (1 = every worker fully useful)"',
             "set key bottom left", "set grid", "set yrange [0:%g]" % efficiency_top(models.values())]
    lines += worker_axis(kind, [r for rows in models.values() for r in rows])
    lines += cores_mark(usable, False, max(r["workers"] for rows in models.values() for r in rows))
    plots = ['1 title "ideal" with lines dashtype 2 lc "gray"']
    for index, model in enumerate(models):
        rank = link_rank(model, models)
        plots.append("'%s' index %d using 1:5 with linespoints lw 2 dt %d pt %d lc rgb '%s' title '%s'"
                     % (data, index, LINK_DASHES[rank], LINK_POINTS[rank], colour(model), model))
    lines.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(lines) + "\n"


class GnuplotFailed(Exception):
    """A gnuplot that would not draw (one built without the pngcairo terminal, a broken
    install): which gnuplot, on which script, and gnuplot's own last line."""


def run_gnuplot(gnuplot, plots, script=None, text=None):
    """gnuplot on plots/script (or on text, given on its stdin), in plots/; its stdout.
    GnuplotFailed where it cannot be started or ends with an error."""
    said = "plots/%s" % script if script else "a terminal plot"
    try:
        out = subprocess.run([gnuplot] + ([script] if script else []), input=text or "", cwd=plots,
                             capture_output=True, text=True)
    except OSError as e:
        raise GnuplotFailed("gnuplot (%s) cannot run: %s" % (gnuplot, e.strerror or e)) from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["exit status %d" % out.returncode])[-1].strip()
        raise GnuplotFailed("gnuplot (%s) failed on %s: %s" % (gnuplot, said, last))
    return out.stdout


def draw(results_dir, summary, studies, usable, gnuplot="gnuplot", sizes=None):
    """Write the PNGs (and scripts) under results_dir; return the dumb-terminal
    plots as text: each study's C speedup plot at its largest size, and the
    GIL figure. sizes: meta.json's sizes (which n each lane ran), for the titles.
    GnuplotFailed (run_gnuplot) where gnuplot cannot draw them."""
    plots = Path(results_dir) / "plots"
    plots.mkdir(exist_ok=True)
    kind_of = {s.name: s.kind for s in studies}
    texts = {}
    for (study, n), every_model in sorted(plot_groups(summary).items()):
        kind = kind_of.get(study, "cpu")
        python_models = {m: rows for m, rows in every_model.items() if is_python(m)}
        if python_models:
            python_plots(plots, python_models, study, n, kind, usable, python_note(study, n, sizes), gnuplot)
        models = {m: rows for m, rows in every_model.items() if not is_python(m)}
        if not models:
            continue
        baseline = next((r["baseline"] for rows in models.values() for r in rows if r["baseline"] != "n/a"), "n/a")
        stem = "%s-n%d" % (study, n)
        data = plots / (stem + ".dat")
        write_data(data, models)
        png = 'set terminal pngcairo size %s enhanced font ",11"\nset output "%s"' % (PNG_SIZE, "%s")
        script = (speedup_plot(data.name, models, study, n, kind, usable, baseline,
                               png % ("speedup-" + stem + ".png"))
                  + "reset\n"
                  + efficiency_plot(data.name, models, study, n, kind, usable, baseline,
                                    png % ("efficiency-" + stem + ".png")))
        (plots / (stem + ".gp")).write_text(script)
        run_gnuplot(gnuplot, plots, stem + ".gp")
        dumb = speedup_plot(data.name, models, study, n, kind, usable, baseline,
                            "set terminal dumb size %s" % DUMB_SIZE)
        texts[study] = run_gnuplot(gnuplot, plots, text=dumb)  # the largest size wins: sizes come in increasing order
    lines = gil_lines(summary, kind_of)
    if lines:
        write_gil_data(plots / "gil.dat", lines)
        png = 'set terminal pngcairo size %s enhanced font ",11"\nset output "gil.png"' % PNG_SIZE
        (plots / "gil.gp").write_text(gil_plot("gil.dat", lines, usable, png))
        run_gnuplot(gnuplot, plots, "gil.gp")
        texts["gil"] = run_gnuplot(gnuplot, plots, text=gil_plot("gil.dat", lines, usable,
                                                                 "set terminal dumb size %s" % DUMB_SIZE))
    else:  # none to draw (unmeasured says why): nor one an earlier make plot drew of other runs
        for name in ("gil.png", "gil.gp", "gil.dat"):
            (plots / name).unlink(missing_ok=True)
    return texts


# ---- the Python lane's plots ----------------------------------------------------

def python_note(study, n, sizes):
    """What a Python plot's title says of its size beside the C lanes'."""
    lanes = (sizes or {}).get(study, {})
    c_sizes = lanes.get("C", [])
    if not c_sizes or c_sizes == [n]:
        return "the C lanes ran this n too" if c_sizes else ""
    return "the C lanes ran n = %s; their serial code and threads also this n" % ", ".join(map(str, c_sizes))


def panels_of(models):
    """The models in panels of at most MAX_LINES lines, in the Python lane's order (py-serial, a
    single point at one worker, rides along in the first)."""
    def place(name):
        model = series_model(name)
        return (PYTHON_MODELS.index(model) if model in PYTHON_MODELS else len(PYTHON_MODELS), model,
                link_order(series_link(name)))
    order = sorted(models, key=place)
    lines = [m for m in order if len(models[m]) > 1]
    points = [m for m in order if len(models[m]) == 1]
    chunks = [lines[i:i + MAX_LINES] for i in range(0, len(lines), MAX_LINES)] or [[]]
    chunks[0] = points + chunks[0]
    return [{m: models[m] for m in chunk} for chunk in chunks]


def write_python_data(path, models):
    """One block per model: workers speedup speedup_low speedup_high speedup_self (NaN: not measured)."""
    with open(path, "w") as f:
        for model, rows in models.items():
            f.write("# %s\n" % model)
            for r in rows:
                speedup, base = r["speedup"], r["baseline_median"] or 0
                low = base / r["ci_high"] if r.get("ci_high") and speedup else speedup
                high = base / r["ci_low"] if r.get("ci_low") and speedup else speedup
                f.write("%d %s %s %s %s\n" % (r["workers"], number(speedup), number(low), number(high),
                                              number(r["speedup_self"])))
            f.write("\n\n")


# Headroom above the highest self-relative speedup measured, so the ideal line
# (which can climb to 32) does not squash the measured ones flat.
HEADROOM = 1.2


def self_speedup_top(row_lists):
    """The top of a self-relative speedup axis: a little above the highest measured (and at least 2)."""
    return HEADROOM * max([2.0] + [r["speedup_self"] for rows in row_lists for r in rows if r["speedup_self"]])


def efficiency_top(row_lists):
    """The top of an efficiency axis: a little above 1 (the ideal line clear of the frame) or
    above the highest measured."""
    return HEADROOM * max([1.0] + [r["efficiency"] for rows in row_lists for r in rows if r["efficiency"]])


def number(value):
    """A data file's number, or NaN (gnuplot leaves it out)."""
    return "NaN" if value is None else "%.6g" % value


def python_plot(data, models, study, n, kind, usable, note, output):
    """The gnuplot commands for one Python plot: two panels side by side."""
    baseline = next((r["baseline"] + ", " + r["baseline_lane"] for rows in models.values() for r in rows
                     if r["baseline"] != "n/a"), None)
    lines = ['set terminal pngcairo size %s enhanced font ",11"' % PYTHON_PNG_SIZE, 'set output "%s"' % output,
             'set multiplot layout 1,2 title "%s, n = %d: the Python lanes%s" font ",13"'
             % (study, n, " (%s)" % note if note else ""),
             'set xlabel "workers (%s)"' % workers_label(kind, "threads, processes, MPI ranks, engines"),
             "set key top left", "set grid"]
    lines += worker_axis(kind, [r for rows in models.values() for r in rows])
    lines += cores_mark(usable, False, max(r["workers"] for rows in models.values() for r in rows), label=False)
    plots = ['x title "ideal" with lines dashtype 2 lc "gray"',
             '1 title "as fast as the baseline" with lines dashtype 3 lc "black"']
    for index, (model, rows) in enumerate(models.items()):
        rank = link_rank(model, models)
        style = "yerrorlines lw 2 dt %d" % LINK_DASHES[rank] if len(rows) > 1 else "yerrorbars"
        plots.append("'%s' index %d using 1:2:3:4 with %s pt %d lc rgb '%s' title '%s'"
                     % (data, index, style, LINK_POINTS[rank], colour(model),
                        model if len(rows) > 1 else model + " (P=1)"))
    lines += ['set title "%s"' % (NO_BASELINE if baseline is None
                                   else "speedup against %s: the best serial code (log scale)" % baseline),
              'set ylabel "speedup (times faster than the baseline)"', "set logscale y", 'set format y "%g"',
              "unset key", "plot " + ", \\\n     ".join(plots), "unset logscale y", 'set format y "% h"']
    # One key for both panels, beside the right one (up to MAX_LINES lines
    # leave no corner of a panel free): the left panel's own lines are
    # keyed there as curves of no points (NaN), drawn nowhere.
    plots = ['x title "ideal" with lines dashtype 2 lc "gray"',
             'NaN title "as fast as the baseline" with lines dashtype 3 lc "black"']
    plots += ["'%s' index %d using 1:5 with linespoints lw 2 dt %d pt %d lc rgb '%s' title '%s'"
              % (data, index, LINK_DASHES[link_rank(model, models)], LINK_POINTS[link_rank(model, models)],
                 colour(model), model) if len(rows) > 1
              else "NaN with points pt %d lc rgb '%s' title '%s (P=1)'"
              % (LINK_POINTS[link_rank(model, models)], colour(model), model)
              for index, (model, rows) in enumerate(models.items())]
    lines += ['set title "%s"' % self_title(models),
              'set ylabel "speedup (times faster than itself at P = 1)"',
              "set yrange [0:%g]" % self_speedup_top(models.values()), "set key outside right top",
              "plot " + ", \\\n     ".join(plots), "unset multiplot"]
    return "\n".join(lines) + "\n"


def python_plots(plots, models, study, n, kind, usable, note, gnuplot):
    """plots/python-<study>-n<N>.png (and -2, -3 ... when the models need more panels)."""
    for number_, chunk in enumerate(panels_of(models), 1):
        stem = "python-%s-n%d%s" % (study, n, "" if number_ == 1 else "-%d" % number_)
        write_python_data(plots / (stem + ".dat"), chunk)
        (plots / (stem + ".gp")).write_text(python_plot(stem + ".dat", chunk, study, n, kind, usable, note,
                                                        stem + ".png"))
        run_gnuplot(gnuplot, plots, stem + ".gp")


# ---- the GIL figure ---------------------------------------------------------------

# Its lines: (model, the studies it may come from, first found, and what it shows).
# Factorial's many small tasks are the CPU-bound case (its one big product
# has a serial last multiplication that would hide the GIL behind Amdahl).
GIL_LINES = [
    ("py-threading", ("factorial-many", "factorial-big"), "Python threads, CPU-bound: one runs at a time (the GIL)"),
    ("py-threading", ("download",), "Python threads, I/O-bound: a thread waiting lets go of the GIL"),
    ("py-multiprocessing", ("factorial-many", "factorial-big"), "Python processes, CPU-bound: a GIL each"),
    ("threads", ("factorial-many", "factorial-big"), "C threads, CPU-bound"),
    ("threads", ("download",), "C threads, I/O-bound"),
]
# Marks of the lines in the terminal's copy, which has no colour.
GIL_MARKS = "TDPcd"


def gil_lines(summary, kind_of):
    """The GIL figure's lines that the summary holds, each as a dict: model,
    study, n, kind, label, mark and its rows (by workers, with speedup_self).
    A Python line is taken at the largest n its model ran with several
    workers; a C line at the n of the Python line on the same study, if it ran
    there, so they compare like with like."""
    groups = plot_groups(summary)
    found, python_n = [], {}
    for (model, candidates, label), mark in zip(GIL_LINES, GIL_MARKS):
        for study in candidates:
            sizes = sorted(n for (s, n), models in groups.items() if s == study and self_line(models.get(model, [])))
            if not sizes:
                continue
            n = sizes[-1]
            if is_python(model):
                python_n.setdefault(study, n)
            elif python_n.get(study) in sizes:
                n = python_n[study]
            found.append({"model": model, "study": study, "n": n, "kind": kind_of.get(study, "cpu"),
                          "label": "%s: %s n=%d" % (label, study, n), "mark": mark,
                          "rows": groups[(study, n)][model]})
            break
    return found if any(is_python(line["model"]) for line in found) else []


def self_line(rows):
    """Whether a model's rows (by workers) draw a line of self speedups: two points or more measured. None
    without a verified run at one worker (WORKERS= without 1, or every run there failed): a line of NaN
    would draw nothing, and its name in the key would name a line that is not there."""
    return sum(1 for r in rows if r.get("speedup_self")) > 1


# The title of a panel of self speedups; where no model in it has any to draw (self_line), it says why.
SELF_TITLE = "speedup over the same model at one worker"
NO_SELF_TITLE = SELF_TITLE + ": none, no run at one worker to a verified result"


def self_title(models):
    """The self-speedup panel's title for models: SELF_TITLE, or NO_SELF_TITLE where none has a line to draw."""
    return SELF_TITLE if any(self_line(rows) for rows in models.values()) else NO_SELF_TITLE


def unmeasured(summary, kind_of):
    """Why figures of self speedups that this sweep's lanes would draw are missing, each a sentence
    for report.md: the GIL figure (both plotters) and cpu-vs-io.png (matplotlib), where no line of
    theirs has a self speedup (self_line): their lanes ran, but none to a verified result at one worker
    and at another (WORKERS= of one count or without 1, MODELS= with no parallel model, every run failed)."""
    groups = plot_groups(summary)
    reasons = []
    gil_models = {(model, study) for model, studies, _ in GIL_LINES if is_python(model) for study in studies}
    ran = any((row["model"], row["study"]) in gil_models for row in summary)  # verified or not
    if ran and not gil_lines(summary, kind_of):
        reasons.append("gil.png (the GIL figure): " + NO_SELF_SPEEDUP % "Python lane")
    largest = {}  # cpu-vs-io.png's lines: the C models of each study at its largest size
    for (study, _), models in sorted(groups.items()):
        c_models = [rows for name, rows in models.items() if not is_python(name)]
        largest[study] = c_models or largest.get(study, [])
    c_lanes = [rows for lanes in largest.values() for rows in lanes]
    if c_lanes and not any(self_line(rows) for rows in c_lanes):
        reasons.append("cpu-vs-io.png: " + NO_SELF_SPEEDUP % "C model")
    return reasons


# Why a figure of self speedups is not drawn (unmeasured), of a kind of lane.
NO_SELF_SPEEDUP = ("no %s ran to a verified result both at one worker and at more, so there is no speedup over "
                   "the same model at one worker to draw (WORKERS= of one count or without 1, MODELS= with no "
                   "parallel model, or every run at one worker failed)")


def write_gil_data(path, lines):
    """One block per line: workers speedup_self."""
    with open(path, "w") as f:
        for line in lines:
            f.write("# %s %s n=%d\n" % (line["model"], line["study"], line["n"]))
            for r in line["rows"]:
                f.write("%d %s\n" % (r["workers"], number(r["speedup_self"])))
            f.write("\n\n")


def gil_plot(data, lines, usable, terminal):
    """The gnuplot commands for the GIL figure on the given terminal."""
    dumb = terminal.startswith("set terminal dumb")
    commands = [terminal,
                'set title "The GIL: Python threads speed up waiting, not computing; processes do both"',
                'set xlabel "workers (log scale)"', 'set ylabel "speedup over the same model at one worker"',
                "set key top left", "set grid", "set yrange [0:%g]" % self_speedup_top(line["rows"] for line in lines)]
    commands += worker_axis("io", [r for line in lines for r in line["rows"]])
    # its CPU-bound lines lie flat at 1, along the foot: the cores said halfway up (as gil.png says them)
    commands += cores_mark(usable, dumb, max(r["workers"] for line in lines for r in line["rows"]), said_at="middle")
    plots = ['x title "ideal" with lines dashtype 2 lc "gray"']
    for index, line in enumerate(lines):
        if dumb:
            plots.append("'%s' index %d using 1:2 with linespoints pt '%s' title '%s %s n=%d (%s)'"
                         % (data, index, line["mark"], line["model"], line["study"], line["n"], line["mark"]))
        else:
            plots.append("'%s' index %d using 1:2 with linespoints lw 2 pt 7 dashtype %d lc rgb '%s' title '%s'"
                         % (data, index, 3 if line["kind"] == "io" else 1, colour(line["model"]), line["label"]))
    commands.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(commands) + "\n"
