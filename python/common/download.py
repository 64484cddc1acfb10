"""python/common/download.py — fetch many files over HTTP: the list, the one fetch every model calls, the check.

The I/O-bound workload, with common/download.c's rules, through requests
(python3-requests): every model fetches the same list with the same function,
fetch: one file into NAME.part, checked (its size, and the server's CRC-32C
when it sends one), renamed to NAME only then; transient failures (408, 429,
5xx, a connection cut short or reset, a timeout, a body whose size or
CRC-32C is wrong) retried with capped, jittered exponential backoff that
honours Retry-After; permanent ones (other statuses, no server listening, a
bad URL, a local write error) not. A transfer cut short resumes with a Range
request. So a difference in speed between models is the model's doing.

The URLs come from -i FILE or from --server HOST:PORT --files N --size BYTES
(bin/fileserver's made-up files, content.py, which the check regenerates and
compares byte for byte).
"""
import email.utils
import os
import re
import resource
import shutil
import threading
import time
import urllib.parse

from . import cli, content, mix, pools, report, run

# Files, transfers at once, bytes per file (common/download.c's).
DEFAULT_FILES = 64
MAX_FILES = 100000
MAX_WORKERS = 256
DEFAULT_SIZE = 256 << 10
MAX_SIZE = 1 << 40
# The name a downloading file has until it is checked; the longest NAME that leaves room for it.
PART_SUFFIX = ".part"
MAX_NAME = 255 - len(PART_SUFFIX)
# Retries: attempts per file, waits from BACKOFF_FIRST doubling to BACKOFF_CAP
# (half of each random), never shorter than Retry-After, a Retry-After above
# MAX_RETRY_AFTER given up on, and no retry later than GIVE_UP_AFTER after the first attempt.
MAX_ATTEMPTS = 10
GIVE_UP_AFTER = 120.0
BACKOFF_FIRST = 0.1
BACKOFF_CAP = 5.0
MAX_RETRY_AFTER = 30
# No transfer hangs: connecting may take CONNECT_TIMEOUT s, and no data for STALL_SECONDS is a timeout.
CONNECT_TIMEOUT = 10
STALL_SECONDS = 30
MAX_REDIRECTS = 5
# Bytes handed over from the socket at a time, and read back at a time by the check.
RECEIVE_CHUNK = 64 << 10
CHECK_CHUNK = 256 << 10
# HTTP statuses the fetch tells apart.
HTTP_OK, HTTP_PARTIAL, HTTP_RANGE_NOT_SATISFIABLE = 200, 206, 416
RETRIED_STATUSES = {408, 429} | set(range(500, 600))
# Content-Range: bytes FIRST-LAST/TOTAL (TOTAL may be *).
CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
# What a file's record says became of it.
PENDING, DONE, FAILED = "pending", "done", "failed"

DOWNLOAD_FLAGS = (
    cli.Flag("--files", "N", "count", "n", "number of files, another name for -n (with --server; default 64)"),
    cli.Flag("--server", "HOST:PORT", "text", "server", "fetch N made-up files from bin/fileserver there"),
    cli.Flag("--size", "BYTES", "bytes", "size", "bytes of each file with --server (K, M, G suffixes; default 256K)",
             1, MAX_SIZE),
    cli.Flag("-i", "FILE", "text", "input_file",
             "fetch the http(s) URLs listed in FILE, one per line (# comments), instead"),
    cli.Flag("-o", "DIR", "text", "output_dir", "where the files go, created if missing (default: the current "
             "directory)"),
)


def bytes_needed(options):
    """The list and the records, and every worker's connection buffers."""
    return options.n * 1024 + options.workers * 4 * RECEIVE_CHUNK


WORKLOAD = cli.Workload("download", "Download many files over HTTP (I/O-bound: the workers wait, they do not "
                        "compute)", "number of files (with -i: the list's length)", 1, MAX_FILES, DEFAULT_FILES,
                        MAX_WORKERS, DOWNLOAD_FLAGS, bytes_needed)

requests = urllib3 = None  # the modules, once parse has found them


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


class Record:
    """What became of one file: its state, the delivered bytes, the retries, the CRC-32C the server announced."""

    __slots__ = ("state", "bytes", "retries", "checksum")

    def __init__(self, state=PENDING, size=0, retries=0, checksum=None):
        self.state, self.bytes, self.retries, self.checksum = state, size, retries, checksum

    def __reduce__(self):  # travels back from a pool worker as a plain tuple
        return (Record, (self.state, self.bytes, self.retries, self.checksum))


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


