"""The delivery thread: one daemon thread per process (WEBHOOK_THREAD), started by the first
request the process serves, woken when a request has queued deliveries (once it is over, so its
transaction has committed) and every POLL seconds for retries and for rows queued outside a
request (a command, a sweep). Each round takes a connection of its own from the pool and gives it
back. Several processes may run one each: the rows are claimed (crm.webhooks.services)."""
import logging
import os
import threading
import time

from crm.db import db
from crm.webhooks import services

log = logging.getLogger("crm.webhooks")
POLL = 30  # seconds between rounds when nothing wakes the thread
PURGE_EVERY = 3600  # seconds between clearing out old delivered rows

_lock = threading.Lock()
_state = {"thread": None, "pid": None, "wake": threading.Event(), "stop": threading.Event()}


def enabled(app) -> bool:
    return bool(app.config.get("WEBHOOK_THREAD"))


def _running() -> bool:
    thread = _state["thread"]
    return thread is not None and thread.is_alive() and _state["pid"] == os.getpid()


def ensure_started(app):
    """Start this process's thread unless it runs (a forked server worker starts its own)."""
    if not enabled(app) or _running():
        return
    with _lock:
        if _running():
            return
        wake, stop_ = threading.Event(), threading.Event()
        wake.set()  # a first round at once: what an earlier process left due
        thread = threading.Thread(target=_run, args=(app, wake, stop_), name="crm-webhooks", daemon=True)
        _state.update(thread=thread, pid=os.getpid(), wake=wake, stop=stop_)
        thread.start()


def wake():
    _state["wake"].set()


def stop(timeout: float = 30):
    """End this process's thread after its current round (the tests that start one)."""
    with _lock:
        thread, wake_, stop_ = _state["thread"], _state["wake"], _state["stop"]
        _state["thread"] = None
    if thread is not None:
        stop_.set()
        wake_.set()
        thread.join(timeout)


def _run(app, wake_: threading.Event, stop_: threading.Event):
    purged = None
    while not stop_.is_set():
        wake_.wait(POLL)
        wake_.clear()
        if stop_.is_set():
            return
        try:
            with app.app_context(), db.connection_context():
                services.deliver_all()
                if purged is None or time.monotonic() - purged >= PURGE_EVERY:
                    purged = time.monotonic()
                    services.purge()
        except Exception:  # the next round tries again
            log.exception("webhooks: delivery round failed")
