"""Background retraining: confirmations update the suggestions without blocking a request.

One worker thread per app. Requests for transcripts coalesce: while a run is going, new requests
wait in a set and the worker runs once more for all of them. The worker has its own database
connection; its writes wait for request writes (and vice versa) through SQLite's busy timeout
and BEGIN IMMEDIATE (``coder.db.immediate``).

A transcript whose run fails is tried again ``RETRIES`` times, ``BACKOFF`` seconds apart (doubling);
then it is listed under ``failed`` in ``status()`` with the error, which the coding page shows with
a button to try again — never a "calculating" that does not end.
"""

from __future__ import annotations

import logging
import threading

from flask import current_app

from coder import db as store

log = logging.getLogger(__name__)
RETRIES = 3  # attempts per transcript before it is reported as failed
BACKOFF = 2.0  # seconds before the first retry; doubled for each further one


class Retrainer:
    def __init__(self, db_path, codebook_path=None, embedding_model=None, backoff: float = BACKOFF):
        self.db_path, self.codebook_path, self.embedding_model = db_path, codebook_path, embedding_model
        self.backoff = backoff
        self.lock = threading.Lock()
        self.pending: set[int] = set()
        self.attempts: dict[int, int] = {}
        self.thread: threading.Thread | None = None
        self.state = {"running": False, "generation": 0, "error": None, "finished_at": None, "trained_on": 0,
                      "failed": {}}

    def request(self, transcript_id: int) -> None:
        """Queue a transcript (again, if it had failed) and start the worker if it is idle."""
        with self.lock:
            self.pending.add(transcript_id)
            self.state["failed"].pop(transcript_id, None)
            self.attempts.pop(transcript_id, None)
            self._start()

    def _start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.state["running"] = True
            self.thread = threading.Thread(target=self._work, name="coder-retrain", daemon=True)
            self.thread.start()

    def status(self) -> dict:
        """running, generation (goes up after each successful run), error (the last one), finished_at,
        trained_on, queued transcript ids, failed {transcript id: error} after every retry."""
        with self.lock:
            return {**self.state, "failed": dict(self.state["failed"]), "queued": sorted(self.pending)}

    def wait(self, timeout: float | None = None) -> None:
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    def _work(self) -> None:
        from coder.codebook_edit import project_codebook

        while True:
            with self.lock:
                if not self.pending:
                    self.state["running"] = False
                    return
                batch, self.pending = sorted(self.pending), set()
            retry = [tid for tid in batch if not self._run(tid, project_codebook)]
            if retry:  # wait, then try the failed ones again (requests that came meanwhile join them)
                attempt = max(self.attempts[tid] for tid in retry)
                threading.Event().wait(self.backoff * 2 ** (attempt - 1))
                with self.lock:
                    self.pending.update(retry)

    def _run(self, transcript_id: int, project_codebook) -> bool:
        """One transcript's suggestions; False if it should be tried again."""
        from coder.suggest.service import suggest_project

        db = None
        try:
            db = store.open_db(self.db_path, create=False)
            book = project_codebook(db, self.codebook_path).offered()  # the current version; no retired codes
            summary = suggest_project(db, book, transcript_id, self.embedding_model)
            with self.lock:
                self.attempts.pop(transcript_id, None)
                self.state.update(generation=self.state["generation"] + 1, error=None,
                                  finished_at=store.now(), trained_on=summary["trained_on"])
            return True
        except Exception as exc:  # keep serving; the status API and the coding page show the error
            log.exception("retraining transcript %s failed", transcript_id)
            with self.lock:
                self.attempts[transcript_id] = self.attempts.get(transcript_id, 0) + 1
                self.state["error"] = str(exc)
                if self.attempts[transcript_id] < RETRIES:
                    return False
                self.state["failed"][transcript_id] = str(exc)
                self.attempts.pop(transcript_id)
            return True
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
    app.extensions["coder_retrainer"] = Retrainer(
        app.config["DATABASE"], app.config["CODEBOOK"], app.config["EMBEDDING_MODEL"],
        app.config.get("RETRAIN_BACKOFF", BACKOFF))
