"""python/common/pools.py — what every multiprocessing.Pool of the suite shares.

  become_worker  called first in every pool worker (each workload's
                 start_worker, the Pool's initializer): the worker dies with
                 its parent, even when the parent is killed with SIGKILL
                 (prctl(PR_SET_PDEATHSIG); a forkserver's worker, whose
                 parent is the server, watches the program's end itself),
                 and leaves Ctrl-C to the parent, whose with-block then ends
                 the pool.
  use_start_method  --start-method: how new worker processes begin, set
                 once in main() as the tutorials do (fork, forkserver or
                 spawn; left out, this Python's default: fork on Linux up to
                 3.13, forkserver on Linux from 3.14, spawn on macOS and
                 Windows). The ProcessPoolExecutor starts its workers the same way.
  submit         hands the pool its tasks the way --api says: the six calls
                 the tutorials teach, side by side below, each with one item
                 per task (chunksize=1: the workload already cut the work
                 into the items --schedule and --chunk ask for). While the
                 call waits, a watch notices a worker that died (a killed
                 worker's task is lost, and multiprocessing.Pool would wait
                 for it forever) and ends the program with exit status 1,
                 leaving no named semaphore of the pool's behind.
  start_quiet_tracker  a resource tracker (multiprocessing's, loky's) that
                 removes what the program left without warning of it.
"""
import ctypes
import multiprocessing
import multiprocessing.connection
import multiprocessing.pool
import multiprocessing.util
import os
import signal
import sys
import tempfile
import threading
import time

from . import cli, report

# The six ways of handing a pool its tasks, as --api names them.
APIS = ("map", "imap_unordered", "apply", "apply_async", "starmap", "starmap_async")
API_FLAG = cli.Flag("--api", "|".join(APIS), "choice", "api",
                    "how tasks reach the pool: pool.map (default), imap_unordered, apply (blocks: one task "
                    "at a time), apply_async, starmap, starmap_async", choices=APIS)
API_DEFAULTS = {"api": "map"}
# How a process of the pool begins: a copy of this one (fork), a copy of a
# small server process started with the first pool (forkserver), or a fresh
# interpreter (spawn), which imports the program again.
START_METHODS = ("fork", "forkserver", "spawn")
START_FLAG = cli.Flag("--start-method", "|".join(START_METHODS), "choice", "start_method",
                      "how each worker process begins: a copy of this process (fork), of a server process "
                      "(forkserver) or a fresh interpreter (spawn); default this Python's, %s here"
                      % multiprocessing.get_start_method(), choices=START_METHODS)
START_DEFAULTS = {"start_method": multiprocessing.get_start_method()}
# A pool model's flags and their values where left out.
FLAGS = [API_FLAG, START_FLAG]
DEFAULTS = {**API_DEFAULTS, **START_DEFAULTS}
# The longest path a Unix socket can be bound to, in bytes (Linux's sun_path holds 108, the last a NUL).
SOCKET_PATH_MAX = 107
# What the forkserver's socket adds to the temporary folder: multiprocessing's own folder in it and the
# socket's name, each 8 random letters long (tempfile's names).
FORKSERVER_SOCKET = "/pymp-XXXXXXXX/listener-XXXXXXXX"
# Where that folder goes when the temporary folder's path is too long for the socket (Python 3.13's own choice).
SHORT_TEMP_FOLDERS = ("/tmp", "/var/tmp", "/usr/tmp")
# prctl's request that sends this process a signal when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1
# How often the watch looks at the pool's workers, seconds.
WATCH_INTERVAL = 0.05
# How long the watch waits for the pool's own thread to read a dead worker's exit status, seconds.
STATUS_WAIT = 1.0


def model_figures(options):
    """The pool's own key=value pairs for every result line: the API, and how workers are started."""
    return [("api", options.api), ("start_method", options.start_method)]


def use_start_method(options):
    """Have every pool (and ProcessPoolExecutor) of this run start its workers the way --start-method says."""
    multiprocessing.set_start_method(options.start_method, force=True)
    if options.start_method == "forkserver":
        keep_socket_path_short()


