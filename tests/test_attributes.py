import json
import zipfile

import pytest
from click.testing import CliRunner

from coder import attributes, coding, matrix
from coder import db as store
from coder.agreement import project_agreement
from coder.cli import cli
from coder.errors import CoderError
from coder.export.refi import export_qdpx
from coder.ingest import ingest
from coder.qda_import import import_qdpx

INTERVIEWS = {  # file → (case, text)
    "aoi.txt": ("minato", "聞き手：いかがですか。\n本人：支援員さんと情報を共有しています。\n"),
    "ren.txt": ("minato", "聞き手：職場では。\n本人：上司に体調の情報を伝えています。\n"),
    "sora.txt": ("kita", "聞き手：最近は。\n本人：通院の日は休みをもらっています。\n"),
}


@pytest.fixture
def three(db, nlp, write):
    """Three one-segment interviews in two cases (minato: aoi, ren; kita: sora)."""
    for name, (case, text) in INTERVIEWS.items():
        ingest(db, [write(name, text)], nlp=nlp, case=case, speaker_map={"本人": "person"})
    return db


def values(db):
    return {(r["scope"], r["label"], r["name"]): r["value"] for r in attributes.list_attributes(db)}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_of_transcripts_is_read_in_any_japanese_encoding(three, write, encoding):
    path = write("attrs.csv", "transcript,障害種別,年代\naoi,精神障害,30代\n2,発達障害,\n", encoding)
    report = attributes.import_table(three, path, user="sato")
    assert values(three) == {
        ("transcript", "aoi", "障害種別"): "精神障害",
        ("transcript", "aoi", "年代"): "30代",
        ("transcript", "ren", "障害種別"): "発達障害",
    }
    assert len(report.set) == 3 and report.left_out == [(3, "年代")]  # the empty cell stores nothing


