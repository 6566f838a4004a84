"""Several requests at once: shared tokenizers, the background retrainer, and writers that wait."""

import threading

import pytest

from coder import db as store


def _together(fn, n=4):
    errors = []

    def run():
        try:
            fn()
        except Exception as exc:  # collected: the assertion names them
            errors.append(repr(exc))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_suggesters_tokenise_from_several_threads_at_once():
    from coder.suggest.text import content_norms

    text = "支援員さんと情報を共有しています。主治医の意見も職場に伝えてもらいました。" * 3
    expected = content_norms(text)
    assert _together(lambda: [content_norms(text) == expected or 1 / 0 for _ in range(300)]) == []


def test_two_imports_at_the_same_moment_both_segment(nlp):
    from coder.segment import segment_transcripts
    from coder.types import Transcript, Turn

    def parse():
        line = "支援員さんと情報を共有しています。主治医の意見も職場に伝えてもらいました。" * 5
        text = "\n".join([line] * 60)
        turns = [Turn("本人", i * (len(line) + 1), i * (len(line) + 1) + len(line)) for i in range(60)]
        t = Transcript("t", "t.txt", "0", "utf-8", "text", text, text, turns=turns)
        segment_transcripts(nlp, [t])
        assert len(t.segments) == 600  # ten sentences per turn

    assert _together(parse, n=4) == []


@pytest.fixture
def retrainer(project, monkeypatch):
    """A Retrainer whose suggester fails as often as ``fail["times"]`` says, then works."""
    from coder.suggest import service
    from web.tasks import Retrainer

    fail = {"times": 0}

    def flaky(db, model, transcript_ids=None):
        if fail["times"]:
            fail["times"] -= 1
            raise RuntimeError("database is locked")
        return {"segments": 1, "trained_on": 0, "suggested": {}, "least_certain": []}

    monkeypatch.setattr(service, "fit_project", lambda db, codebook, embedding_model=None: "model")
    monkeypatch.setattr(service, "score", flaky)
    worker = Retrainer(str(project), backoff=0.01)
    worker.fail = fail
    return worker


def test_a_failed_recompute_is_tried_again_until_it_succeeds(retrainer):
    retrainer.fail["times"] = 2
    retrainer.request(1)
    retrainer.wait(10)
    status = retrainer.status()
    assert status["running"] is False and status["failed"] == {} and status["generation"] == 1


def test_a_recompute_that_keeps_failing_is_reported_not_left_calculating(retrainer):
    retrainer.fail["times"] = 99
    retrainer.request(1)
    retrainer.wait(10)
    status = retrainer.status()
    assert status["running"] is False and status["failed"] == {1: "database is locked"}
    retrainer.fail["times"] = 0
    retrainer.request(1)  # the page's "try again" button
    retrainer.wait(10)
    assert retrainer.status()["failed"] == {} and retrainer.status()["generation"] == 1


def test_coding_page_schedules_suggestions_a_transcript_never_got(app, login, monkeypatch):
    from web import tasks

    asked = []
    monkeypatch.setitem(app.config, "RETRAIN", True)
    with app.app_context():
        monkeypatch.setattr(tasks.retrainer(), "request", asked.append)
    login("hanako").get("/transcripts/1")
    assert asked == [1]


def test_writers_wait_for_each_other_instead_of_failing(project):
    """Deferred transactions that read and then write fail at once with "database is locked";
    ``immediate`` waits for the other writer."""

    def write():
        db = store.open_db(project)
        for i in range(30):
            with store.immediate(db):
                n = db.execute("select count(*) from settings").fetchone()[0]
                db.execute(
                    "insert or replace into settings (key, value) values (?, ?)",
                    [f"k{threading.get_ident()}-{i}", str(n)],
                )
        db.close()

    assert _together(write) == []
    db = store.open_db(project)
    assert db.execute("select count(*) from settings where key like 'k%'").fetchone()[0] == 120
