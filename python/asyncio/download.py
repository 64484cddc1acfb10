"""python/asyncio/download.py — download many files over HTTP from one thread: an asyncio event loop, aiohttp, P tasks.

Run:    bin/download-py-asyncio --server 127.0.0.1:8080 --files 64 --size 256K -p 64 -o /tmp/dl
Models: python/serial/download.py is the baseline; this file runs its loop
        over the files in P tasks of one event loop, in one thread
        (diff -u python/serial/download.py python/asyncio/download.py; its
        shape is python/threading/download.py's, threads turned into tasks).
        A task that waits on the network awaits: it hands the thread back to
        the event loop, which runs whichever task's data has arrived. So P
        transfers are in flight at once with no second thread, no lock and
        no GIL to share; -p is the transfers in flight, not threads, as
        io_bound/download.c's -p (in_flight= on the result line: the most
        requests in flight at once). The price is that waiting must be written
        as await all the way down: requests blocks, so the fetch is
        common/download_fetch.py's written again as coroutines on aiohttp
        (python3-aiohttp), with the same rules and the same steps (begin_body,
        write_part, judge: NAME.part, the size and CRC-32C check, the rename,
        the retries). Writing NAME.part is plain file I/O in the loop's
        thread, as in the C client: the disk answers in microseconds.
        Ctrl-C cancels the tasks: each removes its NAME.part; exit status 1.
        Siblings: python/threading/ (threads); io_bound/download.c (libcurl's multi interface, in C).
Shared: python/common/download.py (flags, the records), download_list.py (the URL list, -o),
        download_fetch.py (the rules and the steps of the fetch), download_check.py (the check),
        python/common/content.py (the server's files, CRC-32C), python/common/run.py
        (timing, result lines), python/common/cli.py (flags).
"""
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, content, download, download_check, download_fetch, report, run  # noqa: E402

MODEL = "py-asyncio"

aiohttp = None  # the module, once load_aiohttp has found it


def load_aiohttp():
    """aiohttp and crcmod, or exit status 2 naming the missing one's Debian package."""
    global aiohttp
    aiohttp = report.require("aiohttp", "python3-aiohttp", "the asyncio model")
    content.crc32c(b"")  # loads crcmod now
    content.receive_crc32c(b"")  # and the C one (build/libcontent.so), outside the timed region


# ---- the one fetch, as coroutines (common/download_fetch.py's fetch and attempt, awaiting) ----

async def fetch(session, problem, worker, index):
    """File index to NAME.part, checked, renamed to NAME; retried while the
    failure is transient (the wait is asyncio.sleep: other tasks run meanwhile).
    Stamps the task's span. Cancelled (Ctrl-C): NAME.part removed."""
    start = run.clock()
    file = download_fetch.Attempts(problem, index)
    try:
        file.file = open(file.part, "wb")
    except OSError as e:
        download_fetch.give_up(problem, file, "cannot create %s: %s" % (file.part, e.strerror))
    try:
        while file.file is not None:
            file.attempts += 1
            wait = await attempt(session, problem, file)
            if wait is not None:
                await asyncio.sleep(wait)
    except asyncio.CancelledError:
        discard(file)
        raise
    problem.spans.append(run.Span(worker, start, run.clock()))


async def attempt(session, problem, file):
    """One request for the file (the rest of it, after a transfer cut short).
    None when the file is delivered or given up on; else the wait before the next."""
    resume_from = file.written
    headers = {"Range": "bytes=%d-" % resume_from} if resume_from else {}
    status, reply, keep = 0, {}, False
    problem.in_flight += 1
    problem.most_in_flight = max(problem.most_in_flight, problem.in_flight)
    try:
        async with session.get(file.url, headers=headers, max_redirects=download_fetch.MAX_REDIRECTS) as response:
            status, reply = response.status, response.headers
            keep = download_fetch.begin_body(file, status, reply, resume_from)
            if keep:
                async for data in response.content.iter_chunked(download.RECEIVE_CHUNK):
                    download_fetch.write_part(file, data)
    except download_fetch.LocalWriteError as e:
        return download_fetch.give_up(problem, file, "writing %s failed: %s" % (file.part, e))
    except (aiohttp.ClientError, OSError) as e:  # OSError: timeouts (asyncio.TimeoutError) and the socket itself
        transient, reason = classify(e)
        if not transient:
            return download_fetch.give_up(problem, file, reason + " (not retried)")
        return download_fetch.retry(problem, file, 0, reason)
    except ValueError as e:  # a redirect to ftp:// and the like: aiohttp's ValueError, no ClientError
        return download_fetch.give_up(problem, file, download_fetch.redirect_refused(e))
    finally:
        problem.in_flight -= 1
    return download_fetch.judge(problem, file, status, reply, keep)


