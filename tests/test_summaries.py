import json
import re
import zipfile

import pytest
from click.testing import CliRunner

from coder import export, summaries
from coder.access import set_blind
from coder.attributes import set_value
from coder.cli import cli
from coder.db import open_db, segments_to_code
from coder.errors import CoderError, NotFound
from coder.memos import visible

XSS = "<script>alert(1)</script>"
CELL = ("perspective", "person", "information_sharing")


@pytest.fixture
def pdb(project, two_analysts):
    database = open_db(project)
    yield database
    database.close()


def events(db):
    return [
        (r["action"], r["user"], json.loads(r["detail"]))
        for r in db.query("select action, user, detail from events where action like 'summary_%' order by id")
    ]


def test_a_summary_is_set_replaced_and_deleted_with_every_change_logged(pdb, two_analysts, codebook):
    a, b, _ = two_analysts
    first = summaries.set_summary(
        pdb, *CELL, " 情報共有が支えになっている ", user="hanako", segment_ids=[b, a, a], codebook=codebook
    )
    assert (first["text"], first["segments"], first["author"]) == ("情報共有が支えになっている", [a, b], "hanako")
    second = summaries.set_summary(pdb, *CELL, "主治医の意見も共有されている", user="taro", codebook=codebook)
    assert second["author"] == "taro" and second["segments"] == [a, b]  # links kept when none are given
    assert summaries.list_summaries(pdb) == [second]
    assert summaries.set_summary(pdb, *CELL, "  ", user="sato") is None
    assert summaries.get_summary(pdb, *CELL) is None and summaries.list_summaries(pdb) == []
    assert [(act, who, d["old"], d["new"]) for act, who, d in events(pdb)] == [
        ("summary_set", "hanako", None, "情報共有が支えになっている"),
        ("summary_set", "taro", "情報共有が支えになっている", "主治医の意見も共有されている"),
        ("summary_deleted", "sato", "主治医の意見も共有されている", None),
    ]
    assert events(pdb)[0][2] == {
        "grouping": "perspective",
        "row": "person",
        "code": "information_sharing",
        "old": None,
        "new": "情報共有が支えになっている",
        "segments": [a, b],
    }


@pytest.mark.parametrize(
    "cell, segments, error, message",
    [
        (("perspective", "nobody", "information_sharing"), [], NotFound, "no row 'nobody'"),
        (("case", "minato", "information_sharing"), [], NotFound, "no row 'minato'"),
        (("transcript", "kaede", "no_such_code"), [], CoderError, "unknown code"),
        (("perspective", "person", "information_sharing"), [999999], NotFound, "no segment 999999"),
        (("speaker", "本人", "information_sharing"), [], CoderError, "grouping"),
        (("attr:年代", "30代", "information_sharing"), [], NotFound, "no attribute '年代'"),
        (("attr:地域", "九州", "information_sharing"), [], NotFound, "no row '九州'"),
    ],
)
def test_a_summary_on_a_cell_or_segment_the_project_lacks_is_refused(pdb, codebook, cell, segments, error, message):
    set_value(pdb, "case", "kaede", "地域", "関東", user="sato")
    with pytest.raises(error, match=message):
        summaries.set_summary(pdb, *cell, "要約", user="hanako", segment_ids=segments, codebook=codebook)
    assert summaries.list_summaries(pdb) == [] and events(pdb) == []


def test_attribute_rows_and_the_row_without_a_value_take_summaries(pdb, codebook):
    set_value(pdb, "case", "kaede", "地域", "関東", user="sato")
    for row in ("関東", "―"):
        summaries.set_summary(pdb, "attr:地域", row, "handover", f"{row}の要約", user="hanako", codebook=codebook)
    assert [s["row"] for s in summaries.list_summaries(pdb, "attr:地域")] == ["―", "関東"]


def test_a_summary_longer_than_the_limit_is_refused(pdb, codebook):
    with pytest.raises(CoderError, match="at most 20,000"):
        summaries.set_summary(pdb, *CELL, "あ" * 20_001, user="hanako", codebook=codebook)


def test_cli_sets_lists_and_deletes_a_summary(project, two_analysts):
    a, b, _ = two_analysts
    run = lambda *args: CliRunner().invoke(cli, [*args, "--db", str(project)])  # noqa: E731
    done = run(
        "summary",
        "set",
        "person",
        "information_sharing",
        "--text",
        "共有の要約",
        "--segments",
        f"{a},{b}",
        "--coder",
        "hanako",
    )
    assert done.exit_code == 0 and "2 linked segment(s)" in done.output
    assert run("summary", "set", "person", "nothing", "--text", "x").exit_code == 1
    line = json.loads(run("summaries").output)
    assert line == {
        "grouping": "perspective",
        "row": "person",
        "code": "information_sharing",
        "text": "共有の要約",
        "segments": [a, b],
        "author": "hanako",
        "created_at": line["created_at"],
        "updated_at": line["updated_at"],
    }
    md = run("summaries", "--format", "md").output
    assert "### 当事者 × 関係者間の情報共有" in md and "共有の要約" in md
    assert "根拠：「支援員さんと情報を共有しています。」（kaede・本人）、「主治医の" in md
    assert run("summaries", "--by", "case").output == ""
    assert run("summary", "delete", "person", "information_sharing").exit_code == 0
    assert run("summaries").output == "" and run("summary", "delete", "person", "information_sharing").exit_code == 1


