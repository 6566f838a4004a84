import json
import re

import pytest
import yaml
from click.testing import CliRunner

from coder import codebook_edit as edit
from coder import coding, topics
from coder.cli import cli
from coder.codebook import CORE_IDS, DEFAULT, load_codebook
from coder.db import open_db, segments_to_code
from coder.errors import CoderError

FIXED = CORE_IDS + ["effects", "career", "peer_relations"]


def events(db, action):
    return [
        {**r, "detail": json.loads(r["detail"])}
        for r in db.query("select * from events where action = ? order by id", [action])
    ]


def test_project_codebook_is_seeded_once_from_the_yaml(db):
    book = edit.project_codebook(db)
    assert book.ids == FIXED and book.version_tag == load_codebook().version_tag
    edit.project_codebook(db)
    assert [v["tag"] for v in edit.versions(db)] == [book.version_tag]


def test_a_given_codebook_file_seeds_the_project(db, tmp_path):
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["codes"][0]["name"] = "ニーズの把握"
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert edit.project_codebook(db, tmp_path / "mine.yaml").code("needs_assessment").name == "ニーズの把握"


def test_adding_a_code_makes_a_new_version_and_logs_it(db):
    book = edit.add_code(db, "sato", "job_coach", "ジョブコーチ支援", parent="handover", description="職場での支援")
    assert book.version_tag == "renkei@p2" and book.ids[-1] == "job_coach"
    assert book.code("job_coach").parent == "handover" and book.code("job_coach").definition == "職場での支援"
    [event] = events(db, "code-added")
    assert (
        event["user"] == "sato" and event["code"] == "job_coach" and event["detail"]["codebook_version"] == "renkei@p2"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda db: edit.add_code(db, "sato", "handover", "重複"), "already exists"),
        (lambda db: edit.add_code(db, "sato", "Job Coach", "ジョブコーチ"), "lower-case"),
        (lambda db: edit.add_code(db, "sato", "job_coach", "円滑な引き継ぎ"), "already exists"),
        (lambda db: edit.recolour_code(db, "sato", "handover", "red"), "#rrggbb"),
        (lambda db: edit.nest_code(db, "sato", "handover", "handover"), "loop"),
        (lambda db: edit.merge_codes(db, "sato", "handover", "handover"), "itself"),
    ],
)
def test_a_refused_edit_changes_nothing(db, change, message):
    edit.project_codebook(db)
    with pytest.raises(CoderError, match=message):
        change(db)
    assert len(edit.versions(db)) == 1 and db["events"].count == 0


def test_rename_describe_colour_and_nest_keep_the_id_and_its_codings(project, codebook):
    db = open_db(project)
    seg = segments_to_code(db)[0]["id"]
    coding.apply(db, seg, "hanako", "confirm", edit.project_codebook(db), "handover")
    edit.rename_code(db, "sato", "handover", "支援の引き継ぎ")
    edit.describe_code(db, "sato", "handover", "担当者や機関が替わるときの連続性")
    edit.recolour_code(db, "sato", "handover", "#3366CC")
    book = edit.nest_code(db, "sato", "handover", "information_sharing")
    c = book.code("handover")
    assert (c.name, c.definition, c.color, c.parent) == (
        "支援の引き継ぎ",
        "担当者や機関が替わるときの連続性",
        "#3366cc",
        "information_sharing",
    )
    assert coding.states(db, "hanako", segment_ids=[seg])[0]["mine"] == {"handover": "confirmed"}


def test_merge_repoints_codings_per_coder_with_one_event_each(project):
    db = open_db(project)
    a, b, _ = [s["id"] for s in segments_to_code(db)]
    book = edit.project_codebook(db)
    coding.apply(db, a, "hanako", "confirm", book, "handover")
    coding.apply(db, a, "hanako", "confirm", book, "effects")  # both codes on one segment: one coding after
    coding.apply(db, b, "taro", "confirm", book, "handover")
    book = edit.merge_codes(db, "sato", "handover", "effects")
    mine = {(r["segment_id"], r["coder"]): r["code"] for r in db["codings"].rows}
    assert mine == {(a, "hanako"): "effects", (b, "taro"): "effects"}
    moved = events(db, "recoded")
    assert len(moved) == 2 and {e["detail"]["layer"] for e in moved} == {"hanako", "taro"}
    assert all(e["detail"]["from"] == "handover" and e["user"] == "sato" for e in moved)
    assert book.code("handover").status == "retired" and book.code("handover").merged_into == "effects"


