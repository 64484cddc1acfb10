"""tools/harness — the benchmark harness behind `make bench` (entry point: tools/bench.py).

Every tool that imports it (make bench, plot, compare, doctor, the speed
checks, the test runner) starts with descriptors 0, 1 and 2 open: where
one was closed (`2>&-`), /dev/null takes its place, as in every program of
the suite (python/common/run.py's keep_standard_streams, used here).
Without it the first file the tool opened took the number, what a
program it started wrote on stderr went into that file, and Python's
print(..., file=sys.stderr) wrote on stdout: a sweep's progress among
its plots.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # python/, where common/ is
from common import run  # noqa: E402

run.keep_standard_streams()