def keep_socket_path_short():
    """The forkserver listens on a Unix socket in multiprocessing's temporary folder, which it makes in
    TMPDIR; where TMPDIR is long (a job's scratch folder), that path passes what a socket's may be, and
    the first pool stopped with a traceback, "OSError: AF_UNIX path too long" (Python before 3.13). Then
    the folder is made in /tmp instead, as newer Pythons do; multiprocessing removes it at exit."""
    if len(os.fsencode(tempfile.gettempdir() + FORKSERVER_SOCKET)) <= SOCKET_PATH_MAX:
        return
    asked, tempfile.tempdir = tempfile.tempdir, None
    try:
        for folder in SHORT_TEMP_FOLDERS:
            tempfile.tempdir = folder
            try:
                multiprocessing.util.get_temp_dir()  # made now, kept for the socket
                return
            except OSError:
                continue
    finally:
        tempfile.tempdir = asked
    raise report.Failure("cannot start the forkserver: its socket's path in TMPDIR=%s would be longer than "
                         "the %d bytes a Unix socket's may have, and none of %s takes a folder; set a "
                         "shorter TMPDIR" % (os.environ.get("TMPDIR", ""), SOCKET_PATH_MAX,
                                             ", ".join(SHORT_TEMP_FOLDERS)))


def start_quiet_tracker(tracker):
    """Start a resource tracker (tracker: the module multiprocessing.resource_tracker,
    or loky's) that removes what the program's processes left, unsaid.

    A tracker is a process of its own, which outlives the program for a moment
    and removes the named semaphores and folders registered with it that the
    program did not remove itself: after a SIGKILL or SIGTERM, a killed worker,
    or Ctrl-C, where the program leaves at once (run.leave) with its pool's
    semaphores registered. Each time it warns, on the stderr it shares with
    the program, after the program's own message or after the shell's prompt:
    "UserWarning: resource_tracker: There appear to be 8 leaked semlock
    objects to clean up at shutdown" and the line of code that warns. Nothing
    is left (it has just removed them), so it starts with its warnings
    ignored (-W, which it takes from sys.warnoptions as it starts)."""
    quiet = "ignore::UserWarning:%s" % tracker.__name__
    sys.warnoptions.append(quiet)
    try:
        tracker.ensure_running()
    finally:
        sys.warnoptions.remove(quiet)


def become_worker(pipes_only=False):
    """The first thing a pool worker does: die with its parent, ignore Ctrl-C.
    A thread of this program (a ThreadPoolExecutor's worker) is no process
    of its own: it already lives and dies with the program, and leaves it as is.

    pipes_only: the worker writes to nothing but the pool's pipes to its
    parent (factorial, matmul; not download, whose sockets must fail with an
    error the retries can catch). Such a worker dies quietly of SIGPIPE, as a
    C child does, when it sends a result to a parent that is gone, instead of
    failing with a traceback in the moment before prctl's signal arrives."""
    if multiprocessing.parent_process() is None:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: its with-block ends the pool
    if pipes_only:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # Python starts with it ignored
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        report.error("prctl(PR_SET_PDEATHSIG) failed in a pool worker: %s" % os.strerror(ctypes.get_errno()))
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():  # the parent died before prctl: nobody would kill us
        raise SystemExit(report.EXIT_FAILED)
    if parent is not None and parent.pid != os.getppid():
        # A forkserver's worker: prctl binds it to the server, which leaves a
        # moment after the program; until then the worker would finish its
        # task and fail, with a traceback, to send the result to nobody.
        threading.Thread(target=die_with, args=(parent,), name="die-with-parent", daemon=True).start()


def die_with(parent):
    """In a worker whose parent (the program) did not fork it: wait until the
    program is gone (its sentinel, a pipe, reads as closed), then die at once."""
    multiprocessing.connection.wait([parent.sentinel])
    os.kill(os.getpid(), signal.SIGKILL)


# ---- the six calls (what --api chooses) ----

def with_map(pool, task, items):
    return pool.map(task, items, chunksize=1)


def with_imap_unordered(pool, task, items):
    return list(pool.imap_unordered(task, items, chunksize=1))  # in the order they finish


def with_apply(pool, task, items):
    return [pool.apply(task, (item,)) for item in items]  # each call waits for its task: one at a time


def with_apply_async(pool, task, items):
    pending = [pool.apply_async(task, (item,)) for item in items]
    return [result.get() for result in pending]


def with_starmap(pool, task, items):
    return pool.starmap(task, [(item,) for item in items], chunksize=1)


def with_starmap_async(pool, task, items):
    return pool.starmap_async(task, [(item,) for item in items], chunksize=1).get()


CALLS = {"map": with_map, "imap_unordered": with_imap_unordered, "apply": with_apply,
         "apply_async": with_apply_async, "starmap": with_starmap, "starmap_async": with_starmap_async}


