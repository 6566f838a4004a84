"""Background retraining: confirmations update the suggestions without blocking a request.

One worker thread per app (a ``coder.jobs.Job``). Requests for transcripts coalesce: while a run is
going, new requests wait in a set and the worker runs once more for all of them, fitting the
suggesters once per run and scoring each transcript. The worker has its own database connection;
its writes wait for request writes (and vice versa) through SQLite's busy timeout and BEGIN
IMMEDIATE (``coder.db.immediate``).

A transcript whose run fails is tried again ``RETRIES`` times, ``BACKOFF`` seconds apart (doubling);
then it is listed under ``failed`` in ``status()`` with the error, which the coding page shows with
a button to try again — never a "calculating" that does not end.
"""

from __future__ import annotations

import logging
import threading

from flask import current_app

from coder import db as store
from coder.jobs import Job

log = logging.getLogger(__name__)
RETRIES = 3  # attempts per transcript before it is reported as failed
BACKOFF = 2.0  # seconds before the first retry; doubled for each further one


class Retrainer(Job):
    """The app's retraining job (``coder.jobs.Job``): a queue of transcripts, each round fitting the
    suggesters once (``coder.suggest.service.fit_project``) and scoring every queued transcript
    (``score``)."""

    def __init__(self, db_path, codebook_path=None, embedding_model=None, backoff: float = BACKOFF):
        super().__init__(
            db_path,
            "coder-retrain",
            {"generation": 0, "error": None, "finished_at": None, "trained_on": 0, "failed": {}},
        )
        self.codebook_path, self.embedding_model = codebook_path, embedding_model
        self.backoff = backoff
        self.pending: set[int] = set()
        self.attempts: dict[int, int] = {}

    def request(self, transcript_id: int) -> None:
        """Queue a transcript (again, if it had failed) and start the worker if it is idle."""
        with self.lock:
            self.pending.add(transcript_id)
            self.state["failed"].pop(transcript_id, None)
            self.attempts.pop(transcript_id, None)
            self._launch()

    def snapshot(self) -> dict:
        """running, generation (goes up after each transcript's successful run), error (the last one),
        finished_at, trained_on, queued transcript ids, failed {transcript id: error} after every retry."""
        return {**self.state, "failed": dict(self.state["failed"]), "queued": sorted(self.pending)}

    def again(self) -> bool:
        return bool(self.pending)

    def run(self) -> None:
        """One round: the queued transcripts (requests coalesce); the failed ones are queued again after
        the backoff (requests that came meanwhile join them)."""
        with self.lock:
            batch, self.pending = sorted(self.pending), set()
        try:
            with self.connect() as db:
                retry = self._suggest(db, batch)
        except Exception as exc:  # no connection to the project: every transcript of the round failed
            retry = [tid for tid in batch if self._failed(tid, exc)]
        if retry:
            attempt = max(self.attempts[tid] for tid in retry)
            threading.Event().wait(self.backoff * 2 ** (attempt - 1))
            with self.lock:
                self.pending.update(retry)

    def _suggest(self, db, batch: list[int]) -> list[int]:
        """Suggestions for each transcript of ``batch``, the suggesters fitted once (on the codebook's
        current version, no retired codes); returns the transcripts to try again."""
        from coder.codebook_edit import project_codebook
        from coder.suggest import service

        model, retry = None, []
        for transcript_id in batch:
            try:
                if model is None:
                    model = service.fit_project(
                        db, project_codebook(db, self.codebook_path).offered(), self.embedding_model
                    )
                summary = service.score(db, model, transcript_id)
            except Exception as exc:  # keep serving; the status API and the coding page show the error
                if self._failed(transcript_id, exc):
                    retry.append(transcript_id)
                continue
            with self.lock:
                self.attempts.pop(transcript_id, None)
                self.state.update(
                    generation=self.state["generation"] + 1,
                    error=None,
                    finished_at=store.now(),
                    trained_on=summary["trained_on"],
                )
        return retry

    def _failed(self, transcript_id: int, exc: Exception) -> bool:
        """Count a failed attempt (logged, kept as ``error``); True if it should be tried again, else
        the transcript is listed under ``failed``."""
        log.exception("retraining transcript %s failed", transcript_id)
        with self.lock:
            self.attempts[transcript_id] = self.attempts.get(transcript_id, 0) + 1
            self.state["error"] = str(exc)
            if self.attempts[transcript_id] < RETRIES:
                return True
            self.state["failed"][transcript_id] = str(exc)
            self.attempts.pop(transcript_id)
        return False


def retrainer() -> Retrainer:
    return current_app.extensions["coder_retrainer"]


def schedule(transcript_id: int) -> None:
    """Recompute suggestions for a transcript in the background (if the app retrains at all)."""
    if current_app.config["RETRAIN"]:
        retrainer().request(transcript_id)


def init_app(app):
    app.extensions["coder_retrainer"] = Retrainer(
        app.config["DATABASE"],
        app.config["CODEBOOK"],
        app.config["EMBEDDING_MODEL"],
        app.config.get("RETRAIN_BACKOFF", BACKOFF),
    )
