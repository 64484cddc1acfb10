#!/usr/bin/env python3
"""tests/lesson_blocks.py — run every shell block of a lesson, in order, and check its promises.

Usage: tests/lesson_blocks.py lessons/NN-name.md [--list]

A lesson's runnable blocks are its fenced code blocks whose info string is
`sh`; other blocks (text, c, python, console) are shown, not run. HTML
comments right after a block's closing fence tell the test what the text
promises (a reader of the rendered page sees none of them):

  <!-- expect: TEXT -->       the block's output (stdout and stderr) contains TEXT
  <!-- expect-exit: N -->     its last command exits with N (default 0; "any" when it varies)
  <!-- creates: PATH -->      PATH exists afterwards (relative to the top folder)
  <!-- test-env: A=1 B=2 -->  extra environment for the test's run only, e.g. smaller sizes
  <!-- timeout: SECONDS -->   the block's time limit (default 300)
  <!-- skip: REASON -->       not run by the test (e.g. it needs a cluster); REASON is required
  <!-- needs: WHAT -->        what the block needs that its text does not show the test, by its
                              Debian package: a command of that name (curl), or a Python module
                              (python3-matplotlib: python3 imports matplotlib)

Blocks run as a reader would type them, each in one bash (so a block's exit
status is that of its last command), from the top folder of a scratch copy
of the tree (tracked files, bin/ and build/), one lesson per copy, so a
lesson's `make bench` never touches the real results/ folder and lessons can
run side by side.

A block that needs what this machine lacks is not run, and says why: a
program of bin/ it names that was not built (bin/matmul-mpi without Open
MPI; bin/factorial-$m for each word of a `for m in ...` loop), a model or
workload a `make bench` sweep names (MODELS=serial,blas without OpenBLAS)
with no program built, Open MPI's mpirun (tools/mpirun, mpirun), a cluster
on this machine (tools/cluster, CLUSTER=: tools/cluster check says whether
one can be made), what its needs: annotation names.
Exit status 0 when every block kept its promises; SKIPPED when every block
that ran did, but some could not run here (the last line names them).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pages import named_pages

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(\s*)```+\s*([\w-]*)")
ANNOTATION = re.compile(r"^\s*<!--\s*([a-z-]+):\s*(.*?)\s*-->\s*$")
DEFAULT_TIMEOUT = 300
KNOWN = {"expect", "expect-exit", "creates", "test-env", "timeout", "skip", "needs"}
# The exit status of a lesson whose blocks that ran kept their promises, some not run (see above).
SKIPPED = 3
# A program of the suite a block runs: bin/matmul-mpi, bin/tsan/lessons/race; not one that a
# shell variable completes (bin/factorial-$m), a glob (bin/*-py-*) or a folder (bin/).
PROGRAM = re.compile(r"(?<![\w/.$-])(bin/[\w./+-]*[\w+])(?![\w$/.*-])")
# A shell loop's variable and its words (for m in threads processes; do), and a program of the
# suite named through a variable (bin/factorial-$m, bin/matmul-${m}).
LOOP = re.compile(r"\bfor\s+(\w+)\s+in\s+([^;\n]*)")
PROGRAM_OF = r"(?<![\w/.$-])bin/[\w./+-]*\$\{?%s\}?[\w./+-]*"
# A sweep of chosen workloads or models (make bench MODELS=serial,blas).
SWEEP_NAMES = re.compile(r"\b(WORKLOADS|MODELS)=([\w,.-]+)")
# A block that starts MPI jobs (tools/mpirun, or mpirun by hand), and one that makes a cluster.
USES_MPIRUN = re.compile(r"\bmpirun\b")
USES_CLUSTER = re.compile(r"\btools/cluster\b|\bCLUSTER=")


class Block:
    """One runnable block: where it starts, its commands and its promises."""

    def __init__(self, line, text):
        self.line = line
        self.text = text
        self.expect = []
        self.expect_exit = 0  # None: any exit status
        self.creates = []
        self.env = {}
        self.timeout = DEFAULT_TIMEOUT
        self.skip = None
        self.needs = []


def annotate(block, key, value, where):
    """Record one annotation on its block."""
    if key not in KNOWN:
        raise SystemExit("%s: unknown annotation '%s'" % (where, key))
    if key == "expect":
        block.expect.append(value)
    elif key == "expect-exit":
        block.expect_exit = None if value == "any" else int(value)
    elif key == "creates":
        block.creates.append(value)
    elif key == "test-env":
        block.env.update(pair.split("=", 1) for pair in value.split())
    elif key == "timeout":
        block.timeout = float(value)
    elif key == "needs":
        block.needs += value.split()
    elif key == "skip":
        if not value:
            raise SystemExit("%s: skip needs a reason" % where)
        block.skip = value


def parse(path):
    """The lesson's runnable blocks, with their annotations."""
    lines = Path(path).read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, language, body = i + 1, match.group(2), []
        i += 1
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if language != "sh":
            continue
        block = Block(start, "\n".join(body))
        while i < len(lines):  # the annotations right after the fence (blank lines allowed)
            annotation = ANNOTATION.match(lines[i])
            if not annotation and lines[i].strip():
                break
            i += 1
            if annotation:
                annotate(block, *annotation.groups(), where="%s:%d" % (path, i))
        blocks.append(block)
    return blocks


