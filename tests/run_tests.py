#!/usr/bin/env python3
"""tests/run_tests.py — run every test table (tests/test_*.py), each case in its own process.

Usage: tests/run_tests.py [--jobs J] [--table NAME] [--filter TEXT] [--list] [--slowest K]
  --jobs J       cases run J at a time (default: the usable cores)
  --table NAME   only the table tests/test_NAME.py (e.g. matmul)
  --filter TEXT  only the cases whose name contains TEXT
  --list         print the case names and run nothing
  --slowest K    at the end, the K cases that took longest, and each table's total

A case whose program was not built is skipped (and counted as failed under
CI=true, where everything must build). Every 10 seconds a progress line says
how many cases are done and how many failed so far. The last line is "N passed, N failed";
the exit status is 1 if any case failed.

A table module defines cases(), returning its Case rows; it may also define
setup() (run before cases(), e.g. to start a server the cases talk to) and
teardown() (run after every case has finished, even after failures).

Started with SIGINT ignored (a shell's `make test &` without job control),
the programs under test would inherit that and could not be interrupted:
every Ctrl-C case would fail for the way the suite was started. So the
suite takes SIGINT back first, and the programs start with its default.
"""
import argparse
import concurrent.futures
import importlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from suite import run_case, usable_cores  # noqa: E402

# While cases run, a progress line at least this often.
PROGRESS_SECONDS = 10


class Progress:
    """A line every PROGRESS_SECONDS while cases run: how many are done, how many failed."""

    def __init__(self, total, in_ci):
        self.total = total
        self.in_ci = in_ci
        self.done = self.failed = 0
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self.report, daemon=True)

    def count(self, future):
        """A case ended (the pool calls this): count it, and its failure."""
        ok = future.result()[0] if not future.exception() else False
        with self.lock:
            self.done += 1
            self.failed += int(ok is False or (ok is None and self.in_ci))

    def start(self):
        self.thread.start()

    def stop(self):
        self.finished.set()
        self.thread.join()

    def report(self):
        while not self.finished.wait(PROGRESS_SECONDS):
            with self.lock:
                done, failed = self.done, self.failed
            print("... %d of %d cases done, %d failed so far (%.0f s)" % (
                done, self.total, failed, time.monotonic() - self.started), flush=True)


def timed_case(case):
    """run_case, and the seconds it took."""
    started = time.monotonic()
    ok, message = run_case(case)
    return ok, message, time.monotonic() - started


def print_slowest(durations, count):
    """The count slowest cases, then the seconds each table's cases took together."""
    print("the %d slowest cases:" % min(count, len(durations)))
    for seconds, table, name in sorted(durations, reverse=True)[:count]:
        print("  %7.1f s  [%s] %s" % (seconds, table, name))
    totals = {}
    for seconds, table, _ in durations:
        totals[table] = totals.get(table, 0.0) + seconds
    print("seconds per table (cases added up): " + ", ".join(
        "%s %.0f" % (table, seconds) for table, seconds in sorted(totals.items(), key=lambda t: -t[1])))


def load_tables(only=""):
    """(table name, module) for every tests/test_*.py (or just test_<only>.py), in file order."""
    paths = sorted(HERE.glob("test_%s.py" % (only or "*")))
    return [(path.stem[len("test_"):], importlib.import_module(path.stem)) for path in paths]


def main():
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the docstring says why
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=usable_cores())
    parser.add_argument("--table", default="")
    parser.add_argument("--filter", default="")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--slowest", type=int, default=0)
    options = parser.parse_args()

    tables = load_tables(options.table)
    in_ci = os.environ.get("CI") == "true"
    passed = failed = skipped = 0
    cases, started_tables = [], []
    for table, module in tables:
        if not options.list and hasattr(module, "setup"):
            try:
                module.setup()
            except Exception as e:  # a broken fixture fails its table, not the run
                failed += 1
                print("FAIL  [%s] setup: %s" % (table, e), flush=True)
                continue
        started_tables.append(module)
        cases += [(table, c) for c in module.cases() if options.filter in c.name]
    if options.list:
        for table, case in cases:
            print("%-10s %s" % (table, case.name))
        return 0

    started = time.monotonic()
    print("running %d cases, %d at a time" % (len(cases), options.jobs), flush=True)
    progress = Progress(len(cases), in_ci)
    durations = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = [(table, case, pool.submit(timed_case, case)) for table, case in cases]
        for _, _, future in futures:
            future.add_done_callback(progress.count)
        progress.start()
        for table, case, future in futures:
            ok, message, seconds = future.result()
            durations.append((seconds, table, case.name))
            if ok is None and not in_ci:
                skipped += 1
                print("SKIP  [%s] %s: %s" % (table, case.name, message), flush=True)
            elif ok:
                passed += 1
            else:
                failed += 1
                print("FAIL  [%s] %s: %s" % (table, case.name, message), flush=True)
    progress.stop()
    for module in started_tables:
        if hasattr(module, "teardown"):
            module.teardown()
    if options.slowest:
        print_slowest(durations, options.slowest)
    if skipped:
        print("%d skipped (not built on this machine)" % skipped)
    print("took %.0f s" % (time.monotonic() - started))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
