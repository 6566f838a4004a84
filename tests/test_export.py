import csv
import io

import pytest
from click.testing import CliRunner

from coder import coding, export
from coder import db as store
from coder.cli import cli
from coder.errors import CoderError

FIRST, SECOND = "支援員さんと情報を共有しています。", "主治医の意見も職場に伝えてもらいました。"


@pytest.fixture
def coded(project, codebook):
    """The project with hanako's codes: information_sharing on both sentences that mention it, and the
    model suggesting handover on the second (unconfirmed)."""
    database = store.open_db(project)
    ids = {s["text"]: s["id"] for s in store.segments_to_code(database)}
    for text in (SECOND, FIRST):
        coding.apply(database, ids[text], "hanako", "confirm", codebook, "information_sharing")
        coding.apply(database, ids[text], "hanako", "review", codebook)
    store.store_suggestions(
        database,
        [
            {
                "segment_id": ids[SECOND],
                "code": "handover",
                "score": 0.81,
                "threshold": 0.5,
                "selected": 1,
                "reasons": "[]",
                "suggesters": "rules.v1",
                "codebook_version": codebook.version_tag,
                "created_at": store.now(),
            }
        ],
    )
    yield database
    database.close()


def write(db, codebook, tmp_path, name, source="consensus"):
    return export.run(db, name, tmp_path, codebook, source)