# ---- the list: URLs and the names their files get ----

def url_name(url):
    """The file name an http(s) URL saves to (the last part of its path), or raise ValueError saying why not."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # a port that is not a number is refused here
    except ValueError as e:
        raise ValueError("'%s' is not a URL (%s)" % (url, e)) from None
    if not parts.scheme or "://" not in url or any(c.isspace() for c in url):
        raise ValueError("'%s' is not a URL" % url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("'%s' is not an http:// or https:// URL" % url)
    if not parts.hostname:
        raise ValueError("'%s' has no host" % url)
    last = urllib.parse.unquote(parts.path.rpartition("/")[2])
    if last in ("", ".", "..") or "/" in last or "\0" in last:
        raise ValueError("'%s' names no file (its path must end in a file name)" % url)
    if len(os.fsencode(last)) > MAX_NAME:
        raise ValueError("'%s': its file name is longer than %d characters" % (url, MAX_NAME))
    return last


def list_from_file(path):
    """The URLs of -i FILE, one per line; blank lines and # lines skipped."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise report.UsageError("-i %s: cannot read it: %s" % (path, e.strerror)) from None
    urls, names = [], []
    for number, line in enumerate(lines, 1):
        url = line.strip(" \t\r\n")
        if not url or url.startswith("#"):
            continue
        try:
            names.append(url_name(url))
        except ValueError as e:
            raise report.UsageError("-i %s, line %d: %s" % (path, number, e)) from None
        if len(urls) == MAX_FILES:
            raise report.UsageError("-i %s: more than %d URLs" % (path, MAX_FILES))
        urls.append(url)
    if not urls:
        raise report.UsageError("-i %s: no URLs in it" % path)
    return urls, names


def parse_server(text):
    """HOST:PORT (or [IPv6]:PORT) as (host, port), or None."""
    if text.startswith("["):
        host, close, rest = text.partition("]")
        host += close
        if not close or not rest.startswith(":"):
            return None
        digits = rest[1:]
    else:
        host, colon, digits = text.partition(":")
        if not colon or ":" in digits:
            return None
    if not host or any(c in host for c in "/?#@ \t") or not cli.DIGITS.fullmatch(digits):
        return None
    port = int(digits)
    return (host, port) if 1 <= port <= 65535 else None


def list_from_server(options):
    """N URLs of bin/fileserver's made-up files, named after the seed and their number."""
    server = parse_server(options.server)
    if server is None:
        raise report.UsageError("--server '%s': expected HOST:PORT (or [IPv6]:PORT), PORT from 1 to 65535"
                                % options.server)
    urls = ["http://%s:%d/files/file-%d-%06d.bin?size=%d" % (server[0], server[1], options.seed, i + 1,
                                                               options.size) for i in range(options.n)]
    return urls, [url_name(url) for url in urls]


def check_sources(options):
    """Exactly one source of URLs, and no flag that the other one takes."""
    if options.input_file and options.server:
        raise report.UsageError("-i %s and --server %s: give one source of URLs, not both" % (options.input_file,
                                                                                              options.server))
    if not options.input_file and not options.server:
        raise report.UsageError("no URLs: give -i FILE (a list of URLs) or --server HOST:PORT (bin/fileserver)")
    if options.input_file and "size" in options.given:
        raise report.UsageError("--size %d: only with --server; the files of -i %s are what they are"
                                % (options.size, options.input_file))


def open_output(directory):
    """-o DIR, created if missing (one level), and writable."""
    if not os.path.exists(directory):
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass
        except OSError as e:
            raise report.UsageError("-o %s: cannot create it: %s" % (directory, e.strerror)) from None
    elif not os.path.isdir(directory):
        raise report.UsageError("-o %s: not a directory" % directory)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise report.UsageError("-o %s: cannot write there" % directory)


def prepare(options):
    """The URL list, the files' names and the output directory, outside any timed region."""
    check_sources(options)
    if options.input_file:
        urls, names = list_from_file(options.input_file)
        if "n" in options.given and options.n != len(urls):
            raise report.UsageError("-n %d: -i %s lists %d URLs, and the list decides the number of files"
                                    % (options.n, options.input_file, len(urls)))
        options.n = len(urls)
    else:
        urls, names = list_from_server(options)
    seen = set()
    for name in sorted(names):
        if name in seen:
            raise report.UsageError("two URLs in the list would both be saved as '%s'" % name)
        seen.add(name)
    open_output(options.output_dir)
    if not options.input_file:
        free = shutil.disk_usage(options.output_dir).free
        if len(urls) * options.size > free:
            raise report.UsageError("--files %d --size %d: needs %.1f GiB, but -o %s has %.1f GiB free" % (
                len(urls), options.size, len(urls) * options.size / 2 ** 30, options.output_dir, free / 2 ** 30))
    return Problem(options, urls, names, generated=not options.input_file)