def scratch_copy():
    """A copy of the tree a lesson may change freely: the files git tracks (or
    would: new ones not ignored), bin/ and build/."""
    folder = Path(tempfile.mkdtemp(prefix="lesson-"))
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True)
    for name in tracked.stdout.decode().split("\0"):
        source = ROOT / name
        if name and source.exists():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name, follow_symlinks=False)
    for built in ("bin", "build"):
        if (ROOT / built).exists():
            shutil.copytree(ROOT / built, folder / built, symlinks=True)
    return folder


class Machine:
    """What the blocks may need that this machine may lack, each looked for once."""

    def __init__(self, folder):
        self.folder = folder
        self.answers = {}

    def lacks(self, block):
        """What block needs that is not here, as phrases; none when it can run."""
        lacking = ["%s (not built here)" % name for name in sorted(set(PROGRAM.findall(block.text)) |
                                                                 set(looped_programs(block.text)))
                   if not (self.folder / name).exists()]
        lacking += self.sweep_lacks(block.text)
        lacking += ["%s (apt-get install %s)" % (what, what) for what in block.needs
                    if not self.known(what, lambda: self.has(what))]
        if USES_MPIRUN.search(block.text) and not self.known("mpirun", self.find_mpirun):
            lacking.append("Open MPI's mpirun (apt-get install openmpi-bin, or module load openmpi)")
        if USES_CLUSTER.search(block.text) and not self.known("cluster", self.cluster_possible):
            lacking.append("a cluster on this machine (tools/cluster check says why not)")
        return lacking

    def sweep_lacks(self, text):
        """The models and workloads a make bench of the block names (MODELS=, WORKLOADS=) with no
        program built among the others it names: the sweep would refuse them."""
        if "make bench" not in text:
            return []
        named = {variable: set(value.split(",")) - {""} for variable, value in SWEEP_NAMES.findall(text)}
        built = [path.name.split("-", 1) for path in (self.folder / "bin").glob("*-*")
                 if path.is_file() and os.access(path, os.X_OK)]
        workloads, models = named.get("WORKLOADS"), named.get("MODELS")
        lacking = []
        for model in sorted(models or ()):
            if not any(m == model and (not workloads or w in {n.split("-")[0] for n in workloads}) for w, m in built):
                lacking.append("a program of the model %s (MODELS=%s; not built here)"
                               % (model, ",".join(sorted(models))))
        for workload in sorted(workloads or ()):
            if not any(w == workload.split("-")[0] and (not models or m in models) for w, m in built):
                lacking.append("a program of the workload %s (WORKLOADS=%s; not built here)"
                               % (workload, ",".join(sorted(workloads))))
        return lacking

    @staticmethod
    def has(what):
        """Whether a needs: annotation's WHAT is here: a Python module by its Debian package
        (python3-matplotlib: python3 imports matplotlib), else a command on the PATH."""
        if what.startswith("python3-"):
            module = what[len("python3-"):]
            return any(shutil.which(python) and subprocess.run([python, "-c", "import " + module],
                                                               capture_output=True).returncode == 0
                       for python in (sys.executable, "python3", "/usr/bin/python3"))
        return shutil.which(what) is not None

    def known(self, what, look):
        """look()'s answer, asked the first time what is wanted."""
        if what not in self.answers:
            self.answers[what] = look()
        return self.answers[what]

    @staticmethod
    def find_mpirun():
        """Whether tools/mpirun finds an mpirun ($MPIRUN, or on the PATH)."""
        return shutil.which(os.environ.get("MPIRUN") or "mpirun") is not None

    def cluster_possible(self):
        """Whether tools/cluster up would work here (check makes nothing that lasts)."""
        check = subprocess.run([str(self.folder / "tools" / "cluster"), "check"], cwd=self.folder,
                               stdin=subprocess.DEVNULL, capture_output=True)
        return check.returncode == 0


