import json

import pytest

from coder import coding, matrix
from coder import db as store
from coder.ingest import ingest

INTERVIEW = (
    "聞き手：連携について教えてください。\n"
    "支援員：月に一度、会社の担当者と面談の記録を共有しています。会社の担当者とは月に一度、面談の記録を共有しています。"
    "はい。本人の希望を先に聞くようにしています。\n"
    "人事：支援員さんから体調の情報をいただけるので助かっています。\n"
)


@pytest.fixture
def coded(db, nlp, write, codebook):
    ingest(
        db, [write("m.txt", INTERVIEW)], nlp=nlp, case="minato", speaker_map={"支援員": "supporter", "人事": "employer"}
    )
    segs = {s["text"]: s["id"] for s in store.segments_to_code(db)}
    share = [i for t, i in segs.items() if "共有" in t or "情報" in t]
    for who in ("hanako", "taro"):
        for sid in segs.values():
            if sid in share:
                coding.apply(db, sid, who, "confirm", codebook, "information_sharing")
            coding.apply(db, sid, who, "review", codebook)
    autonomy = segs["本人の希望を先に聞くようにしています。"]
    coding.apply(db, autonomy, "hanako", "confirm", codebook, "autonomy")  # taro did not: disputed
    return db, segs


def test_cells_count_segments_interviewees_and_shares_of_final_codes(coded, codebook):
    db, segs = coded
    m = matrix.build(db, codebook)
    assert m["rows"] == ["supporter", "employer"] and m["totals"] == {"supporter": 4, "employer": 1}
    cell = m["cells"]["supporter"]["information_sharing"]
    assert (cell["segments"], cell["interviewees"], cell["share"]) == (2, 1, 0.5)
    assert m["cells"]["supporter"]["autonomy"]["segments"] == 0  # disputed, not yet adjudicated
    assert matrix.build(db, codebook, source="hanako")["cells"]["supporter"]["autonomy"]["segments"] == 1


def test_quotes_skip_near_duplicates_and_keep_offsets(coded, codebook):
    db, segs = coded
    quotes = matrix.build(db, codebook)["cells"]["supporter"]["information_sharing"]["quotes"]
    assert len(quotes) == 1  # the two sentences say the same thing in other words
    text = store.find_transcript(db, 1)["text"]
    assert text[quotes[0]["start"] : quotes[0]["end"]] == quotes[0]["text"]


def test_suggestions_only_source_is_marked_unconfirmed_in_markdown(coded, codebook):
    db, segs = coded
    db["suggestions"].insert(
        {
            "segment_id": segs["はい。"],
            "code": "handover",
            "score": 0.9,
            "threshold": 0.6,
            "selected": 1,
            "reasons": "[]",
            "suggesters": "rules.v1",
            "codebook_version": "x",
            "created_at": "t",
        }
    )
    m = matrix.build(db, codebook, source="model")
    assert m["unconfirmed"] and m["cells"]["supporter"]["handover"]["segments"] == 1
    assert "確認を経ていません" in matrix.to_markdown(m, codebook)


def test_markdown_reads_as_a_synthesis_per_code_and_perspective(coded, codebook):
    text = matrix.to_markdown(matrix.build(coded[0], codebook), codebook)
    sharing = text.split("## 関係者間の情報共有")[1].split("\n## ")[0]
    assert "### 支援者：2 セグメント、1 人" in sharing and "### 雇用者：1 セグメント、1 人" in sharing
    assert "「支援員さんから体調の情報をいただけるので助かっています。」" in sharing


def test_cli_json_has_the_documented_shape(coded, tmp_path):
    from click.testing import CliRunner

    from coder.cli import cli

    result = CliRunner().invoke(cli, ["matrix", "--format", "json", "--db", str(tmp_path / "project.db")])
    out = json.loads(result.output)
    cell = out["cells"]["employer"]["information_sharing"]
    assert set(out) >= {"rows", "codes", "cells"} and set(cell) == {"segments", "interviewees", "share", "quotes"}
    assert set(cell["quotes"][0]) >= {"text", "transcript", "speaker", "start", "end"}


def test_by_case_and_unknown_grouping(coded, codebook):
    from coder.errors import CoderError

    assert matrix.build(coded[0], codebook, by="case")["rows"] == ["minato"]
    with pytest.raises(CoderError, match="--by"):
        matrix.build(coded[0], codebook, by="speaker")


def test_an_empty_matrix_says_why_and_what_helps(db, nlp, write, codebook):
    ingest(db, [write("u.txt", INTERVIEW)], nlp=nlp)  # no speaker map: every speaker's perspective is unknown
    empty = matrix.build(db, codebook, source="model")
    assert "run `coder suggest" in matrix.empty_reason(db, empty, codebook)
    assert "（この出典で集計できる立場はありません。）" in matrix.to_markdown(empty, codebook)  # no broken table
    sid = store.segments_to_code(db)[0]["id"]
    coding.apply(db, sid, "hanako", "confirm", codebook, "handover")
    hint = matrix.empty_reason(db, matrix.build(db, codebook, source="hanako"), codebook)
    assert "without a perspective" in hint and "coder speakers set" in hint and "--by transcript" in hint
    assert matrix.empty_reason(db, matrix.build(db, codebook, by="transcript", source="hanako"), codebook) is None
