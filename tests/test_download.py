"""tests/test_download.py — the download clients and bin/fileserver: every model against local servers.

setup() starts the servers the cases talk to, each on a free port of
127.0.0.1: a plain one (a little latency), a faulty one (--fail-rate 0.1
--drop-rate 0.05), one serving a directory (--root, with symbolic links that
lead out of it), a slow one (--latency 100 --rate 200) to prove that
transfers overlap and that the limits hold, a tight one (--max-connections
2), and Python's http.server as a "real" server that sends no checksum. teardown() stops them all.

The server's own cases are probes, each in its own process:
tests/fileserver_probes.py probe NAME --port P. The probes and the checks
know the made-up files independently of the C code: the content and the
CRC-32C are recomputed in Python from their definition in common/content.h
(tools/harness/content.py).
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fileserver_probes import PROBES  # noqa: E402
from suite import (Case, FileServer, MPIRUN, PROXY_VARIABLES, ROOT, fails_on, launch,  # noqa: E402
                   no_sanitizer_report, parsed_stdout, program, result_lines, sanitizer_env, stderr_lacks,
                   stderr_says, stdout_empty, stdout_says, wrong_warmup_line)
from harness.content import made_up  # noqa: E402  (suite puts tools/ on the path)
from test_checked_calls import FAIL_CALLS, preloadable  # noqa: E402

WORKLOAD = "download"
MODELS = ("serial", "threads", "processes", "openmp", "mpi", "async")
WORKERS = (1, 2, 7, 32)                   # P = 1, odd P, P far above the cores
FIGURES = ("bytes", "files", "failures", "retries", "mbps", "cpu_user", "cpu_sys")
FILES, SIZE = 40, 20 << 10                # small files: the tests are about behaviour, not speed
SEED = 42                                 # the clients' default: names are file-42-NNNNNN.bin
PROBES_PROGRAM = ROOT / "tests" / "fileserver_probes.py"
FILESERVER = program("fileserver")
SERVER_START_TIMEOUT = 10   # seconds Python's http.server may take to listen

# What setup() started: ports by server name, the file servers, Python's
# http.server, the socket that keeps the closed port, the scratch folder; and how
# many scratch names were handed out.
STATE = {"tmp": None, "ports": {}, "servers": [], "python": None, "closed": None, "cases": 0}


# ---- the servers ----------------------------------------------------------------

def closed_port():
    """A port that refuses connections for as long as the table runs: bound and
    never listened on, so the kernel hands it to no other server (a port bound
    and let go was handed to another table's server, running alongside, and
    the 'unreachable' server answered 404)."""
    keeper = socket.socket()
    keeper.bind(("127.0.0.1", 0))
    STATE["closed"] = keeper
    return keeper.getsockname()[1]


def start_fileserver(name, args):
    """Start bin/fileserver --port 0 ARGS, its log in the scratch folder; remember its port."""
    with open(Path(STATE["tmp"]) / ("%s.log" % name), "w") as log:
        server = FileServer(args, binary=FILESERVER, stderr=log, cwd=ROOT)
    STATE["servers"].append(server)
    STATE["ports"][name] = server.port


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
    """Start the servers the cases talk to (if bin/fileserver was built);
    if one does not start, stop those that did, and say why."""
    try:
        start_servers()
    except Exception:
        teardown()
        raise


def start_servers():
    """setup()'s work: the scratch folder, the --root tree, every server."""
    tmp = Path(tempfile.mkdtemp(prefix="download-tests-"))
    STATE["tmp"] = str(tmp)
    root = make_root(tmp)
    STATE["ports"]["closed"] = closed_port()
    if not FILESERVER.exists():
        return
    start_fileserver("plain", ["--latency", 2, "--idle-timeout", 2, "--quiet"])
    start_fileserver("faulty", ["--latency", 2, "--fail-rate", 0.1, "--drop-rate", 0.05, "--seed", 7,
                                "--retry-after", 0, "--quiet"])
    start_fileserver("rooted", ["--root", root, "--quiet"])
    start_fileserver("slow", ["--latency", 100, "--rate", 200, "--quiet"])
    start_fileserver("tight", ["--latency", 20, "--max-connections", 2, "--quiet"])
    STATE["python"] = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1",
                                        "--directory", str(root), "0"], stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    STATE["ports"]["python"] = python_server_port(STATE["python"])


