import csv
import json
import zipfile

import pytest
from click.testing import CliRunner

from coder import memos
from coder.access import Policy, set_blind
from coder.cli import cli
from coder.db import open_db, segments_to_code
from coder.errors import CoderError, Forbidden, NotFound
from coder.export import run

XSS = "<script>alert(1)</script>"
HANAKO, TARO, SATO = (Policy("hanako", False, True), Policy("taro", False, True), Policy("sato", True, True))


@pytest.fixture
def pdb(project):
    database = open_db(project)
    yield database
    database.close()


@pytest.fixture
def seg(pdb):
    return segments_to_code(pdb)[0]["id"]


def events(db, action):
    return [
        json.loads(r["detail"]) | {"user": r["user"]}
        for r in db.query("select user, detail from events where action = ? order by id", [action])
    ]


def test_memos_on_a_segment_transcript_case_and_project_are_listed_with_what_they_are_on(pdb, seg):
    memos.add(pdb, "hanako", "情報共有の典型例", segment_id=seg)
    memos.add(pdb, "hanako", "聞き手が誘導している", transcript="kaede")
    memos.add(pdb, "taro", "職場訪問の記録あり", case="kaede")
    memos.add(pdb, "sato", "第2回の会議で検討", project=True)
    rows = memos.visible(pdb, Policy.owner())
    assert [(m["kind"], m["author"], m["transcript"], m["case_name"]) for m in rows] == [
        ("segment", "hanako", "kaede", "kaede"),
        ("transcript", "hanako", "kaede", "kaede"),
        ("case", "taro", None, "kaede"),
        ("project", "sato", None, None),
    ]
    assert rows[0]["segment_text"].startswith("支援員さんと情報を共有")
    assert [m["kind"] for m in memos.visible(pdb, Policy.owner(), author="hanako", kind="transcript")] == ["transcript"]
    assert len(memos.visible(pdb, Policy.owner(), case="kaede")) == 3  # the project memo is on no case


@pytest.mark.parametrize(
    "target, error",
    [
        ({"segment_id": 999_999}, NotFound),
        ({"transcript": "nobody"}, NotFound),
        ({"case": "nowhere"}, NotFound),
        ({}, CoderError),
        ({"segment_id": 1, "project": True}, CoderError),
    ],
)
def test_a_memo_needs_exactly_one_existing_target(pdb, target, error):
    with pytest.raises(error):
        memos.add(pdb, "hanako", "メモ", **target)
    assert memos.visible(pdb, Policy.owner()) == []


def test_only_the_author_edits_or_deletes_a_memo_and_every_change_is_logged(pdb, seg):
    m = memos.add(pdb, "hanako", "最初の考え", segment_id=seg)
    with pytest.raises(Forbidden):
        memos.edit(pdb, m["id"], "taro", "書き換え")
    with pytest.raises(Forbidden):
        memos.delete(pdb, m["id"], "taro")
    assert memos.edit(pdb, m["id"], "hanako", "考え直した")["text"] == "考え直した"
    memos.delete(pdb, m["id"], "hanako")
    assert memos.visible(pdb, Policy.owner()) == []
    assert [e["user"] for e in events(pdb, "memo_added")] == ["hanako"]
    assert events(pdb, "memo_edited")[0]["old"] == "最初の考え" and events(pdb, "memo_edited")[0]["new"] == "考え直した"
    assert events(pdb, "memo_deleted")[0]["text"] == "考え直した"


def test_blind_mode_hides_another_analysts_segment_memo_but_not_from_supervisors(pdb, seg):
    memos.add(pdb, "hanako", "私のメモ", segment_id=seg)
    memos.add(pdb, "hanako", "全体のメモ", project=True)
    assert [m["text"] for m in memos.visible(pdb, TARO)] == ["全体のメモ"]
    assert len(memos.visible(pdb, HANAKO)) == len(memos.visible(pdb, SATO)) == 2
    assert len(memos.visible(pdb, Policy("taro", False, False))) == 2  # blind mode off: everyone sees it


def test_codebook_clarifications_stay_apart_from_other_memos(pdb, seg, codebook):
    memos.add(pdb, "hanako", "セグメントのメモ", segment_id=seg)
    memos.add_memo(pdb, "handover", "sato", "担当交代の場面に限る", codebook)
    assert [m["text"] for m in memos.list_memos(pdb)] == ["担当交代の場面に限る"]


