"""tests/test_download.py — the download clients and bin/fileserver: every model against local servers.

setup() starts the servers the cases talk to, each on a free port of
127.0.0.1: a plain one (a little latency), a faulty one (--fail-rate 0.1
--drop-rate 0.05), one serving a directory (--root, with symbolic links that
lead out of it), a slow one (--latency 100 --rate 200) to prove that
transfers overlap and that the limits hold, a tight one (--max-connections
2), and Python's http.server as a "real" server that sends no checksum. teardown() stops them all.

The server's own cases are probes this file runs as a program, each in its
own process: python3 tests/test_download.py probe NAME --port P. The probes
and the checks know the made-up files independently of the C code: the
content and the CRC-32C are recomputed here, in Python, from their definition
in common/content.h.
"""
import argparse
import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import (Case, MPIRUN, ROOT, launch, no_sanitizer_report, parse_result_line,  # noqa: E402
                   program, result_lines, sanitizer_env, stderr_says, stdout_empty, stdout_says,
                   wrong_warmup_line)

WORKLOAD = "download"
MODELS = ("serial", "threads", "processes", "openmp", "mpi", "async")
WORKERS = (1, 2, 7, 32)                   # P = 1, odd P, P far above the cores
FIGURES = ("bytes", "files", "failures", "retries", "mbps", "cpu_user", "cpu_sys")
FILES, SIZE = 40, 20 << 10                # small files: the tests are about behaviour, not speed
SEED = 42                                 # the clients' default: names are file-42-NNNNNN.bin
THIS = Path(__file__).resolve()
FILESERVER = program("fileserver")
SERVER_START_TIMEOUT = 10

# What setup() started: ports by server name, processes, the scratch folder.
STATE = {"tmp": None, "ports": {}, "procs": [], "cases": 0}


# ---- the made-up files, recomputed from their definition (common/content.h) ----

MASK = (1 << 64) - 1


def mix(z):
    """splitmix64's finalizer."""
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
    return z ^ (z >> 31)


def made_up(name, size, first=0):
    """Bytes first .. size-1 of bin/fileserver's file NAME."""
    h = 0xcbf29ce484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001b3) & MASK
    key = mix(h)
    words = range(first // 8, (size + 7) // 8)
    data = b"".join(struct.pack("<Q", mix((key + (w + 1) * 0x9e3779b97f4a7c15) & MASK)) for w in words)
    return data[first % 8:first % 8 + size - first]


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli) of data, bit by bit from its definition."""
    crc = 0xffffffff
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc ^ 0xffffffff


def server_name(i):
    """The name --server gives file i (from 1) with the default seed."""
    return "file-%d-%06d.bin" % (SEED, i)


# ---- the servers ----------------------------------------------------------------

def free_port():
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_fileserver(name, args, binary=FILESERVER):
    """Start bin/fileserver --port 0 ARGS; remember its port (from its first line)."""
    log = open(Path(STATE["tmp"]) / ("%s.log" % name), "w")
    proc = subprocess.Popen([str(binary), "--port", "0"] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=log, stdin=subprocess.DEVNULL, cwd=ROOT)
    log.close()
    STATE["procs"].append(proc)
    line = read_port_line(proc)
    match = re.fullmatch(r"port=(\d+)", line.strip())
    if not match:
        raise RuntimeError("%s: first line %r, expected port=NNNN" % (binary, line))
    STATE["ports"][name] = int(match.group(1))


def read_port_line(proc):
    """The server's first stdout line, within SERVER_START_TIMEOUT seconds."""
    result = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline().decode()), daemon=True)
    reader.start()
    reader.join(SERVER_START_TIMEOUT)
    return result[0] if result else ""


def make_root(tmp):
    """The --root tree: files, a folder, an empty file, and links in and out of it."""
    root, outside = tmp / "root", tmp / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    (root / "a.txt").write_text("hello\n")
    (root / "sub" / "b.bin").write_bytes(made_up("b", 100000))
    (root / "empty.bin").write_bytes(b"")
    os.symlink("a.txt", root / "good.txt")                      # inside: allowed
    os.symlink(outside / "secret.txt", root / "evil.txt")       # outside: refused
    os.symlink(outside, root / "evildir")
    return root


