#!/usr/bin/env python3
"""tests/run_tests.py — run every test table (tests/test_*.py), each case in its own process.

Usage: tests/run_tests.py [--jobs J] [--table NAME] [--filter TEXT] [--list] [--slowest K]
  --jobs J       cases run J at a time (default: the usable cores plus one: many cases spend
                 much of their time waiting, on a server's latency or a cluster starting)
  --table NAME   only the table tests/test_NAME.py (e.g. matmul)
  --filter TEXT  only the cases whose name contains TEXT
  --list         print the case names and run nothing
  --slowest K    at the end, the K cases that took longest, and each table's total

A case that needs what is not here (a program not built, a command or
package not installed) is skipped, saying what (and counted as failed under
CI=true, where everything must build). Every 10 seconds a progress line says
how many cases are done and how many failed so far. The last line is "N passed, N failed";
the exit status is 1 if any case failed. Ctrl-C stops the run: no further case
starts, the running ones are killed, every table's teardown still runs (its
servers and clusters go down), and the exit status is 130. SIGTERM (kill, timeout(1),
a batch job's time limit) stops it the same way, with exit status 143. A case killed (Ctrl-C,
its time limit) takes with it what it started in sessions of its own; a case
that ends leaving processes in its group fails, and they are killed.

A table module defines cases(), returning its Case rows; it may also define
setup() (run before cases(), e.g. to start a server the cases talk to) and
teardown() (run after every case has finished, even after failures, and
after a setup() that Ctrl-C or SIGTERM cut short: it takes down what is there).

While cases run, Ctrl-C and SIGTERM are noted, not raised: the main thread
looks for the note between its waits (every LOOK_SECONDS). An exception
raised wherever the main thread stood could land between a lock's acquire
and the with-block that would release it (a threading.Condition's
__enter__, which Python runs: a future's, the pool's queue's), and a case's
thread would then wait on that lock for ever, and the run with it.

Started with SIGINT ignored (a shell's `make test &` without job control),
the programs under test would inherit that and could not be interrupted:
every Ctrl-C case would fail for the way the suite was started. So the
suite takes SIGINT back first, and the programs start with its default.

A run that seems stuck: `kill -USR1 PID` (the runner's) prints where each of
its threads is, on its stderr, and the run goes on.
"""
import signal
import sys

# The signals that stop a run, and how its last lines name them.
STOPPING = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


def stopped_starting(signo, frame):
    """Ctrl-C or SIGTERM while the runner loads its modules (a tenth of a second, before main() takes
    the signals over): nothing has started yet, so the run ends as an interrupted one does, without
    Python's traceback from wherever the import stood."""
    print("interrupted (%s) while the runner started; no case ran" % STOPPING[signo])
    print("0 passed, 0 failed", flush=True)
    sys.exit(128 + signo)


for signo in STOPPING:
    signal.signal(signo, stopped_starting)

import argparse  # noqa: E402
import concurrent.futures  # noqa: E402
import faulthandler  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from suite import mark_run, run_case, stop_marked_run, stop_running, usable_cores  # noqa: E402
from harness import runner  # noqa: E402  (suite puts tools/ on the path)

# Cases run at once beyond the usable cores: on 2 cores, the suite's cases kept them busy 79%
# of the time two at a time; three at a time, the longest first, took 534 s where two took 585 s
# (an AMD EPYC Zen 5 VM, 2 vCPUs).
JOBS_PAST_CORES = 1

# While cases run, a progress line at least this often.
PROGRESS_SECONDS = 10
# How often the main thread, waiting for a case, looks whether Ctrl-C or SIGTERM came (seconds).
LOOK_SECONDS = 0.1


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
        """A case ended (the pool calls this): count it, and its failure; one
        cancelled (Ctrl-C stopped the run before it began) did not end."""
        if future.cancelled():
            return
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
    """run_case, and the seconds it took. A case the runner itself breaks on (an
    exception) fails alone, saying so: it must not end the run before its summary line."""
    started = time.monotonic()
    try:
        ok, message = run_case(case)
    except Exception as e:
        ok, message = False, "the test runner broke on this case: %s: %s" % (type(e).__name__, e)
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


