import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from coder import coding
from coder.access import Policy, set_blind
from coder.cli import cli
from coder.db import open_db
from coder.errors import Forbidden
from coder.search import search, surface_spans

TEXT = (
    "聞き手：引き継ぎはどうでしたか。\n"
    "本人：前の職場から引継ぎ書類をもらいました。引き継ぎの面談もありました。\n"
    "支援員：丁寧に引き継いだつもりです。\n"
    "本人：ＡＢＣの𠮷野さんに、ｶﾞｲﾄﾞを\n引き継ぎました。<script>alert(1)</script>と=SUM(A1)。\n"
)


@pytest.fixture
def project(tmp_path, nlp):
    """One interview (person, supporter, interviewer) with spelling variants, width mixes and markup;
    analysts hanako and taro, supervisor sato; blind mode off."""
    from coder.ingest import ingest
    from coder.users import add_user

    path = tmp_path / "project.db"
    database = open_db(path)
    source = tmp_path / "kaede.txt"
    source.write_text(TEXT, encoding="utf-8")
    ingest(
        database,
        [source],
        nlp=nlp,
        case="kaede",
        speaker_map={"本人": "person", "支援員": "supporter", "聞き手": "interviewer"},
    )
    database["attributes"].insert({"scope": "case", "target": "kaede", "name": "年代", "value": "30代"})
    for name, role in (("hanako", "analyst"), ("taro", "analyst"), ("sato", "supervisor")):
        add_user(database, name, role, f"{name}-password")
    set_blind(database, False)
    database.close()
    return path


@pytest.fixture
def db(project):
    database = open_db(project)
    yield database
    database.close()


def text_of(db):
    return db.execute("select text from transcripts").fetchone()[0]


def test_lemma_search_finds_spelling_variants_and_inflections(db):
    hits = search(db, "引き継ぐ", lemma=True)
    assert [h["match"] for h in hits] == ["引継ぎ", "引き継ぎ", "引き継い", "引き継ぎ"]
    assert all(text_of(db)[h["start"] : h["end"]] == h["match"] for h in hits)
    assert [h["match"] for h in search(db, "引継ぎ", lemma=True)] == [h["match"] for h in hits]
    assert [h["match"] for h in search(db, "引き継いだ", lemma=True)] == [h["match"] for h in hits]  # any inflection


def test_a_light_verb_query_finds_the_noun_alone(db):
    assert [h["match"] for h in search(db, "面談します", lemma=True)] == ["面談"]


@pytest.mark.parametrize(
    "query, match",
    [("abc", "ＡＢＣ"), ("ガイド", "ｶﾞｲﾄﾞ"), ("𠮷野さん", "𠮷野さん"), ("ドを引き", "ﾄﾞを\n引き"), ("書類", "書類")],
)
def test_surface_search_ignores_width_case_and_line_breaks_with_exact_offsets(db, query, match):
    [hit] = search(db, query)
    assert hit["match"] == match and text_of(db)[hit["start"] : hit["end"]] == match
    assert text_of(db)[hit["start"] - len(hit["left"]) : hit["start"]].replace("\n", " ") == hit["left"]


@pytest.mark.parametrize(
    "text, query, span",
    [("ｶﾞｲﾄﾞ", "ガイ", (0, 3)), ("Straße", "STRASSE", (0, 6)), ("㍻元年", "平成", (0, 1)), ("𠮷野さん", "野", (1, 2))],
)
def test_offsets_stay_exact_where_normalisation_changes_lengths(text, query, span):
    assert surface_spans(text, query) == [span]


def test_interviewer_turns_are_searched_only_when_asked(db):
    assert [h["perspective"] for h in search(db, "引き継ぎ")] == ["person", "person"]
    assert [h["perspective"] for h in search(db, "引き継ぎ", all_turns=True)] == ["interviewer", "person", "person"]


def test_filters_narrow_the_hits(db):
    assert {h["speaker"] for h in search(db, "引き継ぐ", lemma=True, perspective="supporter")} == {"支援員"}
    assert len(search(db, "引き継ぐ", lemma=True, speaker="本人", case="kaede", transcript="kaede")) == 3
    assert len(search(db, "引き継ぐ", lemma=True, attribute="年代=30代")) == 4
    assert search(db, "引き継ぐ", lemma=True, attribute="年代=40代") == []