def setup():
    """Start the servers the cases talk to (if bin/fileserver was built)."""
    tmp = Path(tempfile.mkdtemp(prefix="download-tests-"))
    STATE["tmp"] = str(tmp)
    root = make_root(tmp)
    STATE["ports"]["closed"] = free_port()
    if not FILESERVER.exists():
        return
    start_fileserver("plain", ["--latency", 2, "--idle-timeout", 2, "--quiet"])
    start_fileserver("faulty", ["--latency", 2, "--fail-rate", 0.1, "--drop-rate", 0.05, "--seed", 7,
                                "--retry-after", 0, "--quiet"])
    start_fileserver("rooted", ["--root", root, "--quiet"])
    start_fileserver("slow", ["--latency", 100, "--rate", 200, "--quiet"])
    start_fileserver("tight", ["--latency", 20, "--max-connections", 2, "--quiet"])
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root),
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    STATE["procs"].append(proc)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    STATE["ports"]["python"] = port


def teardown():
    """Stop every server setup() started; remove the scratch folder."""
    for proc in STATE["procs"]:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in STATE["procs"]:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if STATE["tmp"]:
        shutil.rmtree(STATE["tmp"], ignore_errors=True)


def port(name):
    """The port of a server setup() started (0 when it did not, e.g. under --list)."""
    return STATE["ports"].get(name, 0)


def out_dir():
    """A fresh output folder for one case."""
    STATE["cases"] += 1
    return str(Path(STATE["tmp"] or tempfile.gettempdir()) / ("case-%03d" % STATE["cases"]))


def write_list(lines):
    """A URL list file for -i."""
    STATE["cases"] += 1
    path = Path(STATE["tmp"] or tempfile.gettempdir()) / ("list-%03d.txt" % STATE["cases"])
    if STATE["tmp"]:
        path.write_text("".join(line + "\n" for line in lines))
    return str(path)


# ---- checks -------------------------------------------------------------------------

def files_intact(directory, expected, absent=()):
    """Check: each file of expected (name -> bytes) is in directory with exactly
    that content, no NAME.part is left anywhere, and the absent names are not there."""
    def check(outcome):
        folder = Path(directory)
        for name, content in expected.items():
            path = folder / name
            if not path.exists():
                return "%s is missing" % name
            if path.read_bytes() != content:
                return "%s differs from the file the server serves" % name
        for name in absent:
            if (folder / name).exists():
                return "%s should not be there" % name
        leftovers = [p.name for p in folder.glob("*.part")] if folder.exists() else []
        if leftovers:
            return "left behind: %s" % ", ".join(sorted(leftovers))
        return None
    return check


def server_files(count, size):
    """name -> content of the files --server --files count --size size fetches."""
    return {server_name(i): made_up(server_name(i), size) for i in range(1, count + 1)}


def figure(key, test, description):
    """Check: every result line's key passes test (a function of its value)."""
    def check(outcome):
        for line in outcome.stdout.splitlines():
            value = parse_result_line(line).get(key)
            if value is None or not test(value):
                return "%s=%s, expected %s" % (key, value, description)
        return None
    return check


def needs(model, flavor=""):
    """The programs a client case needs: the client, and the server it talks to."""
    return [program("%s-%s" % (WORKLOAD, model), flavor), FILESERVER]


def workers_for(model):
    return (1,) if model == "serial" else WORKERS


# ---- the client cases -------------------------------------------------------------------

def every_model_every_p(server, count, size, reps, warmup, label):
    """Every client × P against a server: every run verifies, every file intact."""
    cases = []
    for model in MODELS:
        for p in workers_for(model):
            directory = out_dir()
            args = ["--server", "127.0.0.1:%d" % port(server), "--files", count, "--size", size, "-o", directory,
                    "-r", reps, "--warmup", warmup]
            cases.append(Case("download %s p=%d (%s server)" % (model, p, label), launch(WORKLOAD, model, p, args), 0,
                              [result_lines(WORKLOAD, model, count, p, reps=reps, figures=FIGURES),
                               figure("failures", lambda v: v == "0", "0"),
                               figure("files", lambda v, c=count: v == str(c), str(count)),
                               files_intact(directory, server_files(count, size))],
                              needs=needs(model)))
    return cases