def test_a_retired_code_stays_on_past_codings_and_is_not_offered(project):
    db = open_db(project)
    a, b, _ = [s["id"] for s in segments_to_code(db)]
    coding.apply(db, a, "hanako", "confirm", edit.project_codebook(db), "career")
    book = edit.retire_code(db, "sato", "career")
    assert "career" not in [c.id for c in book.active] and "career" in book.ids
    assert coding.states(db, "hanako", segment_ids=[a])[0]["mine"] == {"career": "confirmed"}
    with pytest.raises(CoderError, match="retired"):
        coding.apply(db, b, "hanako", "confirm", book, "career")
    coding.apply(db, a, "hanako", "toggle", book, "career")  # it can still be taken off
    assert coding.states(db, "hanako", segment_ids=[a])[0]["mine"] == {}


def test_promote_makes_a_topic_draft_usable_for_coding(project):
    db = open_db(project)
    a, b, _ = [s["id"] for s in segments_to_code(db)]
    topic = {"id": 3, "words": ["通勤", "負担"], "size": 2, "examples": [{"id": a, "text": "通勤がつらいです。"}]}
    draft = topics.propose_code(db, topic, "通勤の負担")
    with open_db(project) as other:  # a coding of the draft, as a REFI-QDA import stores it
        coding.record_imported(other, "2024-01-01T00:00:00", "hanako", "renkei@1.2.0", [(a, draft["code"])], [])
    book = edit.promote_user_code(db, "sato", draft["code"], "commute")
    assert book.code("commute").name == "通勤の負担" and book.code("commute").examples == ["通勤がつらいです。"]
    assert coding.states(db, "hanako", segment_ids=[a])[0]["mine"] == {"commute": "confirmed"}
    assert [e["detail"]["from"] for e in events(db, "promoted")] == [draft["code"]]
    coding.apply(db, b, "taro", "confirm", book, "commute")
    assert draft["code"] not in topics.code_names(db, book)


def test_a_new_code_without_examples_gets_suggestions_scored(db, nlp, write, embedder):
    from coder.ingest import ingest
    from coder.suggest.service import suggest_project

    ingest(db, [write("a.txt", "聞き手：伺います。\n支援員：ジョブコーチが職場に通って助言しました。\n")], nlp=nlp)
    book = edit.add_code(db, "sato", "job_coach", "ジョブコーチ支援")
    edit.retire_code(db, "sato", "career")
    summary = suggest_project(db, edit.project_codebook(db).offered())
    assert "job_coach" in summary["suggested"] and "career" not in summary["suggested"]
    assert book.version_tag  # scored without rules or examples


def cli_run(*args):
    result = CliRunner().invoke(cli, [*args])
    assert result.exit_code == 0, result.output
    return result.output


def test_code_commands_change_the_projects_codebook(tmp_path):
    db_path = str(tmp_path / "p.db")
    open_db(db_path).close()
    assert "renkei@p2" in cli_run(
        "code", "add", "job_coach", "--name", "ジョブコーチ", "--parent", "handover", "--db", db_path
    )
    cli_run("code", "rename", "job_coach", "職場適応援助者", "--db", db_path)
    assert "0 coding(s) moved" in cli_run("code", "merge", "job_coach", "handover", "--db", db_path)
    cli_run("code", "retire", "career", "--db", db_path, "--by", "sato")
    book = edit.project_codebook(open_db(db_path))
    assert book.code("job_coach").name == "職場適応援助者" and book.code("job_coach").merged_into == "handover"
    assert book.code("career").status == "retired" and "(retired)" in cli_run("code", "list", "--db", db_path)


def test_codebook_show_reads_the_projects_living_codebook_when_given_a_project(tmp_path):
    db_path = str(tmp_path / "p.db")
    open_db(db_path).close()
    cli_run("code", "add", "job_coach", "--name", "ジョブコーチ", "--parent", "handover", "--db", db_path)
    assert "[job_coach] ジョブコーチ" in cli_run("codebook", "show", "--db", db_path)
    assert "job_coach" not in cli_run("codebook", "show")  # the seed file is unchanged


