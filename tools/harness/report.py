"""tools/harness/report.py — report.md: the plots, the warnings and the summary table, in one page."""
from pathlib import Path

from .machine import page_faults_said
from .programs import is_python
from .studies import PYTHON_CHUNK
from .summary import series_name, write_whole

# summary.csv columns the report's table shows, with their headings.
TABLE = [("model", "model"), ("workers", "P"), ("runs", "runs"), ("median", "median s"),
         ("ci", "95% CI of median"), ("iqr", "IQR s"), ("speedup", "speedup"),
         ("speedup_self", "self speedup"), ("efficiency", "efficiency"), ("karp_flatt", "Karp–Flatt e")]
# The Python lane's tables add its start-up (interpreter and imports, outside the timed region).
PYTHON_TABLE = TABLE + [("startup", "start-up s")]
# After a sweep across clusters, the tables say on how many hosts the ranks ran, and where the time went.
CLUSTER_COLUMNS = [("hosts", "hosts"), ("comm", "comm s"), ("compute", "compute s")]


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
        return series_name(row) + (" ⚠ oversubscribed" if row["oversubscribed"] == "yes" else "")
    if key == "hosts":
        return row.get("hosts") or "n/a"
    if key == "startup":
        return number(row.get(key), 2)
    if key in ("workers", "runs"):
        return "%d" % row[key] + (" (%d failed)" % row["failed"] if key == "runs" and row.get("failed") else "")
    return number(row.get(key), 4 if key == "median" else 3)


def write(results_dir, meta, summary, pngs, dumb_plots, not_drawn=()):
    """results_dir/report.md (not_drawn: why plots are missing, each a sentence, said under Plots)."""
    machine = meta["machine"]
    lines = ["# Benchmark report: %s" % Path(results_dir).name, "",
             "Preset `%s`, %d repeats per configuration (plus a warm-up run, excluded), shuffled with seed %s."
             % (meta["preset"], meta["repeats"], meta["seed"]), "",
             "Machine: %s, %s, %d usable cores of %d (threads per core: %d), governor %s, turbo %s, "
             "virtualized: %s. Commit %s." % (machine["host"], machine["cpu_model"], machine["usable_cores"],
                                              machine["total_cpus"], machine["threads_per_core"],
                                              machine["governor"], machine["turbo"], machine["virtualized"],
                                              machine["git_commit"]), ""]
    if not meta.get("finished"):  # make plot of a sweep stopped part of the way, or still running
        lines[4:4] = [unfinished(meta, summary), ""]
    if machine.get("batch_job"):  # the job, to look up with the scheduler (sacct -j ID), and where it ran
        nodes = machine.get("environment", {}).get("SLURM_JOB_NODELIST")
        lines[-1:] = ["Run as batch job %s%s." % (machine["batch_job"], " on %s" % nodes if nodes else ""), ""]
    lanes = machine.get("reference_lanes", {})
    if lanes:
        blas, gmp = lanes.get("matmul-blas", {}), lanes.get("factorial-gmp", {})
        said = []
        if blas:
            said.append("OpenBLAS core %s (%s)" % (blas.get("blas_core"), blas.get("blas_choice")))
        if gmp:
            said.append("GMP %s" % gmp.get("gmp_version"))
        lines += ["Reference lanes: %s." % ", ".join(said), ""]
    faults = page_faults_said(machine.get("page_faults") or {})  # none in a sweep from before build/faults
    if faults:
        lines += ["Page faults: %s (%s)." % faults, ""]
    if meta.get("warnings"):
        lines += ["## Warnings", ""] + ["- " + w for w in meta["warnings"]] + [""]
    lines += ["## Plots", ""]
    lines += ["- Not drawn: %s." % reason for reason in not_drawn] + ([""] if not_drawn else [])
    for png in pngs:
        lines += ["![%s](%s)" % (png, png), ""]
    if any(is_python(row["model"]) for row in summary):
        lines += python_lane(meta)
    if meta.get("cluster"):
        lines += cluster(meta["cluster"])
    lines += ["## Summary", "",
              "Times are medians of the verified runs; speedup is against the baseline named per table "
              "(the fastest serial code at that size), self speedup against the same model at one worker; "
              "efficiency = speedup / workers. Every column is described in results/README.md.", ""]
    tables = {}
    for row in summary:
        tables.setdefault((row["study"], row["n"], is_python(row["model"])), []).append(row)
    for (study, n, python), rows in sorted(tables.items()):
        baseline = next((r["baseline"] for r in rows if r["baseline"] != "n/a"), "n/a")
        columns = PYTHON_TABLE if python else TABLE
        if meta.get("cluster"):
            columns = columns[:2] + CLUSTER_COLUMNS[:1] + columns[2:5] + CLUSTER_COLUMNS[1:] + columns[5:]
        if python:
            language = next((r["baseline_lane"] for r in rows if r["baseline"] != "n/a"), "")
            heading = "### %s, n = %d, the Python lanes (baseline: %s%s)" % (
                study, n, baseline, ", %s code" % language if language else "")
        else:
            heading = "### %s, n = %d (baseline: %s)" % (study, n, baseline)
        lines += [heading, "", "| " + " | ".join(h for _, h in columns) + " |", "|" + "---|" * len(columns)]
        for row in rows:
            lines.append("| " + " | ".join(cell(row, key) for key, _ in columns) + " |")
        lines.append("")
    if dumb_plots:
        lines += ["## Terminal plots", ""]
        for study, text in dumb_plots.items():
            lines += ["```", text.rstrip(), "```", ""]
    write_whole(Path(results_dir) / "report.md", "\n".join(lines))