def cell_url(**extra):
    from urllib.parse import urlencode

    return "/matrix/cell?" + urlencode({"row": "person", "code": "information_sharing", "by": "perspective", **extra})


def test_the_cell_page_saves_a_summary_with_its_evidence_and_the_matrix_shows_it(login, project, two_analysts):
    a, _, _ = two_analysts
    hanako = login("hanako")
    page = hanako.get(cell_url()).get_data(as_text=True)
    assert f'name="segment" value="{a}" form="summary-form" >' in page and "要約の根拠" in page
    saved = hanako.post(
        "/matrix/summary",
        data={
            "csrf_token": hanako.csrf,
            "row": "person",
            "by": "perspective",
            "code": "information_sharing",
            "source": "consensus",
            "text": "支援員との情報共有が定着している",
            "segment": [str(a)],
        },
    )
    assert saved.status_code == 302 and "/matrix/cell?" in saved.location and "row=person" in saved.location
    page = hanako.get(saved.location).get_data(as_text=True)
    assert "支援員との情報共有が定着している" in page and f'value="{a}" form="summary-form" checked>' in page
    assert re.search(r"hanako・\d{4}-\d\d-\d\d 更新", page)
    matrix = login("taro").get("/matrix/").get_data(as_text=True)
    assert "要約あり・hanako" in matrix and 'title="支援員との情報共有が定着している（hanako・' in matrix
    assert (
        hanako.post(
            "/matrix/summary",
            data={
                "csrf_token": hanako.csrf,
                "row": "nobody",
                "by": "perspective",
                "code": "information_sharing",
                "text": "x",
            },
        ).status_code
        == 404
    )
    assert (
        hanako.post("/matrix/summary", data={"row": "person", "code": "information_sharing", "text": "x"}).status_code
        == 400
    )  # no CSRF token


def test_in_blind_mode_every_analyst_still_reads_the_summary(login, project, two_analysts, codebook):
    a, _, _ = two_analysts
    db = open_db(project)
    summaries.set_summary(db, *CELL, "チームの要約", user="hanako", segment_ids=[a], codebook=codebook)
    set_blind(db, True)
    taro = login("taro")
    page = taro.get(cell_url(source="taro")).get_data(as_text=True)
    assert "チームの要約" in page and f'value="{a}" form="summary-form" checked>' in page
    assert "要約あり" in taro.get("/matrix/").get_data(as_text=True)
    assert taro.get(cell_url(source="hanako")).status_code == 403  # the quotes stay closed


def test_a_summary_with_markup_is_shown_as_text_on_both_pages(login, project, two_analysts, codebook):
    summaries.set_summary(open_db(project), *CELL, XSS, user="hanako", codebook=codebook)
    sato = login("sato")
    for url in ("/matrix/", cell_url()):
        page = sato.get(url).get_data(as_text=True)
        assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_matrix_exports_carry_the_summary_with_author_date_and_evidence(pdb, two_analysts, codebook, tmp_path):
    from openpyxl import load_workbook

    a, _, _ = two_analysts
    summaries.set_summary(pdb, *CELL, "共有が定着\n主治医とも", user="hanako", segment_ids=[a], codebook=codebook)
    md = export.run(pdb, "matrix-md", tmp_path / "m.md", codebook).read_text(encoding="utf-8")
    cell = md.split("## 関係者間の情報共有")[1].split("\n## ")[0]
    assert "**要約**（hanako・" in cell and "> 共有が定着\n> 主治医とも" in cell
    assert "根拠：「支援員さんと情報を共有しています。」（kaede・本人）" in cell  # readable without the tool
    book = load_workbook(export.run(pdb, "matrix-xlsx", tmp_path / "m.xlsx", codebook))
    rows = list(book["要約"].values)
    assert rows[0][:5] == ("立場", "コードID", "コード", "要約", "根拠のセグメントID")
    assert rows[1][:7] == (
        "当事者",
        "information_sharing",
        "関係者間の情報共有",
        "共有が定着\n主治医とも",
        str(a),
        "「支援員さんと情報を共有しています。」（kaede・本人）",
        "hanako",
    )


def test_a_pseudonymised_matrix_export_replaces_names_in_summaries(pdb, codebook, tmp_path):
    from coder.pseudonymise import add_name

    summaries.set_summary(
        pdb, "case", "kaede", "information_sharing", "山田さんの支援が鍵", user="hanako", codebook=codebook
    )
    add_name(pdb, "山田", "person", "sato")
    add_name(pdb, "kaede", "organisation", "sato")
    md = export.run(pdb, "matrix-md", tmp_path / "m.md", codebook, by="case", pseudonymise=True).read_text(
        encoding="utf-8"
    )
    assert "山田" not in md and "kaede" not in md
    cell = md.split("## 関係者間の情報共有")[1].split("\n## ")[0].split("### 事業所A：")[1]
    assert "> 人物Aさんの支援が鍵" in cell
    qdpx = export.run(pdb, "refi-qdpx", tmp_path / "p.qdpx", codebook, pseudonymise=True)
    with zipfile.ZipFile(qdpx) as z:
        xml = z.read("project.qde").decode("utf-8")
    assert "山田" not in xml and "kaede" not in xml and "人物Aさんの支援が鍵" in xml
    assert "&quot;row&quot;: &quot;事業所A&quot;" in xml  # the row's name in the note's key, too


