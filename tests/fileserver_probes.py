#!/usr/bin/env python3
"""tests/fileserver_probes.py — probes of bin/fileserver from outside, over real sockets, one per process.

Usage: tests/fileserver_probes.py probe NAME --port P     one probe against a running server
       tests/fileserver_probes.py life --server EXE --client EXE
                                   a whole life: start, probes, a client, SIGTERM

tests/test_download.py starts the servers and runs each probe as a case of
its own. A probe speaks HTTP/1.1 by hand (raw bytes, so it can send what no
client library would: malformed lines, oversized headers, half a request)
and knows the made-up files independently of the C code, from their
definition (tools/harness/content.py). Exit status 0 when every expectation
holds; otherwise a message on stderr and 1.
"""
import argparse
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from harness.content import crc32c, made_up  # noqa: E402
from harness.programs import SERVER_STOP_TIMEOUT, FileServer, FileServerError  # noqa: E402
from suite import sanitizer_report  # noqa: E402 (run as a program, this file's folder is first on sys.path)

# What each probe shows (the name of its case in tests/test_download.py).
PROBES = {
    "content": "made-up files: every byte and the CRC-32C as defined, HEAD, ranges (206, 416), keep-alive",
    "root": "--root: real files; /../, %2e%2e and links out of the root refused (403); links inside served",
    "traversal": "made-up files: /../ and %2e%2e refused (403), and it still serves",
    "oversized": "an oversized header gets 431, and it still serves",
    "malformed": "malformed request lines and headers get 400 (or 505), and it still serves",
    "idle": "an idle connection is closed, a half-sent request gets 408, and it still serves",
    "concurrent": "1000 connections at once all served, and it still serves",
    "latency": "--latency holds each response back without holding up the others",
    "rate": "--rate limits a connection's speed",
    "faults": "--fail-rate answers 503 with Retry-After, --drop-rate cuts bodies short",
}


# ---- HTTP by hand --------------------------------------------------------------

class ProbeFailed(Exception):
    """An expectation of a probe did not hold."""


def expect(condition, message):
    if not condition:
        raise ProbeFailed(message)