# ---- a fetcher: one session and the file in hand ----

class Fetcher:
    """A worker's tools: one requests.Session, reused (with its connections)
    from file to file. Never shared between threads."""

    def __init__(self, problem, worker):
        self.problem, self.worker = problem, worker
        self.session = requests.Session()
        self.session.max_redirects = MAX_REDIRECTS
        # The body as sent (no gzip), so that its size and CRC-32C are the file's.
        self.session.headers.update({"User-Agent": "download-suite/1", "Accept-Encoding": "identity"})

    def close(self):
        self.session.close()


class Attempts:
    """One file in hand: its NAME.part, the bytes in it and their CRC-32C, the attempts so far."""

    def __init__(self, problem, index):
        self.index, self.name, self.url = index, problem.names[index], problem.urls[index]
        self.path = os.path.join(problem.dir, self.name)
        self.part = self.path + PART_SUFFIX
        self.attempts, self.started, self.written, self.crc = 0, run.clock(), 0, 0
        self.file = None


class LocalWriteError(Exception):
    """Writing NAME.part failed: not the network's fault, not retried."""


def fetch(fetcher, index):
    """The one function every model calls: file index to NAME.part, checked,
    renamed to NAME; retried while the failure is transient and attempts are
    left. Its record says how it ended; a file given up on is named on
    stderr. Stamps the worker's span (its time in the transfer); returns (record, span)."""
    problem, start = fetcher.problem, run.clock()
    file = Attempts(problem, index)
    try:
        file.file = open(file.part, "wb")
    except OSError as e:
        give_up(problem, file, "cannot create %s: %s" % (file.part, e.strerror))
    while file.file is not None:
        file.attempts += 1
        wait = attempt(fetcher, file)
        if wait is not None:
            time.sleep(wait)
    span = run.Span(fetcher.worker, start, run.clock())
    problem.spans.append(span)
    return problem.records[index], span


def attempt(fetcher, file):
    """One request for the file (the rest of it, after a transfer cut short).
    None when the file is delivered or given up on; else the wait before the next."""
    problem, resume_from = fetcher.problem, file.written
    headers = {"Range": "bytes=%d-" % resume_from} if resume_from else {}
    status, reply, keep = 0, {}, False
    try:
        with fetcher.session.get(file.url, headers=headers, stream=True,
                                 timeout=(CONNECT_TIMEOUT, STALL_SECONDS)) as response:
            status, reply = response.status_code, response.headers
            keep = begin_body(file, status, reply, resume_from)
            if keep:
                for data in response.iter_content(RECEIVE_CHUNK):
                    write_part(file, data)
    except LocalWriteError as e:
        return give_up(problem, file, "writing %s failed: %s" % (file.part, e))
    except requests.exceptions.RequestException as e:
        transient, reason = classify(e)
        if not transient:
            return give_up(problem, file, reason + " (not retried)")
        return retry(problem, file, 0, reason)
    except OSError as e:  # the socket itself, below what requests wraps
        return retry(problem, file, 0, "the connection broke: %s" % (e.strerror or e))
    return judge(problem, file, status, reply, keep)


def begin_body(file, status, reply, resume_from):
    """Whether a response's body is the file (all of it, or the rest that was
    asked for), NAME.part emptied first for a whole one; raises LocalWriteError."""
    if status == HTTP_OK:
        restart_file(file)  # a 200 is the whole file, from byte 0, whatever was asked
        return True
    return status == HTTP_PARTIAL and resume_from > 0 and range_of(reply)[0] == file.written


def judge(problem, file, status, reply, kept):
    """After a response whose body was kept or not: the file delivered if it
    checks out, else retried or given up on as the status says. None when
    delivered or given up on; else the wait before the next attempt."""
    if kept:
        return check_body(problem, file, status, reply)
    reason = "HTTP status %d" % status
    if status in RETRIED_STATUSES:
        return retry(problem, file, retry_after(reply), reason)
    if status in (HTTP_RANGE_NOT_SATISFIABLE, HTTP_PARTIAL):
        restart_file(file)
        return retry(problem, file, 0, reason)  # the rest we asked for was refused: start over
    return give_up(problem, file, reason + " (not retried)")


