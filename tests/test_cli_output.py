"""The terminal side of the CLI: tables padded by display width, password input, renderers' text."""

import pytest
from click.testing import CliRunner

from coder import db as store
from coder.agreement import to_text
from coder.cli import cli
from coder.columns import markdown_table, table, width


def columns_of(line, text):
    """The display column where ``text`` starts in ``line``."""
    return width(line[: line.index(text)])


def test_width_counts_japanese_characters_twice_and_combining_marks_not_at_all():
    assert [width(s) for s in ("kaede", "かえで", "ＡＢ", "ｶﾅ", "か\u3099", "𠮷")] == [5, 6, 4, 2, 2, 2]


def test_table_lines_up_columns_after_japanese_names():
    rows = [
        [1, "kaede", "person", 21],
        [2, "かえで本人", "supporter", 3],
        [3, "山本　理恵（就労移行支援）", "unknown", 7],
    ]
    lines = table("{:>3} {:12} {:11} {} turns", rows)
    assert len({columns_of(line, perspective) for line, (_, _, perspective, _) in zip(lines, rows)}) == 1
    assert len({columns_of(line, f"{turns} turns") for line, (*_, turns) in zip(lines, rows)}) == 1
    assert lines[0].startswith("  1 kaede" + " " * 21 + " person")  # the widest name (26 columns) sets the width


@pytest.mark.parametrize(
    "spec, row",
    [
        ("{:>3}  {:24} {:10} {:>6}", [7, "kaede_person", "-", 3366]),
        ("{:20} {:5.2f} {:>4}", ["handover", 0.5, 12]),
        ("{:22} {:>6}  {}", ["overall", 150, "a|b 0.888"]),
    ],
)
def test_table_is_str_format_for_ascii_values_that_fit(spec, row):
    assert table(spec, [row]) == [spec.format(*row)]


def test_markdown_table_pads_cells_and_rule_to_the_widest():
    assert markdown_table(["name", "value"], [["地域", "関東"], ["age", "30s"]]).splitlines() == [
        "| name | value |",
        "|------|-------|",
        "| 地域 | 関東  |",
        "| age  | 30s   |",
    ]


def test_agreement_table_lines_up_japanese_transcript_names():
    row = {
        "n_segments": 40,
        "alpha": 0.8,
        "alpha_ci": (0.7, 0.9),
        "percent": 0.95,
        "fleiss": 0.8,
        "cohen": {"a|b": 0.8},
    }
    text = to_text(
        {
            "coders": ["a", "b"],
            "by": "transcript",
            "overall": row,
            "rows": [{"key": "かえで本人", **row}, {"key": "minato_person", **row}],
        }
    )
    lines = text.splitlines()
    assert lines[0] == "coders: a, b" and len(lines) == 5
    assert len({columns_of(line, "0.800" if "0.800" in line else "alpha") for line in lines[1:]}) == 1


def test_user_list_lines_up_japanese_user_names(tmp_path):
    path = tmp_path / "p.db"
    store.open_db(path).close()
    for name in ("佐藤花子", "sato"):
        assert CliRunner().invoke(cli, ["user", "add", name, "--db", str(path)], input="secret-pass\n").exit_code == 0
    lines = CliRunner().invoke(cli, ["user", "list", "--db", str(path)]).output.splitlines()
    assert len(lines) == 2 and len({columns_of(line, "analyst") for line in lines}) == 1


def test_password_is_read_from_standard_input_when_it_is_not_a_terminal(tmp_path):
    from coder.users import authenticate

    path = tmp_path / "p.db"
    store.open_db(path).close()
    result = CliRunner().invoke(cli, ["user", "add", "hanako", "--db", str(path)], input="one-line-pass\n")
    assert result.exit_code == 0 and "hanako (analyst) added" in result.output
    passwd = CliRunner().invoke(cli, ["user", "passwd", "hanako", "--db", str(path)], input="another-pass\n")
    assert passwd.exit_code == 0, passwd.output
    assert authenticate(store.open_db(path), "hanako", "another-pass")
