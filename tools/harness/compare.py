#!/usr/bin/env python3
"""tools/harness/compare.py — two results folders side by side: how their machines differ, which times differ beyond noise.

Usage: tools/harness/compare.py FOLDER OTHER   (make compare WITH=OTHER [RESULTS=FOLDER])

FOLDER is the sweep being asked about (make compare: results/latest), OTHER
the one it is held against: a reference run (results/reference/<machine>/),
the same machine before a change, or another machine. Prints, as Markdown:
  - what differs besides the code's speed: CPU, usable cores, virtualization,
    kernel, compiler and build flags, the reference lanes' OpenBLAS core and
    GMP, the commit (-dirty too), the programs built from other code (an
    uncommitted edit), the preset and repeats, the load when each sweep began,
    and how many of its configurations each sweep itself warned were noisy;
  - for every configuration both ran (study, n, model, workers, link): both
    medians, their ratio, a verdict, and both self speedups (over the same
    model at one worker). The verdict is "faster" or "slower" only where the
    two 95% confidence intervals of the median do not overlap (each needs 6
    runs or more); with fewer runs it falls back on the ranges of the runs
    (min to max), and says so, where each has 3 runs or more (fewer cannot
    tell: one run's range is a point); otherwise "no clear difference". A
    configuration whose every run failed in one sweep (or both) is said so,
    not counted as one only the other sweep ran;
  - a count of each verdict, and of the configurations only one sweep ran.
A difference is a place to look, not a conclusion: read the first part
before trusting the second (a faster time on another CPU says nothing about
the code).
Exit status 0, or 2 for a folder that is not a results folder.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import stats  # noqa: E402
from harness.summary import not_a_sweep, read_meta, read_summary, series_name, sweep_in  # noqa: E402

USAGE_ERROR = 2
# The fields of meta.json's machine part, and of meta.json itself, that decide whether two sweeps'
# times can be held against each other, with how each is said.
MACHINE_FIELDS = [("cpu_model", "CPU"), ("usable_cores", "usable cores"), ("threads_per_core", "threads per core"),
                  ("virtualized", "virtualized"), ("governor", "frequency governor"), ("turbo", "turbo"),
                  ("kernel", "kernel"), ("compiler", "compiler"), ("build", "build flags"),
                  ("batch_job", "batch job")]
SWEEP_FIELDS = [("preset", "preset"), ("repeats", "timed runs per configuration")]
# The fewest runs each configuration needs for the runs' ranges (min to max) to decide, where either
# has no interval: two sweeps of one speed have their ranges apart by chance 2 a! b! / (a + b)! of the
# time (a and b runs): 1 in 10 at 3 runs each, 1 in 3 at 2, always at 1 (one run's range is a point).
RANGE_LEAST_RUNS = 3


def load(folder):
    """(summary rows, meta.json) of a results folder; exits with status 2 when it is not one."""
    path = sweep_in(folder)
    summary = path / "summary.csv"
    problem = not_a_sweep(path, ("summary.csv", "meta.json"))
    if problem:
        usage_error(problem)
    try:
        return read_summary(summary), read_meta(path)
    except (ValueError, KeyError) as e:  # FolderError is a ValueError
        usage_error("%s: cannot read its summary.csv or meta.json: %s" % (folder, e))


def usage_error(message):
    print("compare: %s" % message, file=sys.stderr)
    sys.exit(USAGE_ERROR)


def said(value):
    """A meta.json value as a short text."""
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return " ".join("%s=%s" % item for item in sorted(value.items()) if item[1]) or "none"
    return str(value)


def reference_core(machine):
    """The reference lanes as one text: OpenBLAS's core and who chose it, GMP's version."""
    lanes = machine.get("reference_lanes") or {}
    blas, gmp = lanes.get("matmul-blas") or {}, lanes.get("factorial-gmp") or {}
    parts = []
    if blas.get("blas_core"):
        parts.append("OpenBLAS core %s (%s)" % (blas["blas_core"], blas.get("blas_choice", "?")))
    if gmp.get("gmp_version"):
        parts.append("GMP %s" % gmp["gmp_version"])
    return ", ".join(parts) or "none recorded"


def commit_said(machine):
    """meta.json's git_commit, short: its first 12 digits, and -dirty where the tree had changes (a sweep
    before an edit and one after it, uncommitted, have the same commit but not the same code)."""
    commit = said(machine.get("git_commit"))
    return commit[:12] + ("-dirty" if commit.endswith("-dirty") and len(commit) > 12 + len("-dirty") else "")


def programs_differing(meta, other):
    """A row naming the programs both sweeps ran from other code (meta.json's programs: a digest of each
    program, and of a Python lane's source), which an edit left uncommitted hides from the commit; none
    where they agree or a sweep did not record them."""
    mine, theirs = meta.get("programs"), other.get("programs")
    if not isinstance(mine, dict) or not isinstance(theirs, dict):
        return []
    changed = sorted(name for name in mine if name in theirs and mine[name] != theirs[name])
    return [("programs built from other code", ", ".join(changed), "the same programs, other code")] if changed else []


def noisy_count(summary_rows):
    """How many configurations' runs (3 or more) varied by more than stats.NOISY_CV: the ones make bench
    warned of."""
    return sum(1 for r in summary_rows if r.get("cv") is not None and (r.get("runs") or 0) >= 3
               and r["cv"] > stats.NOISY_CV)


def differences(meta, other, summary_rows, other_rows):
    """(field, this sweep's value, the other's) for every field that differs."""
    machine, other_machine = meta.get("machine") or {}, other.get("machine") or {}
    rows = [(name, said(machine.get(key)), said(other_machine.get(key))) for key, name in MACHINE_FIELDS]
    rows.append(("reference lanes", reference_core(machine), reference_core(other_machine)))
    rows.append(("commit", commit_said(machine), commit_said(other_machine)))
    rows += programs_differing(meta, other)
    rows += [(name, said(meta.get(key)), said(other.get(key))) for key, name in SWEEP_FIELDS]
    load_said = [("%.2f" % m["load_before"][0]) if m.get("load_before") else "none" for m in (machine, other_machine)]
    rows.append(("load average at the start", load_said[0], load_said[1]))
    rows.append(("configurations that varied by more than %.0f%%" % (100 * stats.NOISY_CV),
                 str(noisy_count(summary_rows)), str(noisy_count(other_rows))))
    return [row for row in rows if row[1] != row[2]]


def interval(row):
    """(low, high, basis) of a configuration's median: its 95% confidence interval, or the range of its runs."""
    if row.get("ci_low") is not None and row.get("ci_high") is not None:
        return row["ci_low"], row["ci_high"], "ci"
    return row.get("min") or row["median"], row.get("max") or row["median"], "range"


def verdict(row, other):
    """faster, slower or no clear difference: row's median against other's, beyond both intervals."""
    low, high, basis = interval(row)
    other_low, other_high, other_basis = interval(other)
    weak = basis != "ci" or other_basis != "ci"
    runs = (int(row.get("runs") or 0), int(other.get("runs") or 0))
    if weak and min(runs) < RANGE_LEAST_RUNS:
        return "no clear difference (%d and %d runs: too few to tell)" % runs
    if high < other_low:
        word = "faster"
    elif low > other_high:
        word = "slower"
    else:
        return "no clear difference"
    return word + (" (runs' ranges apart; under 6 runs)" if weak else "")


def key_of(row):
    return (row["study"], row["n"], series_name(row), row["workers"])


def by_key(rows):
    """Every configuration a summary holds, by key_of; one whose every run failed has no median."""
    return {key_of(r): r for r in rows}


# The verdicts where a configuration both sweeps ran has no verified run in one of them, or in both.
FAILED = {(True, False): "every run failed here", (False, True): "every run failed in the other",
          (True, True): "every run failed in both"}


def number(value, digits=4):
    return "n/a" if value is None else "%.*g" % (digits, value)


def report(folder, other_folder, rows, meta, other_rows, other_meta):
    """The comparison as Markdown lines."""
    lines = ["# %s against %s" % (folder, other_folder), "",
             "## What differs besides the code's speed", ""]
    changed = differences(meta, other_meta, rows, other_rows)
    if changed:
        lines += ["| | %s | %s |" % (folder, other_folder), "|---|---|---|"]
        lines += ["| %s | %s | %s |" % row for row in changed]
    else:
        lines.append("Nothing recorded: the same CPU, cores, kernel, compiler, reference lanes, commit and settings.")
    mine, theirs = by_key(rows), by_key(other_rows)
    both = sorted(set(mine) & set(theirs))
    lines += ["", "## Configurations both ran: %s's median time against %s's" % (folder, other_folder), ""]
    if not both:
        lines.append("None: the two sweeps share no configuration (study, n, model, workers).")
    else:
        lines += ["| study | n | model | P | median s | other's median s | ratio | verdict | self speedup | other's |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
    counts = {}
    for key in both:
        row, other = mine[key], theirs[key]
        failed = (row.get("median") is None, other.get("median") is None)
        said_verdict = FAILED[failed] if any(failed) else verdict(row, other)
        counts[said_verdict.split(" (")[0]] = counts.get(said_verdict.split(" (")[0], 0) + 1
        ratio = "%.2f" % (row["median"] / other["median"]) if not any(failed) and other["median"] > 0 else "n/a"
        lines.append("| %s | %d | %s | %d | %s | %s | %s | %s | %s | %s |" % (
            key + (number(row["median"]), number(other["median"]), ratio, said_verdict,
                   number(row.get("speedup_self"), 3), number(other.get("speedup_self"), 3))))
    lines += ["", "ratio: this median / the other's (below 1: faster here); it compares the machines' speed. "
              "Self speedup (over the same model at one worker) compares how well each scales, a different "
              "question: hold it against the other's only up to the smaller machine's usable cores."]
    said_counts = ", ".join("%s in %d" % (word, counts[word]) for word in
                            ("faster", "slower", "no clear difference") + tuple(FAILED.values())
                            if word in counts) or "nothing to compare"
    lines += ["", "%s: %s; %d configurations only here, %d only in %s." % (
        folder, said_counts, len(set(mine) - set(theirs)), len(set(theirs) - set(mine)), other_folder)]
    return lines


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0].partition(" — ")[2])
    parser.add_argument("folder", help="the sweep asked about (make compare: results/latest)")
    parser.add_argument("other", help="the sweep it is held against")
    options = parser.parse_args()
    rows, meta = load(options.folder)
    other_rows, other_meta = load(options.other)
    text = "\n".join(report(options.folder, options.other, rows, meta, other_rows, other_meta))
    try:
        print(text, flush=True)
    except OSError as e:  # a full disk, a quota, a closed pipe or stdout (harness/__init__.py)
        print("compare: cannot write the comparison to stdout: %s" % e.strerror, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:   # Ctrl-C: a line, not a traceback, and a shell's exit status
        print("compare: interrupted (Ctrl-C)", file=sys.stderr)
        sys.exit(130)
