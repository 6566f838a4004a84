"""Spreadsheet (CSV/formula) injection: no cell the project writes opens as a live formula."""

import csv
import io

import pytest
from click.testing import CliRunner

from coder import coding, export, memos
from coder import db as store
from coder.cli import cli
from coder.export.cells import FORMULA_START, spreadsheet_cell

HOSTILE = (
    '【=1+2】=HYPERLINK("http://x","y")と書いてありました。\n'
    "【本人】@SUM(A1)のような記号もあります。\n"
    "【聞き手】-そうですか。\n"
)


@pytest.mark.parametrize(
    "value, shown",
    [
        ("=1+2", "'=1+2"),
        ("+81 3", "'+81 3"),
        ("-", "'-"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("−1", "−1"),
        ("＝1", "＝1"),
        ("そうですね", "そうですね"),
        ("a=1", "a=1"),
        ("'=1", "'=1"),
        ("", ""),
        (-1, -1),
        (-0.5, -0.5),
        (None, None),
    ],
)
def test_only_text_that_a_spreadsheet_would_run_gets_a_quote(value, shown):
    assert spreadsheet_cell(value) == shown


@pytest.fixture
def hostile(tmp_path, nlp, codebook):
    """A project whose speaker is ``=1+2``, case ``-case`` and transcript ``+hostile``; the analyst
    ``@hanako`` coded both interviewee segments (one begins ``=HYPERLINK``, one ``@SUM``)."""
    from coder.ingest import ingest

    source = tmp_path / "+hostile.txt"
    source.write_text(HOSTILE, encoding="utf-8")
    path = tmp_path / "project.db"
    database = store.open_db(path)
    ingest(database, [source], nlp=nlp, case="-case", speaker_map={"=1+2": "person", "本人": "person"})
    for segment in store.segments_to_code(database):
        coding.apply(database, segment["id"], "@hanako", "confirm", codebook, "information_sharing")
        coding.apply(database, segment["id"], "@hanako", "review", codebook)
        memos.add(database, "@hanako", '=HYPERLINK("http://evil.example","memo")', segment_id=segment["id"])
    yield database, path
    database.close()


def cells(path_or_text) -> list:
    """Every cell value of a CSV (path or text) or of every sheet of an XLSX, failing on a formula cell."""
    if not isinstance(path_or_text, str) and path_or_text.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path_or_text)
        found = [c for ws in book for row in ws.iter_rows() for c in row]
        assert [c.coordinate for c in found if c.data_type == "f"] == []
        return [c.value for c in found]
    text = path_or_text if isinstance(path_or_text, str) else path_or_text.read_text(encoding="utf-8-sig")
    return [value for row in csv.reader(io.StringIO(text)) for value in row]


def assert_inert(values):
    """No text cell starts with a formula character, and the hostile text is there, quoted."""
    live = [v for v in values if isinstance(v, str) and v.startswith(FORMULA_START)]
    assert live == []
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK") for v in values)


SPREADSHEETS = sorted(name for name, e in export.load().items() if e.suffix in (".csv", ".xlsx"))


@pytest.mark.parametrize("by", ["perspective", "case"])
@pytest.mark.parametrize("name", SPREADSHEETS)
def test_no_export_opens_a_speaker_or_quote_as_a_formula(hostile, codebook, tmp_path, name, by):
    database, _ = hostile
    path = export.run(database, name, tmp_path, codebook, "all", by=by)
    values = cells(path)
    assert_inert(values)
    if name.startswith("quotes"):
        assert {"'=1+2", "'@hanako", "'-case", "'+hostile"} <= set(values)


def test_spreadsheet_exports_are_all_covered():
    assert {"quotes-csv", "quotes-xlsx", "matrix-csv", "matrix-xlsx"} <= set(SPREADSHEETS)


@pytest.mark.parametrize(
    "args, quoted",
    [
        (["segments", "--format", "csv"], "'=1+2"),
        (["codings", "--source", "all", "--format", "csv"], "'@hanako"),
        (["matrix", "--source", "all", "--by", "case", "--format", "csv"], "'-case"),
    ],
)
def test_cli_csv_output_opens_without_formulas(hostile, args, quoted):
    _, path = hostile
    result = CliRunner().invoke(cli, [*args, "--db", str(path)])
    assert result.exit_code == 0, result.output
    values = cells(result.stdout)
    assert [v for v in values if v.startswith(FORMULA_START)] == []
    assert quoted in values


def test_the_pseudonym_key_table_opens_without_formulas():
    from coder.pseudonymise import key_csv

    text = key_csv(
        [
            {"placeholder": "人物A", "name": "=1+2", "kind": "person", "status": "confirmed", "origin": "speaker"},
            {"placeholder": "人物B", "name": "-山田", "kind": "person", "status": "candidate", "origin": "scan"},
        ]
    )
    values = cells(text)
    assert [v for v in values if v.startswith(FORMULA_START)] == []
    assert {"'=1+2", "'-山田", "人物A"} <= set(values)
