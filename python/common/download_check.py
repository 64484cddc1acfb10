"""python/common/download_check.py — the task around each download run (reset, check, --inject-error, figures), its end.

common/download_check.c's rules: before each run the last run's files are
removed, so every run really downloads; after it, every delivered file is
checked as it is on disk: no NAME.part beside it, its size, and its content,
--server's every byte regenerated (content.py), otherwise the CRC-32C the
server announced. A file never finished fails the check; one given up on
fails the run (check_failures: with --no-verify too).
"""
import os
import resource

from . import content, download, download_fetch, download_list, report, run

# Bytes read back at a time by the check.
CHECK_CHUNK = 256 << 10


# ---- the end of a run ----

def cpu_seconds():
    """User and system CPU seconds of this process and the children it reaped."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + children.ru_utime, own.ru_stime + children.ru_stime


def finish(problem, start):
    """The phases of a run (comm: the longest any worker spent in its transfers,
    waiting on the network; compute: none), its CPU time, the files given up on;
    first the sessions of the run's worker threads are closed (in combine)."""
    download_fetch.close_workers_fetchers()
    phases = run.phases_from_spans(start, problem.spans)
    phases.comm, phases.compute = phases.compute, 0.0
    now = cpu_seconds()
    others = [sum(times) for times in zip((0.0, 0.0), *problem.others_cpu.values())]
    problem.cpu = (now[0] - problem.cpu_at_reset[0] + others[0], now[1] - problem.cpu_at_reset[1] + others[1])
    problem.failed_total += sum(r.state == download.FAILED for r in problem.records)
    return phases


def check_failures(problem):
    """Exit status 1 (saying so) if any run gave up on a file: with --no-verify too."""
    if problem.failed_total:
        raise report.Failure("%d download%s given up on (named above)" % (
            problem.failed_total, " was" if problem.failed_total == 1 else "s were"))


# ---- the task: what run.repeat does around each timed run ----

def reset(problem):
    """Remove the last run's files (and any NAME.part), so every run really downloads; clear the records."""
    for name in problem.names:
        delivered = os.path.join(problem.dir, name)
        for path in (delivered, delivered + download_list.PART_SUFFIX):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                report.error("cannot remove the last run's %s: %s" % (path, e.strerror))
    problem.records = [download.Record() for _ in problem.urls]
    problem.spans, problem.next_index, problem.others_cpu = [], 0, {}
    problem.cpu_at_reset = cpu_seconds()


def read_back(name, f, offset, length):
    """Up to length bytes of the file from offset; raises ValueError saying why there are none."""
    try:
        data = os.pread(f.fileno(), length, offset)
    except OSError as e:
        raise ValueError("reading %s at byte %d failed: %s" % (name, offset, e.strerror)) from None
    if not data:
        raise ValueError("reading %s at byte %d failed: it ends there" % (name, offset))
    return data


def check_file(problem, index):
    """One delivered file as it is on disk: no NAME.part beside it, its size,
    and its content: --server's every byte regenerated, otherwise the server's CRC-32C."""
    name, record = problem.names[index], problem.records[index]
    path = os.path.join(problem.dir, name)
    if os.path.exists(path + download_list.PART_SUFFIX):
        raise ValueError("%s%s is still there beside %s" % (name, download_list.PART_SUFFIX, name))
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ValueError("%s was delivered but cannot be opened: %s" % (name, e.strerror)) from None
    with f:
        size, expected = os.fstat(f.fileno()).st_size, problem.size if problem.generated else record.bytes
        if size != expected:
            raise ValueError("%s has %d bytes, expected %d" % (name, size, expected))
        key, offset, crc = content.key(name), 0, 0
        while offset < size and (problem.generated or record.checksum is not None):
            got = read_back(name, f, offset, min(CHECK_CHUNK, size - offset))
            if problem.generated:
                want = content.fill(key, offset, len(got))
                if got != want:
                    at = next(i for i in range(len(got)) if got[i] != want[i])
                    raise ValueError("%s byte %d is 0x%02x, the file the server makes has 0x%02x" % (
                        name, offset + at, got[at], want[at]))
            else:
                crc = content.crc32c(got, crc)
            offset += len(got)
        if not problem.generated and record.checksum is not None and crc != record.checksum:
            raise ValueError("%s has CRC-32C %08x, the server announced %08x" % (name, crc, record.checksum))


def hint_loopback(problem):
    """When files failed from a loopback address while the ranks ran on several hosts
    (hosts=, mpi4py's), say why that cannot work: each host's loopback is its own."""
    hosts = int(dict(problem.options.model_figures).get("hosts", 1))
    failed = (url for url, record in zip(problem.urls, problem.records) if record.state == download.FAILED)
    host = next(filter(None, map(download_list.loopback_host, failed)), None) if hosts > 1 else None
    if host:
        report.error("%s is a loopback address, and the ranks ran on %d hosts: through it each rank reaches its own "
                     "host, not the server's; give an address every host reaches (under tools/cluster, the head's: "
                     "bin/fileserver --bind 169.254.100.254)" % (host, hosts))


def verify(problem):
    failed = pending = 0
    for index, record in enumerate(problem.records):
        if record.state == download.DONE:
            try:
                check_file(problem, index)
            except ValueError as e:
                report.error("wrong result: %s" % e)
                return False
        elif record.state == download.FAILED:
            failed += 1
        else:
            pending += 1
    if pending:
        report.error("wrong result: %d of %d files were never finished (a worker died?)" % (pending, problem.count))
        return False
    if failed:
        report.error("%d of %d files could not be downloaded (named above); the other %d are intact" % (
            failed, problem.count, problem.count - failed))
        hint_loopback(problem)
        return False
    return True


def corrupt(problem):
    """Spoil the first delivered file in a way its check reads: a byte flipped in
    its middle where the check reads its bytes (--server's, or a file the server
    sent a CRC-32C for); of any other the check knows only the size, so a byte too many."""
    index = next((i for i, r in enumerate(problem.records) if r.state == download.DONE), None)
    if index is None:
        return  # nothing was delivered: the check fails anyway
    record = problem.records[index]
    content_checked = problem.generated or record.checksum is not None
    path, at = os.path.join(problem.dir, problem.names[index]), record.bytes // 2 if content_checked else record.bytes
    try:
        with open(path, "r+b") as f:
            byte = os.pread(f.fileno(), 1, at) if at < record.bytes else b"\0"
            os.pwrite(f.fileno(), bytes([byte[0] ^ 0xff]), at)
    except OSError as e:
        report.error("--inject-error: cannot change %s: %s" % (path, e.strerror))


def figures(problem, seconds):
    total = sum(r.bytes for r in problem.records)
    return " bytes=%d files=%d failures=%d retries=%d mbps=%.3f cpu_user=%.6f cpu_sys=%.6f" % (
        total, sum(r.state == download.DONE for r in problem.records),
        sum(r.state == download.FAILED for r in problem.records),
        sum(r.retries for r in problem.records), total / seconds / 1e6 if seconds > 0 else 0.0,
        problem.cpu[0], problem.cpu[1])


TASK = run.Task(reset, verify, corrupt, figures)