def exchange(port_number, raw, timeout=10):
    """Send raw bytes on a new connection; everything received until the server closes."""
    with socket.create_connection(("127.0.0.1", port_number), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        while True:
            try:
                chunk = s.recv(1 << 16)
            except ConnectionResetError:  # a --drop-rate fault: what came before it is the answer
                return data
            if not chunk:
                return data
            data += chunk


def split_responses(data, head_only=False):
    """The responses in data: a list of (status, headers, body)."""
    responses = []
    while data:
        head, sep, data = data.partition(b"\r\n\r\n")
        expect(sep, "a response without a blank line after its headers: %r" % head[:200])
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = 0 if head_only else int(headers.get("content-length", 0))
        responses.append((status, headers, data[:length]))
        data = data[length:]
    return responses


def request(port_number, target, method="GET", extra=""):
    """One request on a new connection: (status, headers, body)."""
    raw = ("%s %s HTTP/1.1\r\nHost: test\r\n%sConnection: close\r\n\r\n" % (method, target, extra)).encode()
    return split_responses(exchange(port_number, raw), head_only=method == "HEAD")[0]


def still_serves(port_number):
    status, _, body = request(port_number, "/files/alive.bin?size=1234")
    expect(status == 200 and body == made_up("alive.bin", 1234), "it no longer serves a plain request")


# ---- the probes: each takes the port of a server started for it ------------------

def probe_content(p):
    for name, size in (("x", 0), ("x", 1), ("y", 7), ("y", 8), ("z", 9), ("file-42-000001.bin", 1000),
                       ("big.bin", 65536 * 2 + 3)):
        status, headers, body = request(p, "/files/%s?size=%d" % (name, size))
        want = made_up(name, size)
        expect(status == 200, "GET %s: status %d" % (name, status))
        expect(body == want, "GET %s?size=%d: the bytes differ from the definition" % (name, size))
        expect(headers.get("x-checksum-crc32c") == "%08x" % crc32c(want),
               "%s: checksum header %s, expected %08x" % (name, headers.get("x-checksum-crc32c"), crc32c(want)))
    status, headers, body = request(p, "/files/h.bin?size=5000", "HEAD")
    expect(status == 200 and body == b"" and headers.get("content-length") == "5000", "HEAD: wrong answer")
    full = made_up("r.bin", 10000)
    for range_header, first, last in (("bytes=100-199", 100, 199), ("bytes=9990-", 9990, 9999),
                                      ("bytes=-10", 9990, 9999), ("bytes=5000-99999", 5000, 9999)):
        status, headers, body = request(p, "/files/r.bin?size=10000", extra="Range: %s\r\n" % range_header)
        expect(status == 206 and body == full[first:last + 1], "Range %s: status %d or wrong bytes" % (
            range_header, status))
        expect(headers.get("content-range") == "bytes %d-%d/10000" % (first, last),
               "Range %s: Content-Range %s" % (range_header, headers.get("content-range")))
        expect(headers.get("x-checksum-crc32c") == "%08x" % crc32c(full), "a 206 must carry the whole file's CRC")
    status, headers, _ = request(p, "/files/r.bin?size=10000", extra="Range: bytes=10000-\r\n")
    expect(status == 416 and headers.get("content-range") == "bytes */10000", "a range past the end: %d" % status)
    status, _, body = request(p, "/files/r.bin?size=10000", extra="Range: bytes=0-1,5-6\r\n")
    expect(status == 200 and body == full, "several ranges should be ignored (200, whole file)")
    status, _, _ = request(p, "/files/nosize.bin")
    expect(status == 400, "a made-up file without ?size=: %d, expected 400" % status)
    status, _, _ = request(p, "/elsewhere/x.bin?size=3")
    expect(status == 404, "outside /files/: %d, expected 404" % status)
    status, headers, _ = request(p, "/files/x?size=3", "DELETE")
    expect(status == 405 and "GET" in headers.get("allow", ""), "DELETE: %d, expected 405 with Allow" % status)
    pipelined = exchange(p, b"GET /files/p1?size=10 HTTP/1.1\r\nHost: t\r\n\r\n"
                            b"GET /files/p2?size=20 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    answers = split_responses(pipelined)
    expect([a[2] for a in answers] == [made_up("p1", 10), made_up("p2", 20)], "two requests on one connection")


def probe_root(p):
    checks = (("/files/a.txt", 200, b"hello\n"), ("/files/sub/b.bin", 200, made_up("b", 100000)),
              ("/files/empty.bin", 200, b""), ("/files/good.txt", 200, b"hello\n"),
              ("/files/evil.txt", 403, None), ("/files/evildir/secret.txt", 403, None),
              ("/files/../outside/secret.txt", 403, None), ("/files/%2e%2e/outside/secret.txt", 403, None),
              ("/files/sub/%2E%2E/%2e%2e/outside/secret.txt", 403, None), ("/files/sub/../a.txt", 403, None),
              ("/files/nothing.txt", 404, None), ("/files/sub", 404, None))
    for target, status_wanted, body_wanted in checks:
        status, headers, body = request(p, target)
        expect(status == status_wanted, "GET %s: %d, expected %d" % (target, status, status_wanted))
        expect(b"secret" not in body, "GET %s leaked a file from outside the root" % target)
        if body_wanted is not None:
            expect(body == body_wanted, "GET %s: wrong bytes" % target)
            expect(headers.get("x-checksum-crc32c") == "%08x" % crc32c(body_wanted), "GET %s: wrong checksum" % target)
    status, _, body = request(p, "/files/a.txt")
    expect(status == 200 and body == b"hello\n", "it no longer serves after the refusals")


def probe_traversal(p):
    for target in ("/files/../etc/passwd", "/files/%2e%2e/etc/passwd", "/files/%2E%2E%2Fetc%2Fpasswd",
                   "/../files/x?size=3", "/files/a/../../x?size=3"):
        status, _, body = request(p, target)
        expect(status == 403, "GET %s: %d, expected 403" % (target, status))
        expect(b"root:" not in body, "GET %s leaked /etc/passwd" % target)
    still_serves(p)


def probe_oversized(p):
    for size in (9000, 200000):
        data = exchange(p, b"GET /files/x?size=3 HTTP/1.1\r\nX-Big: " + b"y" * size + b"\r\n\r\n")
        expect(data.startswith(b"HTTP/1.1 431 "), "a %d-byte header: %r" % (size, data[:60]))
    data = exchange(p, b"GET /files/" + b"z" * 10000 + b"?size=3 HTTP/1.1\r\n\r\n")
    expect(data[:13] in (b"HTTP/1.1 431 ", b"HTTP/1.1 400 "), "a 10000-byte request line: %r" % data[:60])
    still_serves(p)


def probe_malformed(p):
    for raw, wanted in ((b"GARBAGE\r\n\r\n", 400), (b"\r\n\r\n", 400), (b"GET\r\n\r\n", 400),
                        (b"GET /files/x?size=3\r\n\r\n", 400), (b"GET  /files/x?size=3 HTTP/1.1\r\n\r\n", 400),
                        (b"GET files/x?size=3 HTTP/1.1\r\n\r\n", 400), (b"GET /files/x?size=3 HTTP/2.0\r\n\r\n", 505),
                        (b"GET /files/x?size=3 HTTQ/1.1\r\n\r\n", 400), (b"GET /files/\x01x?size=3 HTTP/1.1\r\n\r\n", 400),
                        (b"GET /files/x%zz?size=3 HTTP/1.1\r\n\r\n", 400), (b"GET /files/x%00?size=3 HTTP/1.1\r\n\r\n", 400),
                        (b"GET /files/x?size=3 HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
                        (b"GET /files/x?size=3 HTTP/1.1\r\nBad Name: v\r\n\r\n", 400),
                        (b"GET /files/x?size=3 HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400),
                        (b"POST /files/x?size=3 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400),
                        (b"GET /files/x?size=99999999999999999999 HTTP/1.1\r\n\r\n", 400),
                        (bytes(range(1, 256)) + b"\r\n\r\n", 400)):
        data = exchange(p, raw)
        expect(data.startswith(b"HTTP/1.1 %d " % wanted), "%r: answered %r, expected %d" % (raw[:40], data[:40], wanted))
    still_serves(p)


def probe_idle(p):
    started = time.monotonic()
    data = exchange(p, b"", timeout=15)
    waited = time.monotonic() - started
    expect(data == b"" and 0.5 < waited < 8, "an idle connection: closed after %.1f s with %r" % (waited, data[:40]))
    started = time.monotonic()
    data = exchange(p, b"GET /files/x?size=3 HTTP/1.1\r\nHost: t\r\n", timeout=15)
    waited = time.monotonic() - started
    expect(data.startswith(b"HTTP/1.1 408 ") and waited < 8, "half a request: %r after %.1f s" % (data[:40], waited))
    still_serves(p)


def probe_concurrent(p, count=1000):
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 100)), hard))
    except (ImportError, ValueError, OSError):
        pass
    socks = [socket.create_connection(("127.0.0.1", p), timeout=10) for _ in range(count)]
    for i, s in enumerate(socks):
        s.sendall(b"GET /files/c%d?size=500 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % i)
    selector, received = selectors.DefaultSelector(), {}
    for s in socks:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        received[s] = b""
    open_count, deadline = count, time.monotonic() + 30
    while open_count and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            try:
                chunk = key.fileobj.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                continue
            if chunk:
                received[key.fileobj] += chunk
            else:
                selector.unregister(key.fileobj)
                key.fileobj.close()
                open_count -= 1
    served = sum(1 for i, s in enumerate(socks) if split_responses(received[s])[0][2] == made_up("c%d" % i, 500))
    for s in socks:
        s.close()
    expect(served == count, "%d of %d concurrent connections were served" % (served, count))
    still_serves(p)


def probe_latency(p, count=20):
    times = [None] * count

    def fetch(i):
        started = time.monotonic()
        status, _, body = request(p, "/files/l%d?size=100" % i)
        times[i] = time.monotonic() - started if status == 200 and body == made_up("l%d" % i, 100) else None

    started = time.monotonic()
    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.monotonic() - started
    expect(all(t is not None for t in times), "some requests failed")
    expect(min(times) >= 0.095, "a response came after %.3f s, before its 100 ms latency" % min(times))
    expect(total < 0.6, "%d requests of 100 ms latency took %.2f s together: they did not overlap" % (count, total))


def probe_rate(p):
    started = time.monotonic()
    status, _, body = request(p, "/files/slow.bin?size=102400")
    took = time.monotonic() - started - 0.1  # less the latency
    expect(status == 200 and body == made_up("slow.bin", 102400), "the slow file arrived wrong")
    expect(0.4 <= took <= 2.0, "100 KiB at 200 KiB/s took %.2f s, expected about 0.5 s" % took)


def probe_faults(p, count=300):
    failed = cut = whole = 0
    for i in range(count):
        raw = b"GET /files/f%d?size=20000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % i
        data = exchange(p, raw)
        head, _, body = data.partition(b"\r\n\r\n")
        if head.startswith(b"HTTP/1.1 503 "):
            expect(b"\r\nRetry-After: 0" in head, "a 503 without the Retry-After it was given")
            failed += 1
        elif head.startswith(b"HTTP/1.1 200 "):
            if body == made_up("f%d" % i, 20000):
                whole += 1
            else:
                expect(made_up("f%d" % i, 20000).startswith(body), "a cut body is not a prefix of the file")
                cut += 1
        else:
            raise ProbeFailed("unexpected answer %r" % head[:60])
    expect(failed > 0 and cut > 0 and whole > count // 2,
           "of %d requests: %d 503s, %d cut short, %d whole" % (count, failed, cut, whole))


# ---- a whole life, and the command line ------------------------------------------

def life(server, client):
    """A whole server life: start it on port 0 (port= first), probe it, let a
    client download from it, SIGTERM it: exit 0, and no sanitizer report."""
    log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server's log
    errors = []
    try:
        fileserver = FileServer(["--latency", "1", "--idle-timeout", "1"], binary=server, stderr=log)
    except FileServerError as e:
        fileserver = None
        errors.append(str(e))
    if fileserver:
        try:
            p = fileserver.port
            for probe in (probe_content, probe_traversal, probe_oversized, probe_malformed, probe_idle):
                probe(p)
            probe_concurrent(p, 300)
            with tempfile.TemporaryDirectory() as directory:
                run = subprocess.run([client, "-p", "7", "--server", fileserver.address, "--files", "20",
                                      "--size", "5K", "-o", directory, "-r", "2"],
                                     capture_output=True, text=True, timeout=60)
                expect(run.returncode == 0 and "verified=yes" in run.stdout,
                       "the client failed: %s" % run.stderr[-500:])
        except (ProbeFailed, OSError, ValueError, IndexError, subprocess.TimeoutExpired) as e:
            errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            status, killed = fileserver.stop()
            if killed:
                errors.append("SIGTERM did not stop it within %d s" % SERVER_STOP_TIMEOUT)
            elif status != 0:
                errors.append("exit status %s after SIGTERM" % status)
    log.seek(0)
    err = log.read().decode(errors="replace")
    log.close()
    if "stopping" not in err:
        errors.append("no 'stopping' line on stderr")
    if sanitizer_report(err):
        errors.append("sanitizer report: " + sanitizer_report(err))
    if errors:
        print("; ".join(errors), file=sys.stderr)
        print(err[-3000:], file=sys.stderr)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description="bin/fileserver probes (run by tests/run_tests.py)")
    sub = parser.add_subparsers(dest="command", required=True)
    probe = sub.add_parser("probe")
    probe.add_argument("name", choices=sorted(PROBES))
    probe.add_argument("--port", type=int, required=True)
    whole = sub.add_parser("life")
    whole.add_argument("--server", required=True)
    whole.add_argument("--client", required=True)
    options = parser.parse_args()
    if options.command == "life":
        return life(options.server, options.client)
    try:
        globals()["probe_" + options.name](options.port)
    except (ProbeFailed, OSError, ValueError, IndexError) as e:
        print("probe %s: %s: %s" % (options.name, type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