def runner(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_cli_adds_and_lists_memos_of_every_kind(project, seg):
    assert runner("memo", "add", seg, "情報共有", "--coder", "hanako", "--db", project).exit_code == 0
    assert runner("memo", "add", "事例のメモ", "--case", "kaede", "--coder", "taro", "--db", project).exit_code == 0
    assert runner("memo", "add", "全体", "--project", "--coder", "sato", "--db", project).exit_code == 0
    lines = [json.loads(x) for x in runner("memos", "--db", project).output.splitlines()]
    assert [(m["kind"], m["author"], m["segment_id"]) for m in lines] == [
        ("segment", "hanako", seg),
        ("case", "taro", None),
        ("project", "sato", None),
    ]
    report = runner("memos", "--format", "md", "--kind", "case", "--db", project).output
    assert "事例 kaede" in report and "事例のメモ" in report and "情報共有" not in report
    bad = CliRunner().invoke(cli, ["memo", "add", "一言だけ", "--coder", "hanako", "--db", str(project)])
    assert bad.exit_code == 2 and "SEGMENT_ID TEXT" in bad.output


def test_cli_edit_and_delete_refuse_someone_elses_memo(project, seg):
    runner("memo", "add", seg, "メモ", "--coder", "hanako", "--db", project)
    other = CliRunner().invoke(cli, ["memo", "delete", "1", "--coder", "taro", "--db", str(project)])
    assert other.exit_code == 1 and "only its author" in other.output
    assert runner("memo", "edit", 1, "直した", "--coder", "hanako", "--db", project).exit_code == 0
    assert runner("memo", "delete", 1, "--coder", "hanako", "--db", project).exit_code == 0
    assert runner("memos", "--db", project).output == ""


def test_segments_records_carry_the_id_memos_use(project, seg):
    first = json.loads(runner("segments", "--db", project).output.splitlines()[1])
    assert first["id"] == seg and first["text"].startswith("支援員さん")


def test_quote_exports_carry_the_memos_the_exporting_user_may_see(project, two_analysts, codebook, tmp_path):
    db = open_db(project)
    memos.add(db, "hanako", "hanako の考え", segment_id=two_analysts[0])
    memos.add(db, "taro", "taro の考え", segment_id=two_analysts[0])
    set_blind(db, True)
    run(db, "quotes-csv", tmp_path / "owner.csv", codebook, "all")
    rows = list(csv.DictReader(open(tmp_path / "owner.csv", encoding="utf-8-sig")))
    assert {r["memo"] for r in rows if r["segment_id"] == str(two_analysts[0])} == {
        "hanako：hanako の考え\ntaro：taro の考え"
    }
    run(db, "quotes-md", tmp_path / "hanako.md", codebook, "hanako", policy=HANAKO)
    md = (tmp_path / "hanako.md").read_text(encoding="utf-8")
    assert "  - メモ（hanako）：hanako の考え" in md and "taro の考え" not in md


def test_quote_report_in_word_has_the_memo_under_its_quote(project, two_analysts, codebook, tmp_path):
    from docx import Document

    db = open_db(project)
    memos.add(db, "hanako", "職場との共有が鍵", segment_id=two_analysts[0])
    paragraphs = [p.text for p in Document(run(db, "quotes-docx", tmp_path, codebook)).paragraphs]
    quote = next(i for i, p in enumerate(paragraphs) if p.startswith("「支援員さんと"))
    assert paragraphs[quote + 1] == "メモ（hanako）：職場との共有が鍵"


def test_memo_reports_list_every_visible_memo(project, two_analysts, codebook, tmp_path):
    db = open_db(project)
    memos.add(db, "hanako", "=1+2 と書いたメモ", transcript="kaede")
    memos.add(db, "taro", "taro のメモ", segment_id=two_analysts[1])
    set_blind(db, True)
    md = run(db, "memos-md", tmp_path / "m.md", codebook, policy=HANAKO).read_text(encoding="utf-8")
    assert "トランスクリプト kaede" in md and "=1+2 と書いたメモ" in md and "taro" not in md
    rows = list(csv.DictReader(open(run(db, "memos-csv", tmp_path / "m.csv", codebook), encoding="utf-8-sig")))
    assert [(r["kind"], r["author"], r["text"]) for r in rows] == [
        ("transcript", "hanako", "'=1+2 と書いたメモ"),
        ("segment", "taro", "taro のメモ"),
    ]


def post_json(client, path, body):
    return client.post(path, json=body, headers={"X-CSRFToken": client.csrf})


def api_memos(client, transcript_id=1):
    segments = client.get(f"/api/transcripts/{transcript_id}/segments").get_json()["segments"]
    return {s["id"]: [m["text"] for m in s["memos"]] for s in segments if s["memos"]}


def test_coding_view_writes_edits_and_deletes_my_memo_on_a_segment(login, project, seg):
    hanako = login("hanako")
    response = post_json(hanako, f"/api/segments/{seg}/memos", {"text": "情報共有の典型"})
    assert response.status_code == 201 and response.get_json()["memos"][0]["mine"] is True
    memo_id = response.get_json()["memos"][0]["id"]
    assert api_memos(hanako) == {seg: ["情報共有の典型"]}
    assert post_json(login("taro"), f"/api/memos/{memo_id}", {"text": "書き換え"}).status_code == 403
    assert post_json(hanako, f"/api/memos/{memo_id}", {"text": "直した"}).get_json()["memos"][0]["text"] == "直した"
    assert post_json(hanako, f"/api/memos/{memo_id}", {"text": ""}).get_json() == {"memos": []}
    assert post_json(hanako, f"/api/segments/{seg}/memos", {"text": "  "}).status_code == 400
    assert post_json(hanako, "/api/segments/999999/memos", {"text": "x"}).status_code == 404


def test_blind_mode_hides_another_analysts_segment_memo_on_every_page(login, project, seg):
    db = open_db(project)
    memos.add(db, "hanako", "hanako だけの考え", segment_id=seg)
    set_blind(db, True)
    taro, sato = login("taro"), login("sato")
    assert api_memos(taro) == {} and "hanako だけの考え" not in taro.get("/memos/").get_data(as_text=True)
    assert api_memos(sato) == {seg: ["hanako だけの考え"]}
    assert "hanako だけの考え" in sato.get("/memos/").get_data(as_text=True)
    set_blind(db, False)
    assert api_memos(taro) == {seg: ["hanako だけの考え"]}


def test_memos_page_filters_and_adds_transcript_case_and_project_memos(login, project):
    hanako = login("hanako")
    for target in ("transcript", "case", "project"):
        response = hanako.post(
            "/memos/",
            data={
                "csrf_token": hanako.csrf,
                "target": target,
                "transcript": "1",
                "case": "kaede",
                "text": f"{target} のメモ",
            },
        )
        assert response.status_code == 302
    page = hanako.get("/memos/?kind=case").get_data(as_text=True)
    assert "case のメモ" in page and "project のメモ" not in page and "事例 kaede" in page
    assert hanako.get("/memos/?kind=nobody").status_code == 400
    assert hanako.get("/memos/?transcript=999").status_code == 404
    assert 'href="/memos/"' in hanako.get("/").get_data(as_text=True)  # in the menu


def test_only_the_author_may_change_a_memo_on_the_memos_page(login, project):
    memos.add(open_db(project), "hanako", "元のメモ", project=True)
    taro = login("taro")
    refused = taro.post("/memos/1/edit", data={"csrf_token": taro.csrf, "text": "乗っ取り"})
    assert refused.status_code == 403 and "自分が書いたメモだけ" in refused.get_data(as_text=True)
    assert taro.post("/memos/1/delete", data={"csrf_token": taro.csrf}).status_code == 403
    hanako = login("hanako")
    hanako.post("/memos/1/edit", data={"csrf_token": hanako.csrf, "text": "直したメモ"})
    assert "直したメモ" in hanako.get("/memos/").get_data(as_text=True)
    hanako.post("/memos/1/delete", data={"csrf_token": hanako.csrf})
    assert "直したメモ" not in hanako.get("/memos/").get_data(as_text=True)


def test_a_memo_with_markup_is_shown_as_text_on_every_page(login, project, seg, codebook):
    db = open_db(project)
    memos.add(db, "hanako", XSS, segment_id=seg)
    memos.add(db, "hanako", XSS, transcript="kaede")
    memos.add_memo(db, "handover", "sato", XSS, codebook, seg)
    sato = login("sato")
    for url in ("/memos/", "/memos/?kind=segment", "/codebook", "/agreement/disagreements?code=handover"):
        page = sato.get(url).get_data(as_text=True)
        assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    assert XSS in api_memos(sato)[seg]  # JSON for coding.js, which sets it with textContent


def memo_snapshot(db):
    return sorted(
        (m["kind"], m["author"], m["text"], m["segment_text"], m["transcript"], m["case_name"])
        for m in memos.visible(db, Policy.owner())
        if m["kind"] != "code"
    )


def test_memos_round_trip_through_refi_qda_as_notes(project, seg, codebook, tmp_path, nlp):

    from coder.export.refi import export_qdpx
    from coder.qda_import import import_qdpx

    db = open_db(project)
    memos.add(db, "hanako", "未コードのセグメントへのメモ", segment_id=seg)
    memos.add(db, "taro", "聞き手が誘導している", transcript="kaede")
    memos.add(db, "taro", "職場訪問の記録あり", case="kaede")
    memos.add(db, "sato", "第2回の会議で検討", project=True)
    export_qdpx(db, tmp_path / "p.qdpx", codebook)
    fresh = open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp)
    assert memo_snapshot(fresh) == memo_snapshot(db) and report.memos == 4
    assert import_qdpx(fresh, tmp_path / "p.qdpx", codebook, nlp=nlp).memos == 0  # not twice


