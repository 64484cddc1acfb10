#!/usr/bin/env python3
"""tests/doc_links.py — every relative link in the Markdown pages leads somewhere.

Usage: tests/doc_links.py FILE.md...
Checks [text](target) and ![alt](target) links that are not URLs: the file
or folder must exist (relative to the page), and a #anchor must name a
heading of the target page (GitHub's rule: lower case, spaces to hyphens,
punctuation dropped). Exit status 1, listing the broken links, if any is.
"""
import re
import sys

from pages import named_pages

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*```")


def anchors(page):
    """The anchors GitHub gives a page's headings."""
    found, in_code = set(), False
    for line in page.read_text().splitlines():
        if FENCE.match(line):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            text = re.sub(r"[`*_]", "", match.group(1)).strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


def links(page):
    """(line number, target) of every link outside code blocks."""
    in_code = False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if FENCE.match(line):
            in_code = not in_code
            continue
        if not in_code:
            for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
                yield number, match.group(1)


def main():
    broken = []
    for page in named_pages(sys.argv[1:], __doc__, "usage: tests/doc_links.py FILE.md..."):
        for number, target in links(page):
            if re.match(r"^[a-z]+:", target):
                continue  # http:, https:, mailto:
            path, _, anchor = target.partition("#")
            destination = (page.parent / path).resolve() if path else page.resolve()
            if not destination.exists():
                broken.append("%s:%d: %s does not exist" % (page, number, target))
            elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
                broken.append("%s:%d: %s has no heading for #%s" % (page, number, path or page.name, anchor))
    for problem in broken:
        print(problem, file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