def a_missing_file(model, p, flavor=""):
    """A 404 among the files: named on stderr, nothing left under its name, exit 1, the rest intact."""
    directory = out_dir()
    good = {"ok-%d.bin" % i: made_up("ok-%d.bin" % i, 3000 + i) for i in range(5)}
    urls = ["http://127.0.0.1:%d/files/%s?size=%d" % (port("plain"), name, len(data)) for name, data in good.items()]
    urls.insert(2, "http://127.0.0.1:%d/missing/gone.bin" % port("plain"))
    args = ["-i", write_list(urls), "-o", directory, "--warmup", 0]
    checks = [result_lines(WORKLOAD, model, 6, p, verified="no", figures=FIGURES),
              figure("failures", lambda v: v == "1", "1"), figure("files", lambda v: v == "5", "5"),
              stderr_says("gone.bin", "404", "1 of 6 files could not be downloaded"),
              files_intact(directory, good, absent=("gone.bin", "gone.bin.part"))]
    if flavor:
        checks.append(no_sanitizer_report)
    return Case("download %s%s p=%d: a 404 is reported, the rest intact" % (flavor + " " if flavor else "", model, p),
                launch(WORKLOAD, model, p, args, flavor), 1, checks, env=sanitizer_env(flavor, model),
                needs=needs(model, flavor))


def failures_and_checks():
    """404s, an unreachable server, a corrupted file, --no-verify with a failure."""
    cases = []
    for model in MODELS:
        p = 1 if model == "serial" else 3
        cases.append(a_missing_file(model, p))
        cases.append(Case("download %s p=%d: an unreachable server is a clear error" % (model, p),
                          launch(WORKLOAD, model, p, ["--server", "127.0.0.1:%d" % port("closed"), "--files", 3,
                                                      "-o", out_dir(), "--warmup", 0]), 1,
                          [result_lines(WORKLOAD, model, 3, p, verified="no", figures=FIGURES),
                           stderr_says("giving up on file-42-000001.bin", "onnect", "3 of 3 files")],
                          needs=needs(model)))
        cases.append(Case("download %s p=%d catches a corrupted file" % (model, p),
                          launch(WORKLOAD, model, p, ["--server", "127.0.0.1:%d" % port("plain"), "--files", 5,
                                                      "--size", 1000, "-o", out_dir(), "--warmup", 0,
                                                      "--inject-error"]), 1,
                          [result_lines(WORKLOAD, model, 5, p, verified="no", figures=FIGURES),
                           stderr_says("wrong result: file-42-000001.bin byte 500")],
                          needs=needs(model)))
        cases.append(Case("download %s stops at a corrupted warm-up run" % model,
                          launch(WORKLOAD, model, p, ["--server", "127.0.0.1:%d" % port("plain"), "--files", 2,
                                                      "--size", 100, "-o", out_dir(), "--inject-error"]), 1,
                          [wrong_warmup_line(WORKLOAD, model, 2, p), stderr_says("untimed warm-up run")], needs=needs(model)))
    directory = out_dir()
    cases.append(Case("download threads --no-verify still fails on a 404",
                      launch(WORKLOAD, "threads", 2, ["-i", write_list(
                          ["http://127.0.0.1:%d/files/x.bin?size=10" % port("plain"),
                           "http://127.0.0.1:%d/nope/y.bin" % port("plain")]), "-o", directory, "--warmup", 0,
                          "--no-verify"]), 1,
                      [result_lines(WORKLOAD, "threads", 2, 2, verified="skipped", figures=FIGURES),
                       stderr_says("y.bin", "404", "1 download was given up on")],
                      needs=needs("threads")))
    return cases


