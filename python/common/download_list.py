"""python/common/download_list.py — download's URL list (-i FILE, or from --server) and its output directory (-o).

common/download_list.c's rules: every URL an http(s) URL with a host name or
IP address, whose path ends in a file name, named as C names it (the last
part of the path as written, percent-escapes and all), that name no longer
than a directory entry leaves room for with NAME.part, no two URLs saved
under one name, and no name another's NAME.part; -o created if missing,
writable, and with room for --server's files. Every refusal is a usage
error (exit 2) naming the bad flag, file or line.
"""
import ipaddress
import os
import re
import shutil
import stat
import urllib.parse

from . import cli, report

# Most files a run may fetch: -n (--files), or the URLs of -i (common/download_private.h's).
MAX_FILES = 100000
# The name a downloading file has until it is checked; the longest NAME that leaves room for it.
PART_SUFFIX = ".part"
MAX_NAME = 255 - len(PART_SUFFIX)
# A host as common/download_list.c's plain_name takes it: letters, digits, '-', '_' and '.', a letter or digit first.
PLAIN_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# ---- the list: URLs and the names their files get ----

def written_host(url):
    """The host as url writes it, as common/download_list.c's host_is_plain reads
    it: after '://' and any 'user@', up to ':', '/', '?' or '#' (an [IPv6] whole)."""
    authority = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]
    if "@" in authority:
        authority = authority.partition("@")[2]
    if authority.startswith("["):
        return authority.partition("]")[0] + "]" if "]" in authority else authority
    return authority.partition(":")[0]


def host_problem(url, host):
    """Why url's host (written_host) is none a client should connect to, or None:
    C's rule, an [IPv6] address or a plain name (PLAIN_HOST), so that no
    percent-escape, space or '-x' reaches the resolver."""
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1] if host.endswith("]") else "")
        except ValueError:
            return "'%s' is not a URL (Bad IPv6 address)" % url  # libcurl's words, as C says it
        return None
    if not PLAIN_HOST.fullmatch(host):
        return "'%s' has no host name or IP address after its '//'" % url
    return None


def loopback_host(url):
    """url's host as it writes it (written_host), if that is a loopback address (localhost,
    127.0.0.0/8, ::1), which names each host's own; else None. As common/download_list.c's
    download_url_loopback."""
    written = written_host(url)
    bare = written.strip("[]").lower()
    if bare == "localhost" or bare.endswith(".localhost"):
        return written
    try:
        return written if ipaddress.ip_address(bare).is_loopback else None
    except ValueError:
        return None


