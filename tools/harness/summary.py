"""tools/harness/summary.py — runs.csv in, summary.csv out: one row per configuration.

Speedups compare medians (never averages of ratios). The baseline is the
best serial code measured at the same size: the fastest median among the
study's baseline models (e.g. serial and OpenBLAS) at one worker, named in
the `baseline` column. A Python lane's baseline is the best serial code in
either language (the C ones, or py-serial), and `baseline_lane` says which
language it is; a C model's is chosen among the C ones alone, as always.
Failed, timed-out and unverified runs stay in runs.csv but count toward
nothing here except `failed`.

A configuration is also its link (make bench CLUSTER=N): the same MPI
program on this machine alone ("") and across a cluster's hosts ("unshaped",
"1gbit", ...) are different configurations, plotted and tabled as different
series (series_name); every run's baseline is the serial code on this
machine, and a cluster's own speedup is against the same model's one rank
on this machine when the cluster did not run one rank itself.
"""
import csv
import io
import json
import os
from pathlib import Path

from . import clusters, programs, stats

# The Python lane's serial code: a Python lane's baseline may be it, when it beats every C one.
PYTHON_SERIAL = "py-serial"

# runs.csv's columns, in order (documented in results/README.md).
RUN_COLUMNS = ["timestamp", "study", "workload", "model", "n", "workers", "round", "warmup",
               "seconds", "setup", "comm", "compute", "combine", "wall", "user", "sys",
               "max_rss_kb", "exit", "verified", "oversubscribed", "figures", "link"]

# summary.csv's columns, in order (documented in results/README.md).
SUMMARY_COLUMNS = ["study", "workload", "model", "n", "workers", "oversubscribed", "runs", "failed",
                   "median", "ci_low", "ci_high", "min", "max", "iqr", "cv",
                   "setup", "comm", "compute", "combine", "wall", "user", "sys",
                   "baseline", "baseline_median", "speedup", "speedup_self", "efficiency",
                   "efficiency_self", "karp_flatt", "amdahl_serial_fraction", "figure", "figure_median",
                   "baseline_lane", "startup", "link", "hosts"]


def sweep_in(folder):
    """The sweep folder names: itself, or its latest where it is no sweep's but holds
    the sweeps make bench RESULTS=folder put there (their folders and latest)."""
    path = Path(folder)
    if path.is_dir() and not (path / "meta.json").exists() and (path / "latest" / "meta.json").is_file():
        return path / "latest"
    return path


def not_a_sweep(folder, files):
    """Why folder is not a results folder holding every one of files (a line
    for the user: make plot needs runs.csv, make compare summary.csv, both
    meta.json), or None when it is one."""
    path = Path(folder)
    if not path.is_dir():
        return "%s: no such folder" % folder
    missing = [name for name in files if not (path / name).is_file()]
    if missing == ["summary.csv"] and interrupted(path):   # a sweep writes it when it ends, and this one did not
        return ("%s is a sweep that was interrupted before its summary: make bench RESUME=1 finishes it, make plot "
                "RESULTS=%s summarises the runs it has (RESUME=1 goes on with the latest sweep)" % (folder, folder))
    if missing:
        return "%s is not a results folder: it has no %s (make bench writes one)" % (folder, " or ".join(missing))
    return None


def interrupted(path):
    """Whether the sweep in path was cut short (Ctrl-C, scancel, a time limit): meta.json says when."""
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and bool(meta.get("interrupted")) and (path / "runs.csv").is_file()


class FolderError(ValueError):
    """A file of a results folder that does not read as make bench writes it
    (cut short by a killed sweep or a full disk, edited, or not a sweep's)."""


def read_meta(folder, needed=()):
    """A results folder's meta.json as a dict; FolderError when it is not a
    JSON object, lacks a key of needed, or its machine or selection is not an object."""
    path = Path(folder) / "meta.json"
    try:
        meta = json.loads(path.read_text())
    except OSError as e:
        raise FolderError("cannot read %s: %s" % (path, e.strerror or e)) from None
    except ValueError as e:  # not JSON (cut short?), or not text at all
        raise FolderError("%s is not a sweep's record: %s" % (path, e)) from None
    if not isinstance(meta, dict):
        raise FolderError("%s is not a sweep's record (a JSON object)" % path)
    missing = [key for key in needed if key not in meta]
    if missing:
        raise FolderError("%s has no %s: make bench did not write it, or not all of it" % (path, ", ".join(missing)))
    for key in ("machine", "selection"):
        if key in meta and not isinstance(meta[key], dict):
            raise FolderError("%s: its %s is not a JSON object" % (path, key))
    return meta


