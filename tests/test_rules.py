"""Rules the web pages show, tested at the library level: the review queue's order, the adjudication
page's pre-ticked codes and queue, the supervisor's overview, and saving several speakers at once."""

import pytest

from coder import agreement, coding
from coder import db as store
from coder.errors import NotFound


def _suggest(database, segment_id, score, code="autonomy", threshold=0.6):
    database["suggestions"].insert(
        {
            "segment_id": segment_id,
            "code": code,
            "score": score,
            "threshold": threshold,
            "selected": int(score >= threshold),
            "reasons": "[]",
            "suggesters": "rules.v2",
            "codebook_version": "x",
            "created_at": "t",
        }
    )


@pytest.mark.parametrize(
    "scores, thresholds, expected",
    [
        ([0.6], [0.6], 1.0),  # right at the threshold: least certain
        ([0.0], [0.6], 0.0),  # as far below it as a score can be
        ([1.0], [0.4], 0.0),  # as far above it
        ([0.95, 0.58], [0.6, 0.6], 1 - 0.02 / 0.6),  # the least certain code decides
        ([], [], 0.0),  # no suggestions
    ],
)
def test_uncertainty_is_one_at_the_threshold_and_zero_far_from_it(scores, thresholds, expected):
    assert coding.uncertainty(scores, thresholds) == pytest.approx(expected)


def test_summary_and_review_queue_use_the_same_uncertainty():
    import numpy as np

    from coder.suggest.service import review_order

    scores, thresholds = np.array([[0.95, 0.05], [0.58, 0.1], [0.9, 0.3]]), np.full((3, 2), 0.6)
    by_queue = sorted(range(3), key=lambda i: -coding.uncertainty(scores[i], thresholds[i]))
    assert list(review_order(scores, thresholds)) == by_queue == [1, 2, 0]


def test_review_queue_puts_unfinished_least_certain_first_and_finished_last(project, codebook):
    database = store.open_db(project)
    a, b, c = [s["id"] for s in store.segments_to_code(database)]
    for segment, score in ((a, 0.95), (b, 0.6), (c, 0.3)):
        _suggest(database, segment, score)
    coding.apply(database, b, "hanako", "review", codebook)  # the least certain one, but finished
    coding.apply(database, a, "taro", "confirm", codebook, "autonomy")
    queue = coding.review_queue(database, "hanako", 1)
    assert [s["id"] for s in queue] == [c, a, b]
    assert all(s["others"] == {} for s in queue)  # nobody else's codes in the queue


def test_adjudication_preselects_the_majority_or_the_consensus(codebook):
    row = {
        "codes": {"aoi": ["handover", "autonomy"], "ren": ["handover"], "mio": ["autonomy", "handover"]},
        "consensus": None,
    }
    assert agreement.preselected(row, codebook) == [c for c in codebook.ids if c in ("handover", "autonomy")]
    assert agreement.preselected({"codes": {"aoi": ["handover"], "ren": []}, "consensus": None}, codebook) == []
    assert agreement.preselected({**row, "consensus": ["effects"]}, codebook) == ["effects"]


def test_adjudicated_disputes_leave_the_queue_and_the_overview_count(two_analysts, project, codebook):
    database = store.open_db(project)
    _, b, _ = two_analysts
    pending, total = agreement.adjudication_queue(database, codebook)
    assert [r["id"] for r in pending] == [b] and total == 1 and pending[0]["preselected"] == []  # a tie
    overview = agreement.overview(database, codebook)
    assert overview["open_disputes"] == 1 and overview["analysts"] == ["hanako", "taro"]
    coding.adjudicate(database, b, ["value_alignment"], "sato", codebook)
    assert agreement.adjudication_queue(database, codebook) == ([], 1)
    shown, _ = agreement.adjudication_queue(database, codebook, show_all=True)
    assert shown[0]["preselected"] == ["value_alignment"]
    overview = agreement.overview(database, codebook)
    assert overview["open_disputes"] == 0 and "consensus" in overview["choices"]


def test_several_speakers_are_set_in_one_go_and_each_change_is_logged(project):
    database = store.open_db(project)
    assert store.set_speakers(database, [("本人", "supporter"), ("聞き手", "unknown")], "sato", 1) == 2
    assert {r["speaker"]: r["perspective"] for r in store.list_speakers(database, 1)} == {
        "本人": "supporter",
        "聞き手": "unknown",
    }
    assert {(c["speaker"], c["old"], c["new"]) for c in store.speaker_changes(database, 1)} == {
        ("本人", "person", "supporter"),
        ("聞き手", "interviewer", "unknown"),
    }


def test_setting_speakers_changes_nothing_if_one_of_them_is_unknown(project, dump):
    database = store.open_db(project)
    before = dump(database)
    with pytest.raises(NotFound, match="no speaker '支援員'"):
        store.set_speakers(database, [("本人", "supporter"), ("支援員", "supporter")], "sato", 1)
    assert dump(database) == before
