"""tests/test_harness.py — the benchmark harness: statistics, the shared layer, a tiny sweep, failures, resuming."""
import sys

from suite import ROOT, Case, program

CHECKS = ROOT / "tests" / "harness_checks.py"


def cases():
    """Each check of tests/harness_checks.py, in its own process."""
    needs = [program("matmul-serial"), program("matmul-threads")]
    return [
        Case("harness statistics: median, CI ranks, Karp-Flatt, Amdahl fit against known values",
             [sys.executable, CHECKS, "stats"]),
        Case("harness summary: speedup against the best serial code, failures kept out",
             [sys.executable, CHECKS, "summary"]),
        Case("harness programs.py: names (the Python lane's too), launch lines, result lines, discovery",
             [sys.executable, CHECKS, "programs"]),
        Case("harness programs.py: the file server fixture serves content.py's files; a non-server is refused",
             [sys.executable, CHECKS, "fileserver"], needs=[program("fileserver")]),
        Case("harness tiny sweep: configurations x repeats rows, summary, meta, PNGs",
             [sys.executable, CHECKS, "sweep"], needs=needs, timeout=300),
        Case("harness records a failing variant instead of dropping it",
             [sys.executable, CHECKS, "failing"], needs=needs, timeout=300),
        Case("harness resumes an interrupted sweep without duplicate or lost rows",
             [sys.executable, CHECKS, "resume"], needs=needs, timeout=300),
    ]
