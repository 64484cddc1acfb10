"""python/common/cluster.py — an IPython Parallel cluster the program starts, uses and stops, leaving nothing behind.

IPython Parallel (python/ipyparallel/) runs tasks on engines: Python
processes of their own, which a controller hands tasks to. A program of this
suite starts its own cluster (started, below): a controller and P engines,
all on 127.0.0.1 only, with a profile folder of their own (a temporary one:
nothing of the user's ~/.ipython is read or written), and stops them when it
ends. The start-up is reported on every result line as cluster_start=: the
seconds from starting the controller until all P engines had registered.
It is outside the timed region, like launching an MPI job. The controller
beats its heart every HEARTBEAT_MS, not IPython Parallel's 3 s: an engine
counts as registered once the controller has heard its heart, which took
two beats, so every start of a cluster on one machine waited about 6 s for
nothing (3 engines on a 2-core VM: 9 s to start, 5 s with the quicker
beat). It still gives an engine that stops answering the default's 30 s
before counting it dead.

Stopping them is the hard part. IPython Parallel starts the controller and
each engine in a session of their own (so Ctrl-C at the terminal reaches
only the program), the controller forks helpers of its own and each engine
starts a "nanny" process: a tree the program does not see, and a program
killed with SIGKILL gets no chance to stop. So a Guard (guard.py) comes
first: it marks every process started after it (an environment variable
that children inherit) and starts a small watcher process that waits for the
program's end — its pipe to the program closes when the program exits or
dies, however — and then kills every marked process still alive and removes
the profile folder. On a normal end the program first stops the cluster the
polite way (the engines and the controller told to shut down); the guard
then finds nothing left to kill. Dask's LocalCluster (schedulers.py) keeps its
workers' scratch space in a Guard's folder too: its processes end with the
program by themselves, but the folder would stay after a SIGKILL or SIGTERM.
"""
import contextlib
import logging
import os
import threading

from . import guard, report, run

# Every address the cluster listens on or connects to: this machine only.
LOOPBACK = "127.0.0.1"
# Seconds the engines may take to find the controller and register (a loaded machine is slow to start Python).
ENGINE_TIMEOUT = 60
# Seconds between asking the controller again which engines have registered (see connected()).
RECHECK_S = 2
# How often the controller's heart beats, milliseconds, and how many beats in a
# row an engine may miss before it counts as dead: 30 s, as IPython Parallel's
# default (3 s times 10), at a beat quick enough not to hold up registration.
HEARTBEAT_MS = 200
HEARTBEAT_MISSES = 30000 // HEARTBEAT_MS
# Seconds the engines and the controller get to answer the polite shutdown (stop). An engine
# whose nanny has died (killed by hand, or by the OOM killer) never hears it, since the nanny
# carries its control messages, and Client.shutdown waited for its answer for ever.
STOP_TIMEOUT = 10
# The environment variable that marks every process started after the guard.
MARKER = "SUITE_CLUSTER_GUARD"


class Guard(guard.Guard):
    """The folder a cluster keeps its files in, and the watcher that kills the cluster's
    processes and removes the folder when the program ends, however (guard.py); its
    failures are the program's (report.Failure, report.error). The folder is made in
    directory (None: the temporary folder), its name beginning with prefix."""

    def __init__(self, prefix="suite-cluster-", directory=None):
        try:
            super().__init__(prefix, MARKER, directory=directory)
        except guard.NoWatcher as e:
            raise report.Failure("cannot start the guard process that ends the cluster with this program: %s"
                                 % e.strerror) from None
        except OSError as e:
            raise report.Failure("cannot make a folder for the cluster's files: %s" % e.strerror) from None

    def end(self):
        """Let the watcher kill whatever is left and remove the folder; wait for it."""
        problem = super().end()
        if problem:
            report.error("the guard process did not finish ending the cluster: %s" % problem)


def describe(error):
    """One line for an error of IPython Parallel (a remote one carries the engine's exception)."""
    elist = getattr(error, "elist", None)  # CompositeError: one entry per failed engine
    if elist:
        name, value = elist[0][0], elist[0][1]
        return "%s: %s" % (name, value)
    if hasattr(error, "ename"):  # RemoteError
        return "%s: %s" % (error.ename, error.evalue)
    return "%s: %s" % (type(error).__name__, str(error).strip().splitlines()[0] if str(error).strip() else "")


