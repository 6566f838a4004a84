"""Background jobs: work that runs in a thread of its own (retraining the suggestions, finding topics)
while the web app keeps serving.

A ``Job`` has one worker thread at a time, a ``state`` dict its ``status()`` reports (always with
``running``, ``error`` and ``finished_at``), a lock that guards both, and its own database connection
per round of work (``connect``): SQLite connections are not shared between threads, and the worker's
writes wait for request writes (and vice versa) through the busy timeout and ``BEGIN IMMEDIATE``
(``coder.db.immediate``).

A subclass says what one round of work is (``run``, whose return value updates the state) and whether
another round follows (``again``, asked under the lock, so a request that arrives while the worker
is finishing is never left waiting: either the worker sees it, or ``running`` is already off and the
request starts a new worker). An exception in ``run`` is logged and kept as ``error`` with
``finished_at``; the job then stops (unless ``again`` says otherwise), and the caller keeps serving.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from . import db as store

log = logging.getLogger(__name__)


class Job:
    """One kind of background work, at most one worker thread at a time (see the module docstring).

    ``state`` is the initial state (``running``, ``error`` and ``finished_at`` are added if missing);
    ``name`` names the thread (``coder-topics``)."""

    def __init__(self, db_path, name: str, state: dict | None = None):
        self.db_path, self.name = db_path, name
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.state = {"running": False, **(state or {})}
        self.state.setdefault("error", None)
        self.state.setdefault("finished_at", None)

    def launch(self, changes: dict | None = None, *args) -> bool:
        """Start a worker that calls ``run(*args)`` unless one is running (then False and nothing
        changes); ``changes`` update the state first. Takes the lock (see ``_launch``)."""
        with self.lock:
            return self._launch(changes, *args)

    def _launch(self, changes: dict | None = None, *args) -> bool:
        """``launch`` for a caller that holds the lock (e.g. after queueing work under it)."""
        if self.state["running"]:
            return False
        self.state.update(running=True, **(changes or {}))
        self.thread = threading.Thread(target=self._main, args=args, name=self.name, daemon=True)
        self.thread.start()
        return True

    def status(self) -> dict:
        """A copy of the state, taken under the lock (``snapshot``)."""
        with self.lock:
            return self.snapshot()

    def snapshot(self) -> dict:
        """The state as ``status`` reports it; a subclass adds to it (called with the lock held)."""
        return dict(self.state)

    def progress(self, **values) -> None:
        """Update the state from the worker (a stage reached, a counter), under the lock."""
        with self.lock:
            self.state.update(values)

    def wait(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` seconds (None: as long as it takes) for the current worker to end."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    @contextmanager
    def connect(self):
        """The worker's own connection to the project (``coder.db.open_db``, not created if missing),
        closed afterwards."""
        db = store.open_db(self.db_path, create=False)
        try:
            yield db
        finally:
            db.close()

    def run(self, *args) -> dict | None:
        """One round of work in the worker thread; returns changes to the state (or None)."""
        raise NotImplementedError

    def again(self) -> bool:
        """Whether another round follows (asked with the lock held after each round); default no."""
        return False

    def _main(self, *args) -> None:
        while True:
            try:
                changes = self.run(*args) or {}
            except Exception as exc:  # keep serving; the status shows the error
                log.exception("%s failed", self.name)
                changes = {"error": str(exc), "finished_at": store.now()}
            with self.lock:
                self.state.update(changes)
                if not self.again():
                    self.state["running"] = False
                    return