class Tally:
    """What the run came to: counts, each case's seconds, and the signal that cut it short
    (None, signal.SIGINT: Ctrl-C, or signal.SIGTERM)."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.total = 0
        self.durations = []
        self.interrupted = None
        self.started = time.monotonic()

    def note_stop(self, signum, frame):
        """Ctrl-C's and SIGTERM's handler while cases run and tables are torn down: the first
        signal is noted for the main thread to read between its waits, and none is raised (the
        docstring says why). A second one does not cut the way out short."""
        if self.interrupted is None:
            self.interrupted = signum

    def interrupted_by(self, stop):
        """Note the KeyboardInterrupt that came before any case ran (while the options were read, the tables
        loaded or set up): Ctrl-C's, or SIGTERM's Stopped."""
        if self.interrupted is None:
            self.interrupted = signal.SIGTERM if isinstance(stop, runner.Stopped) else signal.SIGINT


def run_tables(tables, options, ready, tally):
    """Set up each table (ready: those whose setup ran), then run every case,
    options.jobs at a time, into tally. Ctrl-C (or SIGTERM) stops the run: no
    further case starts, and the running ones are killed (stop_running)."""
    in_ci = os.environ.get("CI") == "true"
    cases = []
    for table, module in tables:
        if hasattr(module, "setup"):
            try:
                module.setup()
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM half-way: what it started goes down with the rest
                ready.append(module)
                raise
            except Exception as e:  # a broken fixture fails its table, not the run
                tally.failed += 1
                print("FAIL  [%s] setup: %s" % (table, e), flush=True)
                continue
        ready.append(module)
        cases += [(table, c) for c in module.cases() if options.filter in c.name]
    # The cases allowed longest (the lessons, the sweeps, the clusters) start first: a long case
    # started last would run on alone at the end, the other job idle, minutes of it in all.
    cases.sort(key=lambda table_case: -table_case[1].timeout)
    tally.total = len(cases)
    tally.started = time.monotonic()
    for signo in STOPPING:   # from here on noted, not raised (the docstring says why); main() keeps them so
        signal.signal(signo, tally.note_stop)
    print("running %d cases, %d at a time" % (len(cases), options.jobs), flush=True)
    progress = Progress(len(cases), in_ci)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        progress.start()
        try:
            futures = []
            for table, case in cases:
                if tally.interrupted:
                    break
                futures.append((table, case, pool.submit(timed_case, case)))
                futures[-1][2].add_done_callback(progress.count)
            for table, case, future in futures:
                outcome = wait_for(future, tally)
                if outcome is None:
                    break
                ok, message, seconds = outcome
                tally.durations.append((seconds, table, case.name))
                if ok is None and not in_ci:
                    tally.skipped += 1
                    print("SKIP  [%s] %s: %s" % (table, case.name, message), flush=True)
                elif ok:
                    tally.passed += 1
                else:
                    tally.failed += 1
                    print("FAIL  [%s] %s: %s" % (table, case.name, message), flush=True)
        finally:
            if tally.interrupted:
                pool.shutdown(wait=False, cancel_futures=True)
                stop_running()   # the pool's threads return as their cases' processes die
            progress.stop()


def wait_for(future, tally):
    """A case's (ok, message, seconds) once it has ended, or None once Ctrl-C or SIGTERM
    has stopped the run (looked for every LOOK_SECONDS)."""
    while not tally.interrupted:
        try:
            return future.result(timeout=LOOK_SECONDS)
        except concurrent.futures.TimeoutError:
            continue
    return None


def parse_options():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # -OO leaves no docstring
    parser.add_argument("--jobs", type=int, default=usable_cores() + JOBS_PAST_CORES)
    parser.add_argument("--table", default="")
    parser.add_argument("--filter", default="")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--slowest", type=int, default=0)
    return parser.parse_args()


def main():
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the docstring says why
    signal.signal(signal.SIGTERM, runner.stop_on_sigterm)  # as Ctrl-C, exit status 143
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # where a stuck run's threads are
    tally, ready, options = Tally(), [], None
    mark_run()
    try:
        options = parse_options()
        tables = load_tables(options.table)
        if options.list:
            for table, module in tables:
                for case in module.cases():
                    if options.filter in case.name:
                        print("%-10s %s" % (table, case.name))
            return 0
        run_tables(tables, options, ready, tally)
    except KeyboardInterrupt as e:   # before any case ran: while the tables were loaded or set up
        tally.interrupted_by(e)
    finally:   # the tables' servers and clusters go down, whatever happened, a second Ctrl-C noted only
        for signo in STOPPING:
            signal.signal(signo, tally.note_stop)
        for module in ready:
            if hasattr(module, "teardown"):
                try:
                    module.teardown()
                except Exception as e:  # a broken teardown fails its table; the others still run
                    tally.failed += 1
                    print("FAIL  [%s] teardown: %s: %s" % (module.__name__[len("test_"):], type(e).__name__, e),
                          flush=True)
        if tally.interrupted:  # and what a setup was starting as the signal came, which no teardown knows of
            stop_marked_run()
    if options and options.slowest and not tally.interrupted:
        print_slowest(tally.durations, options.slowest)
    if tally.skipped:
        print("%d skipped (what they need is not here: a program not built, a command or package not installed)"
              % tally.skipped)
    signo = tally.interrupted
    name = STOPPING.get(signo)
    if tally.interrupted and not tally.total:
        print("interrupted (%s) while the tables were loaded or set up; no case ran" % name)
    elif tally.interrupted:
        print("interrupted (%s) after %d of %d cases; the rest did not run" % (
            name, tally.passed + tally.failed + tally.skipped, tally.total))
    print("took %.0f s" % (time.monotonic() - tally.started))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    if tally.interrupted:
        return 128 + signo
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
