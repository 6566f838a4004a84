import json

import pytest

from coder import db as store


def seg_ids(project):
    database = store.open_db(project)
    try:
        return [s["id"] for s in store.segments_to_code(database)]
    finally:
        database.close()


def act(client, segment_id, action, code=None):
    return client.post(
        f"/api/segments/{segment_id}/actions",
        json={"action": action, "code": code},
        headers={"X-CSRFToken": client.csrf},
    )


@pytest.mark.parametrize("path", ["/", "/transcripts/1", "/codebook", "/import", "/transcripts/1/speakers"])
def test_pages_redirect_to_login_without_a_session(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ["/api/transcripts/1/segments", "/api/status", "/api/codebook"])
def test_api_answers_401_without_a_session(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 401 and "ログイン" in response.get_json()["error"]


def test_wrong_password_is_refused_and_login_form_has_csrf_token_field(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post("/login", data={"name": "hanako", "password": "wrong-password", "csrf_token": token})
    assert response.status_code == 401 and "パスワードが違います" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_rejected(app, login, project):
    assert app.test_client().post("/login", data={"name": "hanako", "password": "hanako-password"}).status_code == 400
    client = login("hanako")
    segment = seg_ids(project)[0]
    response = client.post(f"/api/segments/{segment}/actions", json={"action": "confirm", "code": "effects"})
    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]
    assert client.post("/logout").status_code == 400
    assert json.loads(client.get("/api/transcripts/1/segments").data)["segments"][0]["mine"] == {}


def test_login_does_not_redirect_off_site(app):
    client = app.test_client()
    token = client.get("/login").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post(
        "/login?next=//evil.example/x", data={"name": "hanako", "password": "hanako-password", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_dashboard_shows_case_perspectives_and_my_progress(login, project):
    client = login("hanako")
    segment = seg_ids(project)[0]
    assert act(client, segment, "review").status_code == 200
    page = client.get("/").get_data(as_text=True)
    assert "kaede" in page and "当事者" in page and "1 / 3" in page
    assert "0 / 3" in login("taro").get("/").get_data(as_text=True)


def test_interview_text_is_escaped_in_the_coding_page(app, login, nlp, project, tmp_path):
    from coder.ingest import ingest

    source = tmp_path / "x.txt"
    source.write_text('本人：<script>alert(1)</script>と"><img src=x onerror=alert(2)>です。\n', encoding="utf-8")
    database = store.open_db(project)
    ingest(database, [source], nlp=nlp)
    database.close()
    page = login("hanako").get("/transcripts/2").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page and "<img src=x" not in page


def test_two_analysts_code_the_same_segment_independently(login, project):
    hanako, taro = login("hanako"), login("taro")
    segment = seg_ids(project)[0]
    assert act(hanako, segment, "confirm", "information_sharing").get_json()["segment"]["mine"] == {
        "information_sharing": "confirmed"
    }
    assert act(taro, segment, "confirm", "effects").status_code == 200
    mine = {s["id"]: s for s in taro.get("/api/transcripts/1/segments").get_json()["segments"]}[segment]
    assert mine["mine"] == {"effects": "confirmed"} and mine["others"] == {"hanako": ["information_sharing"]}
    database = store.open_db(project)
    rows = sorted((r["coder"], r["code"]) for r in database["codings"].rows)
    assert rows == [("hanako", "information_sharing"), ("taro", "effects")]


def test_blind_mode_hides_other_analysts_codings_but_not_from_supervisors(login, project):
    hanako, taro, sato = login("hanako"), login("taro"), login("sato")
    segment = seg_ids(project)[0]
    act(hanako, segment, "confirm", "handover")
    assert taro.post("/settings/blind", data={"blind": "1", "csrf_token": taro.csrf}).status_code == 403
    assert sato.post("/settings/blind", data={"blind": "1", "csrf_token": sato.csrf}).status_code == 302
    assert taro.get("/api/transcripts/1/segments").get_json()["segments"][0]["others"] == {}
    assert act(taro, segment, "confirm", "effects").get_json()["segment"]["others"] == {}
    assert sato.get("/api/transcripts/1/segments").get_json()["segments"][0]["others"]["hanako"] == ["handover"]


def test_unknown_code_or_action_is_a_clear_400(login, project):
    client = login("hanako")
    segment = seg_ids(project)[0]
    assert "unknown code" in act(client, segment, "confirm", "no_such_code").get_json()["error"]
    assert "unknown action" in act(client, segment, "destroy").get_json()["error"]
    assert act(client, 99999, "review").status_code == 404


def test_speaker_perspective_can_be_changed_on_the_speakers_page(login, project):
    client = login("sato")  # a supervisor's decision (analysts see the page read-only: test_layers_honest.py)
    assert "本人" in client.get("/transcripts/1/speakers").get_data(as_text=True)
    response = client.post("/transcripts/1/speakers", data={"speaker-本人": "supporter", "csrf_token": client.csrf})
    assert response.status_code == 302
    database = store.open_db(project)
    assert {r["speaker"]: r["perspective"] for r in store.list_speakers(database)}["本人"] == "supporter"


def test_codebook_page_shows_definitions_examples_and_counts(login, project, codebook):
    client = login("hanako")
    act(client, seg_ids(project)[0], "confirm", "handover")
    page = client.get("/codebook").get_data(as_text=True)
    handover = codebook.code("handover")
    assert handover.definition in page and handover.examples[0] in page and "使わない場面" in page
    assert "確認済み 1 件（1 セグメント、1 人）" in page


def test_two_analysts_confirming_at_the_same_moment_lose_nothing(login, project):
    import threading

    clients = {name: login(name) for name in ("hanako", "taro")}
    segments = seg_ids(project)
    start = threading.Barrier(2)
    failures = []

    def work(client):
        start.wait()
        for segment in segments:
            for code in ("needs_assessment", "autonomy", "information_sharing", "handover", "effects"):
                response = act(client, segment, "confirm", code)
                if response.status_code != 200:
                    failures.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=work, args=(c,)) for c in clients.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    database = store.open_db(project)
    per_coder = {r["coder"]: r["n"] for r in database.query("select coder, count(*) n from codings group by coder")}
    assert per_coder == {"hanako": 5 * len(segments), "taro": 5 * len(segments)}
    assert database["events"].count == 10 * len(segments)


def test_confirm_and_next_retrains_suggestions_in_the_background(project, login, embedder, codebook):
    from web import create_app

    app = create_app({"DATABASE": str(project), "TESTING": True, "SECRET_KEY": "test"})
    client = app.test_client()
    token = client.get("/login").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    client.post("/login", data={"name": "hanako", "password": "hanako-password", "csrf_token": token})
    client.csrf = token
    segment = seg_ids(project)[0]
    act(client, segment, "confirm", "information_sharing")
    assert act(client, segment, "review").status_code == 200  # returns at once; training runs in a thread
    app.extensions["coder_retrainer"].wait(120)
    status = client.get("/api/status").get_json()["retraining"]
    assert status["generation"] == 1 and status["error"] is None and status["trained_on"] == 1
    states = client.get("/api/transcripts/1/segments").get_json()["segments"]
    assert all(len(s["scores"]) == len(codebook.ids) for s in states)


def test_pages_forbid_inline_and_foreign_scripts(login):
    response = login("hanako").get("/transcripts/1")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script>" not in response.get_data(as_text=True)  # only src= scripts and JSON data blocks


def test_matrix_page_shows_counts_and_a_cell_links_back_to_the_segment(login, project, codebook):
    client = login("hanako")
    segment = seg_ids(project)[0]
    act(client, segment, "confirm", "information_sharing")
    act(client, segment, "review")
    page = client.get("/matrix/").get_data(as_text=True)
    assert "当事者" in page and "1（1人）" in page and "heat-9" in page
    cell = client.get("/matrix/cell?row=person&code=information_sharing&source=consensus&by=perspective")
    html = cell.get_data(as_text=True)
    assert "支援員さんと情報を共有しています。" in html and 'href="/transcripts/1#seg-1-1"' in html
    assert client.get("/matrix/?source=nobody").status_code == 404
