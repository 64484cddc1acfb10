"""python/common/jobs.py — what the joblib models share: --backend, joblib, and runs whose workers end with them.

  BACKEND_FLAG   --backend loky|threading (default loky, as joblib's own)
  load           joblib, or exit status 2 naming python3-joblib; from then
                 on every process this program forks dies with it (below)
  session        the with-block around a run's Parallel calls: loky's
                 workers end with it, and a worker that died becomes exit
                 status 1 with a message
  model_figures  backend= on every result line

Parallel has no initializer: every job carries the data it needs (the
workloads' *_job functions), pickled to a loky worker (NumPy arrays over
1 MB written once to a temporary file the workers map) and handed over as
they are to a thread.

What is timed. loky starts its worker processes at the first Parallel call
and keeps them for the next (a reusable executor, idle for up to 300 s), so
a notebook's later calls skip the start. Here every run ends them at its
end, inside the timed region, so each run costs what a program that makes
its Parallel calls once pays, as with every other pool model of the suite:
setup= (until the last worker began its first job) holds starting P
workers, each a fresh interpreter (loky forks and execs, it does not copy
the program) that imports joblib, NumPy and the suite's modules, and
combine= holds ending them: killed once their jobs are done, as
multiprocessing.Pool's with-block terminates its workers (end_loky_workers
says why not loky's own shutdown). The threading backend starts P threads at
each Parallel call and ends them at its end. At -p 1 joblib runs the jobs in
the program itself, with no worker at all (its rule for n_jobs=1).

Dying with the program. A loky worker does not notice its parent's death
(it would wait for work for up to 300 s), so load registers an at-fork
hook: every child that os.fork makes (loky starts each worker with fork,
then exec) gets SIGKILL when this process dies (prctl(PR_SET_PDEATHSIG),
which exec keeps) and ignores Ctrl-C (the program's: it ends the run and
its workers). loky's resource trackers, two small processes started
without os.fork, end by themselves once the workers are gone, after
removing loky's temporary files.
"""
import concurrent.futures.process
import ctypes
import logging
import os
import signal

from . import cli, pools, report, run

BACKENDS = ("loky", "threading")
BACKEND_FLAG = cli.Flag("--backend", "|".join(BACKENDS), "choice", "backend",
                        "joblib's backend: loky, worker processes (default, as joblib's); threading, threads",
                        choices=BACKENDS)
DEFAULTS = {"backend": "loky"}

# The threads the threading backend's pool (multiprocessing's ThreadPool) runs besides its workers.
POOL_THREADS = 3
program_pid = None  # this program's pid, which its forked children check their parent against
libc = None         # the C library, loaded before any fork (a child just forked calls prctl through it)


def in_threads(options):
    """Whether the workers are threads of this process."""
    return options.backend == "threading"


def model_figures(options):
    """joblib's own key=value pairs for every result line."""
    return [("backend", options.backend)]


def load(options):
    """joblib, or exit status 2 naming its Debian package. From now on every
    child this process forks dies with it. Its import counts in startup=."""
    global program_pid, libc
    joblib = report.require("joblib", "python3-joblib", "the joblib model")
    if options.backend == "loky" and options.workers > 1:
        # loky's resource tracker, started now, before the hook: it must outlive a
        # killed program, to remove loky's temporary files once the workers are gone.
        from joblib.externals.loky.backend import resource_tracker
        pools.start_quiet_tracker(resource_tracker)
    program_pid, libc = os.getpid(), ctypes.CDLL(None, use_errno=True)
    os.register_at_fork(after_in_child=die_with_program)
    if options.backend == "loky":
        from joblib.externals.loky.backend import fork_exec
        fork_exec.fork_exec = leaving_if_not_exec(fork_exec.fork_exec)  # loky's _launch looks it up at each call
    # When a worker dies, joblib's own callback (dispatching the next jobs onto the
    # broken executor) fails too, and loky logs that with a traceback; the run's
    # failure is said once, by session, instead.
    logging.getLogger("concurrent.futures").addHandler(logging.NullHandler())
    options.startup = run.startup_seconds()
    return joblib


