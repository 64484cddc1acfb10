"""python/common/executors.py — what the concurrent.futures models share: --executor, executors that stop on an error.

  flags, defaults  --executor thread|process, with the default a model file
                 names: the tutorials' rule, processes for CPU-bound work
                 (threads share one GIL) and threads for I/O-bound work; and
                 --start-method, how a ProcessPoolExecutor's workers begin
                 (pools.py; refused with threads, which start no process).
  use_start_method  sets it, once, in main().
  EXECUTORS      the two executors the tutorials teach, as --executor names
                 them: concurrent.futures' ThreadPoolExecutor and
                 ProcessPoolExecutor, each with one change (below). Their
                 initializer is the workload's start_worker, which makes a
                 process worker die with its parent (pools.become_worker).
  model_figures  executor= (and, for processes, start_method=) on every result line.

The change: leaving `with Executor(...) as executor:` calls
shutdown(wait=True), which runs every task still queued and waits for it:
right after success, wrong after an error or Ctrl-C, when the program would
sit through the rest of the run first. So when the block ends with an
exception, the ThreadPoolExecutor cancels its queued tasks and does not wait
for the running ones (threads cannot be stopped; run.main leaves the process
without them), and the ProcessPoolExecutor kills its workers, then shuts
down. A process worker that dies in the middle of a run (killed, out of
memory) makes the executor fail every task left with BrokenProcessPool and
end the other workers itself (unlike multiprocessing.Pool, which would wait
for the lost task forever): that becomes exit status 1 with a message.
"""
import concurrent.futures
import concurrent.futures.process
import signal
import threading

from . import cli, pools, report, run

KINDS = ("thread", "process")


def flags(default):
    """--executor, its help naming the model's default, and --start-method."""
    return [cli.Flag("--executor", "|".join(KINDS), "choice", "executor",
                     "thread: a concurrent.futures.ThreadPoolExecutor; process: a ProcessPoolExecutor "
                     "(default %s)" % default, choices=KINDS),
            pools.START_FLAG]


def defaults(default):
    """The flags' values where they are left out."""
    return {"executor": default, **pools.START_DEFAULTS}


def in_threads(options):
    """Whether the workers are threads of this process."""
    return options.executor == "thread"


def use_start_method(options):
    """A ProcessPoolExecutor's workers start the way --start-method says; threads take no start method."""
    if options.executor == "thread" and "start_method" in options.given:
        raise report.UsageError("--start-method %s: --executor thread starts no process (it is for --executor "
                                "process)" % options.start_method)
    pools.use_start_method(options)


def model_figures(options):
    """The executor's own key=value pairs for every result line."""
    if options.executor == "process":
        return [("executor", "process"), ("start_method", options.start_method)]
    return [("executor", "thread")]


class ThreadPoolExecutor(concurrent.futures.ThreadPoolExecutor):
    """concurrent.futures.ThreadPoolExecutor; a block that fails cancels the
    tasks still queued and leaves the running ones to finish on their own."""

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            return super().__exit__(exc_type, exc_value, traceback)
        self.shutdown(wait=False, cancel_futures=True)
        return False


class ProcessPoolExecutor(concurrent.futures.ProcessPoolExecutor):
    """concurrent.futures.ProcessPoolExecutor; a block that fails kills the
    workers first, and a worker that died is said in one line (exit status 1)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        threading.excepthook = note_thread_failure

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            return super().__exit__(exc_type, exc_value, traceback)
        deaths = describe_deaths(self._processes)  # what died, before the rest is killed
        kill(self._processes)
        self.shutdown(wait=True, cancel_futures=True)
        if issubclass(exc_type, concurrent.futures.process.BrokenProcessPool):
            raise report.Failure("a worker process of the ProcessPoolExecutor died in the middle of the run (%s); "
                                 "the executor failed every task left" % deaths) from None
        return False


EXECUTORS = {"thread": ThreadPoolExecutor, "process": ProcessPoolExecutor}


def note_thread_failure(args):
    """threading.excepthook while a ProcessPoolExecutor is about: run.py's, less
    one known race in CPython (gh-107219, fixed in later releases). When a
    worker dies, the executor's manager thread fails the tasks left while
    executor.map, seeing the first failure, cancels them; failing a cancelled
    task raises InvalidStateError there. The run fails with BrokenProcessPool
    anyway, and the workers that thread did not end are killed (__exit__)."""
    if args.exc_type is concurrent.futures.InvalidStateError and \
            isinstance(args.thread, getattr(concurrent.futures.process, "_ExecutorManagerThread", ())):
        return
    run.note_thread_failure(args)


def describe_deaths(processes):
    """Words for the workers that ended on their own (the executor ends the
    others with SIGTERM, which is not their death but its answer to it).
    processes: the executor's {pid: Process} (it has no public list of its workers)."""
    words = []
    for pid, process in list((processes or {}).items()):
        code = process.exitcode
        if code is None or code == -signal.SIGTERM:
            continue
        words.append("pid %d %s" % (pid, "killed by signal %d (%s)" % (-code, signal.Signals(-code).name)
                                     if code < 0 else "exited with status %d" % code))
    return ", ".join(words) or "which one, it did not say"


def kill(processes):
    """SIGKILL to every worker process not yet reaped (a worker ignores Ctrl-C: it is the parent's)."""
    for process in list((processes or {}).values()):
        try:
            process.kill()  # sends nothing to a worker already reaped, whose pid may be another's now
        except (OSError, ValueError):
            pass  # gone already
