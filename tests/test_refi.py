import zipfile

import pytest
from click.testing import CliRunner
from lxml import etree

from coder import coding, memos
from coder import db as store
from coder.access import Policy
from coder.cli import cli
from coder.errors import CoderError
from coder.export import get
from coder.export.refi import export_qdc, export_qdpx
from coder.ingest import ingest
from coder.qda import read_qdc
from coder.qda_import import covered, import_qdc, import_qdpx

Q = "{urn:QDA-XML:project:1.0}"


def person_segments(db):
    return [
        r["id"]
        for r in db.query("""select s.id from segments s join turns u on u.id = s.turn_id
        join speakers sp on sp.id = u.speaker_id where sp.perspective = 'person' order by s.idx""")
    ]


def snapshot(db):
    """What a user sees of a project: texts, segments, codings per coder, perspectives, finished segments."""
    return {
        "texts": sorted((r["name"], r["case_name"], r["text"]) for r in db.query("select * from transcripts")),
        "segments": [(r["start"], r["end"], r["text"]) for r in db.query("select * from segments order by start")],
        "codings": sorted(
            (r["coder"], r["code"], r["start"], r["status"])
            for r in db.query("select c.*, s.start from codings c join segments s on s.id = c.segment_id")
        ),
        "speakers": sorted((r["speaker"], r["perspective"]) for r in store.list_speakers(db)),
        "reviews": sorted(
            (r["coder"], r["start"])
            for r in db.query("select r.coder, s.start from reviews r join segments s on s.id = r.segment_id")
        ),
    }


def G(c) -> str:
    """A GUID made of one repeated character."""
    c = str(c)
    return f"{c * 8}-{c * 4}-{c * 4}-{c * 4}-{c * 12}"


def make_qdpx(path, qde: str, files: dict[str, str] | None = None):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        for name, text in (files or {}).items():
            z.writestr(name, text)
    return path


def test_project_round_trips_through_qdpx(project, tmp_path, codebook, nlp):
    db = store.open_db(project)
    first, second, third = person_segments(db)
    for seg, coder, code in (
        (first, "hanako", "information_sharing"),
        (second, "hanako", "information_sharing"),
        (second, "hanako", "handover"),
        (second, "taro", "needs_assessment"),
    ):
        coding.apply(db, seg, coder, "confirm", codebook, code)
    for seg, coder in ((first, "hanako"), (second, "hanako"), (third, "hanako"), (third, "taro")):
        coding.apply(db, seg, coder, "review", codebook)
    before = snapshot(db)
    export_qdpx(db, tmp_path / "p.qdpx", codebook)
    fresh = store.open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp)
    assert snapshot(fresh) == before
    assert report.codings == 4 and not report.unmatched and not report.user_codes


def test_offsets_are_code_points_so_a_surrogate_pair_counts_one(db, nlp, write, codebook, tmp_path):
    text = "聞き手：𠮷野家では。\n本人：𠮷田さんに情報を共有しました。\n"
    ingest(db, [write("k.txt", text)], nlp=nlp, speaker_map={"本人": "person"})
    (seg,) = person_segments(db)
    coding.apply(db, seg, "hanako", "confirm", codebook, "information_sharing")
    export_qdpx(db, tmp_path / "p.qdpx", codebook)
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        root = etree.fromstring(z.read("project.qde"))
        source = root.find(f"{Q}Sources/{Q}TextSource")
        text = z.read(f"sources/{source.get('guid')}.txt").decode("utf-8")
    sel = source.find(f"{Q}PlainTextSelection")
    assert (sel.get("startPosition"), sel.get("endPosition")) == ("14", "29")  # UTF-16 units would be 15, 31
    assert text[14:29] == "𠮷田さんに情報を共有しました。"