def test_a_summary_survives_a_qdpx_round_trip_once(project, pdb, two_analysts, codebook, tmp_path, nlp):
    from coder.export.refi import export_qdpx
    from coder.qda_import import import_qdpx

    a, b, _ = two_analysts
    summaries.set_summary(pdb, *CELL, "共有の要約", user="hanako", segment_ids=[a, b], codebook=codebook)
    summaries.set_summary(pdb, "case", "kaede", "handover", "事例の要約", user="taro", codebook=codebook)
    export_qdpx(pdb, tmp_path / "p.qdpx", codebook)
    fresh = open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp)
    texts = {s["id"]: s["text"] for s in segments_to_code(fresh)}
    back = {(s["grouping"], s["row"], s["code"]): s for s in summaries.list_summaries(fresh)}
    assert report.summaries == 2 and set(back) == {CELL, ("case", "kaede", "handover")}
    assert back[CELL]["text"] == "共有の要約" and back[CELL]["author"] == "hanako"
    old = {s["id"]: s["text"] for s in segments_to_code(pdb)}
    assert [texts[i] for i in back[CELL]["segments"]] == [old[a], old[b]]
    again = import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp)
    assert (again.summaries, again.memos, len(summaries.list_summaries(fresh))) == (0, 0, 2)


def test_an_imported_summary_the_project_cannot_take_becomes_a_project_memo(project, pdb, codebook, tmp_path, nlp):
    from coder.access import Policy
    from coder.export.refi import export_qdpx
    from coder.ingest import ingest
    from coder.qda_import import import_qdpx

    summaries.set_summary(pdb, "case", "kaede", "handover", "事例の要約", user="taro", codebook=codebook)
    summaries.set_summary(pdb, *CELL, "ファイルの要約", user="hanako", codebook=codebook)
    export_qdpx(pdb, tmp_path / "p.qdpx", codebook)
    other = open_db(tmp_path / "other.db")  # the same interview, filed under another case
    ingest(other, [tmp_path / "kaede.txt"], nlp=nlp, case="other", speaker_map={"本人": "person"})
    summaries.set_summary(other, *CELL, "ここの要約", user="sato", codebook=codebook)
    report = import_qdpx(other, tmp_path / "p.qdpx", codebook, nlp=nlp)
    assert report.summaries == 0 and report.memos == 2
    assert summaries.get_summary(other, *CELL)["text"] == "ここの要約"  # not overwritten
    assert sorted(m["text"] for m in visible(other, Policy.owner(), kind="project")) == [
        "［セルの要約：case kaede × handover］事例の要約",
        "［セルの要約：perspective person × information_sharing］ファイルの要約",
    ]


def test_a_summary_on_a_row_the_source_did_not_code_is_in_the_matrix_exports(pdb, two_analysts, codebook, tmp_path):
    from openpyxl import load_workbook

    summaries.set_summary(pdb, "perspective", "employer", "handover", "雇用者の見方", user="sato", codebook=codebook)
    md = export.run(pdb, "matrix-md", tmp_path / "m.md", codebook).read_text(encoding="utf-8")
    assert "## この出典では集計されない行の要約" in md and "### 雇用者 × 円滑な引き継ぎ" in md
    assert "> 雇用者の見方" in md
    rows = list(load_workbook(export.run(pdb, "matrix-xlsx", tmp_path / "m.xlsx", codebook))["要約"].values)
    assert any(r[0] == "雇用者（この出典では未コーディング）" and r[3] == "雇用者の見方" for r in rows)


def test_a_blind_analyst_is_not_shown_evidence_outside_their_own_cell_and_saving_keeps_it(
    login, project, two_analysts, codebook
):
    a, b, _ = two_analysts  # b: only hanako coded information_sharing there
    db = open_db(project)
    summaries.set_summary(db, *CELL, "チームの要約", user="hanako", segment_ids=[a, b], codebook=codebook)
    set_blind(db, True)
    taro = login("taro")
    page = taro.get(cell_url(source="taro")).get_data(as_text=True)
    assert "主治医の意見も職場に伝えてもらいました" not in page and "ほかに 1 件あります" in page
    taro.post(
        "/matrix/summary",
        data={
            "row": "person",
            "code": "information_sharing",
            "source": "taro",
            "text": "チームの要約（改訂）",
            "segment": [str(a)],
            "csrf_token": taro.csrf,
        },
    )
    saved = summaries.get_summary(open_db(project), *CELL)
    assert saved["text"] == "チームの要約（改訂）" and sorted(saved["segments"]) == sorted([a, b])
