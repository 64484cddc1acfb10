"""python/common/dask_worker.py — run in every worker process of a LocalCluster the suite starts (distributed's preload).

The scheduler runs in the program's own process. A worker that heartbeats
while it is closing (this program's end, Ctrl-C, an error) can be answered
"missing": the scheduler has already let it go. The worker then logs, at
level ERROR, which the workers keep (schedulers.WORKER_LOGGING), "Scheduler
was unaware of this worker 'tcp://127.0.0.1:...'. Shutting down." and shuts
down, as it was about to. A worker that heartbeats once the program was
killed (SIGKILL) finds no scheduler at all, and logs "Failed to communicate
with scheduler during heartbeat." with a traceback, before the program's
guard (cluster.Guard) ends it. Neither is a fault of the run, and each came
out on a loaded machine only, after the program's own message or after it
was gone. The filter below drops those two records; every other record of
the worker's log is kept.
"""
import logging

# The start of the worker's record when the scheduler answered its heartbeat "missing", and when the
# scheduler, with its program, is gone.
SHUTDOWN_RACES = ("Scheduler was unaware of this worker", "Failed to communicate with scheduler during heartbeat")


def not_shutdown_race(record):
    """A filter of distributed.worker's log: False for the records above."""
    return not record.getMessage().startswith(SHUTDOWN_RACES)


logging.getLogger("distributed.worker").addFilter(not_shutdown_race)