def unfinished(meta, summary):
    """The report's line on a sweep with no end recorded: stopped before it (Ctrl-C, a batch job's time
    limit: meta.json's interrupted), killed without a word (SIGKILL, a node lost), or still running. How
    much of it ran, since its configurations may have fewer runs than the repeats, or none."""
    recorded = sum(int(row.get("runs") or 0) + int(row.get("failed") or 0) for row in summary)
    planned = (meta.get("configurations") or 0) * meta["repeats"]
    when = ("**Interrupted** at %s, before the sweep finished" % str(meta["interrupted"])[:19]
            if meta.get("interrupted") else "**Unfinished**: no end of this sweep is recorded (it is still "
            "running, or was killed without a chance to say so)")
    return ("%s: %d of its %s timed runs are recorded, so a configuration may have fewer runs than %d, or "
            "none (`make bench RESUME=1` goes on with it)." % (when, recorded, planned or "?", meta["repeats"]))


def python_lane(meta):
    """report.md's section on the Python lane: its interpreter and packages,
    the BLAS NumPy runs, and the sizes each lane ran where they differ."""
    lane = meta["machine"].get("python_lane", {})
    lines = ["## The Python lane", ""]
    if lane.get("error"):
        lines += ["Interpreter: %s (%s)." % (lane.get("interpreter"), lane["error"]), ""]
    elif lane:
        packages = lane.get("packages", {})
        lines += ["Interpreter: %s, Python %s. Packages: %s." % (
            lane.get("interpreter"), lane.get("version"),
            ", ".join("%s %s" % (name, version or "(missing)") for name, version in packages.items())), ""]
        blas, run = lane.get("numpy_blas") or {}, lane.get("blas_run") or {}
        if blas:
            lines += ["NumPy's BLAS: %s %s, core %s as loaded%s%s." % (
                blas.get("internal_api"), blas.get("version"), blas.get("architecture"),
                " (below what this CPU supports)" if blas.get("core_fits") == "no" else "",
                "; the lane's matmul runs core %s (%s)" % (run["blas_core"], run.get("blas_choice"))
                if run.get("blas_core") else ""), ""]
    lines += ["Each Python lane's speedup is against the best serial code of either language at its size "
              "(the table's heading says which, and its language), its self speedup against itself at one "
              "worker; start-up (the interpreter and its imports) is outside the timed region. Each model "
              "runs its defaults (e.g. `--api map`, the NumPy kernel), but for factorial-many's tasks: %d "
              "numbers to a task (`--chunk %d`), as `Pool.map` would chunk them itself." % (
                  PYTHON_CHUNK, PYTHON_CHUNK), ""]
    differing = []
    for study, lanes in sorted(meta.get("sizes", {}).items()):
        if lanes.get("Python") and lanes.get("C") and lanes["Python"] != lanes["C"]:
            differing.append("- %s: the Python lanes ran n = %s, the C lanes n = %s (the C serial code and "
                             "threads also ran the Python lanes' n, to compare with)" % (
                                 study, ", ".join(map(str, lanes["Python"])), ", ".join(map(str, lanes["C"]))))
    if differing:
        lines += ["Sizes that differ between the lanes (pure-Python factorial is ten times or more slower "
                  "than C's; tools/harness/studies.py):", ""] + differing + [""]
    return lines


def cluster(said):
    """report.md's section on the clusters the MPI lanes ran across (meta.json's cluster)."""
    lines = ["## The clusters", "",
             "The MPI lanes ran on this machine alone (model name only) and across %d hosts of a cluster on "
             "this machine (`tools/cluster`, %s), one cluster per link rate: %s. Each host is a network "
             "namespace with its own link to a switch; ranks on one host talk through shared memory, ranks on "
             "different hosts through TCP over the links. The hosts share this machine's cores, so a cluster's "
             "figures show what crossing a network costs next to shared memory, not what a real network "
             "would measure. Transports: %s." % (
                 said.get("hosts"), {"root": "ip netns", "userns": "user namespaces"}.get(said.get("mode"), "?"),
                 ", ".join(said.get("rates", [])), said.get("transports") or "n/a"), ""]
    for rate, link in said.get("links", {}).items():
        lines.append("- %s: %d ranks placed %s (`--map-by %s`)" % (
            rate, link.get("explain_ranks", 0), link.get("placement"), link.get("map_by")))
    return lines + [""]
