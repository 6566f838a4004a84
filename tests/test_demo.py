from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from coder import agreement, coding, layers, matrix
from coder.cli import cli
from coder.codebook_edit import project_codebook
from coder.db import iter_segments, list_transcripts, open_db, segments_to_code
from coder.demo import build_demo, load_codings
from coder.errors import CoderError

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CODINGS = yaml.safe_load((CORPUS / "demo_codings.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory, nlp):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, CORPUS, nlp=nlp, topics=True)
    return open_db(path)


def test_demo_project_has_six_interviews_across_cases_formats_and_perspectives(demo):
    rows = list_transcripts(demo)
    assert len(rows) >= 6
    assert len({r["case_name"] for r in rows}) >= 2
    assert len({r["format"] for r in rows}) >= 3 and "cp932" in {r["encoding"] for r in rows}
    assert all(2000 <= r["chars"] <= 6000 for r in rows)
    perspectives = Counter(s["perspective"] for s in iter_segments(demo))
    assert set(perspectives) == {"person", "supporter", "employer", "interviewer"}


def test_demo_refuses_to_overwrite_without_force(tmp_path, corpus):
    (tmp_path / "demo.db").write_bytes(b"")
    with pytest.raises(CoderError, match="--force"):
        build_demo(tmp_path / "demo.db", corpus)


def test_demo_team_finished_two_interviews_and_the_supervisor_settled_some_disagreements(demo):
    assert layers.analysts(demo) == ["suzuki", "yamada"]
    coded = {
        r[0]
        for r in demo.execute(
            "select distinct s.transcript_id from codings c "
            "join segments s on s.id = c.segment_id where c.coder != 'consensus'"
        )
    }
    assert len(coded) == 2
    for tid in coded:
        ids = {s["id"] for s in segments_to_code(demo, tid)}
        for analyst in ("suzuki", "yamada"):
            reviewed = {r[0] for r in demo.execute("select segment_id from reviews where coder = ?", [analyst])}
            assert ids <= reviewed, f"{analyst} left segments of transcript {tid} unfinished"
    disputes = agreement.disagreements(demo, project_codebook(demo))
    settled = [d for d in disputes if d["consensus"] is not None]
    assert len(disputes) >= 5 and 0 < len(settled) < len(disputes)
    actions = {r[0] for r in demo.execute("select distinct action from events")}
    assert {"confirmed", "reviewed", "adjudicated"} <= actions  # logged as normal use logs them


def test_demo_agreement_is_defined_and_the_consensus_matrix_is_filled(demo):
    book = project_codebook(demo)
    overall = agreement.project_agreement(demo, book, reps=50)["overall"]
    assert overall["alpha"] is not None and 0.6 < overall["alpha"] < 1 and overall["n_segments"] >= 100
    m = matrix.build(demo, book)
    assert {"person", "supporter"} <= set(m["rows"])
    assert sum(c["segments"] for row in m["cells"].values() for c in row.values()) > 50


def test_demo_cell_summaries_rest_on_final_codes_of_their_cells(demo):
    from coder.summaries import list_summaries

    summaries = list_summaries(demo, "perspective")
    final = {(r["segment_id"], r["code"]) for r in layers.coded_rows(demo, "consensus")}
    perspective = {s["id"]: s["perspective"] for s in segments_to_code(demo)}
    assert len(summaries) == len(CODINGS["summaries"]) >= 3
    for s in summaries:
        assert s["segments"] and all(
            (sid, s["code"]) in final and perspective[sid] == s["row"] for sid in s["segments"]
        )


@pytest.mark.parametrize("who", [*CODINGS["analysts"], "adjudications", "summaries"])
def test_every_snippet_of_the_demo_codings_matches_exactly_one_segment(demo, who):
    segments = {t: [s["text"] for s in segments_to_code(demo, t)] for t in CODINGS["transcripts"]}
    entries = CODINGS["analysts"].get(who) or CODINGS[who]
    for e in entries:
        for snippet in [e["match"]] if "transcript" in e else e["match"]:
            texts = segments[e["transcript"]] if "transcript" in e else sum(segments.values(), [])
            hits = sum(snippet in text for text in texts)
            assert hits == 1, f"{snippet!r} matches {hits} segments"


MINI = (
    "聞き手：最近はいかがですか。\n本人：支援員さんと情報を共有しています。主治医の意見も職場に伝えてもらいました。\n"
)


@pytest.fixture
def mini_corpus(tmp_path):
    """A one-interview corpus with codings of two analysts who differ on one segment."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(MINI, encoding="utf-8")
    manifest = {"files": [{"file": "a.txt", "case": "c", "speakers": {"聞き手": "interviewer", "本人": "person"}}]}
    (folder / "metadata.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    codings = {
        "transcripts": ["a"],
        "supervisor": "tanaka",
        "analysts": {
            "yamada": [
                {"transcript": "a", "match": "情報を共有", "codes": ["information_sharing"]},
                {"transcript": "a", "match": "主治医の意見", "codes": ["information_sharing"]},
            ],
            "suzuki": [{"transcript": "a", "match": "情報を共有", "codes": ["information_sharing"]}],
        },
        "adjudications": [{"transcript": "a", "match": "主治医の意見", "codes": ["information_sharing"]}],
    }
    (folder / "demo_codings.yaml").write_text(yaml.safe_dump(codings, allow_unicode=True), encoding="utf-8")
    return folder


def test_demo_command_reports_the_codings_it_loaded_and_no_codings_gives_the_bare_project(tmp_path, nlp, mini_corpus):
    db_path = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--corpus", str(mini_corpus), "--no-suggest", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    loaded = "2 analysts (suzuki, yamada) coded 1 interviews (2 segments), 1 disagreements, 1 adjudicated"
    assert loaded in result.stdout
    bare = CliRunner().invoke(
        cli, ["demo", "--corpus", str(mini_corpus), "--no-suggest", "--no-codings", "--force", "--db", str(db_path)]
    )
    assert bare.exit_code == 0, bare.output
    db = open_db(db_path)
    assert len(list_transcripts(db)) == 1 and "analysts" not in bare.stdout
    assert [db[t].count for t in ("codings", "reviews", "events")] == [0, 0, 0]


@pytest.mark.parametrize("match, problem", [("存在しない一文", "matches 0 segments"), ("。", "matches 2 segments")])
def test_a_snippet_must_match_exactly_one_segment(db, nlp, write, match, problem):
    from coder.ingest import ingest

    ingest(db, [write("a.txt", MINI)], nlp=nlp, speaker_map={"本人": "person"})
    path = write(
        "codings.yaml",
        yaml.safe_dump(
            {
                "transcripts": ["a"],
                "analysts": {"yamada": [{"transcript": "a", "match": match, "codes": ["autonomy"]}]},
            },
            allow_unicode=True,
        ),
    )
    with pytest.raises(CoderError, match=f"snippet '{match}' {problem}"):
        load_codings(db, path)
    assert db["codings"].count == 0 and db["reviews"].count == 0


def test_an_adjudication_of_a_segment_the_analysts_agree_on_is_refused(db, nlp, write, mini_corpus, codebook):
    from coder.ingest import ingest

    ingest(db, [write("a.txt", MINI)], nlp=nlp, speaker_map={"本人": "person"})
    data = yaml.safe_load((mini_corpus / "demo_codings.yaml").read_text(encoding="utf-8"))
    data["adjudications"][0]["match"] = "情報を共有"
    with pytest.raises(CoderError, match="agree on the segment of '情報を共有'"):
        load_codings(db, write("codings.yaml", yaml.safe_dump(data, allow_unicode=True)), codebook)
    assert db["codings"].count == 0


# --- honest empty states: a project nobody has coded yet ------------------------------------------


def test_export_of_an_uncoded_project_writes_the_file_and_says_how_to_see_suggestions(project, tmp_path):
    out = tmp_path / "quotes.csv"
    result = CliRunner().invoke(cli, ["export", "--format", "quotes-csv", "--out", str(out), "--db", str(project)])
    assert result.exit_code == 0, result.output
    assert out.exists() and out.read_text(encoding="utf-8-sig").startswith("code,code_name")
    assert "no segment is coded in source 'consensus' yet" in result.stderr and "--source model" in result.stderr


def test_export_of_a_coded_project_has_no_such_note(project, two_analysts, tmp_path):
    result = CliRunner().invoke(
        cli, ["export", "--format", "quotes-csv", "--out", str(tmp_path / "q.csv"), "--db", str(project)]
    )
    assert result.exit_code == 0 and "no segment is coded" not in result.stderr


def test_empty_matrix_page_explains_and_links_to_the_model_suggestions(login):
    page = login("sato").get("/matrix/").get_data(as_text=True)
    assert "出典「合意（裁定済み・全員一致のコード）」でコーディングされたセグメントはまだありません" in page
    assert "source=model" in page and "モデルの提案（未確認）で表示する" in page


def test_export_page_warns_that_the_default_source_has_nothing_coded(login, project, codebook):
    sato = login("sato")
    assert "中身は空になります" in sato.get("/export/").get_data(as_text=True)
    db = open_db(project)
    for who in ("hanako", "taro"):
        coding.apply(db, segments_to_code(db)[0]["id"], who, "confirm", codebook, "information_sharing")
    assert "中身は空になります" not in sato.get("/export/").get_data(as_text=True)


def test_agreement_page_explains_it_needs_two_analysts_on_the_same_segments(login):
    page = login("sato").get("/agreement/").get_data(as_text=True)
    assert "2人以上必要です" in page and "coder user add" in page and "まだいません" in page


def test_adjudication_queue_says_why_it_is_empty(login):
    page = login("sato").get("/agreement/adjudicate").get_data(as_text=True)
    assert "判断が分かれたセグメントが、まだ一つもない" in page and "確定して次へ" in page


def test_the_demo_report_shows_summaries_agreement_and_new_themes(demo):
    from coder.codebook_edit import project_codebook
    from coder.report import build

    report = build(demo, project_codebook(demo))
    assert report["methods"]["agreement"] is not None and report["methods"]["adjudicated"] == 10
    assert sum(r["summary"] is not None for c in report["codes"] for r in c["rows"]) == 4
    assert report["themes"]["topics"] and all(t["words"] for t in report["themes"]["topics"])
