import json
from pathlib import Path

import numpy as np
import pytest

from coder import agreement, coding, layers
from coder import db as store
from coder.errors import CoderError

DATA = Path(__file__).parent / "data"

# Each published value, its data file (tests/data) and its source.
REFERENCES = [
    # Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. 4 observers x 12 units, missing values.
    ("krippendorff_2011.csv", "alpha-nominal", 0.743),
    ("krippendorff_2011.csv", "alpha-ordinal", 0.815),
    ("krippendorff_2011.csv", "alpha-interval", 0.849),
    ("krippendorff_2011.csv", "alpha-ratio", 0.797),
    # Krippendorff (2011), binary data, two observers (0.095) and nominal data, two observers (0.692).
    ("krippendorff_2011_binary.csv", "alpha-nominal", 0.095),
    ("krippendorff_2011_two_nominal.csv", "alpha-nominal", 0.692),
    # Cohen, J. (1960). A coefficient of agreement for nominal scales, p. 45: kappa .492 (and p_o = .70).
    ("cohen_1960.csv", "cohen", 0.492),
    ("cohen_1960.csv", "percent", 0.700),
    # Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters: 30 patients x 6 raters.
    ("fleiss_1971.csv", "fleiss", 0.430),
    # Wikipedia, "Fleiss' kappa", worked example: 10 subjects x 14 raters, kappa 0.210.
    ("fleiss_wikipedia.csv", "fleiss", 0.210),
]


@pytest.mark.parametrize("name, metric, expected", REFERENCES)
def test_published_reference_values_are_reproduced(name, metric, expected):
    _, _, matrix = agreement.read_ratings(DATA / name)
    assert agreement.compute(metric, matrix)["value"] == pytest.approx(expected, abs=0.001)


def test_cli_prints_the_documented_json(tmp_path):
    from click.testing import CliRunner

    from coder.cli import cli

    result = CliRunner().invoke(
        cli, ["agreement", "--ratings", str(DATA / "krippendorff_2011.csv"), "--metric", "alpha-nominal", "--json"]
    )
    out = json.loads(result.output)
    assert out == {"metric": "alpha-nominal", "value": pytest.approx(0.743, abs=0.001), "n_units": 11, "n_coders": 4}


def test_cohen_needs_exactly_two_coders_and_bad_csv_names_the_file(tmp_path):
    _, _, matrix = agreement.read_ratings(DATA / "fleiss_1971.csv")
    with pytest.raises(CoderError, match="exactly two coders"):
        agreement.compute("cohen", matrix)
    bad = tmp_path / "r.csv"
    bad.write_text("unit,coder,value\n1,a,x\n1,a,y\n", encoding="utf-8")
    with pytest.raises(CoderError, match=r"r\.csv, line 3: coder 'a' rated unit '1' twice"):
        agreement.read_ratings(bad)


def test_fast_binary_alpha_equals_the_krippendorff_package_with_missing_data():
    rng = np.random.default_rng(1)
    truth = rng.random(300) < 0.3
    matrix = np.array([np.where(rng.random(300) < 0.85, truth, ~truth) for _ in range(3)], dtype=float)
    matrix[rng.random(matrix.shape) < 0.2] = np.nan
    m, k, counts = agreement.unit_types(matrix)
    assert agreement.binary_alpha(m, k, counts)[0] == pytest.approx(agreement.alpha(matrix), abs=1e-9)
    lo, hi = agreement.alpha_ci(matrix)
    assert lo < agreement.alpha(matrix) < hi and hi - lo < 0.3


@pytest.fixture
def coded(project, two_analysts):
    database = store.open_db(project)
    yield database, two_analysts
    database.close()


def test_a_segment_an_analyst_did_not_see_is_missing_not_absent(coded, codebook):
    database, (a, b, c) = coded
    coding.apply(database, c, "sato", "confirm", codebook, "effects")  # sato saw only c
    values = layers.tensor(database, codebook.ids, ["sato"], layers.segments(database))
    assert np.isnan(values[0, 0]).all() and values[0, 2, codebook.ids.index("effects")] == 1