def write_part(file, data):
    """Body bytes into NAME.part, and into its CRC-32C."""
    try:
        file.file.write(data)
    except OSError as e:
        raise LocalWriteError(e.strerror or str(e)) from None
    file.crc = content.crc32c(data, file.crc)
    file.written += len(data)


def restart_file(file):
    """Empty NAME.part, to fetch the file from its first byte."""
    try:
        file.file.seek(0)
        file.file.truncate()
    except OSError as e:
        raise LocalWriteError(e.strerror or str(e)) from None
    file.written, file.crc = 0, 0


def range_of(reply):
    """Content-Range's (first, total), total None when unknown; (None, None) without one."""
    match = CONTENT_RANGE.fullmatch(reply.get("Content-Range", "").strip())
    if not match:
        return None, None
    return int(match.group(1)), None if match.group(3) == "*" else int(match.group(3))


def expected_size(reply, status):
    """The whole file's size as the response gave it, or None."""
    if status == HTTP_PARTIAL:
        return range_of(reply)[1]
    length = reply.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def announced_checksum(reply):
    """The CRC-32C the server announced, or None."""
    try:
        value = int(reply.get(content.CHECKSUM_HEADER, ""), 16)
    except ValueError:
        return None
    return value if 0 <= value <= 0xffffffff else None


def retry_after(reply):
    """Retry-After in seconds (a number, or an HTTP date), 0 when absent."""
    text = reply.get("Retry-After", "").strip()
    if cli.DIGITS.fullmatch(text):
        return int(text)
    try:
        return max(0, int(email.utils.parsedate_to_datetime(text).timestamp() - time.time()))
    except (TypeError, ValueError, OverflowError):
        return 0


def short(error):
    """The useful end of an exception's words (requests nests them deeply)."""
    text = str(error)
    match = re.search(r"\[Errno -?\d+\] [^'\")]*", text)
    return match.group(0) if match else text[:200]


def classify(error):
    """(transient, reason) for an exception of requests: whether trying again may help, and what happened."""
    e = requests.exceptions
    if isinstance(error, e.ConnectTimeout):
        return True, "connecting timed out after %d s" % CONNECT_TIMEOUT
    if isinstance(error, e.ReadTimeout):
        return True, "no data for %d s (timed out)" % STALL_SECONDS
    if isinstance(error, e.ConnectionError):
        cause = error.args[0] if error.args else None
        if isinstance(getattr(cause, "reason", None), urllib3.exceptions.NewConnectionError):
            return False, "could not connect to the server: %s" % short(cause.reason)
        return True, "the connection broke: %s" % short(error)
    if isinstance(error, (e.ChunkedEncodingError, e.ContentDecodingError)):
        return True, "the transfer was cut short: %s" % short(error)
    if isinstance(error, e.TooManyRedirects):
        return False, "more than %d redirects" % MAX_REDIRECTS
    return False, "%s: %s" % (type(error).__name__, short(error))


def check_body(problem, file, status, reply):
    """The body was the file: deliver it if its size and checksum check out;
    resume one cut short; otherwise fetch it again, whole."""
    size, checksum = expected_size(reply, status), announced_checksum(reply)
    if size is not None and file.written < size:
        return retry(problem, file, 0, "the transfer was cut short: got %d bytes of %d" % (file.written, size))
    if size is not None and file.written != size:
        reason = "got %d bytes of %d" % (file.written, size)
    elif checksum is not None and file.crc != checksum:
        reason = "CRC-32C %08x, but the server announced %08x" % (file.crc, checksum)
    else:
        return deliver(problem, file, checksum)
    try:
        restart_file(file)
    except LocalWriteError as e:
        return give_up(problem, file, "emptying %s failed: %s" % (file.part, e))
    return retry(problem, file, 0, reason)


def deliver(problem, file, checksum):
    """NAME.part is complete and checked: close it and rename it to NAME."""
    try:
        file.file.close()
        file.file = None
        os.rename(file.part, file.path)
    except OSError as e:
        return give_up(problem, file, "closing or renaming %s failed: %s" % (file.part, e.strerror))
    problem.records[file.index] = Record(DONE, file.written, file.attempts - 1, checksum)
    return None