class Watch:
    """A thread that looks at the pool's worker processes while the main
    thread waits for results, and ends the program if one dies.

    multiprocessing.Pool replaces a dead worker but never its lost task, so
    the wait would last forever; nor can the pool be ended cleanly then: a
    worker killed while it held the lock on the pool's task queue (an idle
    worker holds it while it waits for a task) leaves it held, and
    Pool.terminate waits for that lock. So the watch, seeing a death (an exit
    status, or a worker it never saw), says so, kills the other workers and
    ends the process with exit status 1 at once. (It reads Pool._pool, the
    list of the pool's processes: the Pool has no public way to say who is alive.)
    """

    def __init__(self, pool):
        self.pool, self.stopped = pool, threading.Event()
        self.known = {p.pid for p in pool._pool}
        self.thread = threading.Thread(target=self.look, name="pool-watch", daemon=True)

    def look(self):
        while not self.stopped.wait(WATCH_INTERVAL):
            for process in list(self.pool._pool):
                if process.pid not in self.known:
                    self.end_all(describe_death(process, None, self.known))
                if multiprocessing.connection.wait([process.sentinel], 0):  # it ended: readable, left unread
                    self.end_all(describe_death(process, exit_status(process), self.known))

    def end_all(self, death):
        """A worker died: say so, kill every worker, and leave with exit status 1.

        The pool's own thread starts a worker in place of each that dies, the
        ones killed here too; leaving while it is half-way through one (a
        forkserver asked for it, a spawned interpreter reading what to run)
        makes that process fail with a traceback on this program's stderr. So
        that thread is told to start no more (its state, as Pool.terminate
        tells it), woken by the deaths, waited for, and then whatever it
        started before it stopped is killed too."""
        report.error(death)
        handler = getattr(self.pool, "_worker_handler", None)
        if handler is not None:
            handler._state = multiprocessing.pool.TERMINATE
        kill_workers(self.pool)
        if handler is not None:
            handler.join(STATUS_WAIT)
            kill_workers(self.pool)
        forget_semaphores(self.pool)
        try:
            sys.stdout.flush()
        finally:
            os._exit(report.EXIT_FAILED)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()
        return False


def kill_workers(pool):
    """SIGKILL to every process of the pool (Pool._pool) still there."""
    for process in list(pool._pool):
        try:
            os.kill(process.pid, signal.SIGKILL)
        except OSError:
            pass  # gone already


def exit_status(process):
    """A dead worker's exit status, as the pool's own thread reads it (it
    looks every tenth of a second): waiting for that read, not making a
    second one. Under forkserver the status is one message on the worker's
    sentinel, and of two threads reading it at once, one gets it and the
    other Python's 255 ("the forkserver could not say"). (Process._popen is
    where the status is kept; Process.exitcode would read the sentinel.)"""
    deadline = time.monotonic() + STATUS_WAIT
    while process._popen.returncode is None and time.monotonic() < deadline:
        time.sleep(WATCH_INTERVAL / 10)
    return process._popen.returncode if process._popen.returncode is not None else process.exitcode


def forget_semaphores(pool):
    """Remove the named semaphores behind the pool's three queues, as the pool
    would have on a clean exit. Under spawn and forkserver each is registered
    with Python's resource tracker, which otherwise removes them itself after
    os._exit, warning of "leaked semaphore objects". (Pool and SimpleQueue
    name them only in private attributes; where a Python names them
    otherwise, nothing is removed and the tracker warns.)"""
    from multiprocessing import resource_tracker, synchronize
    for queue in (getattr(pool, name, None) for name in ("_inqueue", "_outqueue", "_change_notifier")):
        for lock in (getattr(queue, name, None) for name in ("_rlock", "_wlock")):
            name = getattr(getattr(lock, "_semlock", None), "name", None)
            if isinstance(lock, synchronize.SemLock) and name is not None:
                try:
                    synchronize.sem_unlink(name)
                    resource_tracker.unregister(name, "semaphore")
                except OSError:
                    pass  # gone already


def describe_death(process, code, known):
    """Words for a worker's death."""
    if process.pid not in known:
        return "a pool worker process died in the middle of the run (the pool started pid %d in its place; " \
               "the task it held is lost)" % process.pid
    if code < 0:
        return "pool worker process %d was killed by signal %d (%s); its task is lost" % (
            process.pid, -code, signal.Signals(-code).name)
    return "pool worker process %d exited with status %d in the middle of the run; its task is lost" % (
        process.pid, code)


def submit(pool, api, task, items):
    """task on every item through the pool, the way api says; the results in
    the order of items (imap_unordered: in the order they finished). A
    worker that dies before all are in ends the program (Watch)."""
    with Watch(pool):
        return CALLS[api](pool, task, items)
