import json

import pytest

from coder import ingest as ingest_module
from coder.db import iter_segments, known_speakers
from coder.errors import CoderError
from coder.ingest import ingest

TEXT = (
    "インタビュアー：職場での情報共有について教えてください。\n\n"
    "支援員：月に一度、本人と企業と三者で面談しています。\n急な変化は電話で共有します。\n\n"
    "本人：困ったときは𠮷田さんに相談します。\n"
)


def seg_view(db, name):
    return [(r["speaker"], r["perspective"], r["start"], r["end"], r["text"]) for r in iter_segments(db, name)]


@pytest.mark.parametrize(
    "encoding, newline", [("cp932", "\r\n"), ("utf-16", "\n"), ("utf-8-sig", "\n"), ("euc_jp", "\r\n")]
)
def test_legacy_encodings_import_identically_to_their_utf8_twin(db, nlp, write, encoding, newline):
    text = TEXT.replace("𠮷", "吉")  # 𠮷 has no CP932/EUC-JP code
    ingest(db, [write("twin.txt", text)], nlp=nlp)
    report = ingest(db, [write(f"other_{encoding}.txt", text, encoding, newline)], nlp=nlp)
    assert report.imported[0].encoding.replace("_", "-") in {encoding.replace("_", "-"), "utf-8-sig", "utf-16"}
    assert seg_view(db, "twin") == seg_view(db, f"other_{encoding}")


def test_reimporting_the_same_bytes_changes_nothing(db, nlp, write, dump):
    path = write("a.txt", TEXT)
    ingest(db, [path], nlp=nlp)
    before = dump(db)
    report = ingest(db, [path, write("copy.txt", TEXT)], nlp=nlp)
    assert report.imported == [] and [name for _, name in report.skipped] == ["a", "a"]
    assert dump(db) == before


@pytest.mark.parametrize(
    "name, data, problem",
    [
        ("binary.txt", bytes(range(256)) * 20, "binary"),
        ("empty.txt", b"", "empty"),
        ("cut.docx", None, "not a readable .docx"),
        ("broken.vtt", "WEBVTT\n\nこれはキューではない\n".encode(), "malformed VTT"),
        (
            "cut.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nはい\n\n2\n00:00:0".encode(),
            "line 6: cannot read the cue timing",
        ),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type"),
    ],
)
def test_failing_import_leaves_db_unchanged(db, nlp, write, dump, tmp_path, corpus, name, data, problem):
    ingest(db, [write("good.txt", TEXT)], nlp=nlp)
    before = dump(db)
    bad = tmp_path / name
    if data is None:  # a real Word file cut off in the middle, as an interrupted copy leaves it
        docx = (corpus / "kaede_supporter.docx").read_bytes()
        data = docx[: len(docx) // 2]
    bad.write_bytes(data)
    with pytest.raises(CoderError) as exc:
        ingest(db, [write("second.txt", TEXT + "本人：追加です。\n"), bad], nlp=nlp)
    assert name in str(exc.value) and problem in str(exc.value)
    assert dump(db) == before


def test_file_over_the_size_limit_is_refused(db, nlp, write, monkeypatch):
    monkeypatch.setattr(ingest_module, "MAX_BYTES", 100)
    with pytest.raises(CoderError, match="big.txt: file is .* the limit is"):
        ingest(db, [write("big.txt", TEXT * 5)], nlp=nlp)
    assert db["transcripts"].count == 0


def test_speakers_get_perspectives_from_map_then_project_then_defaults(db, nlp, write):
    first = ingest(db, [write("a.txt", TEXT)], nlp=nlp, speaker_map={"支援員": "supporter"})
    assert first.unknown_speakers() == {"a": ["本人"]}
    ingest(db, [write("b.txt", TEXT + "本人：以上です。\n")], nlp=nlp, speaker_map={"本人": "person"})
    persp = {(r["transcript_name"], r["speaker"]): r["perspective"] for r in iter_segments(db)}
    assert persp[("a", "インタビュアー")] == "interviewer"
    assert persp[("b", "支援員")] == "supporter"  # remembered from the first import
    assert persp[("b", "本人")] == "person" and persp[("a", "本人")] == "unknown"
    assert known_speakers(db) == {"インタビュアー": "interviewer", "支援員": "supporter", "本人": "person"}


def test_vtt_segments_carry_cue_times(db, nlp, write):
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v 聞き手>最近はどうですか。\n\n"
        "00:01:02.500 --> 00:01:06.000\n<v 本人>通院を続けています。職場にも\n\n"
        "00:01:06.000 --> 00:01:09.000\n<v 本人>伝えてあります。\n"
    )
    ingest(db, [write("talk.vtt", vtt)], nlp=nlp)
    rows = [(r["text"], r["start_time"], r["end_time"], r["perspective"]) for r in iter_segments(db)]
    assert rows == [
        ("最近はどうですか。", "00:00:01.000", "00:00:03.000", "interviewer"),
        ("通院を続けています。", "00:01:02.500", "00:01:06.000", "unknown"),
        ("職場にも\n伝えてあります。", "00:01:02.500", "00:01:09.000", "unknown"),
    ]