def test_project_agreement_per_code_counts_segments_and_pairs(coded, codebook):
    database, _ = coded
    result = agreement.project_agreement(database, codebook, by="code", reps=100)
    rows = {r["key"]: r for r in result["rows"]}
    assert result["coders"] == ["hanako", "taro"]
    assert rows["information_sharing"]["n_segments"] == 3
    assert rows["information_sharing"]["percent"] == pytest.approx(2 / 3)
    assert rows["handover"]["alpha"] is None and rows["handover"]["verdict"] == "undefined"
    assert set(rows["value_alignment"]["cohen"]) == {"hanako|taro"}
    by_perspective = agreement.project_agreement(database, codebook, by="perspective", reps=100)
    assert [r["key"] for r in by_perspective["rows"]] == ["person"]


def test_adjudication_writes_a_consensus_layer_that_exports_can_choose(coded, codebook):
    database, (a, b, c) = coded
    disputed = agreement.disagreements(database, codebook)
    assert [d["id"] for d in disputed] == [b] and disputed[0]["consensus"] is None
    assert disputed[0]["codes"] == {"hanako": ["information_sharing"], "taro": ["value_alignment"]}
    coding.adjudicate(database, b, ["information_sharing"], "sato", codebook)
    assert agreement.disagreements(database, codebook)[0]["consensus"] == ["information_sharing"]
    # the final codes: adjudicated where settled, else what every analyst who saw the segment confirmed
    assert layers.codings_for(database, "consensus", codebook.ids) == [
        {"segment_id": a, "code": "information_sharing", "coder": "consensus"},
        {"segment_id": b, "code": "information_sharing", "coder": "consensus"},
    ]
    assert len(layers.codings_for(database, "all")) == 4 and len(layers.codings_for(database, "taro")) == 2
    event = coding.events(database, b)[0]
    assert event["user"] == "sato" and event["action"] == "adjudicated" and event["detail"]["layer"] == "consensus"
    assert "consensus" not in agreement.project_agreement(database, codebook, reps=10)["coders"]


def test_the_model_is_scored_as_a_coder_with_acceptance_rates(coded, codebook):
    database, (a, b, c) = coded
    database["suggestions"].insert_all(
        [
            {
                "segment_id": s,
                "code": "information_sharing",
                "score": 0.9,
                "threshold": 0.6,
                "selected": 1,
                "reasons": "[]",
                "suggesters": "rules.v1",
                "codebook_version": "x",
                "created_at": "t",
            }
            for s in (a, b, c)
        ]
    )
    report = agreement.model_report(database, codebook, reps=50)
    assert report["model"] == "model:rules.v1"
    sharing = next(x for x in report["acceptance"] if x["code"] == "information_sharing")
    assert (sharing["suggested"], sharing["accepted"]) == (6, 3)
    assert {v["coder"] for v in report["versus"]} == {"hanako", "taro"}
    assert (
        agreement.project_agreement(database, codebook, ["model", "hanako"], reps=10)["coders"][0] == "model:rules.v1"
    )


def test_recode_sample_gives_intra_coder_alpha(coded, codebook):
    database, (a, b, c) = coded
    assert agreement.draw_recode_sample(database, "hanako", size=5, min_age_days=0, seed=1) == 3
    for seg in (a, b, c):
        if seg != c:
            coding.apply(database, seg, "hanako:recode", "confirm", codebook, "information_sharing")
        coding.apply(database, seg, "hanako:recode", "review", codebook)
    [row] = agreement.intra_coder(database, codebook)
    assert row["coder"] == "hanako" and row["alpha"] == pytest.approx(1.0) and row["n_segments"] == 3


def test_unknown_coder_is_named_in_the_error(coded, codebook):
    with pytest.raises(CoderError, match="no coder 'jiro'"):
        agreement.project_agreement(coded[0], codebook, ["hanako", "jiro"])
