import io

from coder import db as store
from web.importer import safe_name

TEXT = "聞き手：今日はよろしくお願いします。\n支援員：面談の記録を会社と共有しています。\n"


def upload(client, files, **form):
    data = {"files": [(io.BytesIO(body), name) for name, body in files], "csrf_token": client.csrf, **form}
    return client.post("/import", data=data, content_type="multipart/form-data")


def names(project):
    database = store.open_db(project)
    try:
        return [t["name"] for t in store.list_transcripts(database)]
    finally:
        database.close()


def test_uploaded_cp932_file_is_imported_with_case_and_speaker_map(login, project):
    client = login("hanako")
    response = upload(client, [("minato.txt", TEXT.encode("cp932"))], case="minato", speakers="支援員=supporter")
    assert response.status_code == 302
    assert "minato.txt を「minato」として取り込みました" in client.get("/").get_data(as_text=True)
    database = store.open_db(project)
    row = store.find_transcript(database, "minato")
    assert row["case_name"] == "minato" and row["encoding"] == "cp932"
    assert {s["speaker"]: s["perspective"] for s in store.list_speakers(database, "minato")}["支援員"] == "supporter"


def test_path_parts_in_uploaded_file_names_are_dropped(login, project, tmp_path):
    client = login("hanako")
    assert upload(client, [("../../楓_本人.txt", TEXT.encode())]).status_code == 302
    assert "楓_本人" in names(project)
    assert not (tmp_path.parent / "楓_本人.txt").exists()
    assert safe_name("..\\..\\x.vtt") == "x.vtt" and safe_name("../") == "upload.txt" and safe_name(".env") == "env"


def test_a_bad_file_in_an_upload_stores_nothing_and_names_the_file(login, project):
    client = login("hanako")
    before = names(project)
    response = upload(client, [("good.txt", TEXT.encode()), ("broken.docx", b"PK\x03\x04 not a zip")])
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "broken.docx" in page and "何も変更していません" in page
    assert "/tmp/" not in page and names(project) == before


def test_unknown_speakers_lead_to_the_speakers_page(login, project):
    response = upload(login("hanako"), [("q.txt", "聞き手：どうですか。\nＡさん：順調です。\n".encode())])
    assert response.status_code == 302 and response.headers["Location"].endswith("/speakers")


def test_upload_without_csrf_token_is_rejected(app, login, project):
    client = login("hanako")
    data = {"files": [(io.BytesIO(TEXT.encode()), "x.txt")]}
    assert client.post("/import", data=data, content_type="multipart/form-data").status_code == 400
    assert "x" not in names(project)
