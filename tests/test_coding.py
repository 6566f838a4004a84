import json

import pytest

from coder import coding
from coder import db as store
from coder.errors import CoderError


@pytest.fixture
def pdb(project):
    database = store.open_db(project)
    yield database
    database.close()


def suggest(db, segment_id, code, score=0.8, threshold=0.6):
    db["suggestions"].insert(
        {
            "segment_id": segment_id,
            "code": code,
            "score": score,
            "threshold": threshold,
            "selected": int(score >= threshold),
            "reasons": json.dumps(["ルール: 「共有」"]),
            "suggesters": "rules.v1+embedding.v1",
            "codebook_version": "renkei@1.1.0",
            "created_at": store.now(),
        },
        replace=True,
    )


def first(db):
    return store.segments_to_code(db)[0]["id"]


def test_toggle_confirms_then_removes_a_code_not_suggested(pdb, codebook):
    seg = first(pdb)
    assert coding.apply(pdb, seg, "hanako", "toggle", codebook, "career")["mine"] == {"career": "confirmed"}
    assert coding.apply(pdb, seg, "hanako", "toggle", codebook, "career")["mine"] == {}
    assert [e["action"] for e in coding.events(pdb, seg)] == ["removed", "confirmed"]


def test_toggling_off_a_suggested_code_records_a_rejection(pdb, codebook):
    seg = first(pdb)
    suggest(pdb, seg, "information_sharing")
    coding.apply(pdb, seg, "hanako", "toggle", codebook, "information_sharing")
    state = coding.apply(pdb, seg, "hanako", "toggle", codebook, "information_sharing")
    assert state["mine"] == {"information_sharing": "rejected"} and state["suggested"] == ["information_sharing"]


def test_accept_all_confirms_suggestions_and_logs_where_they_came_from(pdb, codebook):
    seg = first(pdb)
    suggest(pdb, seg, "information_sharing", 0.9)
    suggest(pdb, seg, "handover", 0.7)
    suggest(pdb, seg, "effects", 0.3)
    state = coding.apply(pdb, seg, "hanako", "accept", codebook)
    assert state["mine"] == {"information_sharing": "confirmed", "handover": "confirmed"}
    logged = {e["code"]: e for e in coding.events(pdb, seg)}
    assert logged["information_sharing"]["user"] == "hanako"
    assert logged["information_sharing"]["detail"]["suggestion"]["score"] == 0.9
    assert logged["information_sharing"]["detail"]["codebook_version"] == codebook.version_tag


def test_confirm_and_next_rejects_undecided_suggestions_and_counts_as_progress(pdb, codebook):
    seg = first(pdb)
    suggest(pdb, seg, "handover")
    coding.apply(pdb, seg, "hanako", "confirm", codebook, "effects")
    state = coding.apply(pdb, seg, "hanako", "review", codebook)
    assert state["reviewed"] and state["mine"] == {"effects": "confirmed", "handover": "rejected"}
    assert coding.progress(pdb, "hanako")[1] == {"total": 3, "reviewed": 1}
    assert coding.progress(pdb, "taro")[1] == {"total": 3, "reviewed": 0}
    assert not coding.apply(pdb, seg, "hanako", "reopen", codebook)["reviewed"]


def test_a_reviewed_segment_without_codes_is_a_negative_training_example(pdb, codebook):
    seg = first(pdb)
    coding.apply(pdb, seg, "hanako", "review", codebook)
    assert store.confirmed_examples(pdb) == [
        {"id": seg, "text": pdb["segments"].get(seg)["text"], "perspective": "person", "codes": []}
    ]


def test_interviewer_segments_cannot_be_coded(pdb, codebook):
    interviewer = next(
        pdb.query(
            "select s.id from segments s join turns u on u.id = s.turn_id "
            "join speakers sp on sp.id = u.speaker_id where sp.perspective = 'interviewer'"
        )
    )
    with pytest.raises(CoderError, match="interviewer"):
        coding.apply(pdb, interviewer["id"], "hanako", "confirm", codebook, "effects")
    assert pdb["codings"].count == 0 and pdb["events"].count == 0


def test_a_failing_action_writes_no_coding_and_no_event(pdb, codebook, monkeypatch):
    seg = first(pdb)
    monkeypatch.setattr(coding, "_log", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        coding.apply(pdb, seg, "hanako", "confirm", codebook, "effects")
    assert pdb["codings"].count == 0 and pdb["events"].count == 0


def test_code_counts_count_codings_segments_and_coders(pdb, codebook):
    a, b = [s["id"] for s in store.segments_to_code(pdb)][:2]
    for who, seg in (("hanako", a), ("taro", a), ("taro", b)):
        coding.apply(pdb, seg, who, "confirm", codebook, "handover")
    assert coding.code_counts(pdb)["handover"] == {"code": "handover", "codings": 3, "segments": 2, "coders": 2}