def looped_programs(text):
    """The programs of the suite a shell loop runs, each word in place of its variable:
    for m in threads openmp; do bin/factorial-$m ...: bin/factorial-threads, bin/factorial-openmp."""
    programs = []
    for variable, words in LOOP.findall(text):
        for named in re.findall(PROGRAM_OF % variable, text):
            programs += [re.sub(r"\$\{?%s\}?" % variable, word, named) for word in words.split()]
    return programs


def cluster_down(folder):
    """Take down a cluster the lesson left up in its copy (a block failed before the lesson's
    own tools/cluster down): its hosts would outlive the copy."""
    cluster = folder / "build" / "cluster"
    if (cluster / "cluster.conf").exists():
        subprocess.run([str(folder / "tools" / "cluster"), "down"], cwd=folder, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, CLUSTER_DIR=str(cluster)), capture_output=True, timeout=DEFAULT_TIMEOUT)


def run(path):
    blocks = parse(path)
    lesson = Path(path).name
    folder = scratch_copy()
    machine, not_run, lacked = Machine(folder), [], []
    try:
        for block in blocks:
            where = "%s:%d" % (lesson, block.line)
            if block.skip:
                print("%s: skipped (%s)" % (where, block.skip))
                continue
            lacking = machine.lacks(block)
            if lacking:
                print("%s: not run: it needs %s" % (where, ", ".join(lacking)))
                not_run.append(str(block.line))
                lacked += [what for what in lacking if what not in lacked]
                continue
            env = dict(os.environ, **block.env)
            started = time.monotonic()
            try:
                out = subprocess.run(["bash", "-c", block.text], cwd=folder, env=env,
                                     stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                     timeout=block.timeout)
            except subprocess.TimeoutExpired:
                print("%s: did not finish in %gs:\n%s" % (where, block.timeout, block.text), file=sys.stderr)
                return 1
            output = out.stdout + out.stderr
            problems = []
            if block.expect_exit is not None and out.returncode != block.expect_exit:
                problems.append("exit status %d, the lesson expects %d" % (out.returncode, block.expect_exit))
            problems += ["output lacks %r" % e for e in block.expect if e not in output]
            problems += ["%s was not created" % c for c in block.creates if not (folder / c).exists()]
            if problems:
                print("%s: %s\n--- block:\n%s\n--- output (last 40 lines):\n%s" % (
                    where, "; ".join(problems), block.text, "\n".join(output.splitlines()[-40:])),
                    file=sys.stderr)
                return 1
            print("%s: ok (%.1f s)" % (where, time.monotonic() - started))
    finally:
        cluster_down(folder)
        shutil.rmtree(folder, ignore_errors=True)
    if not_run:
        print("%s: the blocks at lines %s not run: this machine lacks %s (the others kept their promises)" % (
            lesson, ", ".join(not_run), ", ".join(lacked)))
        return SKIPPED
    return 0


def main():
    args = sys.argv[1:]
    listing = args[1:] == ["--list"]
    lesson, = named_pages(args[:1] if listing else args, __doc__, "usage: tests/lesson_blocks.py LESSON.md [--list]",
                          at_most=1)
    if listing:
        for block in parse(lesson):
            print("%d: %s%s" % (block.line, block.text.splitlines()[0] if block.text else "",
                                " (skip: %s)" % block.skip if block.skip else ""))
        return 0
    return run(lesson)


if __name__ == "__main__":
    sys.exit(main())
