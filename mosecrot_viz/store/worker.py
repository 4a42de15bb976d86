"""One queue for the runs a process starts, and one compute slot per machine across processes.

Why: two app sessions starting runs at once would otherwise fine-tune side by side, each with torch's
threads over every core: the cores are oversubscribed and neither run finishes sooner. The queue runs
jobs one after the other in the order they were asked for (a FIFO, unlike a bare lock's free-for-all);
`compute_slot` extends that to separate processes that share a cache folder (the app's runs, CLI runs,
demos, sweeps and grids): the later one waits, says so, and an app run can be cancelled while it waits.
The slot is not a fair queue between processes: a process with several jobs (a sweep) may take it again
before a waiter's next poll. `python -m mosecrot_viz bench`
measures two sessions' runs started at once against the same runs one after the other.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from contextlib import contextmanager
from typing import Callable

from mosecrot_viz.paths import cache_dir

LOG = logging.getLogger(__name__)
SLOT_FILE = "compute.lock"
_jobs: queue.Queue = queue.Queue()
_start_lock = threading.Lock()
_worker: threading.Thread | None = None


def submit(fn: Callable, *args, **kwargs) -> None:
    """Queue `fn(*args, **kwargs)` for the process's one worker thread (started on first use)."""
    global _worker
    _jobs.put((fn, args, kwargs))
    with _start_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="mosecrot-worker", daemon=True)
            _worker.start()


def pending() -> int:
    """Jobs queued or running in this process."""
    return _jobs.unfinished_tasks


def wait_idle(timeout: float | None = None, poll: float = 0.2) -> bool:
    """Block until every queued job has finished (or `timeout` seconds pass); True when idle."""
    end = None if timeout is None else time.monotonic() + timeout
    while pending():
        if end is not None and time.monotonic() > end:
            return False
        time.sleep(poll)
    return True


def _work() -> None:
    while True:
        fn, args, kwargs = _jobs.get()
        try:
            fn(*args, **kwargs)
        except BaseException:  # a job records its own failure (store.runs); this only keeps the worker alive
            LOG.exception("background job %s failed", getattr(fn, "__name__", fn))
        finally:
            _jobs.task_done()


class SlotWaitCancelled(Exception):
    """The caller's `cancelled()` turned true while it waited for the compute slot."""


@contextmanager
def compute_slot(on_wait: Callable[[str], None] | None = None, cancelled: Callable[[], bool] | None = None,
                 poll: float = 1.0):
    """Hold this machine's compute slot (an advisory flock on `cache_dir()/compute.lock`, released by the
    kernel if the holder dies) for the body. A holder's pid is written in the file; a waiter calls
    `on_wait(message)` once, checks `cancelled()` every `poll` seconds and raises `SlotWaitCancelled`.
    `MOSECROT_SHARE_CORES=1` skips the slot (for engines such as Ray that share the cores themselves)."""
    if os.environ.get("MOSECROT_SHARE_CORES", "").strip() == "1":
        yield
        return
    from filelock import FileLock, Timeout

    path = cache_dir() / SLOT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".flock", timeout=0)
    told = False
    while True:
        try:
            lock.acquire()
            break
        except Timeout:
            if cancelled and cancelled():
                raise SlotWaitCancelled("cancelled while waiting for another run on this machine") from None
            if not told and on_wait:
                holder = path.read_text().strip() if path.exists() else "?"
                on_wait(f"waiting for another run on this machine to finish (process {holder or '?'}): one run "
                        "at a time, so each gets every core")
                told = True
            time.sleep(poll)
    try:
        path.write_text(f"{os.getpid()}\n")
        yield
    finally:
        lock.release()
