"""tests/pages.py — the command line of the scripts that read the suite's Markdown pages
(tests/lesson_blocks.py, tests/lesson_quotes.py, tests/doc_links.py)."""
import sys
from pathlib import Path


def named_pages(args, doc, usage, at_most=None):
    """The pages args names, as Paths. --help prints usage and what doc says after its
    Usage line, and exits 0; no page, too many, an option, or a page that is not a file is
    one line on stderr, exit status 2."""
    script = Path(sys.argv[0]).name
    if args in (["-h"], ["--help"]):
        lines = doc.splitlines()
        after = next(i for i, line in enumerate(lines) if line.startswith("Usage:")) + 1
        print("%s\n\n%s" % (usage, "\n".join(lines[after:]).strip("\n")))
        sys.exit(0)
    if not args or (at_most is not None and len(args) > at_most) or any(a.startswith("-") for a in args):
        print(usage, file=sys.stderr)
        sys.exit(2)
    for name in args:
        if not Path(name).is_file():
            print("%s: %s: no such page" % (script, name), file=sys.stderr)
            sys.exit(2)
    return [Path(name) for name in args]
