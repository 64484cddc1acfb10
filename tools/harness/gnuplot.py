"""tools/harness/gnuplot.py — speedup and efficiency plots from summary.csv, drawn by gnuplot.

For every study and size: a speedup plot (the ideal line, each model's
measured medians with the 95 % confidence interval as error bars, each
model's fitted Amdahl curve, the usable cores marked, the baseline named in
the title) and an efficiency plot, as PNG; and the same speedup plot as
text (gnuplot's dumb terminal) for a terminal over ssh. The data and the
scripts stay beside the PNGs (plots/), so a plot can be redrawn or edited.
"""
import subprocess
from pathlib import Path

# One colour per model, the same in every plot (and in the matplotlib figures).
MODEL_COLOURS = {"serial": "#000000", "threads": "#1f77b4", "processes": "#ff7f0e", "openmp": "#2ca02c",
                 "mpi": "#d62728", "blas": "#9467bd", "gmp": "#9467bd", "async": "#8c564b"}
OTHER_COLOUR = "#7f7f7f"
# In the terminal plot, where there is no colour, each model is drawn with its initial.
OTHER_MARK = "x"
PNG_SIZE = "960,640"
DUMB_SIZE = "100,28"


def colour(model):
    """The model's colour."""
    return MODEL_COLOURS.get(model, OTHER_COLOUR)


def plot_groups(summary):
    """{(study, n): {model: [rows by workers]}} for the rows with a median."""
    groups = {}
    for row in summary:
        if row.get("median") is None:
            continue
        models = groups.setdefault((row["study"], row["n"]), {})
        models.setdefault(row["model"], []).append(row)
    for models in groups.values():
        for rows in models.values():
            rows.sort(key=lambda r: r["workers"])
    return groups


def write_data(path, models):
    """One block per model: workers speedup speedup_low speedup_high efficiency."""
    with open(path, "w") as f:
        for model, rows in models.items():
            f.write("# %s\n" % model)
            for r in rows:
                speedup = r["speedup"] or 0
                base = r["baseline_median"] or 0
                low = base / r["ci_high"] if r.get("ci_high") else speedup
                high = base / r["ci_low"] if r.get("ci_low") else speedup
                f.write("%d %.6g %.6g %.6g %.6g\n" % (r["workers"], speedup, low, high, r["efficiency"] or 0))
            f.write("\n\n")


def speedup_plot(data, models, study, n, kind, usable, baseline, terminal):
    """The gnuplot commands for one speedup plot on the given terminal."""
    most = max(r["workers"] for rows in models.values() for r in rows)
    lines = [terminal,
             'set title "%s, n = %d: speedup against %s, the best serial code"' % (study, n, baseline),
             'set xlabel "workers (threads, processes or MPI ranks)"',
             'set ylabel "speedup (times faster than the baseline)"',
             "set key top left", "set grid"]
    if kind == "io":
        lines += ["set logscale x 2", "set xrange [0.8:%g]" % (most * 1.25)]
    else:
        lines += ["set xrange [0.5:%g]" % (most + 0.5)]
    dumb = terminal.startswith("set terminal dumb")
    if dumb:  # a vertical line of dots at the usable cores
        lines.append('set arrow 1 from %g, graph 0 to %g, graph 1 nohead dashtype "."' % (usable, usable))
    else:  # shade where workers outnumber the usable cores
        lines.append('set object 1 rect from %g, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid '
                     'noborder behind' % usable)
        lines.append('set label 1 "more workers than usable cores (%d)" at %g, graph 0.04 offset 1,0 '
                     'tc rgb "#777777"' % (usable, usable))
    plots = ['x title "ideal" with lines dashtype 2 lc "gray"']
    for index, (model, rows) in enumerate(models.items()):
        fraction = rows[0].get("amdahl_serial_fraction")
        one = next((r["speedup"] for r in rows if r["workers"] == 1), None)
        fitted = fraction is not None and fraction < 1 and one and len(rows) > 1 and not dumb
        if dumb:
            plots.append("'%s' index %d using 1:2 with linespoints pt '%s' title '%s'"
                         % (data, index, (model or OTHER_MARK)[0], model))
            continue
        title = "%s (Amdahl fit: serial fraction %.2f)" % (model, fraction) if fitted else model
        plots.append("'%s' index %d using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '%s' title '%s'"
                     % (data, index, colour(model), title))
        if fitted:  # the fitted curve, dashed, in the model's colour, from one worker on
            plots.append("[x=1:%g] %.6g / (%.6g + (1 - %.6g) / x) with lines dashtype 2 lc rgb '%s' notitle"
                         % (most, one, fraction, fraction, colour(model)))
    lines.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(lines) + "\n"


def efficiency_plot(data, models, study, n, kind, baseline, terminal):
    """The gnuplot commands for one efficiency plot."""
    lines = [terminal,
             'set title "%s, n = %d: parallel efficiency (speedup against %s / workers)"' % (study, n, baseline),
             'set xlabel "workers (threads, processes or MPI ranks)"',
             'set ylabel "efficiency (1 = every worker fully useful)"',
             "set key bottom left", "set grid", "set yrange [0:*]"]
    if kind == "io":
        lines.append("set logscale x 2")
    plots = ['1 title "ideal" with lines dashtype 2 lc "gray"']
    for index, model in enumerate(models):
        plots.append("'%s' index %d using 1:5 with linespoints lw 2 pt 7 lc rgb '%s' title '%s'"
                     % (data, index, colour(model), model))
    lines.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(lines) + "\n"


def draw(results_dir, summary, studies, usable, gnuplot="gnuplot"):
    """Write the PNGs (and scripts) under results_dir; return the dumb-terminal
    speedup plots as text, one per study at its largest size."""
    plots = Path(results_dir) / "plots"
    plots.mkdir(exist_ok=True)
    kind_of = {s.name: s.kind for s in studies}
    texts = {}
    for (study, n), models in sorted(plot_groups(summary).items()):
        kind = kind_of.get(study, "cpu")
        baseline = next((r["baseline"] for rows in models.values() for r in rows if r["baseline"] != "n/a"), "n/a")
        stem = "%s-n%d" % (study, n)
        data = plots / (stem + ".dat")
        write_data(data, models)
        png = 'set terminal pngcairo size %s enhanced font ",11"\nset output "%s"' % (PNG_SIZE, "%s")
        script = (speedup_plot(data.name, models, study, n, kind, usable, baseline,
                               png % ("speedup-" + stem + ".png"))
                  + "reset\n"
                  + efficiency_plot(data.name, models, study, n, kind, baseline,
                                    png % ("efficiency-" + stem + ".png")))
        (plots / (stem + ".gp")).write_text(script)
        subprocess.run([gnuplot, stem + ".gp"], cwd=plots, check=True, capture_output=True)
        dumb = speedup_plot(data.name, models, study, n, kind, usable, baseline,
                            "set terminal dumb size %s" % DUMB_SIZE)
        out = subprocess.run([gnuplot], input=dumb, cwd=plots, capture_output=True, text=True)
        texts[study] = out.stdout  # the largest size wins: sizes come in increasing order
    return texts