def test_code_promote_via_the_cli(tmp_path):
    db_path = str(tmp_path / "p.db")
    db = open_db(db_path)
    draft = topics.propose_code(db, {"id": 1, "words": ["通勤"], "size": 1, "examples": []}, "通勤")
    assert "commute" in cli_run("code", "promote", draft["code"], "--id", "commute", "--db", db_path)
    assert edit.project_codebook(db).code("commute").origin == "project"


def test_codebook_export_yaml_round_trips(tmp_path):
    db_path = str(tmp_path / "p.db")
    open_db(db_path).close()
    cli_run("code", "add", "job_coach", "--name", "ジョブコーチ", "--parent", "handover", "--db", db_path)
    cli_run("codebook", "export", "--format", "yaml", "-o", str(tmp_path / "out.yaml"), "--db", db_path)
    again = load_codebook(tmp_path / "out.yaml")
    assert again.codes == edit.project_codebook(open_db(db_path)).codes and again.version == "p2"


def test_codebook_export_qdc_nests_codes_by_parent(tmp_path):
    db_path = str(tmp_path / "p.db")
    open_db(db_path).close()
    cli_run("code", "add", "job_coach", "--name", "ジョブコーチ", "--parent", "handover", "--db", db_path)
    xml = cli_run("codebook", "export", "--format", "qdc", "--db", db_path)
    handover = xml[xml.index('name="円滑な引き継ぎ"') :]
    assert 'name="ジョブコーチ"' in handover[: handover.index("</Code>")]


def test_codebook_file_given_to_a_command_overrides_the_projects(tmp_path):
    db_path = str(tmp_path / "p.db")
    open_db(db_path).close()
    cli_run("code", "rename", "handover", "支援の引き継ぎ", "--db", db_path)
    assert "支援の引き継ぎ" in cli_run("codebook", "export", "--db", db_path)
    assert "支援の引き継ぎ" not in cli_run("codebook", "export", "--codebook", str(DEFAULT), "--db", db_path)


def test_the_codebook_editor_is_for_supervisors_only(login):
    analyst = login("hanako")
    assert "コードを追加" not in analyst.get("/codebook").get_data(as_text=True)
    refused = analyst.post("/codebook/edit", data={"op": "retire", "code": "career", "csrf_token": analyst.csrf})
    assert refused.status_code == 403
    supervisor = login("sato")
    assert "コードを追加" in supervisor.get("/codebook").get_data(as_text=True)
    supervisor.post(
        "/codebook/edit",
        data={"op": "add", "id": "job_coach", "name": "ジョブコーチ支援", "csrf_token": supervisor.csrf},
    )
    assert "ジョブコーチ支援" in analyst.get("/codebook").get_data(as_text=True)


def test_a_refused_edit_in_the_web_is_shown(login):
    supervisor = login("sato")
    page = supervisor.post(
        "/codebook/edit",
        data={"op": "add", "id": "handover", "name": "x", "csrf_token": supervisor.csrf},
        follow_redirects=True,
    )
    assert "変更できませんでした" in page.get_data(as_text=True)


def test_a_code_name_is_escaped_on_the_codebook_page_and_the_coding_view(login, project):
    edit.add_code(open_db(project), "sato", "xss", '<img src=x onerror="alert(1)">')
    client = login("hanako")
    for page in ("/codebook", "/transcripts/1"):
        html = client.get(page).get_data(as_text=True)
        assert "<img src=x" not in html, page
    assert "xss" in client.get("/transcripts/1").get_data(as_text=True)


def test_the_coding_view_offers_no_retired_code_but_shows_its_name(login, project):
    edit.retire_code(open_db(project), "sato", "career")
    html = login("hanako").get("/transcripts/1").get_data(as_text=True)
    offered = json.loads(html.split('id="codes-data" type="application/json">')[1].split("</script>")[0])
    every = json.loads(html.split('id="all-codes-data" type="application/json">')[1].split("</script>")[0])
    assert "career" not in offered and every["career"]["retired"] is True


