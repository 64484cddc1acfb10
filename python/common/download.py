"""python/common/download.py — download's workload: its flags, the packages, one run's records and the shared queue.

The I/O-bound workload, with common/download.c's rules, through requests
(python3-requests): every model fetches the same list with the same function,
download_fetch.fetch: one file into NAME.part, checked (its size, and the
server's CRC-32C when it sends one), renamed to NAME only then; transient
failures retried with capped, jittered exponential backoff that honours
Retry-After; permanent ones not. So a difference in speed between models is
the model's doing.

The URLs come from -i FILE or from --server HOST:PORT --files N --size BYTES
(bin/fileserver's made-up files, content.py, which the check regenerates and
compares byte for byte).

download's common code, one concern to a file, as common/download*.c:
  download.py        the workload: flags, packages, parse, records, the problem and its queue, prepare
  download_list.py   the URL list (-i FILE, or --server) and the output directory (-o)
  download_fetch.py  one file fetched: the session, the file in hand, the retry policy; pool tasks and jobs
  download_check.py  the task around each run (reset, check, --inject-error, figures), and its end
"""
import os
import threading

from . import cli, content, download_list, report, run

# Files, transfers at once, bytes per file (common/download.c's).
DEFAULT_FILES = 64
MAX_WORKERS = 256
DEFAULT_SIZE = 256 << 10
MAX_SIZE = 1 << 40
# Bytes handed over from the socket at a time (the fetch's, and each worker's buffers in bytes_needed).
RECEIVE_CHUNK = 64 << 10
# What a file's record says became of it.
PENDING, DONE, FAILED = "pending", "done", "failed"

DOWNLOAD_FLAGS = (
    cli.Flag("--files", "N", "count", "n", "number of files, another name for -n (with --server; default 64)"),
    cli.Flag("--server", "HOST:PORT", "text", "server", "fetch N made-up files from bin/fileserver there"),
    cli.Flag("--size", "BYTES", "bytes", "size", "bytes of each file with --server (K, M, G suffixes; default 256K)",
             1, MAX_SIZE),
    cli.Flag("-i", "FILE", "text", "input_file",
             "fetch the http(s) URLs listed in FILE, one per line (# comments), instead"),
    cli.Flag("-o", "DIR", "text", "output_dir", "where the files go, created if missing; each run first removes "
             "files of the list's names there (default: the current directory)"),
)


def bytes_needed(options):
    """The list and the records, and every worker's connection buffers."""
    return options.n * 1024 + options.workers * 4 * RECEIVE_CHUNK


WORKLOAD = cli.Workload("download", "Download many files over HTTP (I/O-bound: the workers wait, they do not "
                        "compute)", "number of files (with -i: the list's length)", 1, download_list.MAX_FILES,
                        DEFAULT_FILES, MAX_WORKERS, DOWNLOAD_FLAGS, bytes_needed)

requests = urllib3 = None  # the modules, once parse has found them (download_fetch.py uses them)


# ---- the command line, and the packages the fetch needs ----


def parse(argv, model, policy, model_flags=(), defaults=None, load=None):
    """The command line, checked, and the packages the fetch needs: load()'s
    (load_packages's by default; python/asyncio/ fetches with aiohttp instead)."""
    options = cli.parse(argv, WORKLOAD, model, policy, model_flags,
                        dict({"server": None, "size": DEFAULT_SIZE, "input_file": None, "output_dir": "."},
                             **(defaults or {})))
    cli.check_memory(options)
    (load or load_packages)()
    options.startup = run.startup_seconds()
    return options


def load_packages():
    """requests, urllib3 and crcmod, or exit status 2 naming the missing one's Debian package."""
    global requests, urllib3
    requests = report.require("requests", "python3-requests", "download")
    urllib3 = report.require("urllib3", "python3-urllib3", "download")
    content.crc32c(b"")  # loads crcmod now
    content.receive_crc32c(b"")  # and the C one (build/libcontent.so), outside the timed region


# ---- one run: the files' records, the problem, the shared queue ----

class Record:
    """What became of one file: its state, the delivered bytes, the retries, the CRC-32C the server announced;
    and cpu: (user, system) CPU seconds the worker process that fetched it had used by then, when that
    process is not a child of the program (a forkserver's), whose time no wait() brings back (fetch_task)."""

    __slots__ = ("state", "bytes", "retries", "checksum", "cpu")

    def __init__(self, state=PENDING, size=0, retries=0, checksum=None, cpu=None):
        self.state, self.bytes, self.retries, self.checksum, self.cpu = state, size, retries, checksum, cpu

    def __reduce__(self):  # travels back from a pool worker as a plain tuple
        return (Record, (self.state, self.bytes, self.retries, self.checksum, self.cpu))


class Problem:
    """One run's worth of downloading and what it needs (common/download.h's struct download)."""

    def __init__(self, options, urls, names, generated):
        self.options, self.urls, self.names, self.generated = options, urls, names, generated
        self.count, self.size, self.workers, self.seed = len(urls), options.size, options.workers, options.seed
        self.dir = options.output_dir
        self.records = [Record() for _ in urls]
        self.spans = []
        self.next_index, self.queue_lock = 0, threading.Lock()
        self.cpu_at_reset, self.cpu = (0.0, 0.0), (0.0, 0.0)
        self.program_pid = os.getpid()  # a worker whose parent this is not reports its own CPU time
        self.others_cpu = {}  # such workers' CPU seconds (user, system) so far, by worker
        self.failed_total = 0

    def __getstate__(self):  # a pool that spawns its workers pickles the problem: a lock does not travel
        state = dict(self.__dict__)
        state.pop("queue_lock")
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.queue_lock = threading.Lock()

    def next_file(self):
        """The shared queue: the next file nobody has taken yet, or None when none is left (download_next)."""
        with self.queue_lock:
            index, self.next_index = self.next_index, self.next_index + 1
        return index if index < self.count else None


# ---- prepare, and the records a pool or jobs send back ----

def prepare(options):
    """The URL list, the files' names and the output directory, outside any timed region."""
    urls, names = download_list.make(options)
    download_list.open_output(options, names)
    return Problem(options, urls, names, generated=not options.input_file)


def store(problem, results):
    """The records a pool or jobs sent back, into problem.records."""
    results = list(results)  # all in: the workers are done
    # An executor's thread shares problem with this one: its fetch has recorded the span already.
    recorded = {id(span) for span in problem.spans}
    for index, record, span in results:
        problem.records[index] = record
        if record.cpu is not None:  # the worker's time so far: its last file's figure is its whole run's
            problem.others_cpu[span.worker] = max(problem.others_cpu.get(span.worker, (0.0, 0.0)), record.cpu)
        if id(span) not in recorded:
            problem.spans.append(span)