def test_code_and_uncoded_filters_read_confirmed_codes(db, codebook):
    coding.apply(db, search(db, "書類")[0]["segment_id"], "hanako", "confirm", codebook, "handover")
    coding.apply(db, search(db, "丁寧")[0]["segment_id"], "taro", "confirm", codebook, "effects")
    assert [h["match"] for h in search(db, "引き継ぐ", lemma=True, code="handover")] == ["引継ぎ"]
    assert [h["match"] for h in search(db, "引き継ぐ", lemma=True, coder="taro")] == ["引き継い"]
    assert [h["match"] for h in search(db, "引き継ぐ", lemma=True, uncoded=True)] == ["引き継ぎ", "引き継ぎ"]


def test_blind_analyst_neither_filters_by_nor_sees_others_codes(db, codebook):
    first = search(db, "書類")[0]["segment_id"]
    coding.apply(db, first, "taro", "confirm", codebook, "handover")
    set_blind(db, True)
    hanako = Policy.for_user(db, "hanako", "analyst")
    with pytest.raises(Forbidden):
        search(db, "引き継ぐ", lemma=True, code="handover", coder="taro", policy=hanako)
    assert search(db, "引き継ぐ", lemma=True, code="handover", policy=hanako) == []
    assert len(search(db, "引き継ぐ", lemma=True, uncoded=True, policy=hanako)) == 4
    sato = Policy.for_user(db, "sato", "supervisor")
    assert len(search(db, "引き継ぐ", lemma=True, code="handover", policy=sato)) == 1


def test_cli_prints_jsonl_csv_and_markdown(project):
    run = lambda *args: CliRunner().invoke(cli, ["search", *args, "--db", str(project)])  # noqa: E731
    jsonl = run("引き継ぐ", "--lemma", "--perspective", "supporter")
    assert jsonl.exit_code == 0, jsonl.output
    assert json.loads(jsonl.output)["match"] == "引き継い"
    rows = list(csv.DictReader(io.StringIO(run("=sum", "--format", "csv").output)))
    assert rows[0]["match"] == "'=SUM"  # opened in a spreadsheet as text, not a formula
    md = run("引き継ぐ", "--lemma", "--format", "md").output
    assert "| **引継ぎ** |" in md and md.count("\n") == 6


def test_cli_reports_an_unknown_transcript(project):
    result = CliRunner().invoke(cli, ["search", "書類", "--transcript", "nope", "--db", str(project)])
    assert result.exit_code == 1 and "no transcript 'nope'" in result.output


def test_web_search_shows_kwic_with_escaped_text(login):
    page = login("hanako").get("/search/?q=script").get_data(as_text=True)
    assert "<mark>script</mark>" in page and "&lt;" in page
    assert "<script>alert" not in page
    assert "#seg-1-" in page and "選択した結果にコードを付ける" in page


def test_web_codes_selected_hits_for_the_analyst_with_events(login, project):
    client = login("hanako")
    page = client.get("/search/?q=引き継ぐ&mode=lemma").get_data(as_text=True)
    ids = sorted({int(v) for v in re.findall(r'name="segment" value="(\d+)"', page)})
    response = client.post(
        "/search/code",
        data={"segment": ids[:2], "code": "handover", "csrf_token": client.csrf, "back": "q=引き継ぐ&mode=lemma"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "2 件のセグメントに" in page
    assert page.count('<span class="code-chip">円滑な引き継ぎ</span>') == 2  # the hits show the code they now carry
    assert '<option value="handover" selected>' in page  # and the code is offered again
    database = open_db(project)
    assert [
        (r["segment_id"], r["coder"], r["status"]) for r in database.query("select * from codings order by segment_id")
    ] == [(i, "hanako", "confirmed") for i in ids[:2]]
    events = database.execute("select segment_id from events where action = 'confirmed' and user = 'hanako'")
    assert sorted(r[0] for r in events) == ids[:2]


def test_web_blind_analyst_cannot_filter_by_another_coder(login, project):
    database = open_db(project)
    set_blind(database, True)
    database.close()
    response = login("hanako").get("/search/?q=書類&code=handover&coder=taro")
    assert response.status_code == 403