def python_server_port(proc):
    """The port Python's http.server chose (it was asked for port 0, so no other
    server can take it first): read from its 'Serving HTTP on ... port N' line."""
    ready, _, _ = select.select([proc.stdout], [], [], SERVER_START_TIMEOUT)
    line = proc.stdout.readline() if ready else ""
    found = re.search(r" port (\d+) ", line)
    if not found:
        raise RuntimeError("Python's http.server did not start within %d s (it printed %r)"
                           % (SERVER_START_TIMEOUT, line))
    return int(found.group(1))


def teardown():
    """Stop every server setup() started; remove the scratch folder."""
    for server in STATE["servers"]:
        server.stop()
    STATE["servers"] = []
    proc, STATE["python"] = STATE["python"], None
    if proc:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    keeper, STATE["closed"] = STATE["closed"], None
    if keeper:
        keeper.close()
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


def server_name(i):
    """The name --server gives file i (from 1) with the default seed."""
    return "file-%d-%06d.bin" % (SEED, i)


def at_most_files(directory, most):
    """Check: directory holds at most most files under their final names."""
    def check(outcome):
        whole = [name for name in os.listdir(directory) if not name.endswith(".part")]
        return None if len(whole) <= most else "%d files downloaded, expected at most %d" % (len(whole), most)
    return check


def server_files(count, size):
    """name -> content of the files --server --files count --size size fetches."""
    return {server_name(i): made_up(server_name(i), size) for i in range(1, count + 1)}


def figure(key, test, description):
    """Check: there are result lines, and every one's key passes test (a function of its value)."""
    def check(outcome):
        lines, problem = parsed_stdout(outcome)
        if problem:
            return problem
        for pairs in lines:
            value = pairs.get(key)
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
                           stderr_says("giving up on file-42-000001.bin", "onnect", "3 of 3 files"),
                           stderr_lacks("loopback")],   # one host: its loopback is the server's
                          needs=needs(model)))
        cases.append(Case("download %s p=%d catches a corrupted file" % (model, p),
                          launch(WORKLOAD, model, p, ["--server", "127.0.0.1:%d" % port("plain"), "--files", 5,
                                                      "--size", 1000, "-o", out_dir(), "--warmup", 0,
                                                      "--inject-error"]), 1,
                          [result_lines(WORKLOAD, model, 5, p, verified="no", figures=FIGURES),
                           stderr_says("wrong result: file-42-000001.bin byte 500")],
                          needs=needs(model)))
        # Python's http.server sends no CRC-32C: the check knows only a.txt's size, and must still fail.
        cases.append(Case("download %s catches a corrupted file from a server that sends no checksum" % model,
                          launch(WORKLOAD, model, p, ["-i", write_list(["http://127.0.0.1:%d/a.txt" % port("python")]),
                                                      "-o", out_dir(), "--warmup", 0, "--inject-error"]), 1,
                          [result_lines(WORKLOAD, model, 1, p, verified="no", figures=FIGURES),
                           stderr_says("wrong result: a.txt has 7 bytes, expected 6")],
                          needs=needs(model)))
        cases.append(Case("download %s stops at a corrupted warm-up run" % model,
                          launch(WORKLOAD, model, p, ["--server", "127.0.0.1:%d" % port("plain"), "--files", 2,
                                                      "--size", 100, "-o", out_dir(), "--inject-error"]), 1,
                          [wrong_warmup_line(WORKLOAD, model, 2, p), stderr_says("untimed warm-up run")], needs=needs(model)))
    cases += through_no_proxy()
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


def proxy_env():
    """An environment naming a proxy at the closed port, in every spelling
    libcurl and Python read: a client that went through it would get nowhere."""
    return {name: "http://127.0.0.1:%d" % port("closed") for name in PROXY_VARIABLES}


