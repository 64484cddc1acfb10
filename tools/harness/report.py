"""tools/harness/report.py — report.md: the plots, the warnings and the summary table, in one page."""
from pathlib import Path

# summary.csv columns the report's table shows, with their headings.
TABLE = [("model", "model"), ("workers", "P"), ("runs", "runs"), ("median", "median s"),
         ("ci", "95% CI of median"), ("iqr", "IQR s"), ("speedup", "speedup"),
         ("speedup_self", "self speedup"), ("efficiency", "efficiency"), ("karp_flatt", "Karp–Flatt e")]


def number(value, digits=3):
    """A table cell: a number to `digits` significant figures, or n/a."""
    if value is None or value == "":
        return "n/a"
    return "%.*g" % (digits, value)


def cell(row, key):
    """One cell of the summary table."""
    if key == "ci":
        if row.get("ci_low") is None:
            return "n/a (< 6 runs)"
        return "%s – %s" % (number(row["ci_low"], 4), number(row["ci_high"], 4))
    if key in ("model",):
        return row[key] + (" ⚠ oversubscribed" if row["oversubscribed"] == "yes" else "")
    if key in ("workers", "runs"):
        return "%d" % row[key] + (" (%d failed)" % row["failed"] if key == "runs" and row.get("failed") else "")
    return number(row.get(key), 4 if key == "median" else 3)


def write(results_dir, meta, summary, pngs, dumb_plots):
    """results_dir/report.md."""
    machine = meta["machine"]
    lines = ["# Benchmark report: %s" % Path(results_dir).name, "",
             "Preset `%s`, %d repeats per configuration (plus a warm-up run, excluded), shuffled with seed %s."
             % (meta["preset"], meta["repeats"], meta["seed"]), "",
             "Machine: %s, %s, %d usable cores of %d (threads per core: %d), governor %s, turbo %s, "
             "virtualized: %s. Commit %s." % (machine["host"], machine["cpu_model"], machine["usable_cores"],
                                              machine["total_cpus"], machine["threads_per_core"],
                                              machine["governor"], machine["turbo"], machine["virtualized"],
                                              machine["git_commit"]), ""]
    lanes = machine.get("reference_lanes", {})
    if lanes:
        blas, gmp = lanes.get("matmul-blas", {}), lanes.get("factorial-gmp", {})
        said = []
        if blas:
            said.append("OpenBLAS core %s (%s)" % (blas.get("blas_core"), blas.get("blas_choice")))
        if gmp:
            said.append("GMP %s" % gmp.get("gmp_version"))
        lines += ["Reference lanes: %s." % ", ".join(said), ""]
    if meta.get("warnings"):
        lines += ["## Warnings", ""] + ["- " + w for w in meta["warnings"]] + [""]
    lines += ["## Plots", ""]
    for png in pngs:
        lines += ["![%s](%s)" % (png, png), ""]
    lines += ["## Summary", "",
              "Times are medians of the verified runs; speedup is against the baseline named per table "
              "(the fastest serial code at that size), self speedup against the same model at one worker; "
              "efficiency = speedup / workers. Every column is described in results/README.md.", ""]
    tables = {}
    for row in summary:
        tables.setdefault((row["study"], row["n"]), []).append(row)
    for (study, n), rows in sorted(tables.items()):
        baseline = next((r["baseline"] for r in rows if r["baseline"] != "n/a"), "n/a")
        lines += ["### %s, n = %d (baseline: %s)" % (study, n, baseline), "",
                  "| " + " | ".join(h for _, h in TABLE) + " |",
                  "|" + "---|" * len(TABLE)]
        for row in rows:
            lines.append("| " + " | ".join(cell(row, key) for key, _ in TABLE) + " |")
        lines.append("")
    if dumb_plots:
        lines += ["## Terminal plots", ""]
        for study, text in dumb_plots.items():
            lines += ["```", text.rstrip(), "```", ""]
    (Path(results_dir) / "report.md").write_text("\n".join(lines))