def classify(error):
    """(transient, reason) for an exception of aiohttp: whether trying again may
    help, and what happened (common/download_fetch.py's classify, in aiohttp's terms)."""
    refused = download_fetch.certificate_problem(error)  # a ClientConnectorError, whose os_error it lacks
    if refused:
        return False, refused
    if isinstance(error, aiohttp.ClientSSLError):  # the handshake cut short or garbled: retried, as C's and requests'
        return True, "the TLS handshake failed: %s" % error.os_error
    if isinstance(error, aiohttp.ClientConnectorError):  # no server there, or no such host
        cause = error.os_error
        return False, "could not connect to the server: %s" % (os.strerror(cause.errno) if cause.errno else cause)
    if isinstance(error, asyncio.TimeoutError):  # aiohttp's ServerTimeoutError says which
        return True, "timed out: %s" % (error or "no data for %d s" % download_fetch.STALL_SECONDS)
    if isinstance(error, aiohttp.TooManyRedirects):
        return False, "more than %d redirects" % download_fetch.MAX_REDIRECTS
    if isinstance(error, aiohttp.ClientPayloadError):
        return True, "the transfer was cut short: %s" % error
    if isinstance(error, (aiohttp.ClientConnectionError, aiohttp.ClientResponseError, OSError)):
        return True, "the connection broke: %s" % (error or type(error).__name__)
    return False, "%s: %s" % (type(error).__name__, error)


def discard(file):
    """A cancelled transfer: close and remove its NAME.part (nothing partial is left, under any name)."""
    if file.file is not None:
        try:
            file.file.close()
        except OSError:
            pass  # the file is being thrown away
        file.file = None
    try:
        os.unlink(file.part)
    except FileNotFoundError:
        pass
    except OSError as e:
        report.error("cannot remove %s: %s" % (file.part, e.strerror))


# ---- the model: P tasks in one event loop ----

async def fetch_files(session, problem, worker):
    """A task's whole life: files from the shared queue until none is left.
    (No lock is needed in one thread, but the queue is common/download.py's, which has one.)"""
    for index in iter(problem.next_file, None):
        await fetch(session, problem, worker, index)


async def fetch_everything(problem):
    """One aiohttp.ClientSession (its connections reused from file to file) and
    problem.workers tasks sharing it, gathered: they run until every file is done."""
    timeout = aiohttp.ClientTimeout(sock_connect=download_fetch.CONNECT_TIMEOUT, sock_read=download_fetch.STALL_SECONDS)
    connector = aiohttp.TCPConnector(limit=problem.workers)
    # The body as sent (no gzip), so that its size and CRC-32C are the file's.
    headers = {"User-Agent": "download-suite/1", "Accept-Encoding": "identity"}
    # trust_env=False (aiohttp's default, said here): never through a proxy
    # that http_proxy names, as the other clients (download_fetch.Fetcher).
    async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=headers,
                                     auto_decompress=False, trust_env=False) as session:
        await asyncio.gather(*(fetch_files(session, problem, worker) for worker in range(problem.workers)))


def fetch_all(problem):
    """Every file, by problem.workers tasks at once in one event loop;
    starting and ending the loop is part of the time."""
    start = run.clock()
    problem.in_flight = problem.most_in_flight = 0
    asyncio.run(fetch_everything(problem))
    return download_check.finish(problem, start)


def figures(problem, seconds):
    """download's figures, and in_flight=: the most requests this one thread had in flight at once."""
    return download_check.figures(problem, seconds) + " in_flight=%d" % problem.most_in_flight


TASK = run.Task(download_check.reset, download_check.verify, download_check.corrupt, figures)


def main():
    # ---- parse ----
    options = download.parse(sys.argv, MODEL, cli.MANY_WORKERS, load=load_aiohttp)

    # ---- prepare: the URL list and the output directory, outside the timed region ----
    problem = download.prepare(options)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, TASK, problem, fetch_all)
    download_check.check_failures(problem)  # --no-verify skips the check, not the files given up on


if __name__ == "__main__":
    run.main(main)