def through_no_proxy():
    """Every client talks to the servers directly whatever proxy the
    environment names (login nodes often set http_proxy); the case fails on
    Python's urllib, which goes through it."""
    cases = []
    for model in MODELS:
        p = 1 if model == "serial" else 2
        directory = out_dir()
        cases.append(Case("download %s p=%d: http_proxy and the like are not used" % (model, p),
                          launch(WORKLOAD, model, p, ["--server", "127.0.0.1:%d" % port("plain"), "--files", 3,
                                                      "--size", 1000, "-o", directory, "--warmup", 0]), 0,
                          [result_lines(WORKLOAD, model, 3, p, figures=FIGURES),
                           files_intact(directory, server_files(3, 1000))],
                          env=proxy_env(), needs=needs(model)))
    url = "http://127.0.0.1:%d/files/%s?size=1000" % (port("plain"), server_name(1))
    fetch = "import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])"
    cases.append(fails_on(cases[0], [sys.executable, "-c", fetch, url, os.path.join(out_dir(), "f")],
                          "urllib, which goes through the proxy"))
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
    # A thread that cannot be started fails the run at once: the one already running takes no more files
    # (40 files at 100 ms each, one after another, without it).
    directory = out_dir()
    cases.append(Case("download threads: pthread_create failing for worker 1 is reported, and worker 0 stops",
                      launch(WORKLOAD, "threads", 2, ["--server", "127.0.0.1:%d" % port("slow"), "--files", 40,
                                                      "--size", 1000, "-o", directory, "--warmup", 0]), 1,
                      [stderr_says("pthread_create for worker 1 failed: Resource temporarily unavailable"),
                       at_most_files(directory, 2)],
                      env={"LD_PRELOAD": preloadable(FAIL_CALLS), "FAIL_CALL": "pthread_create", "FAIL_AFTER": "1"},
                      needs=needs("threads") + [FAIL_CALLS]))
    # `ulimit -f` stands in for a full disk: each file given up on and named, none killed by SIGXFSZ (exit 153).
    directory = out_dir()
    cases.append(Case("download threads writing past ulimit -f: exit 1, each file named, none under its final name",
                      ["sh", "-c", 'ulimit -f 50; exec "$0" "$@"', program("download-threads"), "-p", 2, "--server",
                       "127.0.0.1:%d" % port("plain"), "--files", 3, "--size", "100K", "-o", directory, "--warmup",
                       0], 1,
                      [stderr_says("giving up on file-42-000003.bin", "File too large",
                                                 "3 of 3 files could not be downloaded"),
                       files_intact(directory, {}, absent=list(server_files(3, 1)))], needs=needs("threads")))
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
    (["--server", "%31:80"], "'%31:80'"),
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
    (["-i", "@NOHOST"], "'http:///files/a.bin' has no host name or IP address after its '//'"),
    (["-i", "@ESCAPED"], "'http://%31/a.bin' has no host name or IP address"),
    (["-i", "@PART"], "'a.bin.part' in the list is the name 'a.bin' is downloaded into until it is complete"),
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
             "@PART": "http://one/a.bin.part\nhttp://two/a.bin\n", "@NOHOST": "http:///files/a.bin\n",
             "@ESCAPED": "http://%31/a.bin\n",
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
        table = BAD_INPUT if model == "threads" else BAD_INPUT[:3] + BAD_INPUT[13:15]
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

# The server each probe (tests/fileserver_probes.py) runs against.
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
    cases = [Case("fileserver %s" % text,
                  [sys.executable, PROBES_PROGRAM, "probe", name, "--port", port(PROBE_SERVER[name])],
                  0, needs=[FILESERVER]) for name, text in PROBES.items()]
    for args, named in BAD_SERVER_FLAGS:
        cases.append(Case("fileserver refuses %s" % " ".join(args), [FILESERVER] + args, 2,
                          [stdout_empty, stderr_says(named)], needs=[FILESERVER]))
    cases.append(Case("fileserver --help", [FILESERVER, "--help"], 0, [stdout_says(r"usage: fileserver")],
                      needs=[FILESERVER]))
    cases.append(Case("fileserver --help with stdout on a full disk: exit 1, said (it said nothing, exit 0)",
                      [FILESERVER, "--help"], 1, [stderr_says("cannot write the help to stdout: No space left on "
                                                              "device")], stdout_path="/dev/full", needs=[FILESERVER]))
    for flavor in ("", "asan"):
        client = program("download-threads", flavor)
        cases.append(Case("fileserver %s: port=, probes, a client, SIGTERM ends it cleanly" % (flavor or "plain"),
                          [sys.executable, PROBES_PROGRAM, "life", "--server", program("fileserver", flavor),
                           "--client", client],
                          0, env=sanitizer_env(flavor, "threads"), needs=[program("fileserver", flavor), client]))
    return cases


def cases():
    """Every download and fileserver table, in the order they are reported."""
    return (every_model_every_p("plain", FILES, SIZE, 2, 1, "plain")
            + every_model_every_p("faulty", 24, 8000, 1, 0, "faulty")
            + failures_and_checks() + behaviour() + bad_input() + server_cases() + sanitizers())
