"""python/common/schedulers.py — what every Dask program of the suite shares: --scheduler, and the LocalCluster.

The Dask programs (python/dask/<workload>.py) build a graph of dask.delayed
tasks and hand it to dask.compute; --scheduler says who runs it:

  threads      Dask's default: a pool of P threads in this process (kept by
               Dask from one compute to the next, so the first run, the
               warm-up, makes it). One GIL for all of them.
  processes    a pool of P processes (concurrent.futures, started the way Dask
               starts them: spawn, a fresh interpreter each), made and ended
               by every dask.compute, inside the timed region; each task's
               function and arguments travel pickled (cloudpickle). Tasks go
               one at a time (chunksize=1, where Dask batches 6 by default),
               as in the pool models. The workers die with this process
               (pools.become_worker, as the pool's initializer).
  distributed  dask.distributed: a LocalCluster of P worker processes (one
               thread each) with a scheduler, started by this program before
               the first run and closed after the last, also on error and on
               Ctrl-C. Its start-up is outside the timed region (as
               launching an MPI job is), and reported on every result line as
               cluster_start= (seconds). Everything listens on 127.0.0.1
               only: the scheduler, the workers, their nannies and their HTTP
               servers (Dask's own defaults listen on every interface). A
               worker process dies with this one even when it is killed with
               SIGKILL (distributed watches its parent through a pipe), and
               leaves Ctrl-C to it (it starts with SIGINT ignored). The
               workers' scratch space is a folder of this program's, which a
               watcher process (cluster.Guard, as IPython Parallel's cluster
               has) removes when the program ends, however: closed, failed,
               or killed (SIGKILL, or the harness's SIGTERM at its time
               limit); it also kills any process of the cluster still there.

Every result line says scheduler=. Every task stamps its span with worker(),
this process and thread, so the phases come out as in the pool models.
"""
import logging
import os
import signal
import threading
import warnings
from multiprocessing import resource_tracker
from pathlib import Path

from . import cli, cluster, pools, report, run

SCHEDULERS = ("threads", "processes", "distributed")
FLAG = cli.Flag("--scheduler", "|".join(SCHEDULERS), "choice", "scheduler",
                "who runs the graph: threads (default), processes, distributed (a LocalCluster of P processes)",
                choices=SCHEDULERS)
DEFAULTS = {"scheduler": "threads"}
# The one address the cluster's servers listen on (port 0: any free one).
LOOPBACK = "127.0.0.1"
# Tasks the processes scheduler sends a worker at a time (Dask's default is 6).
TASKS_AT_A_TIME = 1
# Seconds the cluster may take to start (a few on a loaded machine; each worker
# is a fresh interpreter), and to close.
CLUSTER_START_SECONDS, CLUSTER_START_SECONDS_PER_WORKER = 60, 5
CLOSE_TIMEOUT = 30
# Dask's setting (as an environment variable) of how much distributed's logs say.
WORKER_LOGGING = "DASK_LOGGING__DISTRIBUTED"
# What every worker process runs as it starts: a filter of its log (dask_worker.py says why).
WORKER_PRELOAD = Path(__file__).resolve().parent / "dask_worker.py"
# Dask reads every DASK_* environment variable as a Python literal (ast.literal_eval), keeping
# the string where it is none. A value such as the folder /tmp/run-3in/ makes Python's parser
# warn on the way ("<unknown>:1: SyntaxWarning: invalid decimal literal"), in this process and
# in every worker process that imports Dask, though the value is taken as written. This
# warning filter, also passed to the worker processes, keeps those lines off stderr.
LITERAL_WARNINGS = ("ignore", "invalid", SyntaxWarning)  # invalid decimal (octal, hex, binary) literal
# What dask.compute raises when a worker process died: the processes scheduler's
# pool is broken; distributed gives up on a task whose workers kept dying
# (a single death it survives: the nanny starts a new worker, the task runs again).
LOST_WORKER_ERRORS = ("BrokenProcessPool", "KilledWorker")


dask = None  # the dask package, once load() has imported it


def in_threads(options):
    """Whether the workers are threads of this process."""
    return options.scheduler == "threads"


def load(options):
    """The dask package (and, for --scheduler distributed, distributed), or exit
    status 2 naming the Debian package that brings the missing one."""
    global dask
    action, message, category = LITERAL_WARNINGS
    warnings.filterwarnings(action, message, category)
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"),
                                                          "%s:%s:%s" % (action, message, category.__name__)]))
    dask = report.require("dask", "python3-dask", "the Dask lane")
    if options.scheduler == "distributed":
        report.require("distributed", "python3-distributed", "--scheduler distributed")
    options.model_figures = [("scheduler", options.scheduler)]
    options.startup = run.startup_seconds()  # Dask's imports are part of the start-up
    return dask


def worker():
    """Who runs a task, for its span: this process and thread (a thread of the
    threads scheduler, a process of processes, a worker of distributed)."""
    return os.getpid(), threading.get_ident()


def not_all_exit(record):
    """A filter of asyncio's log: False for its record of a task whose AllExit
    nobody retrieved. The Client's gather waits on each of the run's futures
    in a task of its own, which raises AllExit, distributed's way of saying
    "stop waiting", once its future is gone; it retrieves the first and leaves
    the rest, which asyncio reports as they are collected, each with a
    traceback. Ctrl-C in the middle of a run lets every future go: thousands
    of them (one per task of --mode many), burying the one message of the
    program's. Every other record of asyncio's is kept."""
    error = record.exc_info[1] if record.exc_info else None
    return not (error is not None and type(error).__name__ == "AllExit")