def die_with_program():
    """In a child just forked, before it execs (a loky worker's interpreter):
    SIGKILL when this program dies, Ctrl-C left to the program; exec keeps both.
    A program that died before the prctl would not send it: the child leaves."""
    if libc.prctl(pools.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        report.error("prctl(PR_SET_PDEATHSIG) failed in a forked worker: %s" % os.strerror(ctypes.get_errno()))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != program_pid:
        os._exit(report.EXIT_FAILED)


def leaving_if_not_exec(fork_exec):
    """loky's fork_exec (fork, then in the child close every descriptor but
    the worker's and exec its interpreter), but a child that fails before the
    exec (out of descriptors, it cannot list the ones to close) leaves at
    once. It is a copy of this program: else its exception would unwind the
    program's own stack in the child, whose cleanups (ending the pool,
    killing its workers, removing joblib's folders) would run a second time,
    on the program's pool, and the program's message be said twice."""
    def fork_exec_or_leave(cmd, keep_fds, env=None):
        try:
            return fork_exec(cmd, keep_fds, env)
        except BaseException:
            if os.getpid() != program_pid:
                os._exit(report.EXIT_FAILED)
            raise
    return fork_exec_or_leave


class session:
    """The with-block around one run's Parallel calls. At its end loky's
    workers end too, so the next run starts its own; a worker that died in
    the middle of the run (joblib raises TerminatedWorkerError, a
    BrokenProcessPool) becomes a Failure: exit status 1."""

    def __init__(self, problem):
        self.backend = problem.options.backend

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if self.backend == "loky":
            end_loky_workers(failed=exc_type is not None)
        if exc_type is not None and issubclass(exc_type, concurrent.futures.process.BrokenProcessPool):
            said = str(exc_value).strip().splitlines()
            raise report.Failure("a loky worker process died in the middle of the run (%s); joblib failed the "
                                 "jobs left" % (said[-1] if said else exc_type.__name__)) from None
        return False


def end_loky_workers(failed):
    """Shut loky's reusable executor down, its workers killed and joined, and
    joblib's temporary files removed: by then the run's jobs are done (or the
    run failed: then each worker started is killed first, kill_started), as
    when multiprocessing.Pool's with-block terminates its workers. Not loky's
    own shutdown, which hands each worker a sentinel through the queue of its
    calls: the reusable executor sizes that queue by the cores (twice the
    cores, plus one), not by the workers, so with more workers than that the
    sentinels go in only as fast as the workers take them out, and workers
    still starting (each a fresh interpreter: P = 64 on 2 cores took seconds)
    take none. loky gives up after about 20 s of a full queue (joblib 1.2's,
    Debian 12's) and raises queue.Full in its manager thread, after every
    result was in (one run of two at P = 64 on the 2-core AMD VM), leaving the
    workers it did not reach waiting 300 s for work. joblib has no public call
    for this: loky keeps the executor it reuses in
    reusable_executor._executor."""
    from joblib.externals.loky import reusable_executor
    executor = reusable_executor._executor
    if executor is None:
        return  # none started (-p 1: no worker)
    if failed:
        kill_started(executor._processes)
    if hasattr(executor, "terminate"):  # joblib's MemmappingExecutor: shutdown, then its temporary files
        executor.terminate(kill_workers=True)
    else:
        executor.shutdown(wait=True, kill_workers=True)


def kill_started(processes):
    """SIGKILL to each worker in loky's {pid: process} still running. loky's
    manager thread kills them at shutdown; but where starting the workers
    failed half-way there is no such thread, and the ones started would wait
    for work, and this program (joining them at exit) for them, forever."""
    for process in list(processes.values()):
        if process.exitcode is None:  # not yet reaped: its pid is still its own
            try:
                os.kill(process.pid, signal.SIGKILL)
            except OSError:
                pass  # gone meanwhile
