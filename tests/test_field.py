"""Files shaped like those users bring from the field (copies in tests/data/field): each imports as
its speakers said it, and the import report says what was left out or read in a particular way."""

from pathlib import Path

import pytest

from coder.ingest import ingest

FIELD = Path(__file__).parent / "data" / "field"


def imported(db, nlp, name):
    report = ingest(db, [FIELD / name], nlp=nlp)
    t = report.imported[0]
    return t, [(turn.speaker, t.text[turn.start : turn.end]) for turn in t.turns]


def test_teams_vtt_decodes_references_and_keeps_voices_and_times(db, nlp):
    t, turns = imported(db, nlp, "teams_meeting.vtt")
    assert [s for s, _ in turns] == ["山本 理恵", "中村 浩二", "山本 理恵"]
    assert "S&T物流" in turns[0][1] and "&amp;" not in t.text and "<" not in t.text
    assert turns[0][1].endswith("教えていただけますか。") and turns[1][1].endswith("始めることにしました。")
    assert [turn.start_time for turn in t.turns] == [3.12, 13.2, 25.0]
    assert any(n.what == "NOTE block left out" for n in t.notes)


def test_srt_with_bom_crlf_and_blank_lines_keeps_every_word(db, nlp):
    t, turns = imported(db, nlp, "teishaku_bom_crlf.srt")
    assert [s for s, _ in turns] == ["聞き手", "本人", "聞き手", "本人"]
    assert "作業の順番を紙にまとめてくれました。" in turns[1][1]
    assert [turn.start_time for turn in t.turns] == [1.0, 5.0, 16.5, 20.3]


def test_meeting_notes_header_lines_give_two_speakers_with_times(db, nlp):
    t, turns = imported(db, nlp, "clova_note_export.txt")
    assert t.layout == "headers"
    assert [s for s, _ in turns] == ["参加者 1", "参加者 2", "参加者 1", "参加者 2"]
    assert [turn.start_time for turn in t.turns] == [0.0, 14.0, 41.0, 62.0]
    assert not any("00:" in words or "支援会議メモ" in words for _, words in turns)
    assert t.notes[0].where == "lines 1–3" and "支援会議メモ 1" in t.notes[0].text


def test_time_codes_before_labels_start_turns_of_the_right_speaker(db, nlp):
    t, turns = imported(db, nlp, "interview_timestamps.txt")
    assert [s for s, _ in turns] == ["聞き手", "本人", "聞き手", "本人", "本人", "聞き手", "本人"]
    assert not any(":" in words or "聞き手" in words for _, words in turns)
    assert [turn.start_time for turn in t.turns] == [None, None, 72.0, 80.0, None, 125.0, 131.0]
    assert [seg.text for seg in t.segments if seg.start_time == 72.0] == ["いまの職場に決めた理由を教えてください。"]
    assert t.notes[0].where == "lines 1–2"


def test_word_tracked_changes_are_read_as_the_final_view_and_reported(db, nlp):
    t, turns = imported(db, nlp, "review_tracked.docx")
    assert [s for s, _ in turns] == ["聞き手", "本人", "聞き手", "本人"]
    assert turns[1][1] == "支援員さんが三つの会社を紹介してくれて、見学したうえで自分で選びました。"
    assert turns[3][1] == "通勤の時間が短いことと、休憩室が静かなことです。"
    assert "いくつか" not in t.text
    assert any("tracked changes read as accepted" in n.what for n in t.notes)
    assert any(n.text == "いくつか" and n.where == "paragraph 2" for n in t.notes)


@pytest.mark.parametrize("name", sorted(p.name for p in FIELD.iterdir()))
def test_dry_run_shows_every_field_file_and_writes_nothing(tmp_path, name):
    from click.testing import CliRunner

    from coder.cli import cli

    result = CliRunner().invoke(cli, ["ingest", "--dry-run", str(FIELD / name), "--db", str(tmp_path / "p.db")])
    assert result.exit_code == 0, result.output
    assert (
        f"{name}: " in result.output and "layout" in result.output and "dry run: nothing was imported" in result.output
    )
    assert not (tmp_path / "p.db").exists()
