"""Background jobs (``coder.jobs.Job``) and the retrainer built on it: one worker at a time, progress
and errors in the status, its own connection; a queue of transcripts fits the suggesters once."""

import threading

import pytest

from coder import db as store
from coder.jobs import Job


class Steps(Job):
    """A job that reports a stage, then waits for ``go`` and fails if asked to."""

    def __init__(self, path):
        super().__init__(path, "test-steps", {"stage": None})
        self.go, self.fail = threading.Event(), False

    def run(self, value):
        self.progress(stage="started")
        self.go.wait(10)
        if self.fail:
            raise RuntimeError("no model")
        with self.connect() as db:
            store.put_setting(db, "job", value)
        return {"stage": "done", "finished_at": store.now()}


@pytest.fixture
def job(db, tmp_path):
    return Steps(tmp_path / "project.db")


def test_a_job_reports_its_stage_and_writes_through_its_own_connection(job, db):
    assert job.launch(None, "written") is True
    while job.status()["stage"] != "started":
        threading.Event().wait(0.01)
    assert job.status()["running"] is True
    job.go.set()
    job.wait(10)
    status = job.status()
    assert status["running"] is False and status["stage"] == "done" and status["finished_at"] and not status["error"]
    assert store.get_setting(db, "job") == "written"


def test_a_second_start_while_one_runs_is_refused(job):
    assert job.launch({"stage": "first"}, "a") is True
    assert job.launch({"stage": "second"}, "b") is False
    job.go.set()
    job.wait(10)
    assert job.launch(None, "c") is True  # idle again
    job.wait(10)


def test_a_failing_job_keeps_its_error_and_stops(job):
    job.fail = True
    job.go.set()
    job.launch(None, "x")
    job.wait(10)
    status = job.status()
    assert status["running"] is False and status["error"] == "no model" and status["finished_at"]


def test_queued_transcripts_are_scored_after_fitting_the_suggesters_once(db, tmp_path, monkeypatch):
    from coder.suggest import service
    from web.tasks import Retrainer

    fits, scored = [], []
    monkeypatch.setattr(service, "fit_project", lambda db, codebook, embedding_model=None: fits.append(1) or "m")
    monkeypatch.setattr(service, "score", lambda db, model, tid: scored.append((model, tid)) or {"trained_on": 4})
    worker = Retrainer(str(tmp_path / "project.db"))
    worker.pending.update({3, 1})
    worker.request(2)
    worker.wait(10)
    assert fits == [1] and scored == [("m", 1), ("m", 2), ("m", 3)]
    assert worker.status() == {
        "running": False,
        "generation": 3,
        "error": None,
        "trained_on": 4,
        "failed": {},
        "queued": [],
        "finished_at": worker.status()["finished_at"],
    }


def test_fitting_once_and_scoring_each_transcript_stores_what_suggest_project_does(db, nlp, write, codebook, embedder):
    from coder.access import set_blind
    from coder.coding import apply
    from coder.ingest import ingest
    from coder.suggest.service import fit_project, score, suggest_project

    ingest(
        db,
        [
            write("a.txt", "支援員：ケース会議で情報を共有しました。\n本人：朝は電車で通っています。\n"),
            write("b.txt", "支援員：担当が替わるので引継ぎをしました。\n本人：上司に相談しました。\n"),
        ],
        nlp=nlp,
    )
    set_blind(db, False)
    apply(db, store.segments_to_code(db, 1)[0]["id"], "aoi", "confirm", codebook, "information_sharing")

    def stored():
        return [
            {k: v for k, v in r.items() if k != "created_at"}
            for r in db.query("select * from suggestions order by segment_id, code")
        ]

    one_by_one = [suggest_project(db, codebook, t) for t in (1, 2)]
    expected = stored()
    db.execute("delete from suggestions")
    model = fit_project(db, codebook)
    assert [score(db, model, t) for t in (1, 2)] == one_by_one and stored() == expected
    assert score(db, model, [1, 2])["segments"] == 4 and stored() == expected
