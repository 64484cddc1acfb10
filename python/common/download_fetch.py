"""python/common/download_fetch.py — one file fetched: the session, the file in hand, the retry policy.

common/download_fetch.c's rules, through requests: fetch is the one function
every blocking model calls: one file into NAME.part, checked (its size, and
the server's CRC-32C when it sends one), renamed to NAME only then; transient
failures (408, 429, 5xx, a connection cut short or reset, a timeout, a body
whose size or CRC-32C is wrong) retried with capped, jittered exponential
backoff that honours Retry-After; permanent ones (other statuses, no server
listening, a bad URL, a local write error, a refused certificate) not. A transfer cut short resumes
with a Range request. Its steps (Attempts, begin_body, write_part, judge,
retry, give_up) are also python/asyncio/download.py's, which awaits instead.
Last, how a pool's worker or a joblib job gets its own session and fetches.
"""
import email.utils
import multiprocessing.util
import os
import re
import resource
import ssl
import threading
import time

from . import cli, content, download, download_list, mix, pools, report, run

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
# HTTP statuses the fetch tells apart.
HTTP_OK, HTTP_PARTIAL, HTTP_RANGE_NOT_SATISFIABLE = 200, 206, 416
RETRIED_STATUSES = {408, 429} | set(range(500, 600))
# Content-Range: bytes FIRST-LAST/TOTAL (TOTAL may be *).
CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


# ---- a fetcher: one session and the file in hand ----

class Fetcher:
    """A worker's tools: one requests.Session, reused (with its connections)
    from file to file. Never shared between threads."""

    def __init__(self, problem, worker):
        self.problem, self.worker = problem, worker
        self.session = download.requests.Session()
        # Never through a proxy that http_proxy and the like name (login nodes
        # often set one): the servers are on this machine or on the hosts of
        # its own cluster, which a proxy cannot reach. (Nor a look at .netrc
        # and the environment's proxies before every request, as requests
        # otherwise makes.) aiohttp's sessions leave the environment alone already.
        self.session.trust_env = False
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
        self.part = self.path + download_list.PART_SUFFIX
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
                for data in body_as_sent(response):
                    write_part(file, data)
    except LocalWriteError as e:
        return give_up(problem, file, "writing %s failed: %s" % (file.part, e))
    except download.requests.exceptions.RequestException as e:
        transient, reason = classify(e)
        if not transient:
            return give_up(problem, file, reason + " (not retried)")
        return retry(problem, file, 0, reason)
    except OSError as e:  # the socket itself, below what requests wraps
        return retry(problem, file, 0, "the connection broke: %s" % (e.strerror or e))
    except ValueError as e:  # a Location that does not parse: urllib.parse's, which requests lets through
        return give_up(problem, file, redirect_refused(e))
    return judge(problem, file, status, reply, keep)


def redirect_refused(error):
    """Why a redirect could not be followed (a ValueError: its Location does not
    parse, or names no http(s) URL), not retried: the server would send it again."""
    return "the server redirected to a URL that cannot be followed: %s (not retried)" % error


def begin_body(file, status, reply, resume_from):
    """Whether a response's body is the file (all of it, or the rest that was
    asked for), NAME.part emptied first for a whole one; raises LocalWriteError."""
    if status == HTTP_OK:
        restart_file(file)  # a 200 is the whole file, from byte 0, whatever was asked
        return True
    return status == HTTP_PARTIAL and resume_from > 0 and range_of(reply)[0] == file.written


def body_as_sent(response):
    """The body's bytes as the server sent them, RECEIVE_CHUNK at a time: iter_content,
    with its exceptions, but without undoing a Content-Encoding (gzip) that the server
    applied though asked for identity (Apache does, to a .gz): so their size is
    Content-Length's, their CRC-32C the server's, and the file the bytes that C and
    asyncio (auto_decompress=False) save. urllib3 gives the connection back once they are all read."""
    e, u = download.requests.exceptions, download.urllib3.exceptions
    try:
        yield from response.raw.stream(download.RECEIVE_CHUNK, decode_content=False)
    except u.ProtocolError as error:
        raise e.ChunkedEncodingError(error) from None
    except u.ReadTimeoutError as error:
        raise e.ConnectionError(error) from None
    except u.SSLError as error:
        raise e.SSLError(error) from None


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
    file.crc = content.receive_crc32c(data, file.crc)
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