def test_blind_analysts_refi_export_leaves_out_other_analysts_segment_memos(project, seg, codebook, tmp_path):
    db = open_db(project)
    memos.add(db, "taro", "taro だけの考え", segment_id=seg)
    set_blind(db, True)
    run(db, "refi-qdpx", tmp_path / "h.qdpx", codebook, "hanako", policy=HANAKO)
    with zipfile.ZipFile(tmp_path / "h.qdpx") as z:
        assert "taro だけの考え" not in z.read("project.qde").decode("utf-8")


def test_notes_of_another_tool_become_segment_transcript_and_project_memos(db, codebook, tmp_path, nlp):
    from coder.qda_import import import_qdpx

    def g(c):
        return f"{c * 8}-{c * 4}-{c * 4}-{c * 4}-{c * 12}"

    text = "Q：どうでしたか。\nA：上司と話し合いました。引き継ぎも円滑でした。\n"
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Users><User guid="{g(1)}" name="Ann Lee"/></Users>
<Sources><TextSource guid="{g("c")}" name="ann" plainTextPath="internal://ann.txt">
  <PlainTextSelection guid="{g("d")}" startPosition="12" endPosition="25"><NoteRef targetGUID="{g("e")}"/>
  </PlainTextSelection><NoteRef targetGUID="{g("f")}"/></TextSource></Sources>
