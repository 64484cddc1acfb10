"""tests/test_http.py — bin/fileserver's HTTP layer: the request parser alone, and a file that shrinks while served.

The parser (io_bound/http.c) is pure, so it is tested without a server:
each row gives bin/tests/http-parse (tests/http_parse.c) one request, or one
Range value and a file size, and checks what it parsed: the frame (whole,
incomplete, too large), the fields, the decoded path, or the status a bad
request is refused with. The server's own cases (probes over sockets) are in
tests/test_download.py; the shrinking file is here because it is about what
the server does when the bytes it promised are gone: run as
python3 tests/test_http.py shrink --server bin/fileserver.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import Case, program, sanitizer_env, sanitizer_report  # noqa: E402

DRIVER = program("tests/http-parse")
THIS = Path(__file__).resolve()
MAX_REQUEST = 8192               # HTTP_MAX_REQUEST in io_bound/http.h
SHRINKING_SIZE = 8 << 20         # far more than the socket buffers hold
SHRUNK_SIZE = 1000
SERVER_START_TIMEOUT = 10
CLOSE_TIMEOUT = 10               # seconds the client waits for the server to close


def ok(method="GET", target="/files/a?size=3", version="HTTP/1.1", **fields):
    """The fields of a request the parser accepts (status=0)."""
    expected = {"frame": "complete", "status": "0", "method": method, "target": target, "version": version}
    expected.update({key: None if value is None else str(value) for key, value in fields.items()})
    return expected


def refused(status):
    """A whole request the parser refuses with this status (and no fields)."""
    return {"frame": "complete", "status": str(status), "method": None}


def request(line="GET /files/a?size=3 HTTP/1.1", headers=(), end=b"\r\n"):
    """The bytes of a request: its line, its headers, each line ending in end, then the blank line."""
    lines = [line.encode("latin-1") if isinstance(line, str) else line]
    lines += [h.encode("latin-1") if isinstance(h, str) else h for h in headers]
    return b"".join(part + end for part in lines) + end


BIG_HEADER = "X-Big: " + "y" * (MAX_REQUEST - 100)
# (what the row shows, the request's bytes, what must be parsed: key -> value, None for "absent")
REQUESTS = (
    # methods
    ("GET", request(), ok(close=0, range=None, path="/files/a", query="size=3", climbs_out=0)),
    ("HEAD", request("HEAD /files/a?size=3 HTTP/1.1"), ok(method="HEAD")),
    ("another method parses (the server answers 405)", request("DELETE /files/a HTTP/1.1"),
     ok(method="DELETE", target="/files/a")),
    ("a lower-case method is a token too", request("get /files/a?size=3 HTTP/1.1"), ok(method="get")),
    ("a delimiter in the method", request("GE(T /files/a HTTP/1.1"), refused(400)),
    ("no method", request(" /files/a HTTP/1.1"), refused(400)),
    # the request line
    ("the method alone", request("GET"), refused(400)),
    ("no version", request("GET /files/a?size=3"), refused(400)),
    ("two spaces", request("GET  /files/a?size=3 HTTP/1.1"), refused(400)),
    ("a space after the version", request("GET /files/a?size=3 HTTP/1.1 "), refused(400)),
    ("a tab for a space", request("GET\t/files/a HTTP/1.1"), refused(400)),
    ("a control byte in the target", request(b"GET /files/\x01a HTTP/1.1"), refused(400)),
    ("DEL in the target", request(b"GET /files/\x7fa HTTP/1.1"), refused(400)),
    ("a target without its leading /", request("GET files/a?size=3 HTTP/1.1"), refused(400)),
    ("an absolute-form target", request("GET http://host/files/a HTTP/1.1"), refused(400)),
    ("an empty line first", b"\r\n" + request(), refused(400)),
    ("every byte from 1 to 255", bytes(range(1, 256)) + b"\r\n\r\n", refused(400)),
    # versions
    ("HTTP/1.0 closes after the response", request("GET /files/a?size=3 HTTP/1.0"), ok(version="HTTP/1.0", close=1)),
    ("HTTP/1.0 with keep-alive", request("GET /files/a?size=3 HTTP/1.0", ["Connection: keep-alive"]),
     ok(version="HTTP/1.0", close=0)),
    ("HTTP/2.0: 505", request("GET /files/a HTTP/2.0"), refused(505)),
    ("HTTP/1.2: 505", request("GET /files/a HTTP/1.2"), refused(505)),
    ("HTTQ/1.1", request("GET /files/a HTTQ/1.1"), refused(400)),
    ("http/1.1 in lower case", request("GET /files/a http/1.1"), refused(400)),
    ("HTTP/1 without a minor version", request("GET /files/a HTTP/1"), refused(400)),
    ("HTTP/1.1x", request("GET /files/a HTTP/1.1x"), refused(400)),
    ("HTTP/-1.5", request("GET /files/a HTTP/-1.5"), refused(400)),
    # headers
    ("Connection: close", request(headers=["Host: t", "Connection: close"]), ok(close=1)),
    ("connection: CLOSE (names and values without case)", request(headers=["connection: CLOSE"]), ok(close=1)),
    ("Range is kept for the server", request(headers=["Range: bytes=0-99"]), ok(range="bytes=0-99")),
    ("a value without a space after the colon", request(headers=["Range:bytes=1-2"]), ok(range="bytes=1-2")),
    ("spaces and tabs around a value are not part of it", request(headers=["Range: \t bytes=1-2 \t "]),
     ok(range="bytes=1-2")),
    ("a tab inside a value", request(headers=["X-A: b\tc"]), ok()),
    ("bytes above 0x7f in a value (obs-text)", request(headers=[b"X-A: caf\xe9"]), ok()),
    ("a header line without a colon", request(headers=["No colon here"]), refused(400)),
    ("a space in a header name", request(headers=["Bad Name: v"]), refused(400)),
    ("an empty header name", request(headers=[": v"]), refused(400)),
    ("a folded header line (obsolete)", request(headers=["X-A: b", " folded"]), refused(400)),
    ("a header line folded with a tab", request(headers=["X-A: b", "\tfolded"]), refused(400)),
    ("a request body (Content-Length: 5)", request(headers=["Content-Length: 5"]), refused(400)),
    ("Content-Length: 0 is no body", request(headers=["Content-Length: 0"]), ok()),
    ("Transfer-Encoding: chunked", request(headers=["Transfer-Encoding: chunked"]), refused(400)),
    ("a NUL byte in a header", request(headers=[b"X-A: b\x00c", "Content-Length: 5"]), refused(400)),
    ("a bare CR in a header", request(headers=[b"X-A: b\rc"]), refused(400)),
    ("a control byte in a header", request(headers=[b"X-A: b\x01c"]), refused(400)),
    # line endings and framing
    ("bare LF line endings", request(headers=["Host: t"], end=b"\n"), ok()),
    ("CRLF lines, a bare LF blank line", request(headers=["Host: t"])[:-2] + b"\n", ok()),
    ("truncated: no blank line yet", request()[:-2], {"frame": "incomplete", "status": None}),
    ("truncated: half a request line", b"GET /files/a?si", {"frame": "incomplete"}),
    ("nothing at all", b"", {"frame": "incomplete"}),
    ("two requests: the first is framed alone", request() + request("HEAD /files/b?size=1 HTTP/1.1"),
     ok(length=len(request()))),
    ("oversized: no blank line in 8 KiB", request(headers=[BIG_HEADER + "y" * 200])[:-4], {"frame": "too_large"}),
    ("oversized: the blank line past 8 KiB", request(headers=[BIG_HEADER + "y" * 200]), {"frame": "too_large"}),
    ("exactly 8 KiB, blank line included",
     request(headers=[BIG_HEADER + "y" * (MAX_REQUEST - len(request(headers=[BIG_HEADER])))]),
     ok(length=MAX_REQUEST)),
    # targets and percent-encoding
    ("%20 decodes to a space", request("GET /files/a%20b?size=3 HTTP/1.1"),
     ok(target="/files/a%20b?size=3", path="/files/a b", query="size=3")),
    ("%2F decodes to a slash", request("GET /files/a%2Fb HTTP/1.1"), ok(target="/files/a%2Fb", path="/files/a/b")),
    ("%3F is part of the path, ? starts the query", request("GET /files/a%3Fb?size=1 HTTP/1.1"),
     ok(target="/files/a%3Fb?size=1", path="/files/a?b", query="size=1")),
    ("the query is not decoded", request("GET /files/a?x=%20 HTTP/1.1"), ok(target="/files/a?x=%20", query="x=%20")),
    ("no query", request("GET /files/a HTTP/1.1"), ok(target="/files/a", path="/files/a", query="")),
    ("%zz is no escape", request("GET /files/a%zz HTTP/1.1"), ok(target="/files/a%zz", path="bad")),
    ("a cut escape", request("GET /files/a%2 HTTP/1.1"), ok(target="/files/a%2", path="bad")),
    ("a % at the end", request("GET /files/a% HTTP/1.1"), ok(target="/files/a%", path="bad")),
    ("%00", request("GET /files/a%00b HTTP/1.1"), ok(target="/files/a%00b", path="bad")),
    ("a path too long to decode", request("GET /files/" + "p" * 5000 + " HTTP/1.1"),
     ok(target="/files/" + "p" * 5000, path="bad")),
    ("/../ climbs out", request("GET /files/../x HTTP/1.1"), ok(target="/files/../x", climbs_out=1)),
    ("%2e%2e climbs out", request("GET /files/%2e%2e/x HTTP/1.1"), ok(target="/files/%2e%2e/x", path="/files/../x",
                                                                       climbs_out=1)),
    ("%2E%2E%2F climbs out", request("GET /files/%2E%2E%2Fx HTTP/1.1"), ok(target="/files/%2E%2E%2Fx",
                                                                          climbs_out=1)),
    ("a trailing .. climbs out", request("GET /files/a/.. HTTP/1.1"), ok(target="/files/a/..", climbs_out=1)),
    ("..x and x.. are names", request("GET /files/..x/x.. HTTP/1.1"), ok(target="/files/..x/x..", climbs_out=0)),
)

# (Range value, file size, what it asks: none / some FIRST LAST / unsatisfiable)
RANGES = (
    ("bytes=0-99", 1000, "some 0 99"),
    ("bytes=990-", 1000, "some 990 999"),
    ("bytes=-10", 1000, "some 990 999"),
    ("bytes=-2000", 1000, "some 0 999"),
    ("bytes=500-99999", 1000, "some 500 999"),
    ("bytes=0-0", 1, "some 0 0"),
    ("bytes=0-99999999999999999999", 1000, "some 0 999"),
    ("BYTES=0-1", 10, "some 0 1"),
    ("bytes=1000-", 1000, "unsatisfiable"),
    ("bytes=99999999999999999999-", 1000, "unsatisfiable"),
    ("bytes=-0", 1000, "unsatisfiable"),
    ("bytes=0-", 0, "unsatisfiable"),
    ("bytes=-5", 0, "unsatisfiable"),
    ("bytes=5-1", 1000, "none"),
    ("bytes=0-1,5-6", 1000, "none"),
    ("items=0-1", 1000, "none"),
    ("bytes=", 1000, "none"),
    ("bytes=-", 1000, "none"),
    ("bytes=+5-10", 1000, "none"),
    ("bytes= 5-10", 1000, "none"),
    ("bytes=5x-", 1000, "none"),
    ("bytes=--5", 1000, "none"),
    ("", 1000, "none"),
)


def escape(raw):
    """raw bytes as the driver reads them: C escapes for all but visible ASCII."""
    return "".join(chr(b) if 0x20 < b < 0x7f and b != 0x5c else "\\x%02x" % b for b in raw)


def unescape(value):
    """A value the driver printed, its \\xNN escapes undone."""
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), value)


def fields_are(expected):
    """Check: the driver's one line has each expected key with its value (None: the key is absent)."""
    def check(outcome):
        lines = outcome.stdout.splitlines()
        if len(lines) != 1:
            return "expected one line on stdout, got %r" % outcome.stdout[:300]
        got = {}
        for token in lines[0].split():
            key, _, value = token.partition("=")
            got[key] = unescape(value)
        for key, value in expected.items():
            if got.get(key) != value:
                shown = value if value is None or len(value) < 80 else value[:80] + "..."
                return "%s=%r, expected %r (line: %s)" % (key, (got.get(key) or "")[:80] or None, shown, lines[0][:300])
        return None
    return check


