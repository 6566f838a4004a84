import csv
import io
import os
import stat
import zipfile

import pytest
from click.testing import CliRunner
from lxml import etree

from coder import coding, export
from coder import db as store
from coder.cli import cli
from coder.ingest import ingest
from coder.pseudonymise import Pseudonymiser, add_name, entities, list_names, review, scan, speaker_names

Q = "{urn:QDA-XML:project:1.0}"
TEXT = (
    "聞き手：今日は山田さんのことを聞かせてください。\n"
    "佐藤：山田太郎さんとは株式会社みなと物産で一緒でした。山田さんはいつも助けてくれました。\n"
    "聞き手：ほかには。\n"
    "佐藤：𠮷田先生にも相談しました。みなと物産の皆さんは親切でした。\n"
)
NAMES = {
    "山田太郎": "person",
    "山田": "person",
    "佐藤": "person",
    "𠮷田": "person",
    "株式会社みなと物産": "organisation",
    "みなと物産": "organisation",
}


@pytest.fixture
def named(db, nlp, write, codebook):
    """An interview of the speaker 佐藤 (case みなと物産) naming people and a company; hanako coded every
    answer and wrote a memo naming 山田太郎 on the first; a draft code from a topic names 山田; every
    name is on the list."""
    from coder import memos
    from coder.topics import propose_code

    ingest(db, [write("佐藤さん.txt", TEXT)], nlp=nlp, case="みなと物産", speaker_map={"佐藤": "person"})
    segments = store.segments_to_code(db)
    for s in segments:
        coding.apply(db, s["id"], "hanako", "confirm", codebook, "information_sharing")
        coding.apply(db, s["id"], "hanako", "review", codebook)
    memos.add(db, "hanako", "山田太郎さんの話は株式会社みなと物産での経験から。", segment_id=segments[0]["id"])
    propose_code(db, {"id": 1, "size": 2, "words": ["山田", "物産"], "examples": segments[:1]})
    for name, kind in NAMES.items():
        add_name(db, name, kind, "sato")
    return db


def read_all(path) -> str:
    """Everything a reader of the file can see, as text (every member of a .qdpx)."""
    if path.suffix == ".qdpx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        return "\n".join(
            str(c.value) for ws in load_workbook(path) for row in ws.iter_rows() for c in row if c.value is not None
        )
    if path.suffix == ".docx":
        from docx import Document

        doc = Document(path)
        cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
        return "\n".join([p.text for p in doc.paragraphs] + cells)
    return path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("fmt", sorted(export.load()))
def test_pseudonymised_export_names_nobody_and_keeps_the_stored_text(named, codebook, tmp_path, fmt):
    pz = Pseudonymiser.from_db(named)
    path = export.run(named, fmt, tmp_path, codebook, pseudonymise=pz)
    text = read_all(path)
    assert not [n for n in NAMES if n in text]
    assert "人物" in text  # the codebook (.qdc) holds only the draft code's name from the interviews
    if fmt.startswith(("quotes", "refi-qdpx")):
        assert "人物Aさん" in text and "事業所A" in text and "人物C" in text
    assert named.execute("select text from transcripts").fetchone()[0] == TEXT


def test_placeholders_are_stable_longest_first_and_keep_honorifics(named):
    rows = {r["name"]: r["placeholder"] for r in list_names(named)}
    assert rows["山田太郎"] == "人物A" and rows["山田"] == "人物B" and rows["株式会社みなと物産"] == "事業所A"
    new, _ = Pseudonymiser.from_db(named).apply("山田太郎さんと山田 太郎、山田さん。株式会社みなと物産とみなと物産。")
    assert new == "人物Aさんと人物A、人物Bさん。事業所Aと事業所B。"
    review(named, "山田", "keep", "sato")  # a kept name keeps its text but not its letter
    assert Pseudonymiser.from_db(named).apply("山田太郎と山田")[0] == "人物Aと山田"


def test_qdpx_selections_point_at_the_same_words_in_the_pseudonymised_sources(named, codebook, tmp_path):
    pz = Pseudonymiser.from_db(named)
    path = export.run(named, "refi-qdpx", tmp_path / "p.qdpx", codebook, pseudonymise=pz)
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("project.qde"))
        (source,) = root.iter(f"{Q}TextSource")
        text = z.read(f"sources/{source.get('guid')}.txt").decode("utf-8")
    assert (
        text == pz.apply(TEXT)[0]
        and text.startswith("聞き手：今日は人物Bさん")
        and "\n人物C：人物Aさんとは事業所Aで" in text
    )
    selected = [
        text[int(s.get("startPosition")) : int(s.get("endPosition"))] for s in source.iter(f"{Q}PlainTextSelection")
    ]
    assert selected == [pz.apply(s["text"])[0] for s in store.segments_to_code(named)]
    assert "人物C=person" in etree.tostring(root, encoding="unicode")  # the speaker 佐藤, by its placeholder


def test_pseudonymised_qdpx_imports_as_a_project_that_names_nobody(named, codebook, tmp_path, nlp):
    from coder.qda_import import import_qdpx

    export.run(named, "refi-qdpx", tmp_path / "p.qdpx", codebook, pseudonymise=True)
    fresh = store.open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp)
    assert report.codings == 4 and not report.unmatched
    assert {(r["speaker"], r["perspective"]) for r in store.list_speakers(fresh)} == {
        ("聞き手", "interviewer"),
        ("人物C", "person"),
    }


