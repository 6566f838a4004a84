import json

import pytest
from click.testing import CliRunner

from coder import coding, memos
from coder import db as store
from coder import transcripts as manage
from coder.cli import cli
from coder.errors import CoderError

# The kaede interview of the project fixture with its second answer corrected (を for も) and one sentence added.
CORRECTED = (
    "聞き手：最近はいかがですか。\n本人：支援員さんと情報を共有しています。"
    "主治医の意見を職場に伝えてもらいました。\n聞き手：ほかには。\n本人：特にありません。通院は月に一度です。\n"
)


@pytest.fixture
def pdb(project):
    database = store.open_db(project)
    yield database
    database.close()


def table_rows(db, transcript_id):
    return {
        t: db.execute(f"select count(*) from {t} where transcript_id = ?", [transcript_id]).fetchone()[0]
        for t in ("segments", "turns", "speakers", "memos")
    }


def test_renaming_keeps_the_id_and_refuses_a_name_in_use(pdb, nlp, tmp_path):
    t = manage.rename(pdb, "kaede", "かえで_本人", user="sato")
    assert t["id"] == 1 and [r["name"] for r in store.list_transcripts(pdb)] == ["かえで_本人"]
    (tmp_path / "other.txt").write_text("本人：はい。\n", encoding="utf-8")
    from coder.ingest import ingest

    ingest(pdb, [tmp_path / "other.txt"], nlp=nlp)
    with pytest.raises(CoderError, match="already a transcript named"):
        manage.rename(pdb, "other", "かえで_本人", user="sato")
    assert [e["detail"] for e in coding.events(pdb) if e["action"] == "transcript_renamed"] == [
        {"transcript_id": 1, "old": "kaede", "new": "かえで_本人"}
    ]


def test_removing_deletes_everything_on_the_transcript_after_a_backup(pdb, two_analysts, tmp_path):
    a, b, c = two_analysts
    memos.add(pdb, "hanako", "大事な発言", segment_id=a)
    memos.add(pdb, "sato", "全体のメモ", transcript="kaede")
    pdb["attributes"].insert({"scope": "transcript", "target": "1", "name": "年代", "value": "30代"})
    result = manage.remove(pdb, "kaede", user="sato")
    assert store.list_transcripts(pdb) == [] and table_rows(pdb, 1) == dict.fromkeys(table_rows(pdb, 1), 0)
    for table in ("codings", "reviews", "suggestions", "recode_samples", "attributes"):
        assert pdb.execute(f"select count(*) from {table}").fetchone()[0] == 0, table
    assert result["counts"]["codings"] == 4 and result["counts"]["memos"] == 2
    assert result["backup"].parent == tmp_path / "backups"
    copy = store.open_db(result["backup"])
    assert [r["name"] for r in store.list_transcripts(copy)] == ["kaede"]
    event = [e for e in coding.events(pdb) if e["action"] == "transcript_removed"][0]
    assert event["user"] == "sato" and event["detail"]["counts"]["codings"] == 4


def test_replacing_keeps_codings_of_unchanged_segments_and_lists_the_rest(pdb, two_analysts, nlp, tmp_path):
    a, b, c = two_analysts
    memos.add(pdb, "hanako", "主治医の話", segment_id=b)
    (tmp_path / "kaede_v2.txt").write_text(CORRECTED, encoding="utf-8")
    r = manage.replace(pdb, "kaede", tmp_path / "kaede_v2.txt", user="sato", nlp=nlp)
    assert [t["name"] for t in store.list_transcripts(pdb)] == ["kaede"]
    assert coding.states(pdb, "taro", segment_ids=[a])[0]["mine"] == {"information_sharing": "confirmed"}
    assert coding.states(pdb, "hanako", segment_ids=[c])[0]["reviewed"]
    assert [d["text"] for d in r.to_recode] == ["主治医の意見も職場に伝えてもらいました。"]
    assert {(x["coder"], x["code"]) for x in r.to_recode[0]["codings"]} == {
        ("hanako", "information_sharing"),
        ("taro", "value_alignment"),
    }
    texts = [s["text"] for s in store.iter_segments(pdb, "kaede")]
    assert "主治医の意見を職場に伝えてもらいました。" in texts and "通院は月に一度です。" in texts
    dropped = [e for e in coding.events(pdb) if e["action"] == "segment_dropped"]
    assert dropped[0]["segment_id"] == b and len(dropped[0]["detail"]["codings"]) == 2
    assert [m["kind"] for m in pdb["memos"].rows] == ["transcript"]  # the note stays on the interview