def test_xlsx_by_case_gives_its_transcripts_the_value_unless_they_have_their_own(three, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    for row in (["case", "企業規模", "地域"], ["minato", "大企業", "関東"], ["kita", "中小企業", None]):
        wb.active.append(row)
    wb.save(tmp_path / "cases.xlsx")
    attributes.import_table(three, tmp_path / "cases.xlsx", user="sato")
    attributes.set_value(three, "transcript", "ren", "企業規模", "中小企業", user="sato")
    eff = {store.find_transcript(three, t)["name"]: v for t, v in attributes.effective(three).items()}
    assert eff == {
        "aoi": {"企業規模": "大企業", "地域": "関東"},
        "ren": {"企業規模": "中小企業", "地域": "関東"},
        "sora": {"企業規模": "中小企業"},
    }


def test_unknown_transcript_is_refused_by_file_row_and_value_with_nothing_stored(three, write, dump):
    attributes.set_value(three, "case", "kita", "地域", "東北", user="sato")
    before = dump(three)
    path = write("bad.csv", "transcript,年代\naoi,30代\nnobody,40代\n")
    with pytest.raises(CoderError, match=r"bad.csv: nothing was imported: row 3: no transcript 'nobody'"):
        attributes.import_table(three, path, user="sato")
    assert dump(three) == before


def test_reimport_reports_changes_and_logs_each_with_old_and_new(three, write):
    attributes.import_table(three, write("a.csv", "transcript,年代\naoi,30代\n"), user="sato")
    report = attributes.import_table(three, write("b.csv", "transcript,年代\naoi,40代\n"), user="sato")
    assert report.changed == [("transcript", "aoi", "年代", "40代", "30代")]
    assert "  changed aoi 年代: 30代 → 40代" in report.summary()
    events = [json.loads(r["detail"]) for r in three.query("select * from events where action = 'attribute'")]
    assert [(e["old"], e["new"]) for e in events] == [(None, "30代"), ("30代", "40代")]


def test_setting_an_empty_value_removes_it(three):
    attributes.set_value(three, "transcript", "aoi", "年代", "30代", user="sato")
    assert attributes.set_value(three, "transcript", "aoi", "年代", "", user="sato") == "30代"
    assert values(three) == {}


def code_all(db, codebook):
    """hanako and taro finish every segment; both code information_sharing on aoi and ren, only hanako on sora."""
    for seg in store.segments_to_code(db):
        for who in ("hanako", "taro"):
            if "情報" in seg["text"] or who == "hanako":
                coding.apply(db, seg["id"], who, "confirm", codebook, "information_sharing")
            coding.apply(db, seg["id"], who, "review", codebook)


def test_matrix_by_attribute_has_a_row_per_value_and_one_for_none(three, codebook):
    code_all(three, codebook)
    attributes.set_value(three, "case", "minato", "障害種別", "精神障害", user="sato")
    attributes.set_value(three, "transcript", "ren", "障害種別", "身体障害", user="sato")  # its own value wins
    m = matrix.build(three, codebook, by="attr:障害種別", source="hanako")
    assert m["rows"] == sorted(["精神障害", "身体障害"]) + ["―"]  # no value last
    assert m["totals"] == {"精神障害": 1, "身体障害": 1, "―": 1}
    assert m["cells"]["―"]["information_sharing"]["segments"] == 1
    with pytest.raises(CoderError, match="no attribute '年代'"):
        matrix.build(three, codebook, by="attr:年代")


def test_agreement_by_attribute_value(three, codebook):
    code_all(three, codebook)
    attributes.set_value(three, "case", "minato", "地域", "関東", user="sato")
    rows = {r["key"]: r for r in project_agreement(three, codebook, by="attr:地域", reps=20)["rows"]}
    assert set(rows) == {"関東", "―"} and rows["関東"]["percent"] == 1.0 and rows["―"]["percent"] < 1.0


def test_cli_imports_lists_as_safe_csv_sets_and_groups_the_matrix(three, write, codebook, tmp_path):
    code_all(three, codebook)
    db = ["--db", str(tmp_path / "project.db")]
    run = CliRunner().invoke
    result = run(cli, ["attributes", "import", str(write("c.csv", "case,地域\nminato,=関東\n")), *db])
    assert result.exit_code == 0 and "1 value(s) set" in result.output
    assert run(cli, ["attributes", "set", "--transcript", "sora", "地域", "東北", *db]).exit_code == 0
    listed = run(cli, ["attributes", "--format", "csv", *db]).output
    assert "case,minato,minato,地域,'=関東" in listed and "transcript,3,sora,地域,東北" in listed
    out = json.loads(run(cli, ["matrix", "--by", "attr:地域", "--format", "json", "--source", "hanako", *db]).output)
    assert out["totals"] == {"=関東": 2, "東北": 1}
    bad = run(cli, ["attributes", "import", str(write("x.csv", "case,地域\nnowhere,東北\n")), *db])
    assert bad.exit_code == 1 and "row 2: no case 'nowhere'" in bad.output


def test_matrix_xlsx_export_by_attribute(three, codebook, tmp_path):
    from openpyxl import load_workbook

    from coder.export import run

    code_all(three, codebook)
    attributes.set_value(three, "case", "minato", "地域", "関東", user="sato")
    out = run(three, "matrix-xlsx", tmp_path / "m.xlsx", codebook, "hanako", "attr:地域")
    header = [c.value for c in load_workbook(out)["集計"][1]]
    assert any(str(h).startswith("関東") for h in header) and any(str(h).startswith("―") for h in header)


def test_refi_round_trip_keeps_case_and_transcript_attributes(three, codebook, tmp_path, nlp):
    attributes.set_value(three, "case", "minato", "企業規模", "大企業", user="sato")
    attributes.set_value(three, "transcript", "sora", "年代", "20代", user="sato")
    export_qdpx(three, tmp_path / "p.qdpx", codebook)
    fresh = store.open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp)
    assert values(fresh) == values(three) and report.attributes == 2
    assert all("話者の立場" not in v and "coder" not in v for v in attributes.effective(fresh).values())