def test_qde_uses_the_refi_namespace_and_schema_order(project, tmp_path, codebook):
    db = store.open_db(project)
    coding.apply(db, person_segments(db)[0], "hanako", "confirm", codebook, "autonomy")
    out = get("refi-qdpx").fn(db, tmp_path / "a.qdpx", codebook, {"source": "all", "project": "kaede.db"})
    with zipfile.ZipFile(out) as z:
        root = etree.fromstring(z.read("project.qde"))
        source = root.find(f"{Q}Sources/{Q}TextSource").get("guid")
        assert sorted(z.namelist()) == ["project.qde", f"sources/{source}.txt"]
    assert root.tag == f"{Q}Project" and root.get("name") == "kaede"
    assert [etree.QName(e).localname for e in root] == [
        "Users",
        "CodeBook",
        "Variables",
        "Cases",
        "Sources",
        "Description",
    ]
    assert [u.get("name") for u in root.iter(f"{Q}User")] == ["hanako"]
    assert [c.get("name") for c in root.iter(f"{Q}Code")] == [c.name for c in codebook.codes]
    coding_el = root.find(f".//{Q}PlainTextSelection/{Q}Coding")
    assert coding_el.get("creatingUser") == root.find(f"{Q}Users/{Q}User").get("guid")
    export_qdpx(db, tmp_path / "b.qdpx", codebook, name="kaede")
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()  # stable GUIDs


def test_unknown_code_becomes_a_user_code_and_is_reported(db, nlp, codebook, tmp_path):
    text = "Q：どうでしたか。\nA：上司と話し合いました。引き継ぎも円滑でした。\n"
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Users><User guid="{G(1)}" name="Ann Lee"/></Users>
<CodeBook><Codes><Code guid="{G("a")}" name="Smooth handover" isCodable="true"/>
  <Code guid="{G("b")}" name="職場の雰囲気" isCodable="true"><Description>雰囲気</Description></Code></Codes></CodeBook>
<Sources><TextSource guid="{G("c")}" name="ann" plainTextPath="internal://ann.txt">
  <PlainTextSelection guid="{G("d")}" startPosition="12" endPosition="25">
    <Coding guid="{G("e")}" creatingUser="{G(1)}"><CodeRef targetGUID="{G("b")}"/></Coding>
    <Coding guid="{G("f")}" creatingUser="{G(1)}"><CodeRef targetGUID="{G("a")}"/></Coding>
</PlainTextSelection></TextSource></Sources></Project>"""
    path = make_qdpx(tmp_path / "x.qdpx", qde, {"sources/ann.txt": "\ufeff" + text})
    report = import_qdpx(db, path, codebook, nlp=nlp)
    assert report.mapped == {"Smooth handover": "handover"} and report.user_codes == ["職場の雰囲気"]
    assert "  Smooth handover → handover" in report.summary()
    assert report.coders == {"Ann Lee": "Ann_Lee"}
    codes = {r["code"] for r in db.query("select code, segment_id from codings where coder = 'Ann_Lee'")}
    assert codes == {"handover", f"user:{G('b')}"}
    assert "not in the codebook (user codes): 職場の雰囲気" in "\n".join(report.summary())
    assert store.user_codes(db)[0]["description"] == "雰囲気"


@pytest.mark.parametrize(
    "content, problem", [(b"not a zip at all", "must be a zip archive"), (None, "no project.qde inside")]
)
def test_broken_qdpx_is_a_clear_error_naming_the_file_with_nothing_written(
    db, codebook, tmp_path, dump, content, problem
):
    path = tmp_path / "broken.qdpx"
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("sources/a.txt", "本人：はい。")
    else:
        path.write_bytes(content)
    before = dump(db)
    with pytest.raises(CoderError, match=f"broken.qdpx: .*{problem}"):
        import_qdpx(db, path, codebook)
    assert dump(db) == before


PAPER = (
    "Abstract: Job coaches support employees with disabilities.\n\n"
    + "Employment support has been studied in many countries and settings. " * 80
    + "\n\nRQ1: How do coaches share information?\n\n"
    + "We interviewed twelve coaches in three regions. " * 80
    + "\n\nRQ1 is answered below.\n\nSee the New\nYork Times. https://example.org/article\n"
)


@pytest.mark.parametrize(
    "text, paragraphs",
    [
        ("最初の段落です。\n\n二つ目の段落です。", ["最初の段落です。", "二つ目の段落です。"]),
        (PAPER, [p for p in PAPER.split("\n\n") if p.strip()]),
    ],
)
def test_source_without_a_speaker_pattern_becomes_a_document_of_paragraphs(
    db, nlp, codebook, tmp_path, text, paragraphs
):
    from xml.sax.saxutils import escape

    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Sources>
<TextSource guid="{G("c")}" name="memo"><PlainTextContent>{escape(text)}</PlainTextContent></TextSource></Sources></Project>"""
    report = import_qdpx(db, make_qdpx(tmp_path / "m.qdpx", qde), codebook, nlp=nlp)
    rows = list(store.iter_segments(db))
    assert {(r["speaker"], r["perspective"]) for r in rows} == {("文書", "document")}
    turns = {}
    for r in rows:
        turns.setdefault(r["turn"], []).append(r["text"])
    assert len(turns) == len(paragraphs)
    assert any("no consistent speaker pattern" in n for n in report.notes)


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (0, 10, ["a"]),  # exactly one segment
        (0, 14, ["a"]),  # a, and 4 of b's 10: less than half
        (0, 15, ["a", "b"]),  # half of b counts
        (12, 14, ["b"]),  # a short quote inside b codes b
        (30, 40, []),  # after every segment
    ],
)
def test_selection_codes_the_segments_it_covers_by_half(start, end, expected):
    segs = [{"id": i, "start": s, "end": e} for i, s, e in (("a", 0, 10), ("b", 10, 20), ("c", 22, 30))]
    assert [s["id"] for s in covered(segs, [0, 10, 22], start, end)] == expected


