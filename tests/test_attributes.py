import json
import zipfile
from pathlib import Path

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
    assert values(three) == {("transcript", "aoi", "障害種別"): "精神障害", ("transcript", "aoi", "年代"): "30代",
                             ("transcript", "ren", "障害種別"): "発達障害"}
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
    assert eff == {"aoi": {"企業規模": "大企業", "地域": "関東"}, "ren": {"企業規模": "中小企業", "地域": "関東"},
                   "sora": {"企業規模": "中小企業"}}


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


def test_refi_export_with_attributes_is_schema_valid(three, codebook, tmp_path):
    from lxml import etree

    schema = Path("/work/shared/refi/Project.xsd")
    if not schema.exists():
        pytest.skip("REFI-QDA schema not available")
    attributes.set_value(three, "case", "minato", "企業規模", "大企業", user="sato")
    attributes.set_value(three, "transcript", "sora", "年代", "20代", user="sato")
    export_qdpx(three, tmp_path / "p.qdpx", codebook)
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        doc = etree.fromstring(z.read("project.qde"))
    xsd = etree.XMLSchema(etree.parse(str(schema)))
    assert xsd.validate(doc), xsd.error_log


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
    response = sato.post("/attributes/set", data={"csrf_token": sato.csrf, "scope": "case", "ref": "kaede",
                                                  "name": "地域", "value": "<script>alert(1)</script>"})
    assert response.status_code == 302
    page = sato.get("/attributes/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert values(store.open_db(project)) == {("case", "kaede", "地域"): "<script>alert(1)</script>"}


def test_analyst_reads_the_table_but_cannot_change_it(login, project):
    attributes.set_value(store.open_db(project), "case", "kaede", "地域", "関東", user="sato")
    hanako = login("hanako")
    page = hanako.get("/attributes/").get_data(as_text=True)
    assert "関東" in page and 'name="value"' not in page and 'type="file"' not in page
    response = hanako.post("/attributes/set", data={"csrf_token": hanako.csrf, "scope": "case", "ref": "kaede",
                                                    "name": "地域", "value": "東北"})
    assert response.status_code == 403 and values(store.open_db(project))[("case", "kaede", "地域")] == "関東"


def test_upload_of_a_cp932_csv_sets_values_and_a_bad_row_changes_nothing(login, project):
    import io

    sato = login("sato")
    good = "case,障害種別\nkaede,精神障害\n".encode("cp932")
    response = sato.post("/attributes/import", data={"csrf_token": sato.csrf, "file": (io.BytesIO(good), "属性.csv")},
                         follow_redirects=True)
    assert "1 件を設定" in response.get_data(as_text=True)
    bad = "case,障害種別\nkaede,身体障害\nnowhere,知的障害\n".encode("utf-8-sig")
    response = sato.post("/attributes/import", data={"csrf_token": sato.csrf, "file": (io.BytesIO(bad), "bad.csv")})
    assert response.status_code == 400 and "bad.csv: nothing was imported: row 3" in response.get_data(as_text=True)
    assert values(store.open_db(project)) == {("case", "kaede", "障害種別"): "精神障害"}


def test_web_matrix_offers_attributes_as_rows(login, project, two_analysts):
    attributes.set_value(store.open_db(project), "case", "kaede", "障害種別", "精神障害", user="sato")
    hanako = login("hanako")
    page = hanako.get("/matrix/?by=attr:障害種別&source=hanako").get_data(as_text=True)
    assert 'value="attr:障害種別" selected' in page and "精神障害" in page and "<h1>障害種別 × コード" in page
    assert 'value="attr:障害種別"' in hanako.get("/export/").get_data(as_text=True)  # exports by it too
    response = hanako.post("/export/", data={"format": "matrix-md", "source": "hanako", "by": "attr:障害種別",
                                             "csrf_token": hanako.csrf})
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("# 障害種別 × コード")


def test_matrix_filtered_by_an_attribute_value_counts_only_those_transcripts(three, codebook, tmp_path):
    code_all(three, codebook)
    attributes.set_value(three, "case", "minato", "地域", "関東", user="sato")
    attributes.set_value(three, "case", "kita", "地域", "東北", user="sato")
    m = matrix.build(three, codebook, source="hanako", where={"地域": "東北"})
    assert m["totals"] == {"person": 1}
    out = CliRunner().invoke(cli, ["matrix", "--attribute", "地域=関東", "--source", "hanako", "--format", "json",
                                   "--db", str(tmp_path / "project.db")]).output
    assert json.loads(out)["totals"] == {"person": 2}