class Session:
    """--scheduler's workers for the whole program, as a with-block: as
    session.compute_options, what dask.compute is told on every run
    (dask.compute(*tasks, **session.compute_options)); for distributed the
    LocalCluster and its Client, closed at the end of the block however it ends."""

    def __init__(self, options):
        self.options, self.cluster, self.client, self.guard = options, None, None, None
        workers = options.workers
        if options.scheduler == "threads":
            self.compute_options = {"scheduler": "threads", "num_workers": workers}
        elif options.scheduler == "processes":
            self.compute_options = {"scheduler": "processes", "num_workers": workers,
                                    "chunksize": TASKS_AT_A_TIME, "initializer": pools.become_worker}
        else:
            self.compute_options = {}

    def __enter__(self):
        if self.options.scheduler == "distributed":
            self.start_cluster()
        return self

    def start_cluster(self):
        """A LocalCluster of P worker processes, one thread each, on 127.0.0.1 only,
        and a Client of it; Failure if it has not started in time (CLUSTER_START_SECONDS...)."""
        distributed = report.require("distributed", "python3-distributed", "--scheduler distributed")
        # Worker processes read this as they start: they say errors only (not,
        # say, that they tidied up the scratch space an earlier cluster left).
        os.environ.setdefault(WORKER_LOGGING, "error")
        logging.getLogger("asyncio").addFilter(not_all_exit)
        # The workers' scratch space, and what removes it however this program ends (Dask's
        # default, dask-worker-space in the temporary folder, stays), after multiprocessing's
        # resource tracker has started: it removes the semaphores of the workers' start once
        # this program is gone, so the guard must not count it as one of the cluster's.
        pools.start_quiet_tracker(resource_tracker)
        self.guard = cluster.Guard("dask-scratch-", dask.config.get("temporary-directory", None))
        # Ctrl-C is this program's (it closes the cluster in order): the worker
        # processes start with it ignored, the one disposition that outlives
        # exec, so while they start this process ignores it too. A cluster
        # whose start hangs (distributed waits forever for a worker that died
        # while starting) is given up on: its start runs in a thread, watched.
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        started, outcome = run.clock(), {}
        starter = threading.Thread(target=self.make_cluster, args=(distributed, outcome), name="cluster-start",
                                   daemon=True)
        allowed = CLUSTER_START_SECONDS + CLUSTER_START_SECONDS_PER_WORKER * self.options.workers
        try:
            starter.start()
            starter.join(allowed)
        finally:
            signal.signal(signal.SIGINT, interrupt)
        if starter.is_alive():
            raise report.Failure("the Dask LocalCluster of %d workers did not start within %d s; giving up "
                                 "(its processes end with this one)" % (self.options.workers, allowed))
        if "error" in outcome:
            self.close()
            raise report.Failure("cannot start the Dask LocalCluster: %s" % outcome["error"])
        self.compute_options = {"scheduler": self.client}
        self.options.model_figures = [("scheduler", "distributed"),
                                      ("cluster_start", "%.3f" % (run.clock() - started))]

    def make_cluster(self, distributed, outcome):
        """start_cluster's thread: the LocalCluster and its Client, or outcome["error"] saying why not.
        The workers' scratch space (their lock files) is the guard's folder."""
        try:
            self.cluster = distributed.LocalCluster(
                n_workers=self.options.workers, threads_per_worker=1, processes=True, host=LOOPBACK,
                dashboard_address=LOOPBACK + ":0", worker_dashboard_address=LOOPBACK + ":0",
                silence_logs=logging.ERROR, local_directory=self.guard.folder, preload=[str(WORKER_PRELOAD)])
            self.client = distributed.Client(self.cluster)
        except Exception as e:  # whatever it is, the main thread says it (this thread has nobody to tell)
            outcome["error"] = "%s: %s" % (type(e).__name__, e)

    def share(self, value, everywhere=False):
        """value as an argument of the graph's tasks: on distributed, scattered to
        the workers ahead of the graph (Dask's advice for large inputs, which it
        warns about otherwise; everywhere: to every worker), under a new name
        each run (hash=False), so that every run really sends it; on the
        other schedulers, in the graph once, as dask.delayed(value)."""
        if self.client is not None:
            return self.client.scatter(value, broadcast=everywhere, hash=False)
        return dask.delayed(value)

    def close(self):
        """Close the Client, then the cluster (its worker processes end), whatever state they are in."""
        try:
            if self.client is not None:
                self.client.close(timeout=CLOSE_TIMEOUT)
            if self.cluster is not None:
                self.cluster.close(timeout=CLOSE_TIMEOUT)
        except (OSError, RuntimeError, TimeoutError) as e:
            report.error("closing the Dask cluster failed: %s: %s" % (type(e).__name__, e))
        finally:
            self.client = self.cluster = None
            if self.guard is not None:  # the scratch space removed, and any process of the cluster left killed
                self.guard.end()
                self.guard = None

    def __exit__(self, kind, error, trace):
        """Close the cluster; a worker that died in the middle of a run becomes a
        runtime failure (exit status 1) with a message, not a traceback."""
        self.close()
        if kind is not None and kind.__name__ in LOST_WORKER_ERRORS:
            raise report.Failure("a Dask worker process died in the middle of the run (%s: %s)"
                                 % (kind.__name__, error)) from None
        return False
