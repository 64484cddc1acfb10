"""python/common/cli.py — the command line every Python program shares: the flags, their limits, --help.

The same contract as common/cli.c (results/README.md): the same flags (-n,
-p, --seed, --warmup, -r, --no-verify, --inject-error, --help, --describe)
plus the workload's own and the model's own, the same ranges, the same
forms (-n 512, -n512, --seed=7, byte counts with K, M, G) and the same
messages for a bad command line: exit status 2, the argument named, no
traceback. The option values land on one Options object.
"""
import os
import re
import resource
import sys
from pathlib import Path

from . import report, run

# Defaults and upper limits of the shared flags (common/cli.c's).
DEFAULT_SEED = 42
DEFAULT_WARMUP = 1
DEFAULT_REPS = 1
MAX_WARMUP = 1000
MAX_REPS = 100000
MAX_SEED = 2 ** 64 - 1
# What a whole number must look like: ASCII digits only (no sign, space, fraction or exponent).
DIGITS = re.compile(r"[0-9]+")
# Byte-count suffixes, and the power of 1024 each means.
BYTE_SUFFIXES = {"K": 1, "M": 2, "G": 3}
# -p's policies: the serial model takes only -p 1.
ONE_WORKER, MANY_WORKERS = "one", "many"
# Which cgroups this process is in ("0::PATH" for v2, "N:memory:PATH" for v1), and where each hierarchy is mounted.
PROC_CGROUP, PROC_MOUNTINFO = "/proc/self/cgroup", "/proc/self/mountinfo"
# The file that holds a cgroup's memory limit: cgroup v2, cgroup v1.
CGROUP_LIMIT_FILES = {"v2": "memory.max", "v1": "memory.limit_in_bytes"}


class Flag:
    """One flag: how it is written, what it sets, and its line in --help.

    kind: "switch" (sets field to True, or False for --no-...), "count" (a whole
    number in [low, high]), "choice" (one word of choices), "bytes" (a count
    with an optional K, M or G suffix), "text" (any non-empty text). A choice's
    metavar names the words the program takes (--help, and the refusal of any
    other); choices may hold more, which the program then refuses itself,
    saying why (a pool's --schedule cyclic).
    """

    def __init__(self, name, metavar, kind, field, help, low=0, high=0, choices=()):
        self.name, self.metavar, self.kind, self.field, self.help = name, metavar, kind, field, help
        self.low, self.high, self.choices = low, high, tuple(choices)


SHARED_FLAGS = (
    Flag("-n", "N", "count", "n", "problem size"),
    Flag("-p", "P", "count", "workers", "workers: threads or processes (default 1)"),
    Flag("--seed", "S", "count", "seed", "seed of the generated inputs (default 42)", 0, MAX_SEED),
    Flag("--warmup", "W", "count", "warmup", "untimed runs before the timed ones (default 1)", 0, MAX_WARMUP),
    Flag("-r", "R", "count", "reps", "timed repetitions, one result line each (default 1)", 1, MAX_REPS),
    Flag("--no-verify", None, "switch", "verify", "skip checking the result (verified=skipped)"),
    Flag("--inject-error", None, "switch", "inject_error",
         "corrupt the result before checking it, to prove the check fails (exit 1)"),
    Flag("--help", None, "switch", "help", "print this help and exit"),
    Flag("--describe", None, "switch", "describe",
         "print what this program is and takes, as key=value pairs, and exit (for the harness)"),
)


class Workload:
    """The workload's part of the command line (common/cli.h's struct workload)."""

    def __init__(self, name, summary, n_meaning, n_min, n_max, n_default, max_workers, flags, bytes_needed):
        self.name, self.summary, self.n_meaning = name, summary, n_meaning
        self.n_min, self.n_max, self.n_default, self.max_workers = n_min, n_max, n_default, max_workers
        self.flags = tuple(flags)
        self.bytes_needed = bytes_needed  # bytes_needed(options): memory a run will hold


class Options:
    """The parsed command line; each flag's field, and given_<field> for the ones typed."""

    def __init__(self, workload, model, defaults):
        self.workload, self.model = workload, model
        self.n, self.workers, self.seed = workload.n_default, 1, DEFAULT_SEED
        self.warmup, self.reps, self.verify, self.inject_error = DEFAULT_WARMUP, DEFAULT_REPS, True, False
        self.help = self.describe = False
        self.given = set()
        self.startup = 0.0       # seconds from the process's start until its imports were done (run.py)
        self.model_figures = []  # the model's own key=value pairs on every result line (api=, ...)
        for key, value in defaults.items():
            setattr(self, key, value)