def csv_rows(path):
    """The rows of a results CSV as dicts; FolderError for a row with more or
    fewer fields than the header (a line cut short, or edited)."""
    rows = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            if None in row or None in row.values():  # DictReader: extra fields under None, missing ones None
                given = sum(value is not None for key, value in row.items() if key is not None) \
                    + len(row.get(None, []))
                raise FolderError("%s line %d has %d fields where its header has %d: cut short (a sweep killed "
                                  "while writing it?) or edited" % (path, reader.line_num, given,
                                                                    len(reader.fieldnames)))
            rows.append(row)
    return rows


def read_runs(path):
    """runs.csv as a list of dicts (empty if it does not exist yet); a runs.csv written
    before the link column existed reads as runs on this machine alone. FolderError (csv_rows)."""
    try:
        rows = csv_rows(path)
    except FileNotFoundError:
        return []
    for row in rows:
        row.setdefault("link", clusters.LOCAL)
    return rows


def run_columns(path):
    """The columns of an existing runs.csv, in its order (new rows must follow its header)."""
    with open(path, newline="") as f:
        return next(csv.reader(f), None) or RUN_COLUMNS


def series_name(row):
    """What plots and tables call a row's line: its model, and on a cluster the link too
    ("mpi, cluster 1gbit")."""
    link = row.get("link") or clusters.LOCAL
    return row["model"] if link == clusters.LOCAL else "%s, %s" % (row["model"], clusters.link_said(link))


def series_model(name):
    """The model of a series name ("mpi, cluster 1gbit" -> "mpi")."""
    return name.split(", ", 1)[0]


def series_link(name):
    """The link of a series name ("mpi, cluster 1gbit" -> "1gbit"; "mpi" -> "", this machine alone)."""
    said = name.split(", ", 1)[1] if ", " in name else ""
    return said[len(clusters.LINK_SAID):] if said.startswith(clusters.LINK_SAID) else clusters.LOCAL


def good(row):
    """A timed run that finished and verified (or skipped the check on purpose)."""
    return row["warmup"] == "0" and row["exit"] == "0" and row["verified"] in ("yes", "skipped")


def figure_text(row, name):
    """A workload figure (e.g. blas_core) from a run's figures column, as text, or None."""
    for token in row.get("figures", "").split():
        key, _, value = token.partition("=")
        if key == name:
            return value
    return None


def figure_value(row, name):
    """A workload figure (e.g. gflops) from a run's figures column, or None."""
    try:
        return float(figure_text(row, name))
    except (TypeError, ValueError):
        return None


