"""tests/test_http.py — bin/fileserver's HTTP layer: a file that shrinks while served.

The server's own cases (probes over sockets) are in tests/test_download.py;
the shrinking file is here because it is about what the server does when
the bytes it promised are gone: run as
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import Case, program, sanitizer_env  # noqa: E402

THIS = Path(__file__).resolve()
SHRINKING_SIZE = 8 << 20         # far more than the socket buffers hold
SHRUNK_SIZE = 1000
SERVER_START_TIMEOUT = 10
CLOSE_TIMEOUT = 10               # seconds the client waits for the server to close


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
    return server_cases()


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
    buffer and waits; cut the file short meanwhile; then read on. Returns
    (what happened, body bytes received, Content-Length)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(1.0)  # the server sends until the socket takes no more (EAGAIN), then waits for POLLOUT
        os.truncate(path, SHRUNK_SIZE)
        s.settimeout(CLOSE_TIMEOUT)
        data = b""
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
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        if marker in err:
            errors.append("sanitizer report: " + marker)
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