def give_up(problem, file, reason):
    """A failure there is no point retrying: remove NAME.part, record it, say why."""
    if file.file is not None:
        try:
            file.file.close()  # the file is being thrown away: an error closing it changes nothing
        except OSError:
            pass
        file.file = None
    try:
        os.unlink(file.part)
    except FileNotFoundError:
        pass
    except OSError as e:
        report.error("cannot remove %s: %s" % (file.part, e.strerror))
    problem.records[file.index] = Record(FAILED, 0, max(0, file.attempts - 1))
    report.error("giving up on %s (%s): %s" % (file.name, file.url, reason))
    return None


def backoff(problem, file):
    """The wait before the next attempt: BACKOFF_FIRST doubled per attempt so far,
    capped, scaled by a factor in [0.5, 1) drawn from the seed, the file and the attempt."""
    delay, attempt_number = BACKOFF_FIRST, 1
    while attempt_number < file.attempts and delay < BACKOFF_CAP:
        delay, attempt_number = delay * 2, attempt_number + 1
    r = mix.finalize(problem.seed ^ mix.finalize(file.index * MAX_ATTEMPTS + file.attempts))
    return min(delay, BACKOFF_CAP) * (0.5 + 0.5 * mix.unit(r))


def retry(problem, file, after, reason):
    """A transient failure: the wait before trying again, or None after giving up."""
    if file.attempts >= MAX_ATTEMPTS:
        return give_up(problem, file, "%s (still, after %d attempts)" % (reason, file.attempts))
    if after > MAX_RETRY_AFTER:
        return give_up(problem, file, "%s, and the server asks to wait %d s (more than %d)" % (reason, after,
                                                                                            MAX_RETRY_AFTER))
    wait = max(backoff(problem, file), float(after))
    if run.clock() + wait - file.started > GIVE_UP_AFTER:
        return give_up(problem, file, "%s (still, after %d attempts in %.0f s)" % (reason, file.attempts,
                                                                                 GIVE_UP_AFTER))
    return wait


# ---- in a pool's worker process ----

# In a pool worker: its own fetcher (worker.fetcher), made once by the pool's
# initializer. Each thread has its own: an executor's threads are its workers.
worker = threading.local()


def start_worker(problem):
    """A pool's initializer: become a worker (pools.py), make this worker's own session."""
    pools.become_worker()
    load_packages()  # already there after fork; a spawned worker imports them here
    worker.fetcher = Fetcher(problem, run.worker_id())


def fetch_task(index):
    """A pool's task: one file, fetched by this worker; sent back as (index, record, span)."""
    record, span = fetch(worker.fetcher, index)
    return index, record, span


# ---- jobs: tasks that carry their data (joblib's Parallel has no initializer) ----

class OneFile:
    """What fetch reads of the problem, for one file only: a job's data (the
    whole list travelling with every file would cost the list's length per file)."""

    def __init__(self, problem, index):
        self.index, self.dir, self.seed = index, problem.dir, problem.seed
        self.urls, self.names = {index: problem.urls[index]}, {index: problem.names[index]}
        self.records, self.spans = {index: Record()}, []


def fetch_job(file):
    """A job: one file (a OneFile), fetched through this worker's session, made
    at its first job and kept (each thread its own); sent back as (index, record, span)."""
    fetcher = getattr(worker, "fetcher", None)
    if fetcher is None:
        load_packages()  # a loky worker is a fresh interpreter: it imports them here
        fetcher = worker.fetcher = Fetcher(file, run.worker_id())
    fetcher.problem = file
    record, span = fetch(fetcher, file.index)
    return file.index, record, span


def store(problem, results):
    """The records a pool or jobs sent back, into problem.records."""
    results = list(results)  # all in: the workers are done
    # An executor's thread shares problem with this one: its fetch has recorded the span already.
    recorded = {id(span) for span in problem.spans}
    for index, record, span in results:
        problem.records[index] = record
        if id(span) not in recorded:
            problem.spans.append(span)


# ---- the end of a run ----

