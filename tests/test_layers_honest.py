"""Coding layers keep what they are across a REFI-QDA round trip, and speaker perspectives change
only by a supervisor's hand, on the record."""

import getpass
import json
import zipfile

import pytest
from click.testing import CliRunner
from lxml import etree

from coder import coding
from coder import db as store
from coder.cli import cli
from coder.export.refi import export_qdpx, guid
from coder.layers import analysts
from coder.qda_import import import_qdpx

Q = "{urn:QDA-XML:project:1.0}"
TEXT = "聞き手：どうでしたか。\n本人：上司と話し合いました。引き継ぎも円滑でした。\n"
READ_ONLY = "話者の立場を変更できるのはスーパーバイザーだけです"


def layers_in(db) -> dict[str, int]:
    return {r["coder"]: r["n"] for r in db.query("select coder, count(*) as n from codings group by coder")}


def suggest(db, codebook, segment_ids, code="handover"):
    store.store_suggestions(
        db,
        [
            {
                "segment_id": s,
                "code": code,
                "score": 0.8,
                "threshold": 0.5,
                "selected": 1,
                "reasons": "[]",
                "suggesters": "rules.v1",
                "codebook_version": codebook.version_tag,
                "created_at": store.now(),
            }
            for s in segment_ids
        ],
    )


def foreign_qdpx(path, user: str, user_guid: str = "11111111-1111-1111-1111-111111111111", origin: str = "NVivo"):
    """A .qdpx from another tool in which ``user`` coded the interviewee's answer."""
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="{origin}">
<Users><User guid="{user_guid}" name="{user}"/></Users>
<CodeBook><Codes><Code guid="22222222-2222-2222-2222-222222222222" name="引き継ぎ" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="33333333-3333-3333-3333-333333333333" name="ann" plainTextPath="internal://ann.txt">
  <PlainTextSelection guid="44444444-4444-4444-4444-444444444444" startPosition="15" endPosition="37">
    <Coding guid="55555555-5555-5555-5555-555555555555" creatingUser="{user_guid}">
      <CodeRef targetGUID="22222222-2222-2222-2222-222222222222"/></Coding>
</PlainTextSelection></TextSource></Sources></Project>"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/ann.txt", TEXT)
    return path


def test_model_suggestions_exported_to_qdpx_come_back_unconfirmed_not_as_codings(project, tmp_path, codebook, nlp):
    db = store.open_db(project)
    suggest(db, codebook, [s["id"] for s in store.segments_to_code(db)][:2])
    export_qdpx(db, tmp_path / "model.qdpx", codebook, source="model")
    fresh = tmp_path / "fresh.db"
    result = CliRunner().invoke(cli, ["import-qdpx", str(tmp_path / "model.qdpx"), "--db", str(fresh)])
    assert result.exit_code == 0, result.output
    assert "left out 2 unconfirmed model suggestions (提案のみ・未確認)" in result.output
    assert layers_in(store.open_db(fresh)) == {}


def test_a_qdpx_of_suggestions_tells_other_tools_they_are_unconfirmed(project, tmp_path, codebook):
    db = store.open_db(project)
    suggest(db, codebook, [store.segments_to_code(db)[0]["id"]])
    export_qdpx(db, tmp_path / "model.qdpx", codebook, source="model")
    with zipfile.ZipFile(tmp_path / "model.qdpx") as z:
        root = etree.fromstring(z.read("project.qde"))
    (user,) = root.iter(f"{Q}User")
    assert user.get("name") == "model:rules.v1"
    assert "model:rules.v1" in root.findtext(f"{Q}Description") and "提案のみ・未確認" in root.findtext(
        f"{Q}Description"
    )


def test_recode_layer_comes_back_as_a_recode_layer_not_a_new_analyst(project, tmp_path, codebook, nlp):
    db = store.open_db(project)
    first, second, _ = [s["id"] for s in store.segments_to_code(db)]
    coding.apply(db, first, "hanako:recode", "confirm", codebook, "information_sharing")
    coding.apply(db, second, "hanako:recode", "review", codebook)
    export_qdpx(db, tmp_path / "recode.qdpx", codebook, source="hanako:recode")
    fresh = store.open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "recode.qdpx", codebook, nlp=nlp)
    assert layers_in(fresh) == {"hanako:recode": 1} and analysts(fresh) == []
    finished = {r["coder"] for r in fresh.query("select coder from reviews")}
    assert finished == {"hanako:recode"}
    assert any("hanako:recode" in line and "re-coding" in line for line in report.summary())


