"""tests/data/slow-controller/sitecustomize.py — an IPython Parallel controller that stalls, as on a loaded machine.

On PYTHONPATH, every interpreter the program starts imports this first. In
the controller's, IPython Parallel's Hub stalls before it answers the first
engine's registration and the client's first request, each a little longer
than the one waiting would by default: an engine waits 5 s for its answer
(IPEngine.timeout), a client 10 s (Client's timeout).
"""
import importlib.abc
import importlib.util
import sys
import time

# The Hub's handlers that stall the first time they run, and for how many seconds.
STALLS = {"register_engine": 6, "connection_request": 11}
HUB = "ipyparallel.controller.hub"


def stalling(handler, seconds):
    """handler, made to sleep for seconds before its first call."""
    stalled = []

    def handle(hub, *args):
        if not stalled:
            stalled.append(True)
            time.sleep(seconds)
        return handler(hub, *args)
    return handle


class StallingHub(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when the Hub's module is imported, it wraps the Hub's handlers once loaded."""

    def find_spec(self, name, path, target=None):
        if name != HUB:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            for handler, seconds in STALLS.items():
                setattr(module.Hub, handler, stalling(getattr(module.Hub, handler), seconds))
        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, StallingHub())