def test_codebook_round_trips_through_qdc(db, codebook, tmp_path):
    export_qdc(codebook, tmp_path / "c.qdc")
    codes = read_qdc(tmp_path / "c.qdc")
    assert [(c.name, c.description) for c in codes] == [(c.name, c.definition) for c in codebook.codes]
    report = import_qdc(db, tmp_path / "c.qdc", codebook)
    assert sorted(report.mapped.values()) == sorted(codebook.ids) and store.user_codes(db) == []


def test_reimporting_an_export_adds_codings_not_transcripts(project, tmp_path, codebook, nlp):
    db = store.open_db(project)
    export_qdpx(db, tmp_path / "p.qdpx", codebook)
    result = CliRunner().invoke(cli, ["import-qdpx", str(tmp_path / "p.qdpx"), "--db", str(project)])
    assert result.exit_code == 0, result.output
    assert "0 new transcript(s), 1 matched existing" in result.output
    assert len(store.list_transcripts(db)) == 1


def test_windows_line_ends_in_a_source_do_not_shift_its_selections(db, nlp, codebook, tmp_path):
    raw = "A：一つ目です。\r\n\r\n\r\n\r\nA：はい。\r\nA：二つ目の文です。\r\n"
    start = raw.index("はい")  # 4 code points more than in the text with \n line ends
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes>
<Code guid="{G("a")}" name="handover" isCodable="true"/></Codes></CodeBook><Sources>
<TextSource guid="{G("c")}" name="w" plainTextPath="internal://w.txt">
<PlainTextSelection guid="{G("d")}" startPosition="{start}" endPosition="{start + 3}">
<Coding guid="{G("e")}"><CodeRef targetGUID="{G("a")}"/></Coding></PlainTextSelection></TextSource></Sources></Project>"""
    import_qdpx(db, make_qdpx(tmp_path / "w.qdpx", qde, {"sources/w.txt": raw}), codebook, nlp=nlp)
    rows = list(db.query("select c.code, c.coder, s.text from codings c join segments s on s.id = c.segment_id"))
    assert rows == [{"code": "handover", "coder": "imported", "text": "はい。"}]


def code_memos(db):
    return sorted((m["code"], m["author"], m["text"]) for m in memos.list_memos(db))


def test_code_memos_round_trip_through_qdpx_once(project, tmp_path, codebook, nlp):
    db = store.open_db(project)
    memos.add_memo(db, "handover", "sato", "担当者が替わる場面に限る", codebook, person_segments(db)[0])
    memos.add_memo(db, "autonomy", "sato", "本人の選択が語られていること", codebook)
    export_qdpx(db, tmp_path / "p.qdpx", codebook)
    fresh = store.open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp)
    assert code_memos(fresh) == code_memos(db) and report.memos == 2
    assert {m["kind"] for m in memos.visible(fresh, Policy.owner())} == {"code"}  # no project memo besides
    assert import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp).memos == 0  # not twice
    assert import_qdpx(db, tmp_path / "p.qdpx", codebook, nlp=nlp).memos == 0  # nor back into the exporter
    assert len(memos.list_memos(fresh)) == 2 and len(memos.list_memos(db)) == 2


def test_code_memo_is_a_noteref_inside_its_code_before_child_codes(project, tmp_path, codebook):
    from coder.codebook_edit import add_code
    from coder.export.refi import code_guid

    db = store.open_db(project)
    book = add_code(db, "sato", "handover_job", "職場内の引き継ぎ", "handover", "職場の中での担当交代")
    memo = memos.add_memo(db, "handover", "sato", "担当者が替わる場面に限る", book)
    export_qdpx(db, tmp_path / "p.qdpx", book)
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        doc = etree.fromstring(z.read("project.qde"))
    code = next(c for c in doc.iter(f"{Q}Code") if c.get("guid") == code_guid("handover"))
    assert [etree.QName(e).localname for e in code] == ["Description", "NoteRef", "Code"]
    note = next(n for n in doc.iter(f"{Q}Note") if n.get("guid") == code.find(f"{Q}NoteRef").get("targetGUID"))
    assert note.get("name") == "コードのメモ" and note.findtext(f"{Q}PlainTextContent") == memo["text"]
    assert not any(c.find(f"{Q}NoteRef") is not None for c in doc.iter(f"{Q}Code") if c is not code)
    export_qdc(book, tmp_path / "c.qdc")  # a codebook has no NoteRef
    assert b"NoteRef" not in (tmp_path / "c.qdc").read_bytes()


def test_note_on_a_code_of_another_tool_is_a_code_memo_or_a_project_memo_naming_the_code(db, nlp, codebook, tmp_path):
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Users><User guid="{G(1)}" name="Ann Lee"/></Users>
<CodeBook><Codes><Code guid="{G("a")}" name="円滑な引き継ぎ" isCodable="true"><Description>d</Description>
    <NoteRef targetGUID="{G("e")}"/><Code guid="{G("c")}" name="子" isCodable="true"/></Code>
  <Code guid="{G("b")}" name="職場の雰囲気" isCodable="true"><NoteRef targetGUID="{G("f")}"/></Code></Codes></CodeBook>
<Notes><Note guid="{G("e")}" name="memo" creatingUser="{G(1)}" creationDateTime="2021-05-01T09:30:00Z">
  <PlainTextContent>担当交代の場面だけ</PlainTextContent></Note>
  <Note guid="{G("f")}" name="memo"><PlainTextContent>休憩室の会話も含める</PlainTextContent></Note></Notes></Project>"""
    path = make_qdpx(tmp_path / "x.qdpx", qde)
    report = import_qdpx(db, path, codebook, nlp=nlp)
    rows = memos.visible(db, Policy.owner())
    assert sorted((m["kind"], m["code"], m["author"], m["text"]) for m in rows) == [
        ("code", "handover", "Ann_Lee", "担当交代の場面だけ"),
        ("project", None, "imported", "［職場の雰囲気］休憩室の会話も含める"),
    ]
    assert next(m for m in rows if m["kind"] == "code")["created_at"].startswith("2021-05-01T09:30")
    assert report.memos == 2 and import_qdpx(db, path, codebook, nlp=nlp).memos == 0
