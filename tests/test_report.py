import io
import json

import pytest
from click.testing import CliRunner

from coder import access, coding, report, summaries, topics
from coder.cli import cli
from coder.db import open_db, segments_to_code
from coder.export import UNCONFIRMED


@pytest.fixture
def coded(project, two_analysts, codebook):
    """The kaede interview coded by hanako and taro; sato adjudicated their split on the second
    segment (information_sharing); the model suggests handover, which nobody confirmed, on the first."""
    a, b, c = two_analysts
    database = open_db(project)
    coding.adjudicate(database, b, ["information_sharing"], "sato", codebook)
    database["suggestions"].insert(
        {
            "segment_id": a,
            "code": "handover",
            "score": 0.8,
            "threshold": 0.5,
            "selected": 1,
            "reasons": "[]",
            "suggesters": "rules.v1",
            "codebook_version": "x",
            "created_at": "2024-01-01T00:00:00+00:00",
        }
    )
    return database, (a, b, c)


def code_of(result, code):
    return next(c for c in result["codes"] if c["id"] == code)


def section(text, name):
    """The part of a Markdown report from the heading of code ``name`` to the next code's heading."""
    return next(part for part in text.split("\n### 2.") if part.split("\n")[0].split(" ", 1)[-1].startswith(name))


def test_methods_agreement_equals_coder_agreement_json(coded, codebook, project):
    database, _ = coded
    methods = report.build(database, codebook)["methods"]
    printed = json.loads(CliRunner().invoke(cli, ["agreement", "--json", "--db", str(project)]).output)
    assert methods["agreement"]["coders"] == printed["coders"] == ["hanako", "taro"]
    for row, want in zip(methods["agreement"]["rows"], printed["rows"]):
        assert row["code"] == want["key"]
        assert (row["alpha"], row["alpha_ci"] and list(row["alpha_ci"]), row["n"]) == (
            want["alpha"],
            want["alpha_ci"],
            want["n_segments"],
        )
    assert methods["agreement"]["rows"][2]["alpha"] is not None  # information_sharing: a real figure, not two Nones
    assert methods["adjudicated"] == 1


def test_counts_per_cell_equal_coder_matrix_json(coded, codebook, project):
    database, _ = coded
    result = report.build(database, codebook)
    printed = json.loads(CliRunner().invoke(cli, ["matrix", "--format", "json", "--db", str(project)]).output)
    for code in result["codes"]:
        for row in code["rows"]:
            cell = printed["cells"][row["key"]][code["id"]]
            assert (row["segments"], row["interviewees"], row["share"]) == (
                cell["segments"],
                cell["interviewees"],
                cell["share"],
            )
    assert code_of(result, "information_sharing")["rows"][0]["segments"] == 2  # agreed on a, adjudicated b


def test_agreement_is_left_out_with_a_reason_for_a_single_analyst(project, codebook):
    database = open_db(project)
    segment = segments_to_code(database)[0]["id"]
    coding.apply(database, segment, "hanako", "confirm", codebook, "autonomy")
    methods = report.build(database, codebook, source="hanako")["methods"]
    assert methods["agreement"] is None and "2人未満" in methods["agreement_note"]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_code_with_only_suggestions_is_marked_unconfirmed(coded, codebook, tmp_path, fmt):
    database, _ = coded
    result = report.build(database, codebook)
    assert code_of(result, "handover")["unconfirmed_only"] and not code_of(result, "autonomy")["unconfirmed_only"]
    text = report.write(result, tmp_path / f"r.{fmt}", fmt, codebook).read_text(encoding="utf-8")
    handover, autonomy = codebook.code("handover").name, codebook.code("autonomy").name
    assert f"{handover}（提案のみ・未確認）" in text
    assert f"{autonomy}（提案のみ・未確認）" not in text and autonomy in text


def test_summary_appears_under_its_stakeholder_and_a_missing_one_shows_the_placeholder(coded, codebook, tmp_path):
    database, (a, b, c) = coded
    note = "本人は医師の意見が職場に届くことを重視している。"
    summaries.set_summary(
        database,
        "perspective",
        "person",
        "information_sharing",
        note,
        user="hanako",
        segment_ids=[b],
        codebook=codebook,
    )
    result = report.build(database, codebook)
    person = code_of(result, "information_sharing")["rows"][0]
    assert person["key"] == "person" and person["summary"]["author"] == "hanako"
    assert person["quotes"][0]["segment_id"] == b and person["quotes"][0]["linked"]
    text = report.write(result, tmp_path / "r.md", "md", codebook).read_text(encoding="utf-8")
    sharing = section(text, codebook.code("information_sharing").name)
    assert sharing.index("#### 当事者") < sharing.index(note)
    assert report.PLACEHOLDER not in sharing
    assert report.PLACEHOLDER in section(text, codebook.code("autonomy").name)


def test_docx_has_headings_a_chart_per_code_and_the_quotes(coded, codebook, tmp_path):
    from docx import Document
    from docx.oxml.ns import qn

    database, _ = coded
    result = report.build(database, codebook)
    doc = Document(report.write(result, tmp_path / "r.docx", "docx", codebook))
    headings = {p.style.name: p.text for p in doc.paragraphs if p.style.name.startswith("Heading")}
    assert headings.keys() == {"Heading 1", "Heading 2", "Heading 3"}
    texts = [p.text for p in doc.paragraphs]
    assert "1. 調査の概要と方法" in texts and "3. コードブックにない新たなテーマ" in texts
    assert len(doc.inline_shapes) == 1 + len(result["codes"])  # the heatmap, then one bar chart per code
    assert any("支援員さんと情報を共有しています。" in t for t in texts)
    heading = next(p for p in doc.paragraphs if p.style.name == "Heading 2")
    assert heading.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia"))  # Japanese gets an East Asian font


