"""Text that real transcripts hold goes through every step intact.

One interview in the plain ``話者：発言`` format whose interviewee turns hold the hard cases (ellipses
and leaders, emoji and ZWJ sequences, variation selectors, non-BMP kanji, half-width kana, a turn of
punctuation only, an empty turn, 5,000 characters without a full stop, Latin text, full-/half-width
digits, a line separator) is fed through ingest → suggest → topics → matrix → every export → re-import
of the .qdpx into a fresh project, each through the CLI as a user runs it. What is checked is what a
user would notice: no step fails, segments are exact slices of the transcript, no hard string is split
across segments or altered, every interviewee segment gets suggestions, exported quotes hold the hard
strings byte for byte, and the re-imported project has the same segments.
"""

import csv
import io
import json
import zipfile

from click.testing import CliRunner
from lxml import etree

from coder import coding, export
from coder import db as store
from coder.cli import cli

FILLER = (
    "就労支援の現場では本人の希望を聞きながら職場と相談して進めていくことが大切だと思っていて"
    "ジョブコーチさんとも毎週話し合いをしながら少しずつ仕事の範囲を広げていったりしていて"
)


def long_turn(length: int = 5000) -> str:
    """``length`` characters without a sentence-final mark, comma or space (segmentation must cut it
    by length), with a ZWJ sequence across the first cut (1,500) and variation selectors near others."""
    text = FILLER * (length // len(FILLER) + 1)
    text = text[:1497] + "👨‍👩‍👧" + text[1497:2996] + "葛󠄀" + text[2996:4494] + "🙇‍♀️" + text[4494:]
    return text[:length]


# (interviewee turn, the strings of it that must stay whole in one segment; None: the whole turn)
HARD = [
    ("えっと……そうですね…。", ["えっと……", "そうですね…。"]),
    ("うーん‥まあ‥そういうことです。", None),
    ("それで・・・上司に相談しました。", None),
    ("…", None),
    ("‥", None),
    ("・・・", None),
    ("家族👨‍👩‍👧で話し合って決めました。", None),
    ("すみません🙇‍♀️と頭を下げました。", None),
    ("ごめんなさい🙇‍♂️と頭を下げた", ["🙇‍♂️"]),  # no full stop: the parser's breaks are kept, but not in an emoji
    ("いいね👍🏽と言ってもらえました。", None),
    ("いいね👍🏿と言われてうれしかった", ["👍🏿"]),
    ("葛󠄀飾区の事業所に通っています。", None),
    ("︎❤️が好きです。", None),
    ("渡邉󠄂さんに相談しました。", None),
    ("𠮷野家で𩸽を食べながら支援員さんと話しました。", None),
    ("ｼﾞｮﾌﾞｺｰﾁさんと面談しました。", None),
    ("We shared the job coach's notes with HR.", None),
    ("週３日、1日5時間、時給１，２００円です。", None),
    ("連絡帳に書きました\u2028次の日に返事が来ました。", ["連絡帳に書きました", "次の日に返事が来ました。"]),
    ("。。。", None),
    ("……", None),
    ("", []),  # an empty turn
    (long_turn(), ["👨‍👩‍👧", "葛󠄀", "🙇‍♀️"]),
]
# plain sentences, so that topics have enough interviewee segments with content words
PLAIN = [
    "支援員さんと情報を共有しています。",
    "主治医の意見も職場に伝えてもらいました。",
    "通勤の電車が混んでいて疲れます。",
    "給料が上がったので貯金をしています。",
    "睡眠のリズムを整えるようにしています。",
    "上司が替わるときに引き継ぎをしてもらいました。",
]


def pieces() -> list[str]:
    return [p for turn, want in HARD for p in (want if want is not None else [turn])]


def transcript() -> str:
    lines = ["インタビュー記録（ハードテキスト）", "聞き手：今日はよろしくお願いします。"]
    for turn, _ in HARD:
        lines += ["聞き手：どうでしたか。", f"本人：{turn}".rstrip()]
    for sentence in PLAIN:
        lines += ["聞き手：ほかには。", f"本人：{sentence}"]
    return "\n".join(lines) + "\n"


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def person_texts(db) -> list[str]:
    return [s["text"] for s in store.segments_to_code(db)]


def check_segments(db):
    """Segments are exact slices, and every hard string is whole in one segment."""
    text = db.execute("select text from transcripts").fetchone()[0]
    rows = list(db.query("select start, [end], text from segments order by idx"))
    assert all(text[r["start"] : r["end"]] == r["text"] for r in rows)
    for piece in pieces():
        assert any(piece in r["text"] for r in rows), piece
    return rows


def test_every_step_keeps_hard_text_intact(tmp_path, nlp, embedder, codebook):
    source = tmp_path / "hard.txt"
    source.write_bytes(transcript().encode("utf-8"))
    project, fresh, out = tmp_path / "hard.db", tmp_path / "fresh.db", tmp_path / "out"
    out.mkdir()

    # ingest
    run(
        "ingest",
        source,
        "--case",
        "hard",
        "--speaker",
        "本人=person",
        "--speaker",
        "聞き手=interviewer",
        "--db",
        project,
    )
    db = store.open_db(project)
    before = [(r["start"], r["end"], r["text"]) for r in check_segments(db)]
    lines = [json.loads(line) for line in run("segments", "--db", project).split("\n") if line]
    assert [(r["start"], r["end"], r["text"]) for r in lines] == before
    rows = list(csv.DictReader(io.StringIO(run("segments", "--format", "csv", "--db", project))))
    assert [r["text"] for r in rows] == [t for *_, t in before]

    # suggest: the project service (as `coder suggest --db` and the web UI) and JSONL in → out
    run("suggest", "--db", project)
    segments = store.segments_to_code(db)
    scored = {r["segment_id"] for r in db.query("select segment_id from suggestions")}
    assert scored == {s["id"] for s in segments}
    items = tmp_path / "items.jsonl"
    texts = [*pieces(), "連絡帳に書きました\u2028次の日に\u2029返事が来ました。"]  # JSON allows raw U+2028/9
    items.write_text(
        "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)),
        encoding="utf-8",
    )
    run("suggest", "--in", items, "--out", tmp_path / "suggested.jsonl")
    suggested = (tmp_path / "suggested.jsonl").read_text(encoding="utf-8").split("\n")
    assert [json.loads(line)["id"] for line in suggested if line] == list(range(len(texts)))

    # an analyst codes every interviewee segment: the suggested codes, else the best-scoring one
    for seg in segments:
        coding.apply(db, seg["id"], "hanako", "accept", codebook)
        if not db.execute("select 1 from codings where segment_id = ? and coder = 'hanako'", [seg["id"]]).fetchone():
            best = db.execute(
                "select code from suggestions where segment_id = ? order by score desc limit 1", [seg["id"]]
            ).fetchone()[0]
            coding.apply(db, seg["id"], "hanako", "confirm", codebook, best)
        coding.apply(db, seg["id"], "hanako", "review", codebook)
    coded = {r[0] for r in db.execute("select segment_id from codings where coder = 'hanako' and status = 'confirmed'")}
    assert coded == {s["id"] for s in segments}

    # topics, and a draft code named with hard text (it travels in the .qdc)
    result = json.loads(run("topics", "--topics", "3", "--json", "--db", project))
    by_id = {s["id"]: s["text"] for s in segments}
    assert all(e["text"] == by_id[e["id"]] for t in result["topics"] for e in t["examples"])
    code_name = "家族👨‍👩‍👧と葛󠄀飾・ｼﾞｮﾌﾞｺｰﾁ…"
    run("topics", "propose", "1", "--name", code_name, "--db", project)

    # matrix
    matrix = json.loads(run("matrix", "--format", "json", "--db", project))
    quotes = [q for row in matrix["cells"].values() for cell in row.values() for q in cell["quotes"]]
    assert quotes and all(q["text"] == by_id[q["segment_id"]] for q in quotes)
    run("matrix", "--format", "md", "--db", project)
    run("matrix", "--format", "csv", "--db", project)

    # every export
    files = {}
    for fmt in (
        "quotes-csv",
        "quotes-xlsx",
        "quotes-docx",
        "quotes-md",
        "matrix-csv",
        "matrix-xlsx",
        "matrix-md",
        "refi-qdpx",
        "refi-qdc",
    ):
        path = out / f"{fmt}{export.get(fmt).suffix}"
        run("export", "--format", fmt, "--out", path, "--db", project)
        files[fmt] = path
    quoted = person_texts(db)
    csv_rows = list(csv.DictReader(io.StringIO(files["quotes-csv"].read_bytes().decode("utf-8-sig"))))
    md = files["quotes-md"].read_bytes()
    from docx import Document
    from openpyxl import load_workbook

    cells = [
        c.value
        for ws in load_workbook(files["quotes-xlsx"])
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]
    paragraphs = [p.text for p in Document(files["quotes-docx"]).paragraphs]
    for piece in pieces():
        assert any(piece in r["text"] for r in csv_rows), ("csv", piece)
        assert piece.encode("utf-8") in md, ("md", piece)
        assert any(piece in c for c in cells), ("xlsx", piece)
        assert any(piece in p for p in paragraphs), ("docx", piece)
    assert {r["text"] for r in csv_rows} == set(quoted)
    assert all(f"「{t}」".encode() in md for t in quoted)
    assert set(quoted) <= set(cells)
    matrix_cells = [c.value for ws in load_workbook(files["matrix-xlsx"]) for row in ws.iter_rows() for c in row]
    for q in quotes:
        assert q["text"] in matrix_cells
        assert q["text"].encode("utf-8") in files["matrix-md"].read_bytes()
        assert q["text"] in files["matrix-csv"].read_bytes().decode("utf-8-sig")
    with zipfile.ZipFile(files["refi-qdpx"]) as z:
        root = etree.fromstring(z.read("project.qde"))
        el = root.find("{urn:QDA-XML:project:1.0}Sources/{urn:QDA-XML:project:1.0}TextSource")
        raw = z.read(f"sources/{el.get('guid')}.txt")
    text = db.execute("select text from transcripts").fetchone()[0]
    assert raw == text.encode("utf-8")
    selections = [
        text[int(s.get("startPosition")) : int(s.get("endPosition"))]
        for s in el.iter("{urn:QDA-XML:project:1.0}PlainTextSelection")
    ]
    assert sorted(selections) == sorted(quoted)
    names = [
        c.get("name") for c in etree.fromstring(files["refi-qdc"].read_bytes()).iter("{urn:QDA-XML:codebook:1.0}Code")
    ]
    assert code_name in names
    assert code_name.encode("utf-8") in files["refi-qdc"].read_bytes()

    # re-import the .qdpx into a fresh project
    run("import-qdpx", files["refi-qdpx"], "--db", fresh)
    again = store.open_db(fresh)
    assert [(r["start"], r["end"], r["text"]) for r in check_segments(again)] == before
    assert again.execute("select text from transcripts").fetchone()[0] == text
    assert sorted(
        r[0]
        for r in again.execute(
            "select s.text from codings c join segments s on s.id = c.segment_id where c.status = 'confirmed'"
        )
    ) == sorted(
        r[0]
        for r in db.execute(
            "select s.text from codings c join segments s on s.id = c.segment_id where c.status = 'confirmed'"
        )
    )
    again.close()
    db.close()
