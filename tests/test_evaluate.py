import json

import pytest
from click.testing import CliRunner

from coder.cli import cli
from coder.evaluate import evaluate

CODES = ["needs_assessment", "autonomy", "information_sharing", "value_alignment", "handover", "effects"]


def test_precision_recall_and_f1_per_code_and_averaged():
    gold = {"1": {"handover"}, "2": {"handover", "effects"}, "3": set(), "4": {"autonomy"}}
    pred = {"1": {"handover"}, "2": {"effects"}, "3": {"handover"}}  # item 4 missing: predicted empty
    result = evaluate(gold, pred, CODES)
    h = result["per_code"]["handover"]
    assert (h["precision"], h["recall"], h["f1"]) == (0.5, 0.5, 0.5)
    assert result["per_code"]["autonomy"]["recall"] == 0.0
    assert result["summary"]["core"]["macro_f1"] == pytest.approx(0.5 / 5)
    assert result["summary"]["all"]["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))


def test_suggest_and_evaluate_commands_follow_the_jsonl_contract(tmp_path, codebook, embedder):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "\n".join(
            json.dumps(r, ensure_ascii=False)
            for r in [
                {"id": "a", "text": "後任の担当者と一緒に訪問して、引き継ぎをしました。", "codes": ["handover"]},
                {"id": "b", "text": "週末は家でゆっくり過ごしています。", "codes": []},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["suggest", "--in", str(gold), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [list(r) for r in rows] == [["id", "labels", "scores", "reasons"]] * 2
    assert len(rows[0]["scores"]) == 8 and rows[0]["labels"] == ["handover"]
    table = CliRunner().invoke(cli, ["evaluate", "--gold", str(gold), "--pred", str(out)]).output
    assert "handover" in table and "macro-F1" in table
    as_json = json.loads(
        CliRunner().invoke(cli, ["evaluate", "--gold", str(gold), "--pred", str(out), "--json"]).output
    )
    assert as_json["per_code"]["handover"]["f1"] == 1.0


def test_bad_training_file_names_the_line(tmp_path):
    bad = tmp_path / "train.jsonl"
    bad.write_text('{"id": 1, "text": "はい"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["suggest", "--in", str(bad), "--out", str(tmp_path / "o"), "--train", str(bad)])
    assert result.exit_code == 1 and "train.jsonl, line 1" in result.output


def test_labels_are_read_one_record_per_line_even_with_u2028_in_a_string(tmp_path):
    from coder.evaluate import read_labels

    path = tmp_path / "gold.jsonl"
    path.write_text(
        '{"id": 1, "text": "前\u2028後", "codes": ["handover"]}\n\n{"id": 2, "text": "前\u2029後", "codes": []}\r\n',
        encoding="utf-8",
    )
    assert read_labels(path, "codes") == {"1": {"handover"}, "2": set()}