def test_html_escapes_markup_in_a_quote(project, nlp, write, codebook, tmp_path):
    from coder.ingest import ingest

    database = open_db(project)
    ingest(
        database,
        [write("tags.txt", "本人：画面に<script>alert(1)</script>と出て困りました。\n")],
        nlp=nlp,
        speaker_map={"本人": "person"},
    )
    segment = next(s["id"] for s in segments_to_code(database) if "script" in s["text"])
    for who in ("hanako", "taro"):
        coding.apply(database, segment, who, "confirm", codebook, "information_sharing")
    path = report.write(report.build(database, codebook), tmp_path / "r.html", "html", codebook)
    page = path.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert '<html lang="ja">' in page


def test_a_report_of_the_model_carries_the_unconfirmed_warning(coded, codebook, tmp_path):
    database, _ = coded
    result = report.build(database, codebook, source="model")
    assert result["meta"]["warning"] == UNCONFIRMED and code_of(result, "handover")["rows"][0]["segments"] == 1
    assert UNCONFIRMED in report.write(result, tmp_path / "r.md", "md", codebook).read_text(encoding="utf-8")


def test_emergent_themes_come_from_the_last_topics_run(coded, codebook):
    database, (a, b, c) = coded
    assert "coder topics" in report.blocks(report.build(database, codebook))[-1][1]  # how to find themes
    topic = {
        "id": 1,
        "size": 2,
        "words": ["通勤", "生活", "リズム"],
        "segments": [a, c],
        "perspectives": {"person": 2},
        "cases": {},
        "codes": {},
        "uncoded_share": 1.0,
        "uncoded_theme": True,
        "examples": [{"id": c, "text": "特にありません。"}],
    }
    topics.save_result(
        database,
        {
            "source": "all",
            "n_segments": 3,
            "n_topics": 2,
            "params": {},
            "topics": [topic, {**topic, "id": 2, "uncoded_theme": False}],
        },
    )
    themes = report.build(database, codebook)["themes"]
    assert [t["id"] for t in themes["topics"]] == [1] and themes["topics"][0]["quotes"][0]["text"] == "特にありません。"


def test_a_failed_write_leaves_no_file(coded, codebook, tmp_path, monkeypatch):
    from coder import charts

    def broken(*args, **kwargs):
        raise RuntimeError("no font")

    monkeypatch.setattr(charts, "bars", broken)
    result, folder = report.build(coded[0], codebook), tmp_path / "out"
    folder.mkdir()
    for fmt in report.FORMATS:
        with pytest.raises(RuntimeError):
            report.write(result, folder / f"r.{fmt}", fmt, codebook)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("fmt", ["docx", "md", "html"])
def test_cli_writes_each_format(coded, project, tmp_path, fmt):
    out = tmp_path / f"所見.{fmt}"
    result = CliRunner().invoke(cli, ["report", "--format", fmt, "--out", str(out), "--db", str(project)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout and out.stat().st_size > 0
    if fmt == "md":
        assert (tmp_path / "所見_files" / "heatmap.png").exists()
        assert "](%E6%89%80%E8%A6%8B_files/heatmap.png)" in out.read_text(encoding="utf-8")


def test_cli_says_how_to_report_suggestions_when_nothing_is_coded(project, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", "--format", "html", "--out", str(out), "--db", str(project)])
    assert result.exit_code == 0 and out.exists() and "--source model" in result.stderr


def test_web_report_is_a_docx_for_an_analyst_and_blind_mode_closes_other_layers(coded, login, project):
    from docx import Document

    response = login("hanako").get("/report/?format=docx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert any(p.text == "1. 調査の概要と方法" for p in Document(io.BytesIO(response.data)).paragraphs)
    access.set_blind(open_db(project), True)
    assert login("hanako").get("/report/?format=html&source=taro").status_code == 403
    assert login("hanako").get("/report/?format=md").headers["Content-Type"] == "application/zip"
    html = login("hanako").get("/report/?format=html")
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "分析者によるコーディングはまだ行われていない" not in html.get_data(as_text=True)  # blind: not untrue


def test_codebook_history_is_told_in_japanese_with_code_names():
    from coder.codebook import load_codebook
    from coder.report import history_note

    book = load_codebook()
    assert history_note("seeded from /home/someone/coder/codebook/renkei.yaml", book) == "renkei.yaml をもとに作成"
    assert history_note("merged career into handover", book) == "コード「キャリア構築」を「円滑な引き継ぎ」に統合"
    assert history_note("something new", book) == "something new"


def test_a_summary_on_a_row_the_source_did_not_code_is_shown_not_lost(project, two_analysts, codebook):
    from coder import report, summaries
    from coder.db import open_db

    db = open_db(project)
    summaries.set_summary(
        db, "perspective", "employer", "handover", "雇用者は引き継ぎの場を求めている", user="sato", codebook=codebook
    )
    built = report.build(db, codebook)
    rows = {r["key"]: r for r in next(c for c in built["codes"] if c["id"] == "handover")["rows"]}
    assert rows["employer"]["off_matrix"] and rows["employer"]["summary"]["text"] == "雇用者は引き継ぎの場を求めている"
    md = "\n".join(text for _, text, *rest in report.blocks(built) if isinstance(text, str))
    assert "雇用者（この出典ではコーディングされていない）" in md