@contextlib.contextmanager
def started(ipp, options, engines):
    """A client of a cluster of this program's own: a controller and `engines`
    engines on 127.0.0.1, started (ipp.Cluster(n=...), connected() as
    IPython Parallel's documentation starts one), the start-up added to the
    result line as cluster_start=; stopped when the with-block ends, whatever
    way, and nothing left behind (Guard). IPython Parallel's errors become
    report.Failure (exit status 1, one line)."""
    guard = Guard()
    os.environ["IPYTHONDIR"] = guard.folder  # IPython's files are read and written here, not in ~/.ipython
    try:
        begin = run.clock()
        cluster = ipp.Cluster(n=engines, profile_dir=guard.folder, controller_ip=LOOPBACK,
                              controller_location=LOOPBACK, engine_timeout=ENGINE_TIMEOUT, config=settings(),
                              controller_args=["--HeartMonitor.period=%d" % HEARTBEAT_MS,
                                               "--HeartMonitor.max_heartmonitor_misses=%d" % HEARTBEAT_MISSES],
                              delay=0, load_profile=False, shutdown_atexit=False,
                              log_level=logging.ERROR)  # its warnings (an engine stopped) would add lines to ours
        try:
            client = connected(cluster, engines)
        except TimeoutError:
            raise report.Failure("%s with the controller within %d s" % (
                "the engine did not register" if engines == 1 else "the %d engines did not all register" % engines,
                ENGINE_TIMEOUT)) from None
        options.model_figures.append(("cluster_start", "%.3f" % (run.clock() - begin)))
        try:
            yield client
        except ipp.error.IPythonError as e:
            raise report.Failure("an engine's task failed: %s" % describe(e)) from None
        stop(cluster, client)
    except (ipp.error.IPythonError, RuntimeError, OSError) as e:
        raise report.Failure("the IPython Parallel cluster failed: %s" % describe(e)) from None
    finally:
        guard.end()


def connected(cluster, engines):
    """A client of cluster, once its controller and all its engines are up:
    start_and_connect_sync()'s three steps, each given what is left of
    ENGINE_TIMEOUT. (start_and_connect_sync() gives the client's first
    request to the controller IPython Parallel's 10 s, which a controller
    busy registering engines on a loaded machine can take longer to answer.)
    A client hears of an engine's registration from a notification, which it
    misses if it comes before the client has subscribed (the controller
    answered its first request as the engine registered): every RECHECK_S
    the client is replaced by a new one, which the controller tells of every
    engine registered so far."""
    deadline = run.clock() + ENGINE_TIMEOUT
    cluster.start_cluster_sync()
    client = cluster.connect_client_sync(timeout=max(deadline - run.clock(), 1))
    while True:
        try:
            client.wait_for_engines(engines, timeout=min(RECHECK_S, max(deadline - run.clock(), 0)))
            return client
        except TimeoutError:
            if run.clock() >= deadline:
                raise
        client.close()
        client = cluster.connect_client_sync(timeout=max(deadline - run.clock(), 1))


def settings():
    """The launchers' settings: every engine at once, each willing to wait for
    the controller's connection file, and for its answer to registering, as
    long as registering may take."""
    from traitlets.config import Config  # IPython Parallel's own configuration system
    config = Config()
    config.LocalEngineSetLauncher.delay = 0
    config.EngineLauncher.engine_args = ["--IPEngine.wait_for_url_file=%d" % ENGINE_TIMEOUT,
                                         "--IPEngine.timeout=%d" % ENGINE_TIMEOUT]  # its registration's answer too
    return config


def stop(cluster, client):
    """The polite end: the engines and the controller told to shut down, then
    reaped; if that fails, or they do not all answer within STOP_TIMEOUT, the
    guard kills them instead (said on stderr)."""
    try:
        within(STOP_TIMEOUT, lambda: client.shutdown(hub=True, block=True))
        client.close()
        cluster.stop_cluster_sync()
    except Exception as e:  # whatever went wrong, the guard ends the processes: say so, do not fail the run
        report.error("stopping the cluster politely failed (%s); its processes are killed instead" % describe(e))


def within(seconds, call):
    """call() in a thread of its own, given `seconds` to return: what it raises is raised here;
    TimeoutError if it is still waiting then (the thread is left to wait: run.leave does not
    wait for it)."""
    outcome = []

    def calling():
        try:
            call()
            outcome.append(None)
        except Exception as e:  # raised again in the caller's thread
            outcome.append(e)

    thread = threading.Thread(target=calling, name="cluster-stop", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise TimeoutError("the engines and the controller did not all answer within %d s" % seconds)
    if outcome[0] is not None:
        raise outcome[0]
