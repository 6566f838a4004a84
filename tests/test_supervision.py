import pytest

from coder import agreement, coding
from coder import db as store


@pytest.fixture
def disputed(two_analysts):
    return two_analysts


def test_agreement_pages_are_for_supervisors_only(login, disputed):
    hanako = login("hanako")
    for path in ("/agreement/", "/agreement/disagreements", "/agreement/adjudicate"):
        assert hanako.get(path).status_code == 403
    assert "一致度" not in hanako.get("/").get_data(as_text=True)


def test_supervisor_sees_alpha_per_code_with_interval_and_the_disputed_segment(login, disputed, codebook):
    sato = login("sato")
    page = sato.get("/agreement/").get_data(as_text=True)
    assert "Krippendorff" in page and codebook.code("value_alignment").name in page and "[" in page
    assert "裁定待ちの不一致 1 件" in page
    listing = sato.get("/agreement/disagreements?code=value_alignment").get_data(as_text=True)
    assert "主治医の意見も職場に伝えてもらいました。" in listing and "hanako" in listing and "taro" in listing


def test_adjudicating_stores_consensus_and_empties_the_queue(login, disputed, project, codebook):
    sato = login("sato")
    _, b, _ = disputed
    assert "主治医の意見" in sato.get("/agreement/adjudicate").get_data(as_text=True)
    response = sato.post(
        f"/agreement/adjudicate/{b}",
        data={"codes": ["information_sharing", "value_alignment"], "csrf_token": sato.csrf},
    )
    assert response.status_code == 302
    assert "裁定待ちの不一致はありません" in sato.get("/agreement/adjudicate").get_data(as_text=True)
    database = store.open_db(project)
    assert sorted(r["code"] for r in database.query("select code from codings where coder = 'consensus'")) == [
        "information_sharing",
        "value_alignment",
    ]


def test_memo_from_the_disagreement_view_appears_in_the_codebook(login, disputed):
    sato = login("sato")
    response = sato.post(
        "/agreement/memos", data={"code": "handover", "text": "担当交代の場面に限る", "csrf_token": sato.csrf}
    )
    assert response.status_code == 302
    assert "担当交代の場面に限る" in sato.get("/agreement/disagreements?code=handover").get_data(as_text=True)
    page = login("hanako").get("/codebook").get_data(as_text=True)
    assert "明確化メモ" in page and "担当交代の場面に限る" in page and "sato" in page


def test_recode_sample_is_coded_blind_and_stored_apart(login, disputed, project, codebook):
    database = store.open_db(project)
    agreement.draw_recode_sample(database, "hanako", size=3, min_age_days=0, seed=0)
    database["suggestions"].insert(
        {
            "segment_id": disputed[0],
            "code": "autonomy",
            "score": 0.9,
            "threshold": 0.6,
            "selected": 1,
            "reasons": "[]",
            "suggesters": "rules.v1",
            "codebook_version": "x",
            "created_at": "t",
        }
    )
    hanako = login("hanako")
    assert "再コーディングする" in hanako.get("/").get_data(as_text=True)
    assert hanako.get("/recode").status_code == 200
    states = hanako.get("/api/recode/segments").get_json()["segments"]
    assert len(states) == 3 and all(s["mine"] == {} and s["suggested"] == [] for s in states)
    response = hanako.post(
        f"/api/segments/{disputed[0]}/actions",
        headers={"X-CSRFToken": hanako.csrf},
        json={"action": "review", "layer": "recode"},
    )
    assert response.get_json()["segment"]["mine"] == {}  # no suggestion was rejected on her behalf
    assert [r["coder"] for r in database.query("select coder from reviews where segment_id = ?", [disputed[0]])] == [
        "hanako:recode"
    ]
    assert coding.states(database, "hanako", segment_ids=[disputed[0]])[0]["mine"] == {
        "information_sharing": "confirmed"
    }  # her first coding is untouched
    taro = login("taro")  # taro has no sample: re-coding hanako's segment is refused
    refused = taro.post(
        f"/api/segments/{disputed[0]}/actions",
        headers={"X-CSRFToken": taro.csrf},
        json={"action": "review", "layer": "recode"},
    )
    assert refused.status_code == 400
