"""tests/data/slow-loky-workers/sitecustomize.py — loky workers that are slow to start, as on a loaded machine.

On PYTHONPATH, every interpreter the program starts imports this first. In
a loky worker past the first FAST_WORKERS (its command line names it
LokyProcess-N), it sleeps before the worker reads its first call: the first
ones do the run's jobs, the others are still starting when the run ends.
"""
import re
import time

# The workers that start at once, and how long the others sleep (longer than loky's ~20 s of patience).
FAST_WORKERS, SLOW_START_SECONDS = 2, 60

with open("/proc/self/cmdline", "rb") as f:
    worker = re.search(rb"LokyProcess-([0-9]+)", f.read())
if worker and int(worker.group(1)) > FAST_WORKERS:
    time.sleep(SLOW_START_SECONDS)