def test_refi_export_puts_variables_where_the_schema_orders_them(three, codebook, tmp_path):
    """REFI-QDA's Project.xsd: Variables after CodeBook and before Cases; in a Case, VariableValue
    before SourceRef; each VariableValue is a VariableRef then its value. (Full validation against the
    schema: ``benchmarks/refi_schema.py``; the schema is not in this repository.)"""
    from lxml import etree

    attributes.set_value(three, "case", "minato", "企業規模", "大企業", user="sato")
    attributes.set_value(three, "transcript", "sora", "年代", "20代", user="sato")
    export_qdpx(three, tmp_path / "p.qdpx", codebook)
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        doc = etree.fromstring(z.read("project.qde"))
    order = [etree.QName(e).localname for e in doc]
    assert order.index("CodeBook") < order.index("Variables") < order.index("Cases") < order.index("Sources")
    ns = "{urn:QDA-XML:project:1.0}"
    case = next(c for c in doc.iter(f"{ns}Case") if c.get("name") == "minato")
    names = [etree.QName(e).localname for e in case]
    assert "VariableValue" in names and names.index("VariableValue") < names.index("SourceRef")
    for value in doc.iter(f"{ns}VariableValue"):
        assert [etree.QName(e).localname for e in value] == ["VariableRef", "TextValue"]


def G(c) -> str:
    c = str(c)
    return f"{c * 8}-{c * 4}-{c * 4}-{c * 4}-{c * 12}"


def test_variables_of_a_hand_made_qdpx_become_attributes(db, codebook, tmp_path, nlp):
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="NVivo">
<Variables><Variable guid="{G(1)}" name="障害種別" typeOfVariable="Text"/>
  <Variable guid="{G(2)}" name="年齢" typeOfVariable="Integer"/></Variables>
<Cases><Case guid="{G(3)}" name="P01"><VariableValue><VariableRef targetGUID="{G(2)}"/><IntegerValue>34</IntegerValue>
  </VariableValue><SourceRef targetGUID="{G(4)}"/></Case></Cases>
<Sources><TextSource guid="{G(4)}" name="p01" plainTextPath="internal://p01.txt">
  <VariableValue><VariableRef targetGUID="{G(1)}"/><TextValue>精神障害</TextValue></VariableValue>
