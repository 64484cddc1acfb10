"""python/common/dask_worker.py — run in every worker process of a LocalCluster the suite starts (distributed's preload).

A worker that heartbeats while the scheduler is closing (this program's end,
Ctrl-C, an error) can be answered "missing": the scheduler has already let it
go. The worker then logs, at level ERROR, which the workers keep
(schedulers.WORKER_LOGGING), "Scheduler was unaware of this worker
'tcp://127.0.0.1:...'. Shutting down." and shuts down, as it was about to.
The line is a race of the shutdown, not a fault, and came out on a loaded
machine only, beside the program's own message. The filter below drops it;
every other record of the worker's log is kept.
"""
import logging

# The start of the worker's record when the scheduler answered its heartbeat "missing".
UNKNOWN_TO_SCHEDULER = "Scheduler was unaware of this worker"


def not_shutdown_race(record):
    """A filter of distributed.worker's log: False for the record above."""
    return not record.getMessage().startswith(UNKNOWN_TO_SCHEDULER)


logging.getLogger("distributed.worker").addFilter(not_shutdown_race)
