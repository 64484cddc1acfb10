#!/usr/bin/env python3
"""tests/lesson_quotes.py — every Python block of a lesson quotes the real files under python/.

Usage: tests/lesson_quotes.py PAGE.md...

The lessons show a few lines of the Python lane as fenced blocks whose info
string is `python`, and say "these lines are python/...": a quote, not a
sketch. Each line of such a block, without its trailing comment (the lessons
add ones that point at the C counterpart) and with runs of white space made
one space, must occur in some file under python/; a line that does not has
drifted from the code it quotes. Exit status 1, naming each such line, when
one has; 0 when every quote holds.
"""
import re
import sys
from pathlib import Path

from pages import named_pages

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^\s*```+\s*([\w-]*)")
TRAILING_COMMENT = re.compile(r"\s+#.*$")


def flattened(text):
    """text with every run of white space made one space."""
    return " ".join(text.split())


def python_blocks(path):
    """(first line number, lines) of each python block of the page."""
    lines, blocks, i = Path(path).read_text().splitlines(), [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        i += 1
        if not match:
            continue
        start, body = i + 1, []
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if match.group(1) == "python":
            blocks.append((start, body))
    return blocks


def main():
    pages = named_pages(sys.argv[1:], __doc__, "usage: tests/lesson_quotes.py PAGE.md...")
    sources = flattened("\n".join(p.read_text() for p in sorted((ROOT / "python").rglob("*.py"))))
    stale = 0
    for page in pages:
        for start, body in python_blocks(page):
            for offset, line in enumerate(body):
                code = TRAILING_COMMENT.sub("", line).strip()
                if code and not code.startswith("#") and flattened(code) not in sources:
                    print("%s:%d: not in any file under python/: %s" % (page, start + offset, code), file=sys.stderr)
                    stale += 1
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