def read(path) -> str:
    """What a user sees in the file, as text (XLSX: every sheet's cells; DOCX: every paragraph)."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        return "\n".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None)
    if path.suffix == ".docx":
        from docx import Document

        return "\n".join(p.text for p in Document(path).paragraphs)
    return path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    "name", ["quotes-csv", "quotes-xlsx", "quotes-docx", "quotes-md", "matrix-csv", "matrix-xlsx", "matrix-md"]
)
def test_every_format_writes_a_file_with_the_codes_and_quotes(coded, codebook, tmp_path, name):
    path = write(coded, codebook, tmp_path, name)
    assert path.name == f"coder-{name.split('-')[0]}-consensus{export.get(name).suffix}"
    text = read(path)
    assert "関係者間の情報共有" in text and FIRST in text and SECOND in text


def test_quotes_csv_opens_in_excel_with_japanese_header_and_rows(coded, codebook, tmp_path):
    data = write(coded, codebook, tmp_path, "quotes-csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["text"] for r in rows] == [FIRST, SECOND]  # in reading order
    assert rows[0]["code_name"] == "関係者間の情報共有" and rows[0]["perspective"] == "当事者"
    assert rows[0]["transcript"] == "kaede" and rows[0]["coder"] == "consensus"
    original = coded.execute("select text from transcripts").fetchone()[0]
    assert original[int(rows[0]["start"]) : int(rows[0]["end"])] == FIRST  # offsets into the stored transcript


def test_quotes_xlsx_has_a_bold_frozen_filterable_header_and_a_row_per_quote(coded, codebook, tmp_path):
    from openpyxl import load_workbook

    book = load_workbook(write(coded, codebook, tmp_path, "quotes-xlsx"))
    ws = book["引用"]
    assert ws["A1"].value == "コードID" and ws["A1"].font.bold and ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:O3" and ws["O1"].value == "メモ"
    assert [ws.cell(row=r, column=7).value for r in (2, 3)] == [FIRST, SECOND]
    assert ws.cell(row=2, column=7).alignment.wrap_text
    assert "合意" in read(tmp_path / "coder-quotes-consensus.xlsx")  # the 出典 sheet names the source


def test_quotes_docx_has_a_heading_per_code_and_the_quotes_under_their_perspective(coded, codebook, tmp_path):
    from docx import Document

    paragraphs = Document(write(coded, codebook, tmp_path, "quotes-docx")).paragraphs
    headings = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert headings == [f"{c.name}（{c.name_en}）" for c in codebook.codes]
    texts = [p.text for p in paragraphs]
    at = texts.index("関係者間の情報共有（Information sharing among those involved）")
    assert texts[at + 2] == "当事者（2 件）" and texts[at + 3] == f"「{FIRST}」\nkaede・本人・第2発言"
    assert texts[at + 4].startswith(f"「{SECOND}」")
    assert texts.count("このコードが付いた発言はありません。") == len(codebook.codes) - 1


def test_quotes_markdown_has_sections_per_code_and_perspective(coded, codebook, tmp_path):
    text = write(coded, codebook, tmp_path, "quotes-md").read_text(encoding="utf-8")
    assert text.startswith("# コード別引用集\n")
    section = text.split("## 関係者間の情報共有")[1].split("\n## ")[0]
    assert "### 当事者（2 件）" in section and section.index(FIRST) < section.index(SECOND)
    assert "提案のみ・未確認" not in text


@pytest.mark.parametrize("name", ["quotes-md", "quotes-docx", "quotes-xlsx", "matrix-xlsx", "matrix-md"])
def test_suggestions_only_exports_say_they_are_unconfirmed(coded, codebook, tmp_path, name):
    text = read(write(coded, codebook, tmp_path, name, source="model"))
    assert "未確認" in text and SECOND in text and FIRST not in text


def test_matrix_xlsx_has_a_count_sheet_and_a_quote_sheet(coded, codebook, tmp_path):
    from openpyxl import load_workbook

    book = load_workbook(write(coded, codebook, tmp_path, "matrix-xlsx"))
    counts, quotes = book["集計"], book["引用"]
    header = [c.value for c in counts[1]]
    assert header[:4] == ["コード", "当事者\nセグメント数", "当事者\n話者数", "当事者\n割合"]
    row = next(r for r in counts.iter_rows() if r[0].value == "関係者間の情報共有")
    assert [c.value for c in row[1:4]] == [2, 1, 1]  # both segments the source saw, one interviewee
    assert row[3].number_format == "0%"
    assert {r[4] for r in quotes.iter_rows(min_row=2, values_only=True)} == {FIRST, SECOND}
    assert len(book["図"]._images) == 2  # the heatmap and the bars, as pictures


def test_unknown_format_error_lists_the_choices(coded, codebook, tmp_path):
    with pytest.raises(CoderError, match="unknown export format 'quotes-pdf'.*quotes-docx.*quotes-xlsx"):
        export.run(coded, "quotes-pdf", tmp_path, codebook)


def test_missing_folder_is_named_in_the_error(coded, codebook, tmp_path):
    with pytest.raises(CoderError, match=f"cannot write .*: there is no folder {tmp_path / 'nowhere'}"):
        export.run(coded, "quotes-csv", tmp_path / "nowhere" / "quotes.csv", codebook)


def test_case_and_transcript_limit_what_is_exported(coded, codebook, tmp_path):
    assert len(export.collect_quotes(coded, codebook, case="kaede", transcript="kaede")) == 2
    with pytest.raises(CoderError, match="no case 'minato'.*have: kaede"):
        export.run(coded, "quotes-csv", tmp_path, codebook, case="minato")


def test_cli_export_writes_the_file(coded, project, tmp_path):
    out = tmp_path / "quotes.xlsx"
    result = CliRunner().invoke(cli, ["export", "--format", "quotes-xlsx", "--out", str(out), "--db", str(project)])
    assert result.exit_code == 0 and out.exists() and str(out) in result.output
    result = CliRunner().invoke(cli, ["export", "--format", "nope", "--out", str(out), "--db", str(project)])
    assert result.exit_code == 2 and "quotes-docx" in result.output


def test_export_page_requires_login_and_a_csrf_token(app, login):
    response = app.test_client().get("/export/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    client = login("hanako")
    assert client.post("/export/", data={"format": "quotes-csv", "source": "consensus"}).status_code == 400


def test_export_page_lists_every_format_and_downloads_the_file(coded, login):
    from openpyxl import load_workbook

    client = login("hanako")
    page = client.get("/export/").get_data(as_text=True)
    assert all(f'value="{name}"' in page for name in export.load()) and "コード別の引用一覧（Excel）" in page
    response = client.post("/export/", data={"format": "quotes-xlsx", "source": "consensus", "csrf_token": client.csrf})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename=coder-quotes-consensus.xlsx" in response.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.data))["引用"]["G2"].value == FIRST


def test_export_page_shows_errors_in_japanese_and_keeps_blind_analysts_to_their_own_codes(coded, login):
    sato, taro = login("sato"), login("taro")
    response = sato.post(
        "/export/", data={"format": "quotes-csv", "source": "consensus", "case": "minato", "csrf_token": sato.csrf}
    )
    assert response.status_code == 400 and "書き出せませんでした" in response.get_data(as_text=True)
    sato.post("/settings/blind", data={"blind": "1", "csrf_token": sato.csrf})
    response = taro.post("/export/", data={"format": "quotes-csv", "source": "hanako", "csrf_token": taro.csrf})
    assert response.status_code == 403 and "ブラインドモード" in response.get_data(as_text=True)
    assert 'value="hanako"' not in taro.get("/export/").get_data(as_text=True)


def test_stray_control_characters_and_a_leading_equals_sign_do_not_break_xlsx_or_docx(
    db, nlp, write, codebook, tmp_path
):
    """Decoding lets a few control characters into a transcript; XML (XLSX, DOCX) cannot hold them, so they
    are shown as their control pictures, one for one; text that begins with = stays text in Excel (as '=…)."""
    from docx import Document
    from openpyxl import load_workbook

    from coder.ingest import ingest

    ingest(
        db,
        [write("c.txt", "聞き手：どうですか。\n本人：=職場で\x1f情報を\x08共有しました。\n")],
        nlp=nlp,
        speaker_map={"本人": "person"},
    )
    (seg,) = store.segments_to_code(db)
    coding.apply(db, seg["id"], "hanako", "confirm", codebook, "information_sharing")
    shown = "=職場で\u241f情報を\u2408共有しました。"
    for name in ("quotes-xlsx", "matrix-xlsx"):
        book = load_workbook(write_export := export.run(db, name, tmp_path, codebook))
        cells = [c for ws in book for row in ws.iter_rows() for c in row if c.value == "'" + shown]
        assert cells and all(c.data_type == "s" for c in cells), write_export
    assert any(shown in p.text for p in Document(export.run(db, "quotes-docx", tmp_path, codebook)).paragraphs)
    assert seg["text"] in export.run(db, "quotes-csv", tmp_path, codebook).read_text(encoding="utf-8-sig")