def program_name(path):
    """bin/<workload>-py-<model>'s name, from python/<model>/<workload>.py."""
    return "%s-py-%s" % (os.path.splitext(os.path.basename(path))[0], os.path.basename(os.path.dirname(
        os.path.abspath(path))))


def parse_count(text, low, high):
    """text as a whole number in [low, high], or None."""
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_bytes(text, low, high):
    """"256", "256K", "4M" or "1G" as bytes in [low, high], or None."""
    shift = BYTE_SUFFIXES.get(text[-1:], 0) * 10
    units = parse_count(text[:-1] if shift else text, 0, 2 ** 64 - 1)
    if units is None:
        return None
    value = units << shift
    return value if low <= value <= high else None


def count_range(flag, options, policy):
    """The range a count flag takes: -n's and -p's come from the workload and the model."""
    if flag.field == "n":
        return options.workload.n_min, options.workload.n_max
    if flag.field == "workers":
        return 1, 1 if policy == ONE_WORKER else options.workload.max_workers
    return flag.low, flag.high


def take_value(options, flag, text, policy):
    """Parse one flag's value text into options, or raise UsageError naming it."""
    if flag.kind == "text":
        if text == "":
            raise report.UsageError("%s needs a value (%s), not an empty one" % (flag.name, flag.metavar))
        value = text
    elif flag.kind == "choice":
        if text not in flag.choices:
            raise report.UsageError("%s: '%s' is not one of %s" % (flag.name, text, flag.metavar))
        value = text
    elif flag.kind == "bytes":
        value = parse_bytes(text, flag.low, flag.high)
        if value is None:
            raise report.UsageError("%s: '%s' is not a byte count from %d to %d (K, M, G suffixes allowed)"
                                    % (flag.name, text, flag.low, flag.high))
    else:
        low, high = count_range(flag, options, policy)
        value = parse_count(text, low, high)
        if value is None:
            if flag.field == "workers" and policy == ONE_WORKER and parse_count(text, 2, 2 ** 64) is not None:
                raise report.UsageError("-p %s: the %s model runs exactly one worker (-p 1); the parallel "
                                        "models take more" % (text, options.model))
            raise report.UsageError("%s: '%s' is not a whole number from %d to %d" % (flag.name, text, low, high))
    setattr(options, flag.field, value)
    options.given.add(flag.field)


def find_flag(tables, name):
    """The flag called name in any of the tables, or None."""
    for table in tables:
        for flag in table:
            if flag.name == name:
                return flag
    return None


def parse(argv, workload, model, policy, model_flags=(), defaults=None):
    """The command line argv[1:] as Options; raises UsageError for a bad one.

    --help and --describe print and exit 0 here. model_flags are the model's
    own (multiprocessing's --api); defaults sets the fields they fill.
    """
    report.set_program(program_name(argv[0]))
    options = Options(workload, model, defaults or {})
    tables = (SHARED_FLAGS, workload.flags, model_flags)
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        name, equals, attached = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        flag = find_flag(tables, name)
        if flag is None and len(arg) > 2 and arg[0] == "-" and arg[1] != "-":
            flag = find_flag(tables, arg[:2])  # "-n17": a one-letter flag with its value attached
            if flag is not None and flag.kind != "switch":
                take_value(options, flag, arg[2:], policy)
                continue
            flag = None
        if flag is None:
            if arg.startswith("-"):
                raise report.UsageError("unknown flag '%s'" % arg)
            raise report.UsageError("unexpected argument '%s' (every value follows its flag)" % arg)
        if flag.kind == "switch":
            if equals:
                raise report.UsageError("%s takes no value" % flag.name)
            setattr(options, flag.field, not flag.name.startswith("--no-"))
            if flag.field == "help":
                print_help(options, policy, model_flags)
                raise SystemExit(report.EXIT_OK)
            if flag.field == "describe":
                print_description(options, policy)
                raise SystemExit(report.EXIT_OK)
            continue
        if equals:
            value = attached
        elif args:
            value = args.pop(0)
        else:
            raise report.UsageError("%s needs a value (%s)" % (flag.name, flag.metavar))
        take_value(options, flag, value, policy)
    return options


def check_memory(options, needed=None, what=None):
    """Refuse a size the machine cannot hold, before any work starts: needed bytes (the
    workload's bytes_needed), for what the message begins with ("-n 5000:").

    An MPI rank (options.memory_checks, a list, given as a default by python/mpi4py/) only
    notes the check: its host may have less memory than the others', and a rank that left
    alone before MPI started could not say why (only rank 0 speaks then). mpi.start makes
    the checks once the ranks can agree, and the first one short of memory says so
    (common/cli.c's cli_check_memory)."""
    needed = options.workload.bytes_needed(options) if needed is None else needed
    what = "-n %d:" % options.n if what is None else what
    if getattr(options, "memory_checks", None) is not None:
        options.memory_checks.append((needed, what))
    else:
        refuse_if_short(needed, what)