def test_merging_in_the_web_needs_a_confirmation_because_it_cannot_be_undone(login, project, two_analysts):
    supervisor = login("sato")
    form = {"op": "merge", "code": "value_alignment", "into": "information_sharing", "csrf_token": supervisor.csrf}
    page = supervisor.post("/codebook/edit", data=form, follow_redirects=True).get_data(as_text=True)
    assert "元に戻せない操作です" in page
    assert open_db(project).execute("select count(*) from codings where code = 'value_alignment'").fetchone()[0] == 1
    supervisor.post("/codebook/edit", data={**form, "confirm": "1"})
    assert open_db(project).execute("select count(*) from codings where code = 'value_alignment'").fetchone()[0] == 0


def test_code_list_shows_a_sub_code_under_its_parent(project):
    db_path = str(project)
    edit.add_code(open_db(project), "sato", "face_to_face", "顔合わせでの引き継ぎ", "handover")
    lines = cli_run("code", "list", "--db", db_path).splitlines()
    at = next(i for i, line in enumerate(lines) if "[face_to_face]" in line)
    assert "[handover]" in lines[at - 1] and lines[at].startswith("  [face_to_face]")


def test_qdpx_round_trip_keeps_codes_added_while_coding_with_their_parent(
    project, two_analysts, codebook, tmp_path, nlp
):
    from coder import coding
    from coder.export.refi import export_qdpx
    from coder.qda_import import import_qdpx

    db = open_db(project)
    edit.add_code(db, "sato", "face_to_face", "顔合わせでの引き継ぎ", "handover")
    edit.add_code(db, "sato", "old_idea", "古い案")
    book = edit.retire_code(db, "sato", "old_idea")
    coding.apply(db, two_analysts[0], "hanako", "confirm", book, "face_to_face")
    export_qdpx(db, tmp_path / "p.qdpx", book)
    fresh = open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "p.qdpx", edit.project_codebook(fresh), nlp=nlp)
    after = edit.project_codebook(fresh)
    assert after.code("face_to_face").parent == "handover" and after.code("old_idea").status == "retired"
    assert fresh.execute("select count(*) from codings where code = 'face_to_face'").fetchone()[0] == 1
    assert store_user_codes(fresh) == [] and any("face_to_face" in line for line in report.summary())


def store_user_codes(db):
    from coder.db import user_codes

    return user_codes(db)


def test_codebook_page_shows_a_sub_code_under_its_parent_with_the_keys_the_coding_view_uses(login, project):
    edit.add_code(open_db(project), "sato", "face_to_face", "顔合わせでの引き継ぎ", "handover")
    page = login("hanako").get("/codebook").get_data(as_text=True)
    sections = re.findall(r'<section class="code ([^"]*)" id="([^"]+)"', page)
    ids = [i for _, i in sections]
    assert ids.index("face_to_face") == ids.index("handover") + 1  # right under its parent, not at the end
    assert dict((i, c) for c, i in sections)["face_to_face"].endswith("depth-1")
    assert 'href="#face_to_face">顔合わせでの引き継ぎ</a>' in page.split('id="handover"')[1]  # the parent lists it
    assert "コーディング中に追加" in page and "<kbd>5</kbd> 円滑な引き継ぎ" in page


def test_exports_leave_out_a_merged_code_nobody_used_and_name_one_that_was(project, two_analysts, tmp_path):
    from coder import matrix
    from coder.export import run

    db = open_db(project)
    edit.add_code(db, "sato", "face_to_face", "顔合わせでの引き継ぎ", "handover")
    book = edit.merge_codes(db, "sato", "face_to_face", "handover")
    book = edit.retire_code(db, "sato", "career")
    text = run(db, "quotes-md", tmp_path / "q.md", book, "hanako").read_text(encoding="utf-8")
    assert "顔合わせでの引き継ぎ" not in text and "キャリア構築" not in text and "（）" not in text
    assert "face_to_face" not in matrix.build(db, book, source="hanako")["codes"]
    book = edit.retire_code(db, "sato", "information_sharing")  # retired, but hanako's quotes carry it
    text = run(db, "quotes-md", tmp_path / "q2.md", book, "hanako").read_text(encoding="utf-8")
    assert "## 関係者間の情報共有（Information sharing among those involved）（廃止）" in text
    assert "information_sharing" in matrix.build(db, book, source="hanako")["codes"]
