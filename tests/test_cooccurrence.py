import json

import pytest
from click.testing import CliRunner

from coder import attributes, coding, cooccurrence, matrix
from coder import db as store
from coder.access import Policy, set_blind
from coder.cli import cli
from coder.errors import Forbidden
from coder.ingest import ingest

AOI = (
    "聞き手：最近はいかがですか。\n"
    "本人：支援員さんと情報を共有しています。上司に体調を伝えました。通院の日は休みです。\n"
)
REN = "聞き手：職場では。\n本人：面談の記録を引き継ぎました。職場の人と話すのが楽しいです。\n"
# segment → codes hanako confirms (a3 is finished without a code); taro confirms the same except
# information_sharing on a2, so the consensus (codes every analyst confirmed) leaves that one out
PLAN = {
    "a1": ["information_sharing", "autonomy"],
    "a2": ["information_sharing"],
    "a3": [],
    "b1": ["information_sharing", "handover"],
    "b2": ["peer_relations"],
}


@pytest.fixture
def coded(db, nlp, write, codebook):
    """Two interviews (aoi: a1–a3, ren: b1–b2) coded by hanako and taro as in PLAN."""
    ingest(db, [write("aoi.txt", AOI), write("ren.txt", REN)], nlp=nlp, case="minato", speaker_map={"本人": "person"})
    ids = dict(zip(PLAN, [s["id"] for s in store.segments_to_code(db)]))
    for who in ("hanako", "taro"):
        for name, codes in PLAN.items():
            for code in codes:
                if not (who == "taro" and name == "a2"):
                    coding.apply(db, ids[name], who, "confirm", codebook, code)
            coding.apply(db, ids[name], who, "review", codebook)
    return db


def pair(co, a, b):
    return next(p for p in co["pairs"] if (p["a"], p["b"]) == (a, b))


def test_counts_and_jaccard_at_segment_and_interview_level(coded, codebook):
    co = cooccurrence.compute(coded, codebook, source="hanako")
    assert co["codes"] == ["autonomy", "information_sharing", "handover", "peer_relations"]
    assert co["frequency"]["segment"] == {"autonomy": 1, "information_sharing": 3, "handover": 1, "peer_relations": 1}
    assert co["frequency"]["interview"] == {"autonomy": 1, "information_sharing": 2, "handover": 1, "peer_relations": 1}
    assert (co["n_segments"], co["n_interviews"]) == (4, 2)
    # a1 has both of {a1, a2, b1}; in interviews: aoi of {aoi, ren}
    assert pair(co, "autonomy", "information_sharing") == {
        "a": "autonomy",
        "b": "information_sharing",
        "segments": 1,
        "interviews": 1,
        "jaccard_segment": pytest.approx(1 / 3),
        "jaccard_interview": pytest.approx(1 / 2),
    }
    # handover (b1) and peer_relations (b2) never share a segment, but share the interview ren
    assert pair(co, "handover", "peer_relations")["segments"] == 0
    assert pair(co, "handover", "peer_relations")["jaccard_interview"] == 1.0


def test_pairs_are_sorted_by_segment_jaccard_and_never_co_occurring_pairs_are_left_out(coded, codebook):
    co = cooccurrence.compute(coded, codebook, source="hanako")
    assert [(p["a"], p["b"]) for p in co["pairs"]] == [
        ("autonomy", "information_sharing"),
        ("information_sharing", "handover"),
        ("handover", "peer_relations"),
        ("information_sharing", "peer_relations"),
    ]


def test_consensus_counts_the_final_codes_as_the_matrix_does(coded, codebook):
    co = cooccurrence.compute(coded, codebook)  # consensus: a2's information_sharing is disputed
    m = matrix.build(coded, codebook, by="transcript", quotes=0)
    assert co["frequency"]["segment"]["information_sharing"] == 2
    assert co["frequency"]["segment"] == {c: sum(m["cells"][k][c]["segments"] for k in m["rows"]) for c in co["codes"]}
    assert pair(co, "autonomy", "information_sharing")["jaccard_segment"] == 0.5


def test_attribute_filter_keeps_only_matching_interviews(coded, codebook):
    attributes.set_value(coded, "transcript", "aoi", "年代", "30代", user="sato")
    co = cooccurrence.compute(coded, codebook, source="hanako", where={"年代": "30代"})
    assert co["codes"] == ["autonomy", "information_sharing"] and co["n_interviews"] == 1
    assert [(p["a"], p["b"], p["jaccard_segment"], p["jaccard_interview"]) for p in co["pairs"]] == [
        ("autonomy", "information_sharing", 0.5, 1.0)
    ]


def test_model_source_is_marked_unconfirmed(coded, codebook):
    sid = store.segments_to_code(coded)[2]["id"]
    for code in ("career", "effects"):
        coded["suggestions"].insert(
            {
                "segment_id": sid,
                "code": code,
                "score": 0.9,
                "threshold": 0.6,
                "selected": 1,
                "reasons": "[]",
                "suggesters": "rules.v1",
                "codebook_version": "x",
                "created_at": "t",
            }
        )
    co = cooccurrence.compute(coded, codebook, source="model")
    assert co["unconfirmed"] and co["codes"] == ["effects", "career"] and co["pairs"][0]["jaccard_segment"] == 1.0
    assert "確認を経ていません" in cooccurrence.to_markdown(co, codebook)
    assert not cooccurrence.compute(coded, codebook, source="hanako")["unconfirmed"]


def test_blind_analyst_cannot_read_another_analysts_co_occurrence(coded, codebook):
    set_blind(coded, True)
    with pytest.raises(Forbidden):
        cooccurrence.compute(coded, codebook, source="hanako", policy=Policy.for_user(coded, "taro", "analyst"))


def test_markdown_table_names_codes_in_japanese_with_counts_and_jaccard(coded, codebook):
    text = cooccurrence.to_markdown(cooccurrence.compute(coded, codebook, source="hanako"), codebook)
    assert "| コードA | コードB | セグメント | Jaccard | インタビュー | Jaccard |" in text
    assert "| 当事者の主体性の尊重 | 関係者間の情報共有 | 1 | 0.333 | 1 | 0.500 |" in text


def test_empty_layer_has_no_pairs_and_says_so(db, codebook):
    co = cooccurrence.compute(db, codebook)
    assert co["codes"] == [] and co["pairs"] == [] and co["n_segments"] == 0
    assert "組はまだありません" in cooccurrence.to_markdown(co, codebook)


@pytest.mark.parametrize(
    "fmt, check",
    [
        ("md", lambda data: "関係者間の情報共有" in data.decode("utf-8")),
        ("json", lambda data: json.loads(data)["frequency"]["segment"]["information_sharing"] == 3),
        ("png", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")),
        ("svg", lambda data: b"<svg" in data and "コードの共起ネットワーク".encode() in data),
    ],
)
def test_cli_writes_each_format(coded, tmp_path, fmt, check):
    out = tmp_path / f"co.{fmt}"
    result = CliRunner().invoke(
        cli,
        ["cooccurrence", "--source", "hanako", "--format", fmt, "-o", str(out), "--db", str(tmp_path / "project.db")],
    )
    assert result.exit_code == 0, result.output
    assert check(out.read_bytes())


def test_cli_image_without_output_file_is_refused(coded, tmp_path):
    result = CliRunner().invoke(cli, ["cooccurrence", "--format", "png", "--db", str(tmp_path / "project.db")])
    assert result.exit_code != 0 and "-o FILE" in result.output
