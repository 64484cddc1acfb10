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

Blocks run as a reader would type them, each in one bash (so a block's exit
status is that of its last command), from the top folder of a scratch copy
of the tree (tracked files, bin/ and build/), one lesson per copy, so a
lesson's `make bench` never touches the real results/ folder and lessons can
run side by side. Exit status 0 when every block kept its promises.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(\s*)```+\s*([\w-]*)")
ANNOTATION = re.compile(r"^\s*<!--\s*([a-z-]+):\s*(.*?)\s*-->\s*$")
DEFAULT_TIMEOUT = 300
KNOWN = {"expect", "expect-exit", "creates", "test-env", "timeout", "skip"}


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


def run(path):
    blocks = parse(path)
    lesson = Path(path).name
    folder = scratch_copy()
    try:
        for block in blocks:
            where = "%s:%d" % (lesson, block.line)
            if block.skip:
                print("%s: skipped (%s)" % (where, block.skip))
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
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "--list":
        for block in parse(sys.argv[1]):
            print("%d: %s%s" % (block.line, block.text.splitlines()[0] if block.text else "",
                                " (skip: %s)" % block.skip if block.skip else ""))
        return 0
    if len(sys.argv) != 2:
        sys.exit("usage: lesson_blocks.py LESSON.md [--list]")
    return run(sys.argv[1])


if __name__ == "__main__":
    sys.exit(main())
