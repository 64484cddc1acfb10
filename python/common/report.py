"""python/common/report.py — messages on stderr, named after the program, and the exit codes they lead to.

As in common/report.c: a usage error is a message naming the bad argument
and exit status 2; a runtime failure exit status 1; success 0. Python
programs print no traceback for either: main() in run.py turns these
exceptions into a message and an exit status.
"""
import errno
import importlib
import os
import sys

EXIT_OK = 0       # ran, and every result verified (or was not checked)
EXIT_FAILED = 1   # a runtime failure (a package that is there but fails to load, too), or a wrong result
EXIT_USAGE = 2    # a bad command line, or a package the program needs is missing

# Where a worker started as a new interpreter (loky's, spawn's, forkserver's,
# Dask's, IPython Parallel's engines) finds the program's name: the
# environment it inherits (set_program), since none of the program's memory.
PROGRAM_VARIABLE = "SUITE_PROGRAM"

_program = [os.environ.get(PROGRAM_VARIABLE) or "program"]
_rank = [None]  # under MPI with more than one rank: this rank's number, which error() names


class UsageError(Exception):
    """A bad command line: its message names the argument; exit status 2."""


class MissingPackage(UsageError):
    """A Python package the program needs is not installed: exit status 2, one line naming the Debian package."""


class Failure(Exception):
    """A runtime failure (a worker died, a write failed): exit status 1, the message says what and why."""


class WrongResult(Failure):
    """A result did not verify: exit status 1; the reason was already printed."""


def set_program(name):
    """Name every later message after this program, e.g. "matmul-py-threading",
    its workers' too, however they are started."""
    _program[0] = name
    os.environ[PROGRAM_VARIABLE] = name


def program():
    """The name messages carry."""
    return _program[0]


def set_rank(rank):
    """Name the MPI rank in every later message ("program (rank 1): ..."), as common/report.c
    does when there is more than one; None names none."""
    _rank[0] = rank


class ClosedStdout:
    """stdout for a program started with descriptor 1 closed (>&-), where
    Python has none at all (sys.stdout is None): a write fails as a write to
    a closed descriptor does in C, so write_stdout says so; there is never
    anything to flush."""

    def write(self, text):
        raise OSError(errno.EBADF, "Bad file descriptor")

    def flush(self):
        pass

    def isatty(self):
        return False


def write_stdout(text, what):
    """text on stdout, flushed at once; Failure (exit 1) naming what could
    not be written and why (a full disk, a closed pipe, a closed stdout)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as e:
        raise Failure("cannot write %s to stdout: %s" % (what, e.strerror)) from None


def size_said(size):
    """bytes as a message says them, in the largest binary unit that keeps
    the figure at 1 or more: "296.0 KiB", "1.5 GiB", "512 B" (common/report.c's report_size)."""
    if size < 1024:
        return "%.0f B" % size
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            return "%.1f %s" % (size, unit)


def error(message):
    """Print "program: message" (under MPI "program (rank R): message") on stderr, at once."""
    if sys.stderr is None:  # started with stderr closed, before run.keep_standard_streams: lost, as in C
        return
    where = _program[0] if _rank[0] is None else "%s (rank %d)" % (_program[0], _rank[0])
    print("%s: %s" % (where, message), file=sys.stderr, flush=True)


# Where Debian's python3-* packages go: only Debian's own interpreter (/usr/bin/python3) looks there.
DEBIAN_PACKAGES = "/usr/lib/python3/dist-packages"


def require(module, package, needed_by):
    """Import module, or stop with exit status 2 naming the Debian package that brings it.

    A folder of this suite with the same name (python/numba/ when Numba is
    missing) would import as an empty namespace package: that counts as missing.

    A module that is there but fails to load with another exception (a shared
    library that cannot be mapped under a memory limit, a broken install: an
    OSError, a RuntimeError, ...) is a runtime failure, exit status 1, in one
    line: installing the package would not help, so it is no usage error.
    """
    try:
        imported = importlib.import_module(module)
    except ImportError as e:
        raise MissingPackage("%s needs the Python module '%s' (%s): %s"
                             % (needed_by, module, e, how_to_install(module, package))) from None
    except Exception as e:  # whatever its import raised; its words, on one line
        raise Failure("%s needs the Python module '%s' (%s), which is installed but failed to load: %s: %s"
                      % (needed_by, module, package, type(e).__name__, " ".join(str(e).split()))) from None
    if getattr(imported, "__file__", None) is None:
        raise MissingPackage("%s needs the Python module '%s': %s"
                             % (needed_by, module, how_to_install(module, package)))
    return imported


def how_to_install(module, package):
    """Where a missing module comes from: Debian's package, for Debian's interpreter;
    for another (pyenv's, a virtual environment's), which sees none of Debian's
    packages, that interpreter's pip too, or the bin/ program, which runs the
    interpreter the build found with the packages."""
    if DEBIAN_PACKAGES in sys.path:
        return "install it with 'apt-get install %s' (Debian)" % package
    return ("this interpreter (%s) does not see Debian's packages: install it for this one with "
            "'%s -m pip install %s', or use Debian's /usr/bin/python3 after 'apt-get install %s' "
            "(the programs in bin/ run the interpreter the build found)"
            % (sys.executable, sys.executable, module.split(".")[0], package))
