import pytest

from coder import coding
from coder import db as store


@pytest.fixture
def pdb(project):
    database = store.open_db(project)
    yield database
    database.close()


@pytest.fixture
def seg(pdb):
    return store.segments_to_code(pdb)[0]["id"]


def suggest(db, segment_id, code):
    db["suggestions"].insert(
        {
            "segment_id": segment_id,
            "code": code,
            "score": 0.8,
            "threshold": 0.6,
            "selected": 1,
            "reasons": "[]",
            "suggesters": "rules.v1",
            "codebook_version": "renkei@1.1.0",
            "created_at": store.now(),
        },
        replace=True,
    )


def test_undoing_a_confirmation_leaves_the_segment_uncoded(pdb, seg, codebook):
    coding.apply(pdb, seg, "hanako", "confirm", codebook, "career")
    state = coding.undo(pdb, "hanako", codebook)
    assert state["id"] == seg and state["mine"] == {} and state["undone"] == "confirm"
    assert pdb.execute("select count(*) from codings").fetchone()[0] == 0


def test_undoing_a_review_reopens_the_segment_and_forgets_its_rejections(pdb, seg, codebook):
    suggest(pdb, seg, "information_sharing")
    coding.apply(pdb, seg, "hanako", "confirm", codebook, "career")
    assert coding.apply(pdb, seg, "hanako", "review", codebook)["mine"]["information_sharing"] == "rejected"
    state = coding.undo(pdb, "hanako", codebook)
    assert not state["reviewed"] and state["mine"] == {"career": "confirmed"}


def test_two_undos_walk_back_two_actions_and_then_stop(pdb, seg, codebook):
    coding.apply(pdb, seg, "hanako", "confirm", codebook, "career")
    coding.apply(pdb, seg, "hanako", "reject", codebook, "career")
    coding.apply(pdb, seg, "hanako", "confirm", codebook, "value_alignment")
    assert coding.undo(pdb, "hanako", codebook)["mine"] == {"career": "rejected"}
    assert coding.undo(pdb, "hanako", codebook)["mine"] == {"career": "confirmed"}
    assert coding.undo(pdb, "hanako", codebook)["mine"] == {}
    assert coding.undo(pdb, "hanako", codebook) is None
    undos = [e for e in coding.events(pdb, seg) if e["action"] == "undo"]
    assert len(undos) == 3 and all(e["detail"]["undoes"] for e in undos)


def test_undoing_a_reopen_marks_the_segment_finished_again(pdb, seg, codebook):
    coding.apply(pdb, seg, "hanako", "review", codebook)
    coding.apply(pdb, seg, "hanako", "reopen", codebook)
    assert coding.undo(pdb, "hanako", codebook)["reviewed"]


def test_another_analysts_actions_are_never_undone(pdb, seg, codebook):
    coding.apply(pdb, seg, "taro", "confirm", codebook, "career")
    assert coding.undo(pdb, "hanako", codebook) is None
    coding.apply(pdb, seg, "hanako", "confirm", codebook, "value_alignment")
    coding.apply(pdb, seg, "taro", "confirm", codebook, "information_sharing")
    coding.undo(pdb, "hanako", codebook)
    assert coding.states(pdb, "taro", segment_ids=[seg])[0]["mine"] == {
        "career": "confirmed",
        "information_sharing": "confirmed",
    }
    assert coding.states(pdb, "hanako", segment_ids=[seg])[0]["mine"] == {}


def test_undo_on_the_recode_layer_leaves_the_main_layer_alone(pdb, seg, codebook):
    coding.apply(pdb, seg, "hanako", "confirm", codebook, "career")
    coding.apply(pdb, seg, "hanako:recode", "confirm", codebook, "career", recode=True)
    assert coding.undo(pdb, "hanako:recode", codebook, recode=True)["mine"] == {}
    assert coding.states(pdb, "hanako", segment_ids=[seg])[0]["mine"] == {"career": "confirmed"}


def test_undo_over_the_api_returns_the_segment_and_needs_csrf(login, two_analysts):
    a, b, c = two_analysts
    client = login("hanako")
    assert client.post("/api/undo", json={}).status_code == 400
    response = client.post("/api/undo", json={}, headers={"X-CSRFToken": client.csrf})
    assert response.status_code == 200
    assert response.get_json()["segment"]["id"] == b and response.get_json()["segment"]["mine"] == {}