def test_consensus_from_coders_own_export_is_kept_only_when_asked_and_said_to_be_decided_elsewhere(
    two_analysts, project, tmp_path, codebook, nlp
):
    db = store.open_db(project)
    coding.adjudicate(db, two_analysts[1], ["value_alignment"], "sato", codebook)
    export_qdpx(db, tmp_path / "all.qdpx", codebook)
    fresh = store.open_db(tmp_path / "fresh.db")
    report = import_qdpx(fresh, tmp_path / "all.qdpx", codebook, nlp=nlp, keep_consensus=True)
    assert layers_in(fresh)["consensus"] == 1
    assert any("consensus" in line and "not here" in line for line in report.summary())
    # without --keep-consensus: every marker of coder's own export can be forged, so it is an analyst
    other = store.open_db(tmp_path / "other.db")
    report = import_qdpx(other, tmp_path / "all.qdpx", codebook, nlp=nlp)
    assert "consensus" not in layers_in(other) and layers_in(other)["user_consensus"] == 1
    assert any("--keep-consensus" in line for line in report.summary())


@pytest.mark.parametrize(
    "user, becomes",
    [
        ("consensus", "user_consensus"),
        ("Consensus", "user_Consensus"),
        ("all", "user_all"),
        ("model", "user_model"),
        ("hanako:recode", "hanako_recode"),
    ],
)
def test_reserved_layer_names_in_a_foreign_qdpx_are_renamed_and_reported(db, tmp_path, codebook, nlp, user, becomes):
    report = import_qdpx(db, foreign_qdpx(tmp_path / "x.qdpx", user), codebook, nlp=nlp)
    assert set(layers_in(db)) == {becomes} and analysts(db) == [becomes]
    assert any(f"renamed {user!r} → {becomes}" in line for line in report.summary())


def test_model_suggestions_resaved_by_another_tool_are_still_left_out(db, tmp_path, codebook, nlp):
    """A tool that re-saves coder's model export keeps the user name but not coder's markers."""
    report = import_qdpx(db, foreign_qdpx(tmp_path / "x.qdpx", "model:rules.v2+learned.v2"), codebook, nlp=nlp)
    assert layers_in(db) == {} and db["reviews"].count == 0
    assert any("left out" in line and "提案のみ・未確認" in line for line in report.summary())


def test_a_foreign_file_claiming_to_be_coder_cannot_bring_in_a_consensus(db, tmp_path, codebook, nlp):
    path = foreign_qdpx(tmp_path / "x.qdpx", "consensus", origin="coder (renkei v1)")
    import_qdpx(db, path, codebook, nlp=nlp)
    assert set(layers_in(db)) == {"user_consensus"}


def test_coders_consensus_guid_alone_does_not_make_a_foreign_file_coders_own(db, tmp_path, codebook, nlp):
    path = foreign_qdpx(tmp_path / "x.qdpx", "consensus", user_guid=guid("user", "consensus"))
    import_qdpx(db, path, codebook, nlp=nlp)
    assert set(layers_in(db)) == {"user_consensus"}


def speaker_events(db) -> list[tuple]:
    return [
        (r["user"], json.loads(r["detail"]))
        for r in db.query("select user, detail from events where action = 'speaker_perspective' order by id")
    ]


def test_set_speaker_logs_who_changed_which_perspective(project):
    db = store.open_db(project)
    assert store.set_speaker(db, "本人", "supporter", user="sato") == 1
    assert speaker_events(db) == [
        ("sato", {"transcript_id": 1, "transcript": "kaede", "speaker": "本人", "old": "person", "new": "supporter"})
    ]
    store.set_speaker(db, "本人", "supporter", user="sato")  # no change, nothing to log
    assert len(speaker_events(db)) == 1


def test_cli_speaker_change_is_logged_as_the_os_user_or_the_named_one(project):
    run = CliRunner().invoke
    assert run(cli, ["speakers", "set", "本人", "supporter", "--db", str(project)]).exit_code == 0
    result = run(
        cli, ["speakers", "set", "本人", "employer", "--transcript", "kaede", "--by", "sato", "--db", str(project)]
    )
    assert result.exit_code == 0, result.output
    assert [(who, d["old"], d["new"]) for who, d in speaker_events(store.open_db(project))] == [
        (f"cli:{getpass.getuser()}", "person", "supporter"),
        ("sato", "supporter", "employer"),
    ]


def test_analyst_sees_speakers_read_only_and_cannot_change_them(login, project):
    client = login("hanako")
    page = client.get("/transcripts/1/speakers").get_data(as_text=True)
    assert READ_ONLY in page and "本人" in page and "disabled" in page and ">保存</button>" not in page
    response = client.post("/transcripts/1/speakers", data={"speaker-本人": "supporter", "csrf_token": client.csrf})
    assert response.status_code == 403
    db = store.open_db(project)
    assert {r["speaker"]: r["perspective"] for r in store.list_speakers(db)}["本人"] == "person"
    assert speaker_events(db) == []


def test_supervisor_speaker_change_is_logged_and_shown_on_the_speakers_page(login, project):
    client = login("sato")
    response = client.post("/transcripts/1/speakers", data={"speaker-本人": "supporter", "csrf_token": client.csrf})
    assert response.status_code == 302
    assert speaker_events(store.open_db(project))[0][0] == "sato"
    page = client.get("/transcripts/1/speakers").get_data(as_text=True)
    assert READ_ONLY not in page and ">保存</button>" in page
    assert "sato" in page and "当事者 → 支援者" in page