def cpu_seconds():
    """User and system CPU seconds of this process and the children it reaped."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + children.ru_utime, own.ru_stime + children.ru_stime


def finish(problem, start):
    """The phases of a run (comm: the longest any worker spent in its transfers,
    waiting on the network; compute: none), its CPU time, the files given up on."""
    phases = run.phases_from_spans(start, problem.spans)
    phases.comm, phases.compute = phases.compute, 0.0
    now = cpu_seconds()
    problem.cpu = (now[0] - problem.cpu_at_reset[0], now[1] - problem.cpu_at_reset[1])
    problem.failed_total += sum(r.state == FAILED for r in problem.records)
    return phases


def check_failures(problem):
    """Exit status 1 (saying so) if any run gave up on a file: with --no-verify too."""
    if problem.failed_total:
        raise report.Failure("%d download%s given up on (named above)" % (
            problem.failed_total, " was" if problem.failed_total == 1 else "s were"))


# ---- the task: what run.repeat does around each timed run ----

def reset(problem):
    """Remove the last run's files (and any NAME.part), so every run really downloads; clear the records."""
    for name in problem.names:
        for path in (os.path.join(problem.dir, name), os.path.join(problem.dir, name + PART_SUFFIX)):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                report.error("cannot remove the last run's %s: %s" % (path, e.strerror))
    problem.records = [Record() for _ in problem.urls]
    problem.spans, problem.next_index = [], 0
    problem.cpu_at_reset = cpu_seconds()


def read_back(name, f, offset, length):
    """Up to length bytes of the file from offset; raises ValueError saying why there are none."""
    try:
        data = os.pread(f.fileno(), length, offset)
    except OSError as e:
        raise ValueError("reading %s at byte %d failed: %s" % (name, offset, e.strerror)) from None
    if not data:
        raise ValueError("reading %s at byte %d failed: it ends there" % (name, offset))
    return data


def check_file(problem, index):
    """One delivered file as it is on disk: no NAME.part beside it, its size,
    and its content: --server's every byte regenerated, otherwise the server's CRC-32C."""
    name, record = problem.names[index], problem.records[index]
    path = os.path.join(problem.dir, name)
    if os.path.exists(path + PART_SUFFIX):
        raise ValueError("%s%s is still there beside %s" % (name, PART_SUFFIX, name))
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ValueError("%s was delivered but cannot be opened: %s" % (name, e.strerror)) from None
    with f:
        size, expected = os.fstat(f.fileno()).st_size, problem.size if problem.generated else record.bytes
        if size != expected:
            raise ValueError("%s has %d bytes, expected %d" % (name, size, expected))
        key, offset, crc = content.key(name), 0, 0
        while offset < size and (problem.generated or record.checksum is not None):
            got = read_back(name, f, offset, min(CHECK_CHUNK, size - offset))
            if problem.generated:
                want = content.fill(key, offset, len(got))
                if got != want:
                    at = next(i for i in range(len(got)) if got[i] != want[i])
                    raise ValueError("%s byte %d is 0x%02x, the file the server makes has 0x%02x" % (
                        name, offset + at, got[at], want[at]))
            else:
                crc = content.crc32c(got, crc)
            offset += len(got)
        if not problem.generated and record.checksum is not None and crc != record.checksum:
            raise ValueError("%s has CRC-32C %08x, the server announced %08x" % (name, crc, record.checksum))


def verify(problem):
    failed = pending = 0
    for index, record in enumerate(problem.records):
        if record.state == DONE:
            try:
                check_file(problem, index)
            except ValueError as e:
                report.error("wrong result: %s" % e)
                return False
        elif record.state == FAILED:
            failed += 1
        else:
            pending += 1
    if pending:
        report.error("wrong result: %d of %d files were never finished (a worker died?)" % (pending, problem.count))
        return False
    if failed:
        report.error("%d of %d files could not be downloaded (named above); the other %d are intact" % (
            failed, problem.count, problem.count - failed))
        return False
    return True


def corrupt(problem):
    """Flip a byte in the middle of the first delivered file."""
    index = next((i for i, r in enumerate(problem.records) if r.state == DONE), None)
    if index is None:
        return  # nothing was delivered: the check fails anyway
    path, at = os.path.join(problem.dir, problem.names[index]), problem.records[index].bytes // 2
    try:
        with open(path, "r+b") as f:
            byte = os.pread(f.fileno(), 1, at) if problem.records[index].bytes else b"\0"
            os.pwrite(f.fileno(), bytes([byte[0] ^ 0xff]), at)
    except OSError as e:
        report.error("--inject-error: cannot change %s: %s" % (path, e.strerror))


def figures(problem, seconds):
    total = sum(r.bytes for r in problem.records)
    return " bytes=%d files=%d failures=%d retries=%d mbps=%.3f cpu_user=%.6f cpu_sys=%.6f" % (
        total, sum(r.state == DONE for r in problem.records), sum(r.state == FAILED for r in problem.records),
        sum(r.retries for r in problem.records), total / seconds / 1e6 if seconds > 0 else 0.0,
        problem.cpu[0], problem.cpu[1])


TASK = run.Task(reset, verify, corrupt, figures)
