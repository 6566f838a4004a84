import io
import re
from pathlib import Path

from coder import db as store
from web.importer import safe_name

TEXT = "聞き手：今日はよろしくお願いします。\n支援員：面談の記録を会社と共有しています。\n"
FIELD = Path(__file__).parent / "data" / "field"


def upload(client, files, **form):
    data = {"files": [(io.BytesIO(body), name) for name, body in files], "csrf_token": client.csrf, **form}
    return client.post("/import", data=data, content_type="multipart/form-data")


def confirm(client, page, action="import", **form):
    token = re.search(r'action="/import/([0-9a-f]+)"', page).group(1)
    return client.post(f"/import/{token}", data={"csrf_token": client.csrf, "action": action, **form})


def names(project):
    database = store.open_db(project)
    try:
        return [t["name"] for t in store.list_transcripts(database)]
    finally:
        database.close()


def test_upload_shows_a_preview_and_imports_only_after_confirming(login, project):
    client = login("hanako")
    before = names(project)
    response = upload(
        client, [("minato.txt", ("面談記録\n" + TEXT).encode("cp932"))], case="minato", speakers="支援員=supporter"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "読み取り結果の確認" in page
    assert "cp932" in page and "支援員" in page and "支援者" in page and "面談の記録を会社と共有しています。" in page
    assert "line 1" in page and "最初の発言より前の行" in page and "面談記録" in page
    assert names(project) == before
    response = confirm(client, page, case="minato", speakers="支援員=supporter")
    assert response.status_code == 302
    assert "minato.txt を「minato」として取り込みました" in client.get("/").get_data(as_text=True)
    database = store.open_db(project)
    row = store.find_transcript(database, "minato")
    assert row["case_name"] == "minato" and row["encoding"] == "cp932"
    assert {s["speaker"]: s["perspective"] for s in store.list_speakers(database, "minato")}["支援員"] == "supporter"


def test_preview_again_with_new_settings_then_cancel_changes_nothing(login, project):
    client = login("hanako")
    page = upload(client, [("doc.txt", TEXT.encode())]).get_data(as_text=True)
    assert "各発言の先頭に話者ラベル" in page
    again = confirm(client, page, action="preview", document="1", perspective="supporter").get_data(as_text=True)
    assert "話者のない文書" in again and "文書" in again
    response = confirm(client, again, action="cancel")
    assert response.status_code == 302 and names(project) == ["kaede"]
    assert confirm(client, again).status_code == 404  # the waiting files are gone


def test_another_user_cannot_confirm_an_upload(login, project):
    page = upload(login("hanako"), [("x.txt", TEXT.encode())]).get_data(as_text=True)
    assert confirm(login("taro"), page).status_code == 404
    assert "x" not in names(project)


def test_field_file_preview_names_speakers_layout_and_what_is_left_out(login, project):
    page = upload(
        login("hanako"),
        [(FIELD.joinpath("clova_note_export.txt").name, FIELD.joinpath("clova_note_export.txt").read_bytes())],
    ).get_data(as_text=True)
    assert "話者と時刻の行の下に発言" in page and "参加者 1" in page and "参加者 2" in page
    assert "lines 1–3" in page and "支援会議メモ 1" in page


def test_path_parts_in_uploaded_file_names_are_dropped(login, project, tmp_path):
    client = login("hanako")
    page = upload(client, [("../../楓_本人.txt", TEXT.encode())]).get_data(as_text=True)
    assert confirm(client, page).status_code == 302
    assert "楓_本人" in names(project)
    assert not (tmp_path.parent / "楓_本人.txt").exists()
    assert safe_name("..\\..\\x.vtt") == "x.vtt" and safe_name("../") == "upload.txt" and safe_name(".env") == "env"


def test_a_bad_file_in_an_upload_stores_nothing_and_names_the_file(login, project):
    client = login("hanako")
    before = names(project)
    response = upload(client, [("good.txt", TEXT.encode()), ("broken.docx", b"PK\x03\x04 not a zip")])
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "broken.docx" in page and "取り込めないファイル" in page
    assert re.search(r'value="import"\s+disabled', page)
    assert "/tmp/" not in page and names(project) == before
    response = confirm(client, page)  # even if the button is forced
    assert response.status_code == 400 and "何も変更していません" in response.get_data(as_text=True)
    assert names(project) == before


def test_unknown_speakers_lead_to_the_speakers_page_with_the_import_record(login, project):
    client = login("hanako")
    page = upload(client, [("q.txt", "記録\n聞き手：どうですか。\nＡさん：順調です。\n".encode())]).get_data(
        as_text=True
    )
    response = confirm(client, page)
    assert response.status_code == 302 and response.headers["Location"].endswith("/speakers")
    speakers_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "取り込みの記録" in speakers_page and "line 1" in speakers_page and "記録" in speakers_page


def test_upload_without_csrf_token_is_rejected(app, login, project):
    client = login("hanako")
    data = {"files": [(io.BytesIO(TEXT.encode()), "x.txt")]}
    assert client.post("/import", data=data, content_type="multipart/form-data").status_code == 400
    assert "x" not in names(project)