def refuse_if_short(needed, what, rank=0):
    """UsageError where needed bytes are more than this process may use (memory_total);
    rank: the MPI rank that says so, named where it is not rank 0."""
    have = memory_total()
    if needed <= have:
        return
    where = "this machine has" if rank == 0 else "rank %d may use, on host %s" % (rank, os.uname().nodename)
    raise report.UsageError("%s needs about %s of memory, more than the %s %s" % (
        what, report.size_said(needed), report.size_said(have), where))


def memory_total():
    """Bytes this process may use: the RAM, or less under a cgroup limit or ulimit -v (common/memory.c's)."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for hierarchy in CGROUP_LIMIT_FILES:
        total = min([total] + cgroup_limits(hierarchy))
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit != resource.RLIM_INFINITY:
        total = min(total, limit)
    return total


def cgroup_limits(hierarchy):
    """The memory limits on this process's cgroup and every one above it, up to the top of the mount, in the
    v2 hierarchy or v1's memory one (common/memory.c's cgroup_limit): a limit holds every cgroup below it, and
    on a host this process's cgroup is a folder below the mount (a login node's user slice under systemd's
    MemoryMax=), not the mount's top, which only a container's own cgroup namespace shows it as."""
    try:
        with open(PROC_CGROUP) as f:
            lines = [line.rstrip("\n").split(":", 2) for line in f]
        with open(PROC_MOUNTINFO) as f:
            mounts = [line.split() for line in f]
    except OSError:
        return []
    cgroups = []
    for fields in lines:
        if len(fields) == 3:
            number, controllers, path = fields
            if ((number == "0" and not controllers) if hierarchy == "v2"
                    else "memory" in controllers.split(",")):
                cgroups.append(path)
    for fields in mounts:
        after = fields[fields.index("-") + 1:] if "-" in fields[6:] else []
        if len(after) < 3 or not (after[0] == "cgroup2" if hierarchy == "v2"
                                  else after[0] == "cgroup" and "memory" in after[2].split(",")):
            continue
        if not cgroups:
            return []
        root, top, cgroup = fields[3], fields[4], cgroups[0]
        below = ("" if "/.." in cgroup else cgroup if root == "/" else
                 cgroup[len(root):] if cgroup == root or cgroup.startswith(root + "/") else "")
        limits, folder = [], Path(top + below.rstrip("/"))
        for place in [folder] + [p for p in folder.parents if len(str(p)) >= len(top)]:
            try:
                text = (place / CGROUP_LIMIT_FILES[hierarchy]).read_text().strip()
            except OSError:
                continue
            if text.isdigit():
                limits.append(int(text))
        return limits
    return []


def flag_help(flag):
    """One line of --help."""
    left = flag.name + (" " + flag.metavar if flag.metavar else "")
    return "  %-20s %s\n" % (left, flag.help)


def print_help(options, policy, model_flags):
    """The usage text, from the same tables the parser reads."""
    w = options.workload
    report.write_stdout(
        "usage: %s [flags]\n%s, %s model (Python).\n\n" % (report.program(), w.summary, options.model)
        + "  -n N is the %s (%d to %d, default %d); -p P is %s.\n\n" % (
            w.n_meaning, w.n_min, w.n_max, w.n_default,
            "always 1 here" if policy == ONE_WORKER else "1 to %d" % w.max_workers)
        + "".join(flag_help(flag) for flag in SHARED_FLAGS + w.flags + tuple(model_flags))
        + "\nOutput: one line of key=value pairs on stdout per timed run; messages on stderr.\n"
          "Exit status: 0 success, 1 runtime failure or wrong result, 2 bad command line or a missing package.\n"
          "The full contract: results/README.md.\n", "the help")


def print_description(options, policy):
    """One key=value line saying what this program is and takes (the C programs' keys, and the interpreter)."""
    w = options.workload
    report.write_stdout(
        "workload=%s model=%s n_min=%d n_max=%d n_default=%d max_workers=%d clock_tick=%.3g "
        "language=python interpreter=%s python_version=%s\n" % (
            w.name, options.model, w.n_min, w.n_max, w.n_default, 1 if policy == ONE_WORKER else w.max_workers,
            run.clock_tick(), sys.executable, sys.version.split()[0]), "the description")