def behaviour():
    """What else the clients promise: real files, foreign servers, overlap, fresh runs, retries."""
    rooted, python, slow = port("rooted"), port("python"), port("slow")
    root_files = {"a.txt": b"hello\n", "b.bin": made_up("b", 100000), "empty.bin": b""}
    cases = []
    for label, server_port, prefix in (("bin/fileserver --root", rooted, "files/"),
                                       ("Python's http.server, no checksum", python, "")):
        directory = out_dir()
        urls = ["http://127.0.0.1:%d/%s%s" % (server_port, prefix, p) for p in ("a.txt", "sub/b.bin", "empty.bin")]
        cases.append(Case("download async -i real files from %s" % label,
                          launch(WORKLOAD, "async", 2, ["-i", write_list(urls), "-o", directory, "-r", 2]), 0,
                          [result_lines(WORKLOAD, "async", 3, 2, reps=2, figures=FIGURES),
                           files_intact(directory, root_files)], needs=needs("async")))
    # P transfers overlap: 16 files of 100 ms latency each take about 0.1 s, not 1.6 s.
    for model in ("threads", "async", "openmp"):
        cases.append(Case("download %s -p 16: 16 transfers of 100 ms latency overlap" % model,
                          launch(WORKLOAD, model, 16, ["--server", "127.0.0.1:%d" % slow, "--files", 16,
                                                       "--size", 1000, "-o", out_dir(), "-r", 2]), 0,
                          [result_lines(WORKLOAD, model, 16, 16, reps=2, figures=FIGURES),
                           figure("seconds", lambda v: float(v) < 0.6, "under 0.6 s (about 0.1 s)")],
                          needs=needs(model)))
    # Every run really downloads: a stale, wrong file of the same name is replaced,
    # and each of three runs takes its 4 × 100 ms of latency.
    directory = out_dir()
    if STATE["tmp"]:
        Path(directory).mkdir()
        (Path(directory) / server_name(1)).write_bytes(b"stale")
    cases.append(Case("download serial: every run downloads afresh",
                      launch(WORKLOAD, "serial", 1, ["--server", "127.0.0.1:%d" % slow, "--files", 4, "--size", 100,
                                                     "-o", directory, "-r", 3, "--warmup", 0]), 0,
                      [result_lines(WORKLOAD, "serial", 4, 1, reps=3, figures=FIGURES),
                       figure("seconds", lambda v: float(v) >= 0.38, "at least 4 × 0.1 s"),
                       files_intact(directory, server_files(4, 100))], needs=needs("serial")))
    directory = out_dir()
    cases.append(Case("download threads: faults really happen, and are retried",
                      launch(WORKLOAD, "threads", 8, ["--server", "127.0.0.1:%d" % port("faulty"), "--files", 80,
                                                      "--size", 8000, "-o", directory, "--warmup", 0]), 0,
                      [result_lines(WORKLOAD, "threads", 80, 8, figures=FIGURES),
                       figure("retries", lambda v: int(v) > 0, "some"), files_intact(directory, server_files(80, 8000))],
                      needs=needs("threads")))
    # A full server closes connections idle between requests for the ones waiting to be accepted.
    cases.append(Case("download async -p 16 through a server of --max-connections 2",
                      launch(WORKLOAD, "async", 16, ["--server", "127.0.0.1:%d" % port("tight"), "--files", 16,
                                                     "--size", 1000, "-o", out_dir(), "--warmup", 0]), 0,
                      [result_lines(WORKLOAD, "async", 16, 16, figures=FIGURES),
                       figure("retries", lambda v: v == "0", "0"),
                       figure("seconds", lambda v: float(v) < 5, "under 5 s (about 8 × 20 ms)")],
                      needs=needs("async")))
    cases.append(Case("download mpi refuses -p 3 with 2 ranks",
                      [MPIRUN, "-np", 2, program("download-mpi"), "-p", 3, "--server", "127.0.0.1:1"], 2,
                      [stdout_empty, stderr_says("-p 3", "2 MPI ranks")], needs=[program("download-mpi")]))
    cases.append(Case("download serial cannot write its result: exit 1",
                      [program("download-serial"), "--server", "127.0.0.1:%d" % port("plain"), "--files", 1,
                       "--size", 10, "-o", out_dir()], 1, [stderr_says("cannot write")], stdout_path="/dev/full",
                      needs=needs("serial")))
    return cases