def test_manifest_gives_each_file_its_case_and_speakers(db, nlp, write, tmp_path):
    write("a.txt", TEXT)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps([{"file": "a.txt", "case": "minato", "speakers": ["本人"]}]), encoding="utf-8")
    meta = tmp_path / "meta.yaml"
    meta.write_text(
        "files:\n  - file: b.txt\n    case: kaede\n    speakers: {本人: 当事者, 支援員: supporter}\n", encoding="utf-8"
    )
    write("b.txt", TEXT + "本人：はい。\n")
    report = ingest(db, [manifest, meta, tmp_path / "a.txt", tmp_path / "b.txt"], nlp=nlp)
    assert [(t.name, t.case) for t in report.imported] == [("a", "minato"), ("b", "kaede")]
    assert report.unknown_speakers() == {"a": ["支援員", "本人"]}


def test_same_file_name_from_two_folders_gets_a_unique_name(db, nlp, tmp_path):
    for folder, extra in (("x", ""), ("y", "本人：別の日です。\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "interview.txt").write_text(TEXT + extra, encoding="utf-8")
    report = ingest(db, [tmp_path / "x" / "interview.txt", tmp_path / "y" / "interview.txt"], nlp=nlp)
    assert [t.name for t in report.imported] == ["interview", "interview-2"]


@pytest.mark.parametrize("brk", ["\v", "\f", "\x85", "\u2028", "\u2029", "\r", "\r\n"])
def test_line_break_controls_editors_write_are_line_breaks(db, nlp, write, brk):
    report = ingest(db, [write("breaks.txt", TEXT.replace("\n", brk), "utf-8")], nlp=nlp)
    t = report.imported[0]
    assert [turn.speaker for turn in t.turns] == ["インタビュアー", "支援員", "本人"]
    assert "\n" in t.text and not any(ch in t.text for ch in "\v\f\x85\u2028\u2029\r")


def test_import_report_is_stored_with_the_transcript(db, nlp, write):
    ingest(db, [write("r.txt", "面談記録（架空）\n日時：6月1日\n\n" + TEXT)], nlp=nlp)
    row = db["transcripts"].get(1)
    assert row["layout"] == "labels"
    assert json.loads(row["import_notes"]) == [
        ["lines 1–2", "left out (before the first turn)", "面談記録（架空） / 日時：6月1日"]
    ]


@pytest.mark.parametrize("options, perspective", [({}, "document"), ({"perspective": "supporter"}, "supporter")])
def test_a_document_is_imported_as_paragraphs_of_one_perspective(db, nlp, write, options, perspective):
    notes = "フィールドノート\n\n朝の会で、利用者が今日の作業を選んでいた。\n\n支援員は横で見守っていた。\n"
    report = ingest(db, [write("notes.txt", notes)], nlp=nlp, **options)
    assert report.imported[0].layout == "document"
    rows = [(r["speaker"], r["perspective"], r["text"]) for r in iter_segments(db)]
    assert rows == [
        ("文書", perspective, "フィールドノート"),
        ("文書", perspective, "朝の会で、利用者が今日の作業を選んでいた。"),
        ("文書", perspective, "支援員は横で見守っていた。"),
    ]
    assert report.unknown_speakers() == {}


def test_document_flag_and_manifest_entry_force_a_document(db, nlp, write, tmp_path):
    forced = ingest(db, [write("a.txt", TEXT)], nlp=nlp, document=True).imported[0]
    assert forced.layout == "document" and {t.speaker for t in forced.turns} == {"文書"}
    (tmp_path / "m.yaml").write_text(
        "files:\n  - file: b.txt\n    document: true\n    perspective: employer\n", encoding="utf-8"
    )
    t = ingest(db, [tmp_path / "m.yaml", write("b.txt", TEXT + "本人：はい。\n")], nlp=nlp).imported[0]
    assert t.layout == "document" and {turn.perspective for turn in t.turns} == {"employer"}


@pytest.mark.parametrize(
    "text, warning",
    [
        (
            "聞き手：はい。\n本人：ええ。\n聞き手 ありがとうございました。\n聞き手：では。\n本人：どうも。\n",
            "'名前：' label",
        ),
        ("聞き手：はい。\n本人：ええ。本人：そうです。\n聞き手：では。\n本人：どうも。\n", "'名前：' label"),
        (
            "聞き手：はい。\n本人：[00:03:10] ええ。\n[00:04:00] そうです。\n聞き手：では。\n本人：どうも。\n",
            "time code inside",
        ),
        (
            "聞き手：はい。\n本人：" + "ええ。" * 700 + "\n聞き手：では。\n本人：どうも。\n",
            "turn over 2,000 characters",
        ),
        ("聞き手：はい。\n本人：ええ。\n聞き手：では。\n本人：どうも。\nポイント：ここです。\n", "single turn"),
    ],
)
def test_dry_run_warnings_point_at_what_a_user_should_check(db, write, text, warning):
    from coder.ingest import prepare, warnings

    t = prepare(db, [write("w.txt", text)]).imported[0]
    assert any(warning in n.what for n in warnings(t))