def url_name(url):
    """The file name an http(s) URL saves to, or raise ValueError saying why not.

    The name is common/download_list.c's: the last part of the URL's path as
    written, percent-escapes and all (http://h/files/%41.bin saves %41.bin),
    refused only when empty, '.' or '..'; every such name is a plain name in -o.
    """
    host = written_host(url)
    problem = host_problem(url, host)
    if problem and host.startswith("["):  # said as C says it, before Python's parser does
        raise ValueError(problem)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # a port that is not a number is refused here
    except ValueError as e:
        raise ValueError("'%s' is not a URL (%s)" % (url, e)) from None
    if not parts.scheme or "://" not in url or any(c.isspace() for c in url):
        raise ValueError("'%s' is not a URL" % url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("'%s' is not an http:// or https:// URL" % url)
    if problem:
        raise ValueError(problem)
    last = parts.path.rpartition("/")[2]
    if last in ("", ".", ".."):
        raise ValueError("'%s' names no file (its path must end in a file name)" % url)
    if len(os.fsencode(last)) > MAX_NAME:
        raise ValueError("'%s': its file name is longer than %d characters" % (url, MAX_NAME))
    return last


def list_lines(path):
    """-i FILE's lines as C's getline and trim read them: split at '\n' only, each
    cut at a NUL, without the blanks before and the blanks and CR after."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            text = f.read()
    except OSError as e:
        raise report.UsageError("-i %s: cannot read it: %s" % (path, e.strerror)) from None
    return [line.partition("\0")[0].lstrip(" \t").rstrip(" \t\r\n") for line in text.split("\n")]


def list_from_file(path):
    """The URLs of -i FILE, one per line; blank lines and # lines skipped."""
    urls, names = [], []
    for number, url in enumerate(list_lines(path), 1):
        if not url or url.startswith("#"):
            continue
        try:
            names.append(url_name(url))
        except ValueError as e:
            raise report.UsageError("-i %s, line %d: %s" % (path, number, e)) from None
        if len(urls) == MAX_FILES:
            raise report.UsageError("-i %s: more than %d URLs" % (path, MAX_FILES))
        urls.append(url)
    if not urls:
        raise report.UsageError("-i %s: no URLs in it" % path)
    check_part_names(names)
    return urls, names


def check_part_names(names):
    """No file name in the list is another's NAME.part: each file is written
    into NAME.part and renamed to NAME once checked, so the one would destroy
    the other (in whichever order the two lines come)."""
    given = set(names)
    for name in sorted(given):
        if name + PART_SUFFIX in given:
            raise report.UsageError("'%s' in the list is the name '%s' is downloaded into until it is "
                                    "complete; rename one" % (name + PART_SUFFIX, name))


def parse_server(text):
    """HOST:PORT (or [IPv6]:PORT) as (host, port), or None."""
    if text.startswith("["):
        host, close, rest = text.partition("]")
        host += close
        if not close or not rest.startswith(":"):
            return None
        digits = rest[1:]
    else:
        host, colon, digits = text.partition(":")
        if not colon or ":" in digits:
            return None
    if not host or any(c in host for c in "/?#@ \t") or not cli.DIGITS.fullmatch(digits):
        return None
    if not host.startswith("[") and not PLAIN_HOST.fullmatch(host):  # '%31', '-x': C's plain_name
        return None
    port = int(digits)
    return (host, port) if 1 <= port <= 65535 else None


def list_from_server(options):
    """N URLs of bin/fileserver's made-up files, named after the seed and their number."""
    server = parse_server(options.server)
    if server is None:
        raise report.UsageError("--server '%s': expected HOST:PORT (or [IPv6]:PORT), PORT from 1 to 65535"
                                % options.server)
    names = ["file-%d-%06d.bin" % (options.seed, i + 1) for i in range(options.n)]
    urls = ["http://%s:%d/files/%s?size=%d" % (server[0], server[1], name, options.size) for name in names]
    try:  # the URLs differ only in their names' numbers, so the first answers for all (C asks each, in less time)
        url_name(urls[0])
    except ValueError as e:  # a host no client should connect to (common/download_list.c's words)
        raise report.UsageError("--server '%s': %s" % (options.server, e)) from None
    return urls, names


def check_sources(options):
    """Exactly one source of URLs, and no flag that the other one takes."""
    if options.input_file and options.server:
        raise report.UsageError("-i %s and --server %s: give one source of URLs, not both" % (options.input_file,
                                                                                              options.server))
    if not options.input_file and not options.server:
        raise report.UsageError("no URLs: give -i FILE (a list of URLs) or --server HOST:PORT (bin/fileserver)")
    if options.input_file and "size" in options.given:
        raise report.UsageError("--size %d: only with --server; the files of -i %s are what they are"
                                % (options.size, options.input_file))


def check_names(names):
    """No two URLs saved under one name."""
    seen = set()
    for name in sorted(names):
        if name in seen:
            raise report.UsageError("two URLs in the list would both be saved as '%s'" % name)
        seen.add(name)


def make(options):
    """The URL list and the files' names, from -i FILE or made from --server;
    sets options.n to the list's length with -i (download_list_make)."""
    check_sources(options)
    if options.input_file:
        urls, names = list_from_file(options.input_file)
        if "n" in options.given and options.n != len(urls):
            raise report.UsageError("-n %d: -i %s lists %d URLs, and the list decides the number of files"
                                    % (options.n, options.input_file, len(urls)))
        options.n = len(urls)
    else:
        urls, names = list_from_server(options)
    check_names(names)
    return urls, names


# ---- the output directory ----

def open_directory(directory):
    """-o DIR, created if missing (one level), and writable."""
    if not os.path.exists(directory):
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass
        except OSError as e:
            raise report.UsageError("-o %s: cannot create it: %s" % (directory, e.strerror)) from None
    elif not os.path.isdir(directory):
        raise report.UsageError("-o %s: not a directory" % directory)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise report.UsageError("-o %s: cannot write there" % directory)



def reclaimed_bytes(directory, names):
    """The space the files each run removes before it begins (the last run's
    NAME and NAME.part under -o) hold now (common/download_list.c's reclaimed_bytes)."""
    total = 0
    for name in names:
        for path in (os.path.join(directory, name), os.path.join(directory, name + PART_SUFFIX)):
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_blocks * 512
    return total


def open_output(options, names):
    """-o DIR, created if missing and writable; for --server's files, room for
    them there, counting the last run's, which every run removes first, as
    free (download_output_open)."""
    open_directory(options.output_dir)
    count = len(names)
    if not options.input_file:
        free = shutil.disk_usage(options.output_dir).free + reclaimed_bytes(options.output_dir, names)
        if count * options.size > free:
            raise report.UsageError("--files %d --size %d: needs %s, but -o %s has %s free" % (
                count, options.size, report.size_said(count * options.size), options.output_dir,
                report.size_said(free)))