<Notes><Note guid="{g("e")}" name="memo" creatingUser="{g(1)}" creationDateTime="2021-05-01T09:30:00Z">
  <PlainTextContent>上司との対話が鍵</PlainTextContent></Note>
  <Note guid="{g("f")}" name="about"><PlainTextContent>二回目の面接</PlainTextContent></Note>
  <Note guid="{g("a")}" name="project" creatingUser="{g(1)}"><PlainTextContent>全体の所感</PlainTextContent></Note>
</Notes><NoteRef targetGUID="{g("a")}"/></Project>"""
    path = tmp_path / "x.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/ann.txt", text)
    report = import_qdpx(db, path, codebook, nlp=nlp)
    rows = memos.visible(db, Policy.owner())
    assert sorted((m["kind"], m["author"], m["text"]) for m in rows) == [
        ("project", "Ann_Lee", "全体の所感"),
        ("segment", "Ann_Lee", "上司との対話が鍵"),
        ("transcript", "imported", "二回目の面接"),
    ]
    segment = next(m for m in rows if m["kind"] == "segment")
    assert segment["segment_text"] == "上司と話し合いました。" and segment["created_at"].startswith("2021-05-01T09:30")
    assert report.memos == 3 and "memos: 3 note(s) imported (see `coder memos`)" in report.summary()
