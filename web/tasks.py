"""Background retraining: confirmations update the suggestions without blocking a request.

One worker thread per app. Requests for transcripts coalesce: while a run is going, new requests
wait in a set and the worker runs once more for all of them. The worker has its own database
connection; its writes wait for request writes (and vice versa) through SQLite's busy timeout.
"""

from __future__ import annotations

import logging
import threading

from flask import current_app

from coder import db as store

log = logging.getLogger(__name__)


class Retrainer:
    def __init__(self, db_path, codebook_path=None, embedding_model=None):
        self.db_path, self.codebook_path, self.embedding_model = db_path, codebook_path, embedding_model
        self.lock = threading.Lock()
        self.pending: set[int] = set()
        self.thread: threading.Thread | None = None
        self.state = {"running": False, "generation": 0, "error": None, "finished_at": None, "trained_on": 0}

    def request(self, transcript_id: int) -> None:
        with self.lock:
            self.pending.add(transcript_id)
            if self.thread is None or not self.thread.is_alive():
                self.state["running"] = True
                self.thread = threading.Thread(target=self._work, name="coder-retrain", daemon=True)
                self.thread.start()

    def status(self) -> dict:
        with self.lock:
            return {**self.state, "queued": sorted(self.pending)}

    def wait(self, timeout: float | None = None) -> None:
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    def _work(self) -> None:
        from coder.codebook import load_codebook
        from coder.suggest.service import suggest_project

        while True:
            with self.lock:
                if not self.pending:
                    self.state["running"] = False
                    return
                batch, self.pending = sorted(self.pending), set()
            db = None
            try:
                db = store.open_db(self.db_path, create=False)
                book = load_codebook(self.codebook_path)
                for transcript_id in batch:
                    summary = suggest_project(db, book, transcript_id, self.embedding_model)
                with self.lock:
                    self.state.update(generation=self.state["generation"] + 1, error=None,
                                      finished_at=store.now(), trained_on=summary["trained_on"])
            except Exception as exc:  # keep serving; the status API shows the error
                log.exception("retraining failed")
                with self.lock:
                    self.state["error"] = str(exc)
            finally:
                if db is not None:
                    db.close()


def retrainer() -> Retrainer:
    return current_app.extensions["coder_retrainer"]


def schedule(transcript_id: int) -> None:
    """Recompute suggestions for a transcript in the background (if the app retrains at all)."""
    if current_app.config["RETRAIN"]:
        retrainer().request(transcript_id)


def init_app(app):
    app.extensions["coder_retrainer"] = Retrainer(app.config["DATABASE"], app.config["CODEBOOK"],
                                                  app.config["EMBEDDING_MODEL"])
