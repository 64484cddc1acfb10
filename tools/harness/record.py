"""tools/harness/record.py — a speed check's figures kept: what it printed, headed by the machine it ran on, under results/speed/.

make bench-matmul, bench-factorial, bench-download and bench-python print
their figures; run_recorded also writes everything they print on stdout to
results/speed/<check>-<date>T<time>-<host>.txt, headed by the command and
what decides whether two such files can be compared (CPU, usable cores,
virtualization, kernel, commit, OpenBLAS's core, the load average) and
ended by the load average at the end, and beside it a .json with
meta.json's whole machine part (results/README.md). A check that stops
early (an error, Ctrl-C, a fault of its own) keeps what it printed, and
says how it ended. Their counts and sizes are read with whole_number, so a
mistyped one is refused before anything is measured or recorded.
"""
import argparse
import contextlib
import datetime
import json
import os
import signal
import socket
import sys

from . import machine, runner
from .programs import ROOT

SPEED_FOLDER = ROOT / "results" / "speed"
TIME_STAMP = "%Y-%m-%dT%H%M%S"
# What a speed check says of the programs it needs that are not built: make has run (make bench-*
# runs it first), so running it again would build nothing; make config names what each lacks.
NOT_BUILT = "make built every program it could; make config says what the others need, and what to install"


def whole_number(least):
    """An argparse type for a speed check's counts and sizes (--rounds, --reps,
    -n, ...): a whole number of at least `least`, else a usage error naming
    the value (exit 2)."""
    def whole(text):
        if not (text.isascii() and text.isdigit()) or int(text) < least:
            raise argparse.ArgumentTypeError("%r should be a whole number, at least %d" % (text, least))
        return int(text)
    return whole


class Both:
    """A stream that writes to the terminal and to a file; once the file will not
    take more (a full disk, a quota), to the terminal alone (refused: the reason)."""

    def __init__(self, terminal, file):
        self.terminal, self.file = terminal, file
        self.wrote = False  # whether the check printed anything at all
        self.refused = None

    def write(self, text):
        self.wrote = self.wrote or bool(text)
        self.to_file(self.file.write, text)
        return self.terminal.write(text)

    def flush(self):
        self.to_file(self.file.flush)
        self.terminal.flush()

    def to_file(self, call, *args):
        if self.refused is None:
            try:
                call(*args)
            except OSError as e:
                self.refused = e.strerror or str(e)


class Closing:
    """A record file whose close() fails quietly: what it could not write is said already (Both)."""

    def __init__(self, file):
        self.file = file

    def close(self):
        try:
            self.file.close()
        except OSError:
            pass


def header(check, argv, info):
    """The lines that head a record: the command, then what decides whether two records compare."""
    blas = (info.get("reference_lanes") or {}).get("matmul-blas") or {}
    return ["# make %s (%s), %s, host %s" % (check, " ".join(argv), datetime.datetime.now().isoformat(
                timespec="seconds"), info["host"]),
            "# CPU: %s, %d usable cores (threads per core: %s), virtualized: %s, kernel %s" % (
                info["cpu_model"], info["usable_cores"], info["threads_per_core"], info["virtualized"],
                info["kernel"]),
            "# commit %s; OpenBLAS core %s (%s); load average %.2f at the start" % (
                info["git_commit"], blas.get("blas_core", "unknown"), blas.get("blas_choice", "unknown"),
                info["load_before"][0]),
            ""]


def run_recorded(check, main):
    """main()'s exit status, with its stdout also written to a record under
    results/speed/ (named on stderr at the end), however it ends; a check
    that ends before it prints anything (a program not built) leaves none.
    Ctrl-C ends it with a line saying so and exit status 130; SIGTERM the
    same way, exit status 143."""
    info = machine.describe()
    SPEED_FOLDER.mkdir(parents=True, exist_ok=True)
    name = "%s-%s-%s" % (check, datetime.datetime.now().strftime(TIME_STAMP), socket.gethostname())
    taken = 1
    while (SPEED_FOLDER / (name + ".txt")).exists():  # another record of this check in the same second
        taken += 1
        name = name.rsplit("+", 1)[0] + "+%d" % taken
    text, machine_json = SPEED_FOLDER / (name + ".txt"), SPEED_FOLDER / (name + ".json")
    ending = "finished"
    try:
        machine_json.write_text(json.dumps(info, indent=1) + "\n")
        record = open(text, "w")
    except OSError as e:  # a full disk, a quota: the check runs, unrecorded
        print("%s: cannot keep a record in %s (%s); the figures go to the terminal alone" % (
            check, os.path.relpath(SPEED_FOLDER), e.strerror or e), file=sys.stderr)
        machine_json.unlink(missing_ok=True)
        return main()
    with contextlib.closing(Closing(record)):
        terminal = sys.stdout
        sys.stdout = both = Both(terminal, record)
        both.to_file(record.write, "\n".join(header(check, [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:],
                                                     info)) + "\n")
        before = signal.signal(signal.SIGTERM, runner.stop_on_sigterm)
        try:
            return main()
        except SystemExit as e:
            if isinstance(e.code, str):
                ending = "ended: %s" % e.code
            elif e.code:
                ending = "ended with exit status %s" % e.code
            raise
        except KeyboardInterrupt as e:   # said in a line, not a traceback; exit status 130 or 143, as a shell's
            stopped = isinstance(e, runner.Stopped)
            ending = "stopped (SIGTERM)" if stopped else "interrupted (Ctrl-C)"
            print("%s: %s" % (check, ending), file=sys.stderr)
            return 128 + (signal.SIGTERM if stopped else signal.SIGINT)
        except Exception as e:  # a fault of the check itself: its traceback follows on stderr
            ending = "failed: %s: %s" % (type(e).__name__, e)
            raise
        finally:
            signal.signal(signal.SIGTERM, before)
            sys.stdout = terminal
            both.to_file(record.write, "\n# %s, %s, load average %.2f\n" % (
                ending, datetime.datetime.now().isoformat(timespec="seconds"), os.getloadavg()[0]))
            both.to_file(record.flush)
            if both.refused is not None:  # a record cut short would pass for a whole one: none
                print("%s: cannot keep the record in %s (%s); the figures above are all there is" % (
                    check, os.path.relpath(text), both.refused), file=sys.stderr)
                text.unlink(missing_ok=True)
                machine_json.unlink(missing_ok=True)
            elif both.wrote:
                print("%s: recorded in %s (the machine in %s)" % (
                    check, os.path.relpath(text), os.path.relpath(machine_json)), file=sys.stderr)
            else:
                text.unlink()
                machine_json.unlink()