# Bad command lines every client must refuse with exit 2, naming the argument.
BAD_INPUT = (
    (["-p", "0"], "'0'"),
    (["-p", "257"], "'257'"),
    (["--server", "nocolon"], "'nocolon'"),
    (["--server", "host:0"], "'host:0'"),
    (["--server", "host:65536"], "'host:65536'"),
    (["--server", ":80"], "':80'"),
    (["--server", "a:b:80"], "'a:b:80'"),
    (["--server", "user@host:80"], "'user@host:80'"),
    (["--server", "127.0.0.1:80", "--files", "0"], "'0'"),
    (["--server", "127.0.0.1:80", "--size", "0"], "'0'"),
    (["--server", "127.0.0.1:80", "--size", "12Q"], "'12Q'"),
    (["--server", "127.0.0.1:80", "--files", "100000", "--size", "1G"], "needs"),
    ([], "no URLs"),
    (["-i", "/nonexistent/urls.txt"], "-i /nonexistent/urls.txt"),
    (["-i", "@LIST", "--server", "127.0.0.1:80"], "not both"),
    (["-i", "@LIST", "--size", "1K"], "--size"),
    (["-i", "@LIST", "-n", "7"], "-n 7"),
    (["-i", "@FTP"], "not an http:// or https:// URL"),
    (["-i", "@NOTURL"], "is not a URL"),
    (["-i", "@NONAME"], "names no file"),
    (["-i", "@TWICE"], "would both be saved as 'a.bin'"),
    (["-i", "@EMPTY"], "no URLs in it"),
    (["--server", "127.0.0.1:80", "-o", "@FILE"], "not a directory"),
    (["--server", "127.0.0.1:80", "-o", "@FILE/sub"], "-o"),
    (["-o"], "-o needs a value"),
    (["--frobnicate"], "'--frobnicate'"),
)
# The lists and files the bad command lines name.
BAD_FILES = {"@LIST": "http://127.0.0.1:1/files/a.bin?size=1\n", "@FTP": "ftp://host/a.bin\n",
             "@NOTURL": "not a url\n", "@NONAME": "http://host/folder/\n",
             "@TWICE": "http://one/a.bin\nhttp://two/x/a.bin\n", "@EMPTY": "\n# only a comment\n",
             "@FILE": "not a directory\n"}


def bad_input():
    """The clients refuse each bad command line: exit 2, a message, no result.
    The whole table for one client; the parser is shared, so a few for the rest."""
    made = {}
    for marker, text in BAD_FILES.items():
        made[marker] = write_list([])
        if STATE["tmp"]:
            Path(made[marker]).write_text(text)
    cases = []
    for model in MODELS:
        exe = program("download-" + model)
        table = BAD_INPUT if model == "threads" else BAD_INPUT[:3] + BAD_INPUT[12:14]
        for args, named in table:
            argv = []
            for a in args:
                for marker, path in made.items():
                    a = a.replace(marker, path)
                argv.append(a)
            if model == "serial" and args[:1] == ["-p"]:
                continue
            cases.append(Case("download %s refuses %s" % (model, " ".join(args) or "''"), [exe] + argv, 2,
                              [stdout_empty, stderr_says(named)], needs=[exe]))
        cases.append(Case("download %s --help" % model, [exe, "--help"], 0,
                          [stdout_says(r"usage: download-%s" % model), stdout_says(r"--server HOST:PORT")],
                          needs=[exe]))
    serial = program("download-serial")
    cases.append(Case("download serial refuses -p 2", [serial, "-p", "2", "--server", "127.0.0.1:80"], 2,
                      [stdout_empty, stderr_says("-p 2", "exactly one worker")], needs=[serial]))
    return cases


def sanitizers():
    """ASan+UBSan runs of every client against the faulty server (retries, resumes,
    give-ups), a 404 each in ASan and TSan, and TSan's run of the threads client."""
    cases = []
    for flavor, models in (("asan", MODELS), ("tsan", ("threads",))):
        for model in models:
            p = {"serial": 1, "mpi": 2}.get(model, 7)
            directory = out_dir()
            args = ["--server", "127.0.0.1:%d" % port("faulty"), "--files", 24, "--size", 8000, "-o", directory,
                    "-r", 2]
            cases.append(Case("download %s %s p=%d (faulty server)" % (flavor, model, p),
                              launch(WORKLOAD, model, p, args, flavor), 0,
                              [result_lines(WORKLOAD, model, 24, p, reps=2, figures=FIGURES), no_sanitizer_report,
                               files_intact(directory, server_files(24, 8000))],
                              env=sanitizer_env(flavor, model), needs=needs(model, flavor)))
    cases.append(a_missing_file("async", 3, "asan"))
    cases.append(a_missing_file("threads", 7, "tsan"))
    return cases