def causes(error):
    """error and the exceptions it was made from, however requests, urllib3 and aiohttp nest them
    (in args, reason, certificate_error, __cause__)."""
    found, pending = [], [error]
    while pending:
        e = pending.pop(0)
        if isinstance(e, BaseException) and all(e is not seen for seen in found):
            found.append(e)
            pending += [getattr(e, "reason", None), getattr(e, "certificate_error", None), e.__cause__] + list(e.args)
    return found


def certificate_problem(error):
    """What was wrong with the server's certificate, in libcurl's words, if the
    exception comes from one that was refused (self-signed, expired, another
    host's), else None. Never retried, as in C: the next attempt would be shown the same certificate."""
    for cause in causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError) and getattr(cause, "verify_message", None):
            return "SSL certificate problem: %s" % cause.verify_message
    return None


def classify(error):
    """(transient, reason) for an exception of requests: whether trying again may help, and what happened."""
    e = download.requests.exceptions
    refused = certificate_problem(error)  # an SSLError, a ConnectionError that would otherwise be retried
    if refused:
        return False, refused
    if isinstance(error, e.ConnectTimeout):
        return True, "connecting timed out after %d s" % CONNECT_TIMEOUT
    if isinstance(error, e.ReadTimeout):
        return True, "no data for %d s (timed out)" % STALL_SECONDS
    if isinstance(error, e.ConnectionError):
        cause = error.args[0] if error.args else None
        if isinstance(getattr(cause, "reason", None), download.urllib3.exceptions.NewConnectionError):
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
    problem.records[file.index] = download.Record(download.DONE, file.written, file.attempts - 1, checksum)
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
    problem.records[file.index] = download.Record(download.FAILED, 0, max(0, file.attempts - 1))
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
# The fetchers this process's workers made (worker_fetcher), until they are closed.
workers_fetchers, workers_fetchers_lock = [], threading.Lock()


def worker_fetcher(problem):
    """A new fetcher for this worker (a thread, or a worker process), closed with
    its connections when the run ends: a worker thread's by the program once the
    pool is done (close_workers_fetchers), a worker process's as it leaves
    (multiprocessing's finalizers, which every pool's process, loky's too, runs
    then). A session nobody closes leaves its sockets to the garbage collector,
    which says so under PYTHONWARNINGS=default: "ResourceWarning: unclosed
    <socket.socket ...>", once per connection."""
    fetcher = Fetcher(problem, run.worker_id())
    with workers_fetchers_lock:
        workers_fetchers.append(fetcher)
    multiprocessing.util.Finalize(fetcher, fetcher.close, exitpriority=0)
    return fetcher


def close_workers_fetchers():
    """Close the sessions this process's worker threads made (none where the workers are processes)."""
    with workers_fetchers_lock:
        fetchers = workers_fetchers[:]
        del workers_fetchers[:]
    for fetcher in fetchers:
        fetcher.close()


def start_worker(problem):
    """A pool's initializer: become a worker (pools.py), make this worker's own session."""
    pools.become_worker()
    download.load_packages()  # already there after fork; a spawned worker imports them here
    worker.fetcher = worker_fetcher(problem)


def fetch_task(index):
    """A pool's task: one file, fetched by this worker; sent back as (index, record, span).
    A worker process the program did not start itself (a forkserver's child) also puts
    its CPU time so far in the record: the program's getrusage never counts it."""
    record, span = fetch(worker.fetcher, index)
    problem = worker.fetcher.problem
    if os.getpid() != problem.program_pid and os.getppid() != problem.program_pid:
        own = resource.getrusage(resource.RUSAGE_SELF)
        record.cpu = (own.ru_utime, own.ru_stime)
    return index, record, span


# ---- jobs: tasks that carry their data (joblib's Parallel has no initializer) ----

class OneFile:
    """What fetch reads of the problem, for one file only: a job's data (the
    whole list travelling with every file would cost the list's length per file)."""

    def __init__(self, problem, index):
        self.index, self.dir, self.seed = index, problem.dir, problem.seed
        self.urls, self.names = {index: problem.urls[index]}, {index: problem.names[index]}
        self.records, self.spans = {index: download.Record()}, []


def fetch_job(file):
    """A job: one file (a OneFile), fetched through this worker's session, made
    at its first job and kept (each thread its own); sent back as (index, record, span)."""
    fetcher = getattr(worker, "fetcher", None)
    if fetcher is None:
        download.load_packages()  # a loky worker is a fresh interpreter: it imports them here
        fetcher = worker.fetcher = worker_fetcher(file)
    fetcher.problem = file
    record, span = fetch(fetcher, file.index)
    return file.index, record, span