def test_replacing_carries_speaker_perspectives_by_name(pdb, nlp, tmp_path):
    store.set_speaker(pdb, "本人", "supporter", "kaede", user="sato")
    (tmp_path / "kaede_v2.txt").write_text(CORRECTED, encoding="utf-8")
    manage.replace(pdb, "kaede", tmp_path / "kaede_v2.txt", user="sato", nlp=nlp)
    assert {(r["speaker"], r["perspective"]) for r in store.list_speakers(pdb, "kaede")} == {
        ("聞き手", "interviewer"),
        ("本人", "supporter"),
    }


@pytest.mark.parametrize(
    "old, new, pairs",
    [
        (["a", "b", "c"], ["a", "x", "c"], {0: 0, 2: 2}),
        (["a", "b", "c"], ["c", "a", "b"], {0: 1, 1: 2, 2: 0}),  # "c" moved to the front
        (["はい。", "b", "はい。"], ["はい。", "はい。"], {0: 0, 2: 1}),
    ],
)
def test_segments_match_by_exact_text_in_order_then_moved(old, new, pairs):
    assert manage.match(old, new) == pairs


def test_transcripts_command_still_lists_and_manages(project, tmp_path, nlp):
    runner = CliRunner()
    listed = runner.invoke(cli, ["transcripts", "--json", "--db", str(project)])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["name"] == "kaede"
    assert runner.invoke(cli, ["transcripts", "rename", "kaede", "k2", "--db", str(project)]).exit_code == 0
    kept = runner.invoke(cli, ["transcripts", "remove", "k2", "--db", str(project)], input="n\n")
    assert kept.exit_code == 1 and "k2" in runner.invoke(cli, ["transcripts", "--db", str(project)]).output
    gone = runner.invoke(cli, ["transcripts", "remove", "k2", "--yes", "--db", str(project)])
    assert gone.exit_code == 0 and "backup:" in gone.output
    assert json.loads(runner.invoke(cli, ["transcripts", "--json", "--db", str(project)]).output) == []


def test_replace_command_lists_segments_to_recode(project, two_analysts, tmp_path, nlp, monkeypatch):
    monkeypatch.setattr("coder.segment.load_nlp", lambda: nlp)
    (tmp_path / "kaede_v2.txt").write_text(CORRECTED, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["transcripts", "replace", "kaede", str(tmp_path / "kaede_v2.txt"), "--db", str(project)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "re-code: 「主治医の意見も職場に伝えてもらいました。」" in result.output
        and "hanako:information_sharing" in result.output
    )
    assert "(1 of them coded: 2 confirmed coding(s) kept)" in result.output  # the first segment, by both analysts


def test_only_a_supervisor_may_rename_remove_or_replace_in_the_web(login, project):
    client = login("hanako")
    assert "トランスクリプトの管理" not in client.get("/transcripts/1/speakers").get_data(as_text=True)
    for url in ("/transcripts/1/rename", "/transcripts/1/remove", "/transcripts/1/replace"):
        assert client.post(url, data={"csrf_token": client.csrf, "name": "x"}).status_code == 403
    assert client.get("/transcripts/1/remove").status_code == 403


def test_supervisor_renames_then_removes_after_a_confirmation_page(login, project):
    client = login("sato")
    assert "トランスクリプトの管理" in client.get("/transcripts/1/speakers").get_data(as_text=True)
    client.post("/transcripts/1/rename", data={"csrf_token": client.csrf, "name": "かえで"})
    assert "かえで" in client.get("/").get_data(as_text=True)
    page = client.get("/transcripts/1/remove").get_data(as_text=True)
    assert "「かえで」を削除しますか" in page and "セグメント 5 件" in page
    assert client.post("/transcripts/1/remove", data={"csrf_token": client.csrf}).status_code == 302
    assert "トランスクリプトはまだありません" in client.get("/").get_data(as_text=True)


def test_supervisor_replaces_by_upload_and_sees_what_needs_recoding(login, two_analysts):
    import io

    client = login("sato")
    response = client.post(
        "/transcripts/1/replace",
        content_type="multipart/form-data",
        data={"csrf_token": client.csrf, "file": (io.BytesIO(CORRECTED.encode("cp932")), "kaede_v2.txt")},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "再コーディングが必要なセグメント（1 件）" in page
    assert (
        "主治医の意見も職場に伝えてもらいました。" in page and "taro：関係機関間での支援の考え方のすり合わせ" in page
    )  # code names
    assert "コーディングを保ったセグメント（1 件）" in page and "hanako：関係者間の情報共有" in page