def fmt(value, digits=6):
    """A number for the CSV, or n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return "%.*g" % (digits, value)
    return str(value)


def summarize(runs, studies):
    """summary.csv's rows, ordered by study, size, model and workers."""
    figure_of = {s.name: s.figure for s in studies}
    baselines_of = {s.name: s.baselines for s in studies}
    local = clusters.LOCAL
    groups = {}
    for row in runs:
        if row["warmup"] != "0":
            continue
        key = (row["study"], row["workload"], row["model"], row.get("link") or local, int(row["n"]),
               int(row["workers"]))
        groups.setdefault(key, []).append(row)

    medians = {}
    for key, rows in groups.items():
        times = [float(r["seconds"]) for r in rows if good(r)]
        if times:
            medians[key] = stats.median(times)

    out = []
    for key in sorted(groups, key=lambda k: (k[0], k[4], k[2], clusters.link_order(k[3]), k[5])):
        study, workload, model, link, n, workers = key
        rows = groups[key]
        ok = [r for r in rows if good(r)]
        summary = {"study": study, "workload": workload, "model": model, "link": link, "n": n, "workers": workers,
                   "oversubscribed": rows[0]["oversubscribed"], "runs": len(ok), "failed": len(rows) - len(ok)}
        hosts = [figure_text(r, "hosts") for r in ok if figure_text(r, "hosts")]
        summary["hosts"] = max(set(hosts), key=hosts.count) if hosts else None
        # the best serial code at this size on this machine (a Python lane's: in either language)
        models = baselines_of.get(study, ("serial",))
        if programs.is_python(model):
            models = tuple(models) + (PYTHON_SERIAL,)
        candidates = [(medians[(study, workload, m, local, n, 1)], m) for m in models
                      if (study, workload, m, local, n, 1) in medians]
        baseline_median, baseline = min(candidates) if candidates else (None, None)
        summary["baseline"] = "%s-%s (P=1)" % (workload, baseline) if baseline else "n/a"
        summary["baseline_median"] = baseline_median
        summary["baseline_lane"] = ("Python" if programs.is_python(baseline) else "C") if baseline else "n/a"
        if ok:
            times = [float(r["seconds"]) for r in ok]
            median = medians[key]
            ci = stats.median_ci(times)
            summary.update({
                "median": median, "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                # one run has no spread to measure: n/a, not 0 (which says the runs agree)
                "min": min(times), "max": max(times), "iqr": stats.iqr(times) if len(times) > 1 else None,
                "cv": stats.coefficient_of_variation(times) if len(times) > 1 else None,
            })
            for phase in ("setup", "comm", "compute", "combine", "wall", "user", "sys"):
                summary[phase] = stats.median([float(r[phase]) for r in ok if r[phase] not in ("", "n/a")] or [0.0])
            # one rank of its own, or where a cluster ran none, the same model's one rank on this machine
            own_one = medians.get((study, workload, model, link, n, 1)) or medians.get((study, workload, model, local, n, 1))
            # a median of 0 s (a run inside one tick of a coarse clock; make bench warns of those) has no ratio
            speedup = baseline_median / median if baseline_median and median > 0 else None
            speedup_self = own_one / median if own_one and median > 0 else None
            summary.update({
                "speedup": speedup, "speedup_self": speedup_self,
                "efficiency": speedup / workers if speedup else None,
                "efficiency_self": speedup_self / workers if speedup_self else None,
                "karp_flatt": stats.karp_flatt(speedup_self, workers) if speedup_self else None,
            })
            startups = [v for v in (figure_value(r, "startup") for r in ok) if v is not None]
            summary["startup"] = stats.median(startups) if startups else None
            figure = figure_of.get(study)
            values = [v for v in (figure_value(r, figure) for r in ok) if v is not None] if figure else []
            summary["figure"] = figure or ""
            summary["figure_median"] = stats.median(values) if values else None
        out.append(summary)

    # Amdahl's serial fraction, fitted per model and size to its self-relative speedups
    for row in out:
        points = [(r["workers"], r["speedup_self"]) for r in out
                  if (r["study"], r["model"], r["link"], r["n"]) == (row["study"], row["model"], row["link"], row["n"])
                  and r.get("speedup_self") and r["oversubscribed"] == "no"]
        row["amdahl_serial_fraction"] = stats.fit_amdahl(points)
    return out


def write_whole(path, text):
    """path holding text, whole or not at all: written aside, then renamed over the old
    one, so that a sweep or make plot stopped while writing (Ctrl-C, SIGTERM, SIGKILL)
    leaves the last complete file, never one cut short that make compare would read."""
    path = Path(path)
    fresh = path.with_name(".%s.%d" % (path.name, os.getpid()))
    try:
        fresh.write_text(text)
        os.replace(fresh, path)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise


def write_summary(path, rows):
    """summary.csv, n/a for what could not be computed (whole or not at all: write_whole)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        writer.writerow([fmt(row.get(column)) for column in SUMMARY_COLUMNS])
    write_whole(path, text.getvalue())


def read_summary(path):
    """summary.csv as dicts with numbers where there are numbers."""
    rows = csv_rows(path)
    for row in rows:
        for key, value in row.items():
            if key in ("study", "workload", "model", "link", "hosts", "baseline", "oversubscribed", "figure",
                       "baseline_lane"):
                continue
            try:
                row[key] = float(value) if value != "n/a" else None
            except ValueError:
                pass
        try:
            row["n"], row["workers"] = int(row["n"]), int(row["workers"])
        except (KeyError, TypeError, ValueError):
            raise FolderError("%s: a row without a whole n and workers (%s, %s)" % (
                path, row.get("n"), row.get("workers"))) from None
        row.setdefault("link", clusters.LOCAL)  # a summary.csv from before the link column
    return rows
