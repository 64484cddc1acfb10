"""python/common/pools.py — what every multiprocessing.Pool of the suite shares.

  become_worker  called first in every pool worker (each workload's
                 start_worker, the Pool's initializer): the worker dies with
                 its parent, even when the parent is killed with SIGKILL
                 (prctl(PR_SET_PDEATHSIG)), and leaves Ctrl-C to the parent,
                 whose with-block then ends the pool.
  submit         hands the pool its tasks the way --api says: the six calls
                 the tutorials teach, side by side below, each with one item
                 per task (chunksize=1: the workload already cut the work
                 into the items --schedule and --chunk ask for). While the
                 call waits, a watch notices a worker that died (a killed
                 worker's task is lost, and multiprocessing.Pool would wait
                 for it forever) and stops the program with exit status 1.
"""
import ctypes
import multiprocessing
import signal
import threading

from . import cli, report

# The six ways of handing a pool its tasks, as --api names them.
APIS = ("map", "imap_unordered", "apply", "apply_async", "starmap", "starmap_async")
API_FLAG = cli.Flag("--api", "|".join(APIS), "choice", "api",
                    "how tasks reach the pool: pool.map (default), imap_unordered, apply (blocks: one task "
                    "at a time), apply_async, starmap, starmap_async", choices=APIS)
API_DEFAULTS = {"api": "map"}
# prctl's request that sends this process a signal when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1
# How often the watch looks at the pool's workers, seconds.
WATCH_INTERVAL = 0.05
# The signal the watch wakes the waiting main thread with.
WATCH_SIGNAL = signal.SIGUSR1


def model_figures(options):
    """The pool's own key=value pairs for every result line: the API, and how workers are started."""
    return [("api", options.api), ("start_method", multiprocessing.get_start_method())]


def become_worker():
    """The first thing a pool worker does: die with its parent, ignore Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: its with-block ends the pool
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        report.error("prctl(PR_SET_PDEATHSIG) failed in worker: %s" % ctypes.get_errno())
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():  # the parent died before prctl: nobody would kill us
        raise SystemExit(report.EXIT_FAILED)


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


class WorkerDied(report.Failure):
    """A pool worker died in the middle of a run: its task is lost."""


class Watch:
    """A thread that looks at the pool's worker processes while the main
    thread waits for results, and interrupts that wait if one dies.

    multiprocessing.Pool replaces a dead worker but never its lost task, so
    the wait would last forever; the watch sees the death (an exit status,
    or a worker it never saw) and sends the main thread WATCH_SIGNAL, whose
    handler raises WorkerDied there. (It reads Pool._pool, the list of the
    pool's processes: the Pool has no public way to say who is alive.)
    """

    def __init__(self, pool):
        self.pool, self.stopped, self.death = pool, threading.Event(), None
        self.known = {p.pid for p in pool._pool}
        self.thread = threading.Thread(target=self.look, name="pool-watch", daemon=True)

    def look(self):
        main = threading.main_thread().ident
        while not self.stopped.wait(WATCH_INTERVAL):
            for process in list(self.pool._pool):
                code = process.exitcode
                if code is not None or process.pid not in self.known:
                    self.death = describe_death(process, code, self.known)
                    signal.pthread_kill(main, WATCH_SIGNAL)
                    return

    def raise_death(self, signum, frame):
        raise WorkerDied(self.death or "a pool worker died")

    def __enter__(self):
        self.previous = signal.signal(WATCH_SIGNAL, self.raise_death)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()
        signal.signal(WATCH_SIGNAL, self.previous)
        return False


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
    the order of items (imap_unordered: in the order they finished). Raises
    WorkerDied if a worker dies before all are in."""
    with Watch(pool):
        return CALLS[api](pool, task, items)