def parser_cases():
    """The request table and the Range table, each row its own run of the driver."""
    cases = [Case("http parse: %s" % name, [DRIVER, "request", escape(raw)], 0, [fields_are(expected)],
                  needs=[DRIVER]) for name, raw, expected in REQUESTS]
    for value, size, verdict in RANGES:
        words = verdict.split()
        expected = {"range": words[0]}
        if words[0] == "some":
            expected.update(first=words[1], last=words[2])
        cases.append(Case("http range: '%s' of %d bytes is %s" % (value, size, verdict),
                          [DRIVER, "range", value, size], 0, [fields_are(expected)], needs=[DRIVER]))
    return cases


def server_cases():
    """A --root file that shrinks while it is being sent: the connection is closed, and the server goes on."""
    cases = []
    for flavor in ("", "asan"):
        server = program("fileserver", flavor)
        cases.append(Case("fileserver %s: a --root file that shrinks mid-response closes its connection"
                          % (flavor or "plain"), [sys.executable, THIS, "shrink", "--server", server], 0,
                          env=sanitizer_env(flavor, "serial"), needs=[server], timeout=60))
    return cases


def cases():
    return parser_cases() + server_cases()


# ---- the shrinking file: run as python3 tests/test_http.py shrink --server BIN ----

def read_port_line(proc):
    """The server's first stdout line, within SERVER_START_TIMEOUT seconds."""
    result = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline().decode()), daemon=True)
    reader.start()
    reader.join(SERVER_START_TIMEOUT)
    return result[0] if result else ""