# ---- the server's cases --------------------------------------------------------------------

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
PROBE_SERVER = {"content": "plain", "root": "rooted", "traversal": "plain", "oversized": "plain",
                "malformed": "plain", "idle": "plain", "concurrent": "plain", "latency": "slow", "rate": "slow",
                "faults": "faulty"}

BAD_SERVER_FLAGS = (
    (["--port", "70000"], "'70000'"),
    (["--port", "-1"], "'-1'"),
    (["--fail-rate", "2"], "'2'"),
    (["--drop-rate", "x"], "'x'"),
    (["--latency", "1.5"], "'1.5'"),
    (["--root", "/nonexistent/folder"], "--root /nonexistent/folder"),
    (["--bind", "999.1.1.1"], "--bind 999.1.1.1"),
    (["--idle-timeout", "0"], "'0'"),
    (["--quiet=1"], "--quiet takes no value"),
    (["--frobnicate"], "'--frobnicate'"),
)


def server_cases():
    """The server's probes, its bad flags, and whole lives under SIGTERM (plain and ASan)."""
    cases = [Case("fileserver %s" % text, [sys.executable, THIS, "probe", name, "--port", port(PROBE_SERVER[name])],
                  0, needs=[FILESERVER]) for name, text in PROBES.items()]
    for args, named in BAD_SERVER_FLAGS:
        cases.append(Case("fileserver refuses %s" % " ".join(args), [FILESERVER] + args, 2,
                          [stdout_empty, stderr_says(named)], needs=[FILESERVER]))
    cases.append(Case("fileserver --help", [FILESERVER, "--help"], 0, [stdout_says(r"usage: fileserver")],
                      needs=[FILESERVER]))
    for flavor in ("", "asan"):
        client = program("download-threads", flavor)
        cases.append(Case("fileserver %s: port=, probes, a client, SIGTERM ends it cleanly" % (flavor or "plain"),
                          [sys.executable, THIS, "life", "--server", program("fileserver", flavor), "--client", client],
                          0, env=sanitizer_env(flavor, "threads"), needs=[program("fileserver", flavor), client]))
    return cases


def cases():
    """Every download and fileserver table, in the order they are reported."""
    return (every_model_every_p("plain", FILES, SIZE, 2, 1, "plain")
            + every_model_every_p("faulty", 24, 8000, 1, 0, "faulty")
            + failures_and_checks() + behaviour() + bad_input() + server_cases() + sanitizers())


# ---- the probes: run as python3 tests/test_download.py probe NAME --port P ----------------------

class ProbeFailed(Exception):
    pass


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


def life(server, client):
    """A whole server life: start it on port 0 (port= first), probe it, let a
    client download from it, SIGTERM it: exit 0, and no sanitizer report."""
    log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server's log
    proc = subprocess.Popen([server, "--port", "0", "--latency", "1", "--idle-timeout", "1"],
                            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    errors = []
    try:
        line = read_port_line(proc)
        match = re.fullmatch(r"port=(\d+)\n", line)
        expect(match, "the first line on stdout is %r, not port=NNNN" % line)
        p = int(match.group(1))
        for probe in (probe_content, probe_traversal, probe_oversized, probe_malformed, probe_idle):
            probe(p)
        probe_concurrent(p, 300)
        with tempfile.TemporaryDirectory() as directory:
            run = subprocess.run([client, "-p", "7", "--server", "127.0.0.1:%d" % p, "--files", "20", "--size", "5K",
                                  "-o", directory, "-r", "2"], capture_output=True, text=True, timeout=60)
            expect(run.returncode == 0 and "verified=yes" in run.stdout,
                   "the client failed: %s" % run.stderr[-500:])
    except (ProbeFailed, OSError, ValueError, IndexError, subprocess.TimeoutExpired) as e:
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
    if "stopping" not in err:
        errors.append("no 'stopping' line on stderr")
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        if marker in err:
            errors.append("sanitizer report: " + marker)
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