</TextSource></Sources></Project>"""
    path = tmp_path / "nvivo.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/p01.txt", "Q：どうですか。\nA：元気です。\n")
    report = import_qdpx(db, path, codebook, nlp=nlp)
    assert values(db) == {("transcript", "p01", "障害種別"): "精神障害", ("case", "P01", "年齢"): "34"}
    assert "attributes: 2 value(s) set" in "\n".join(report.summary())


def test_supervisor_edits_a_value_inline_and_it_is_escaped_on_the_page(login, project):
    sato = login("sato")
    response = sato.post(
        "/attributes/set",
        data={
            "csrf_token": sato.csrf,
            "scope": "case",
            "ref": "kaede",
            "name": "地域",
            "value": "<script>alert(1)</script>",
        },
    )
    assert response.status_code == 302
    page = sato.get("/attributes/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert values(store.open_db(project)) == {("case", "kaede", "地域"): "<script>alert(1)</script>"}


def test_analyst_reads_the_table_but_cannot_change_it(login, project):
    attributes.set_value(store.open_db(project), "case", "kaede", "地域", "関東", user="sato")
    hanako = login("hanako")
    page = hanako.get("/attributes/").get_data(as_text=True)
    assert "関東" in page and 'name="value"' not in page and 'type="file"' not in page
    response = hanako.post(
        "/attributes/set",
        data={"csrf_token": hanako.csrf, "scope": "case", "ref": "kaede", "name": "地域", "value": "東北"},
    )
    assert response.status_code == 403 and values(store.open_db(project))[("case", "kaede", "地域")] == "関東"


def test_upload_of_a_cp932_csv_sets_values_and_a_bad_row_changes_nothing(login, project):
    import io

    sato = login("sato")
    good = "case,障害種別\nkaede,精神障害\n".encode("cp932")
    response = sato.post(
        "/attributes/import",
        data={"csrf_token": sato.csrf, "file": (io.BytesIO(good), "属性.csv")},
        follow_redirects=True,
    )
    assert "1 件を設定" in response.get_data(as_text=True)
    bad = "case,障害種別\nkaede,身体障害\nnowhere,知的障害\n".encode("utf-8-sig")
    response = sato.post("/attributes/import", data={"csrf_token": sato.csrf, "file": (io.BytesIO(bad), "bad.csv")})
    page = response.get_data(as_text=True)  # the library's Japanese text (the CLI keeps the English one)
    assert response.status_code == 400 and "bad.csv：3行目：事例「nowhere」はこのプロジェクトにありません" in page
    assert values(store.open_db(project)) == {("case", "kaede", "障害種別"): "精神障害"}


def test_web_matrix_offers_attributes_as_rows(login, project, two_analysts):
    attributes.set_value(store.open_db(project), "case", "kaede", "障害種別", "精神障害", user="sato")
    hanako = login("hanako")
    page = hanako.get("/matrix/?by=attr:障害種別&source=hanako").get_data(as_text=True)
    assert 'value="attr:障害種別" selected' in page and "精神障害" in page and "<h1>障害種別 × コード" in page
    assert 'value="attr:障害種別"' in hanako.get("/export/").get_data(as_text=True)  # exports by it too
    response = hanako.post(
        "/export/", data={"format": "matrix-md", "source": "hanako", "by": "attr:障害種別", "csrf_token": hanako.csrf}
    )
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("# 障害種別 × コード")


def test_matrix_filtered_by_an_attribute_value_counts_only_those_transcripts(three, codebook, tmp_path):
    code_all(three, codebook)
    attributes.set_value(three, "case", "minato", "地域", "関東", user="sato")
    attributes.set_value(three, "case", "kita", "地域", "東北", user="sato")
    m = matrix.build(three, codebook, source="hanako", where={"地域": "東北"})
    assert m["totals"] == {"person": 1}
    out = (
        CliRunner()
        .invoke(
            cli,
            [
                "matrix",
                "--attribute",
                "地域=関東",
                "--source",
                "hanako",
                "--format",
                "json",
                "--db",
                str(tmp_path / "project.db"),
            ],
        )
        .output
    )
    assert json.loads(out)["totals"] == {"person": 2}


def test_exports_hold_only_the_transcripts_with_the_attribute_value_and_say_so(three, codebook, tmp_path):
    from coder import memos
    from coder.errors import NotFound
    from coder.export import run

    code_all(three, codebook)
    attributes.set_value(three, "case", "minato", "地域", "関東", user="sato")
    attributes.set_value(three, "case", "kita", "地域", "東北", user="sato")
    for name in ("aoi", "sora"):
        memos.add(three, "hanako", f"{name}についてのメモ", transcript=name)
    quotes = run(three, "quotes-md", tmp_path / "q.md", codebook, "hanako", where={"地域": "東北"}).read_text()
    assert "通院の日" in quotes and "情報を共有" not in quotes and "属性 地域=東北" in quotes
    notes = run(three, "memos-md", tmp_path / "m.md", codebook, where={"地域": "関東"}).read_text()
    assert "aoiについてのメモ" in notes and "soraについてのメモ" not in notes
    with pytest.raises(NotFound, match="no attribute '年代'"):
        run(three, "quotes-csv", tmp_path / "x.csv", codebook, "hanako", where={"年代": "30代"})
    assert not (tmp_path / "x.csv").exists()
    cli_out = tmp_path / "kanto.csv"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--format",
            "quotes-csv",
            "--out",
            str(cli_out),
            "--source",
            "hanako",
            "--attribute",
            "地域=関東",
            "--db",
            str(tmp_path / "project.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    text = cli_out.read_text(encoding="utf-8-sig")
    assert "情報を共有" in text and "体調の情報" in text and "通院" not in text
    bad = CliRunner().invoke(
        cli,
        [
            "export",
            "--format",
            "quotes-csv",
            "--out",
            str(cli_out),
            "--attribute",
            "関東",
            "--db",
            str(tmp_path / "project.db"),
        ],
    )
    assert bad.exit_code != 0 and "not NAME=VALUE" in bad.output


@pytest.fixture
def two_regions(project, nlp, tmp_path, codebook):
    """The web project plus a second interview (case mio); kaede is in 関東, mio in 東北; hanako and
    taro finish both, confirming information_sharing wherever 情報 is said."""
    db = store.open_db(project)
    source = tmp_path / "mio.txt"
    source.write_text("聞き手：どうですか。\n本人：通院の日は休みをもらっています。\n", encoding="utf-8")
    ingest(db, [source], nlp=nlp, case="mio", speaker_map={"本人": "person"})
    attributes.set_value(db, "case", "kaede", "地域", "関東", user="sato")
    attributes.set_value(db, "case", "mio", "地域", "東北", user="sato")
    code_all(db, codebook)
    db.close()
    return project


def test_web_pages_filter_by_an_attribute_value(login, two_regions):
    from coder import memos

    memos.add(store.open_db(two_regions), "hanako", "東北の面接のメモ", transcript="mio")
    hanako = login("hanako")
    home = hanako.get("/?attribute=地域=東北").get_data(as_text=True)
    assert ">mio</a>" in home and ">kaede</a>" not in home and "地域=東北" in home
    page = hanako.get("/matrix/?source=hanako&attribute=地域=関東").get_data(as_text=True)
    assert "<option selected>地域=関東</option>" in page and "対象：地域=関東" in page
    assert "<small>3 セグメント</small>" in page  # kaede's three, not mio's
    cell = hanako.get("/matrix/cell?row=person&code=information_sharing&source=hanako&attribute=地域=東北")
    assert cell.status_code == 200 and "情報を共有" not in cell.get_data(as_text=True)
    response = hanako.post(
        "/export/",
        data={"format": "quotes-md", "source": "hanako", "attribute": "地域=東北", "csrf_token": hanako.csrf},
    )
    assert response.status_code == 200 and "通院の日" in response.get_data(as_text=True)
    assert "情報を共有" not in response.get_data(as_text=True)
    assert "東北の面接のメモ" not in hanako.get("/memos/?attribute=地域=関東").get_data(as_text=True)
    assert "東北の面接のメモ" in hanako.get("/memos/?attribute=地域=東北").get_data(as_text=True)
    hits = hanako.get("/search/?q=情報&attribute=地域=東北").get_data(as_text=True)
    assert "情報を共有" not in hits
    assert hanako.get("/matrix/?attribute=関東").status_code == 400  # not NAME=VALUE
    assert hanako.get("/matrix/?attribute=年代=30代").status_code == 404


def test_supervisor_sees_agreement_by_attribute_on_the_agreement_page(login, two_regions):
    page = login("sato").get("/agreement/?attribute=地域").get_data(as_text=True)
    table = page.split("<h2>属性別（全コード）</h2>", 1)[1]
    assert "<th>地域</th>" in table and "<td>関東</td>" in table and "<td>東北</td>" in table
    assert login("sato").get("/agreement/?attribute=年代").status_code == 404


def test_project_export_of_one_attribute_value_holds_only_those_sources(three, codebook, tmp_path):
    from coder.export import run

    attributes.set_value(three, "case", "kita", "地域", "東北", user="sato")
    out = run(three, "refi-qdpx", tmp_path / "p.qdpx", codebook, where={"地域": "東北"})
    with zipfile.ZipFile(out) as z:
        qde = z.read("project.qde").decode("utf-8")
    assert 'name="sora"' in qde and 'name="aoi"' not in qde and 'name="ren"' not in qde