def fetch_while_shrinking(port, path):
    """GET the file with a small receive buffer, so the server fills its send
    buffer and waits; cut the file short once its head has come (the server has
    the file open and has promised its whole size); then read on. Returns
    (what happened, body bytes received, Content-Length)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        # The head, not a fixed wait: a server that had not yet opened the file when
        # it shrank (a loaded machine) would promise the short size and prove nothing.
        s.settimeout(SERVER_START_TIMEOUT)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        os.truncate(path, SHRUNK_SIZE)
        s.settimeout(CLOSE_TIMEOUT)
        try:
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
            ended = "closed"
        except ConnectionResetError:
            ended = "closed"
        except socket.timeout:
            ended = "stalled"
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"\r\nContent-Length: (\d+)", head)
    return ended, len(body), int(match.group(1)) if match else None


def shrink(server):
    """A whole server life around a shrinking file; 0 if it closed the connection and went on serving."""
    errors = []
    with tempfile.TemporaryDirectory() as root:
        big = Path(root) / "big.bin"
        big.write_bytes(os.urandom(SHRINKING_SIZE))
        (Path(root) / "a.txt").write_text("hello\n")
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen([server, "--port", "0", "--root", root], stdout=subprocess.PIPE, stderr=log,
                                stdin=subprocess.DEVNULL)
        try:
            match = re.fullmatch(r"port=(\d+)\n", read_port_line(proc))
            if not match:
                raise OSError("no port= line from %s" % server)
            port = int(match.group(1))
            ended, got, promised = fetch_while_shrinking(port, big)
            if ended != "closed":
                errors.append("the connection stalled after %d of %s bytes: the server neither sent nor closed "
                              "within %d s of the file shrinking" % (got, promised, CLOSE_TIMEOUT))
            elif promised != SHRINKING_SIZE or got >= promised:
                errors.append("Content-Length %s, %d bytes received: expected a body cut short" % (promised, got))
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"GET /files/a.txt HTTP/1.1\r\nConnection: close\r\n\r\n")
                answer = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
            if not (answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nhello\n")):
                errors.append("it no longer serves after the shrinking file: %r" % answer[:80])
        except OSError as e:
            errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                errors.append("SIGTERM did not stop it within 10 s")
        log.seek(0)
        err = log.read().decode(errors="replace")
        log.close()
    if proc.returncode != 0:
        errors.append("exit status %s after SIGTERM" % proc.returncode)
    if "(the file changed while being sent)" not in err:
        errors.append("the log does not say the file changed while being sent")
    if sanitizer_report(err):
        errors.append("sanitizer report: " + sanitizer_report(err))
    if errors:
        print("; ".join(errors), file=sys.stderr)
        print(err[-2000:], file=sys.stderr)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description="bin/fileserver and a file that shrinks (run by tests/run_tests.py)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("shrink")
    run.add_argument("--server", required=True)
    options = parser.parse_args()
    return shrink(options.server)


if __name__ == "__main__":
    sys.exit(main())
