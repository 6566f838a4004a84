import pytest
import yaml

from coder.codebook import CORE_IDS, DEFAULT, lint, load_codebook
from coder.errors import CoderError

FIXED = CORE_IDS + ["effects", "career", "peer_relations"]


def test_default_codebook_has_the_fixed_ids_and_guidance():
    book = load_codebook()
    assert book.ids == FIXED
    assert [c.group for c in book.codes] == ["core"] * 5 + ["further"] * 3
    assert all(3 <= len(c.examples) <= 6 and c.definition and c.use_when and c.rules for c in book.codes)
    assert book.version_tag.startswith("renkei@")


def broken(tmp_path, mutate):
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda d: d["codes"][1].pop("examples"), "code 'autonomy'"),
        (lambda d: d["codes"][4].update(examples=["一つだけ"]), "code 'handover', field 'examples'"),
        (lambda d: d["codes"][0].update(group="main"), "code 'needs_assessment', field 'group'"),
        (lambda d: d["codes"][2]["rules"][0].update(weight=0), "field 'rules.0.weight'"),
        (lambda d: d["codes"][2]["rules"][0].update(near=[["本人"]]), "field 'rules.0.near'"),
        (lambda d: d.pop("version"), "field '(top level)'"),
    ],
)
def test_validation_errors_name_the_file_the_code_and_the_field(tmp_path, mutate, where):
    with pytest.raises(CoderError) as exc:
        load_codebook(broken(tmp_path, mutate))
    assert "mine.yaml" in str(exc.value) and where in str(exc.value)


def test_duplicate_code_ids_are_refused(tmp_path):
    with pytest.raises(CoderError, match="duplicate code id.*autonomy"):
        load_codebook(broken(tmp_path, lambda d: d["codes"][0].update(id="autonomy")))


def test_lint_reports_a_phrase_shared_by_two_codes(tmp_path):
    path = broken(tmp_path, lambda d: d["codes"][0]["rules"].append({"phrases": ["後任"], "weight": 1.0}))
    assert any("'後任' is a rule of several codes" in w for w in lint(load_codebook(path)))


def test_a_negative_cue_names_another_codes_words_without_a_lint_warning(tmp_path):
    path = broken(
        tmp_path,
        lambda d: d["codes"][0]["rules"].append({"label": "異動（→handover）", "phrases": ["後任"], "weight": -0.5}),
    )
    assert not any("'後任'" in w for w in lint(load_codebook(path)))