def test_names_commands_add_review_and_list(db, tmp_path):
    def run(*args):
        result = CliRunner().invoke(cli, ["names", *args, "--db", str(tmp_path / "project.db")])
        assert result.exit_code == 0, result.output
        return result.output

    assert run("add", "山田さん", "--kind", "person").strip() == "山田 → 人物A"
    assert run("add", "みなと物産", "--kind", "organisation").strip() == "みなと物産 → 事業所A"
    assert "kept as written" in run("keep", "みなと物産", "--reviewer", "sato")
    assert [line.split() for line in run("list", "--status", "keep").splitlines()] == [
        ["事業所A", "みなと物産", "organisation", "manual", "keep"]
    ]


def test_quote_offsets_refer_to_the_pseudonymised_text(named, codebook, tmp_path):
    pz = Pseudonymiser.from_db(named)
    rows = list(
        csv.DictReader(io.StringIO(read_all(export.run(named, "quotes-csv", tmp_path, codebook, pseudonymise=pz))))
    )
    new = pz.apply(TEXT)[0]
    assert rows and all(new[int(r["start"]) : int(r["end"])] == r["text"] for r in rows)
    assert {r["speaker"] for r in rows} == {"人物C"} and {r["case"] for r in rows} == {"事業所B"}


def test_cli_export_writes_the_key_apart_readable_by_its_owner_only(named, codebook, tmp_path):
    named.close()
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--format",
            "quotes-md",
            "--out",
            str(tmp_path / "q.md"),
            "--pseudonymise",
            "--db",
            str(tmp_path / "project.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    key = tmp_path / "q.md.key.csv"
    assert "keep it apart" in result.output.lower()
    if os.name == "posix":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    rows = {r["placeholder"]: r["name"] for r in csv.DictReader(io.StringIO(key.read_text(encoding="utf-8-sig")))}
    assert rows["人物A"] == "山田太郎" and rows["事業所A"] == "株式会社みなと物産"
    assert "山田" not in (tmp_path / "q.md").read_text(encoding="utf-8")


def test_export_without_the_option_is_unchanged(named, codebook, tmp_path):
    assert "山田太郎" in read_all(export.run(named, "quotes-md", tmp_path, codebook))


def test_ner_scan_finds_a_clear_person_name():
    from coder.segment import load_ner

    found = entities(load_ner(), ["昨日、田中一郎さんに会って、株式会社ひかり製作所の話を聞きました。"])
    assert found.get("田中一郎") == "person" and found.get("株式会社ひかり製作所") == "organisation"


@pytest.mark.parametrize(
    "label, names",
    [
        ("佐藤", ["佐藤"]),
        ("佐藤さん", ["佐藤"]),
        ("司会(佐藤)", ["佐藤"]),
        ("山田座長", ["山田"]),
        ("インタビュアー", []),
        ("司会", []),
        ("当事者", []),
        ("支援者", []),
        ("支援員", []),
        ("Q", []),
        ("A", []),
        ("Aさん", []),
        ("支援ワーカー", []),
        ("就労支援員", []),
        ("SPEAKER_00", []),
        ("Speaker 1", []),
        ("参加者1", []),
        ("文書", []),
        ("本人", []),
    ],
)
def test_speaker_labels_that_are_roles_are_not_candidates(label, names):
    assert speaker_names([label]) == names


def test_scan_adds_speaker_names_as_candidates_and_skips_reviewed_transcripts(db, nlp, write):
    ingest(db, [write("a.txt", "インタビュアー：どうですか。\n鈴木：田中一郎さんと働いています。\n")], nlp=nlp)
    from coder.segment import load_ner

    assert scan(db, load_ner()) == {"speakers": 1, "ner": 1, "transcripts": 1}
    assert {(r["name"], r["origin"], r["status"]) for r in list_names(db)} == {
        ("鈴木", "speaker", "candidate"),
        ("田中一郎", "ner", "candidate"),
    }
    assert scan(db, load_ner())["transcripts"] == 0  # already read


def test_names_page_is_for_supervisors_only(login):
    assert login("hanako").get("/names/").status_code == 403
    assert login("hanako").get("/names/key.csv").status_code == 403
    assert login("sato").get("/names/").status_code == 200


def test_supervisor_adds_and_reviews_names_and_downloads_the_key(login):
    client = login("sato")
    client.post("/names/add", data={"name": "山本", "kind": "person", "csrf_token": client.csrf})
    client.post("/names/review", data={"name": "山本", "status": "keep", "csrf_token": client.csrf})
    page = client.get("/names/").get_data(as_text=True)
    assert "山本" in page and "そのままにする" in page
    client.post("/names/add", data={"name": "中村", "kind": "organisation", "csrf_token": client.csrf})
    key = client.get("/names/key.csv")
    assert key.headers["Cache-Control"] == "no-store"
    assert "事業所A,中村" in key.get_data(as_text=True) and "山本" not in key.get_data(as_text=True)


def test_export_page_checkbox_pseudonymises_the_download(login, project, codebook):
    database = store.open_db(project)
    for s in store.segments_to_code(database):
        coding.apply(database, s["id"], "hanako", "confirm", codebook, "information_sharing")
    add_name(database, "主治医", "person")
    database.close()
    client = login("hanako")
    form = {"format": "quotes-csv", "source": "consensus", "csrf_token": client.csrf}
    assert "主治医" in client.post("/export/", data=form).get_data(as_text=True)
    page = client.get("/export/").get_data(as_text=True)
    assert 'name="pseudonymise"' in page
    text = client.post("/export/", data={**form, "pseudonymise": "1"}).get_data(as_text=True)
    assert "人物Aの意見" in text and "主治医" not in text
