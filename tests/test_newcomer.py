"""What a new user notices first: error pages and messages in Japanese, success and error messages
that look different, and quotes located by transcript, speaker, turn and time."""

import io

import pytest

from coder import attributes
from coder.db import open_db
from coder.errors import CoderError, IngestError, NotFound, japanese
from coder.export.quotes import location

NAV = '<nav aria-label="メインメニュー">'  # the site layout's menu: an error page is one of ours


def test_library_errors_keep_english_for_the_cli_and_carry_japanese_for_the_web(tmp_path):
    table = tmp_path / "属性.csv"
    table.write_text("name,年代\nkaede,30代\n", encoding="utf-8")
    with pytest.raises(CoderError) as caught:
        attributes.import_table(open_db(tmp_path / "p.db"), table, user="sato")
    assert str(caught.value).startswith(f"{table}: the first column must be headed 'transcript'")
    assert caught.value.ja.startswith(f"{table}：1列目の見出しは transcript")
    assert japanese(caught.value) == caught.value.ja


def test_an_error_without_japanese_is_shown_in_english_after_a_japanese_lead_in():
    assert CoderError("plain").ja is None and japanese(CoderError("plain")) == "（英語のメッセージ）plain"
    error = IngestError("a.txt", "the file is empty", ja="ファイルが空です")
    assert str(error) == "a.txt: the file is empty" and error.ja == "a.txt：ファイルが空です"
    assert NotFound("no case 'x'", ja="事例「x」はありません").ja == "事例「x」はありません"


def test_a_wrong_method_gets_a_japanese_page_in_the_site_layout_and_json_under_api(login):
    client = login("hanako")
    response = client.delete("/matrix/")
    page = response.get_data(as_text=True)
    assert response.status_code == 405 and "この方法では利用できません" in page and NAV in page
    assert "Method Not Allowed" not in page
    response = client.delete("/api/status")
    assert response.status_code == 405 and response.get_json() == {"error": "この方法では利用できません"}


def test_a_form_without_its_csrf_token_gets_a_japanese_page_in_the_site_layout(login):
    response = login("hanako").post("/memos/", data={"target": "project", "text": "メモ"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "送信できませんでした" in page and NAV in page
    assert "The CSRF token" not in page


def test_an_upload_over_the_limit_gets_a_japanese_page(app, login):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    client = login("sato")
    response = client.post(
        "/attributes/import", data={"csrf_token": client.csrf, "file": (io.BytesIO(b"x" * 5000), "big.csv")}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "ファイルが大きすぎます" in page and "上限（1,000 バイト）" in page


def test_an_unexpected_error_is_a_japanese_page_without_the_traceback(app, login):
    def boom():
        raise RuntimeError("secret detail of the server")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as when served, not as under test
    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/boom", "api_boom", boom)
    client = login("hanako")
    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "サーバーでエラーが起きました" in page and NAV in page
    assert "secret detail" not in page and "Traceback" not in page
    response = client.get("/api/boom")
    assert response.status_code == 500 and response.get_json() == {"error": "サーバーでエラーが起きました"}


def test_a_bad_attribute_import_is_explained_in_japanese(login):
    sato = login("sato")
    bad = "名前,年代\nkaede,30代\n".encode("utf-8")
    response = sato.post("/attributes/import", data={"csrf_token": sato.csrf, "file": (io.BytesIO(bad), "年代.csv")})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "取り込めませんでした（何も変更していません）：年代.csv：1列目の見出しは transcript" in page
    assert "the first column" not in page


def test_an_unknown_source_is_explained_in_japanese_and_an_english_only_error_is_announced(login):
    from coder.errors import ENGLISH_LEAD, CoderError, japanese

    response = login("sato").get("/matrix/?source=nobody")
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 404
        and "「nobody」という出典（分析者・合意・提案）はこのプロジェクトにありません。" in page
    )
    assert japanese(CoderError("something odd")) == f"{ENGLISH_LEAD}something odd"  # never English unannounced


def test_success_and_error_messages_look_different(login):
    client = login("hanako")
    saved = client.post(
        "/memos/", data={"csrf_token": client.csrf, "target": "project", "text": "最初のメモ"}, follow_redirects=True
    ).get_data(as_text=True)
    assert '<p class="flash success" role="status">メモを保存しました。</p>' in saved
    refused = client.post(
        "/memos/", data={"csrf_token": client.csrf, "target": "project", "text": " "}, follow_redirects=True
    ).get_data(as_text=True)
    assert '<p class="flash error" role="alert">メモを保存できませんでした：メモの本文を入力してください</p>' in refused


def test_a_quote_is_located_by_transcript_speaker_turn_and_time():
    quote = {"transcript": "kaede_person", "speaker": "本人", "turn": 12, "start": 468, "end": 531, "start_time": 94.6}
    assert location(quote) == "kaede_person・本人・第12発言・00:01:34"
    assert location({**quote, "start_time": None}) == "kaede_person・本人・第12発言"
    assert location({**quote, "turn": None, "start_time": None}) == "kaede_person・本人・468–531字"  # no turn known


def test_matrix_cell_locates_its_quotes_by_turn_with_the_offsets_on_hover(login, two_analysts):
    page = login("sato").get("/matrix/cell?row=person&code=information_sharing&source=all").get_data(as_text=True)
    assert ">kaede</a>・本人・第2発言</span>" in page and 'title="文字位置 18–35' in page
    assert "18–35字" not in page


def test_search_hits_and_segment_memos_are_located_by_turn(login, project):
    from coder import memos
    from coder.db import segments_to_code

    database = open_db(project)
    memos.add(database, "hanako", "情報共有の例", segment_id=segments_to_code(database)[0]["id"])
    database.close()
    client = login("hanako")
    assert "kaede・本人・第2発言</span>" in client.get("/search/?q=支援員").get_data(as_text=True)
    assert ">kaede</a>・本人・第2発言</span>" in client.get("/memos/").get_data(as_text=True)


def test_a_blind_analyst_is_told_in_japanese_why_a_source_is_closed(login, project):
    from coder.access import set_blind
    from coder.db import open_db

    set_blind(open_db(project), True)
    page = login("hanako").get("/matrix/?source=consensus")
    text = page.get_data(as_text=True)
    assert page.status_code == 403 and "ブラインドモードのため、ほかの分析者のコードを含む集計" in text
    assert "blind mode is on" not in text
    missing = login("hanako").get("/matrix/?transcript=nothing-here").get_data(as_text=True)
    assert "「nothing-here」というトランスクリプトはこのプロジェクトにありません。" in missing
