"""tools/harness — the benchmark harness behind `make bench` (entry point: tools/bench.py).

Every tool that imports it (make bench, plot, compare, doctor, the speed
checks, the test runner) starts with descriptors 0, 1 and 2 open: where
one was closed (`2>&-`), /dev/null takes its place, as in every program of
the suite (python/common/run.py's keep_standard_streams, used here).
Without it the first file the tool opened took the number, what a
program it started wrote on stderr went into that file, and Python's
print(..., file=sys.stderr) wrote on stdout: a sweep's progress among
its plots.

python/common sets, as it loads, what the Python lane's programs and their
workers run with (OPENBLAS_NUM_THREADS, SETUPTOOLS_USE_DISTUTILS: see its
__init__.py). The tools load it too, but what they start (every program of
every lane, C's and Python's, each run by a test) must get the environment
the user gave: it is put back as it was.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # python/, where common/ is
environment_given = dict(os.environ)
from common import run  # noqa: E402
os.environ.clear()
os.environ.update(environment_given)

run.keep_standard_streams()
