import json

from click.testing import CliRunner

from coder.cli import cli

TEXT = "インタビュアー：伺います。\n支援員：週に一度訪問します。\n利用者：助かっています。\n"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_ingest_reports_counts_and_unmapped_speakers(tmp_path, nlp, write):
    result = run("ingest", write("a.txt", TEXT), "--speaker", "支援員=supporter", "--db", tmp_path / "p.db")
    assert result.exit_code == 0, result.output
    assert "imported a.txt as 'a'" in result.output and "3 segments" in result.output
    assert "speakers without a perspective: 利用者" in result.output
    assert "warning: speaker 利用者: speaker with a single turn" in result.output
    again = run("ingest", tmp_path / "a.txt", "--db", tmp_path / "p.db")
    assert "already imported" in again.output


def test_segments_jsonl_has_exactly_the_documented_fields(tmp_path, nlp, write):
    run("ingest", write("a.txt", TEXT), "--speaker", "利用者=当事者", "--db", tmp_path / "p.db")
    run("speakers", "set", "支援員", "supporter", "--db", tmp_path / "p.db")
    lines = run("segments", "--db", tmp_path / "p.db").output.splitlines()
    rows = [json.loads(line) for line in lines]
    assert list(rows[0]) == [
        "id",
        "transcript",
        "transcript_name",
        "turn",
        "speaker",
        "perspective",
        "index",
        "start",
        "end",
        "text",
        "start_time",
        "end_time",
    ]
    assert [(r["speaker"], r["perspective"], r["turn"], r["index"]) for r in rows] == [
        ("インタビュアー", "interviewer", 0, 0),
        ("支援員", "supporter", 1, 1),
        ("利用者", "person", 2, 2),
    ]
    csv_out = run("segments", "--format", "csv", "--transcript", "a", "--db", tmp_path / "p.db").output
    assert csv_out.splitlines()[0].startswith("id,transcript,transcript_name,turn")


def test_bad_input_exits_with_a_message_naming_the_file(tmp_path, write):
    result = run("ingest", write("empty.txt", ""), "--db", tmp_path / "p.db")
    assert result.exit_code == 1 and "empty.txt: the file is empty" in result.output
    assert "Traceback" not in result.output


def test_unknown_perspective_is_refused_with_the_choices(tmp_path, write):
    result = run("ingest", write("a.txt", TEXT), "--speaker", "支援員=staff", "--db", tmp_path / "p.db")
    assert result.exit_code == 2 and "person (当事者)" in result.output


def test_listing_commands_show_the_project(tmp_path, nlp, write):
    run("ingest", write("a.txt", TEXT), "--case", "minato", "--db", tmp_path / "p.db")
    listing = run("transcripts", "--json", "--db", tmp_path / "p.db").output
    assert [(t["name"], t["case_name"], t["segments"]) for t in json.loads(listing)] == [("a", "minato", 3)]
    assert "利用者" in run("speakers", "--db", tmp_path / "p.db").output


def test_speaker_map_file_maps_speakers(tmp_path, nlp, write):
    speaker_map = write("speakers.yaml", "支援員: supporter\n利用者: 当事者\n")
    out = run("ingest", write("a.txt", TEXT), "--speaker-map", speaker_map, "--db", tmp_path / "p.db").output
    assert "without a perspective" not in out
    rows = [line.split() for line in run("speakers", "--db", tmp_path / "p.db").output.splitlines()]
    assert {r[2]: r[3] for r in rows} == {"インタビュアー": "interviewer", "支援員": "supporter", "利用者": "person"}


def test_dry_run_shows_layout_speakers_notes_and_warnings_and_imports_nothing(tmp_path, write):
    text = (
        "面談記録（架空）\n日時：6月1日\n\n[00:00:05] 聞き手：はじめます。\n[00:00:09] 本人：はい。本人：そうです。\n"
        "ポイント：大事なところです。\n聞き手：以上です。\n"
    )
    db = tmp_path / "p.db"
    run("init", "--db", db)
    result = run("ingest", "--dry-run", write("a.txt", text), "--speaker", "本人=person", "--db", db)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "a.txt: txt, utf-8, layout labels" in out
    assert "聞き手" in out and "interviewer" in out and "2 turns" in out and "「はじめます。」" in out
    assert "lines 1–2: left out (before the first turn): 面談記録（架空） / 日時：6月1日" in out
    assert "warning: speaker ポイント: speaker with a single turn" in out
    assert "warning: turn 2 (本人): '名前：' label inside the words" in out
    assert "dry run: nothing was imported" in out
    assert json.loads(run("transcripts", "--json", "--db", db).output) == []


def test_speakers_set_accepts_the_name_as_written_in_the_file(tmp_path, nlp, write):
    db = tmp_path / "p.db"
    run(
        "ingest",
        write("a.txt", "聞き手（山田）：はい。\n山本　理恵：ええ。\n聞き手（山田）：では。\n山本　理恵：どうぞ。\n"),
        "--db",
        db,
    )
    for name, perspective in (("聞き手（山田）", "interviewer"), ("山本　理恵", "person")):
        result = run("speakers", "set", name, perspective, "--db", db)
        assert result.exit_code == 0 and "in 1 transcript(s)" in result.output, result.output


def test_ingest_skips_a_pattern_that_matches_no_file_and_imports_the_others(tmp_path, nlp, write):
    (tmp_path / "interviews").mkdir()
    write("interviews/a.txt", TEXT)
    write("interviews/b.txt", TEXT.replace("週に一度", "月に一度"))
    folder = tmp_path / "interviews"
    result = run("ingest", folder / "*.txt", folder / "*.vtt", "--db", tmp_path / "p.db")  # as the shell passes them
    assert result.exit_code == 0, result.output
    assert f"warning: {folder / '*.vtt'} matches no file; skipped" in result.stderr
    assert "imported a.txt as 'a'" in result.stdout and "imported b.txt as 'b'" in result.stdout


def test_ingest_of_a_missing_file_without_a_pattern_is_still_refused(tmp_path, write):
    result = run("ingest", write("a.txt", TEXT), tmp_path / "missing.txt", "--db", tmp_path / "p.db")
    assert result.exit_code == 1 and "missing.txt: cannot read file" in result.output
    assert run("ingest", tmp_path / "*.vtt", "--db", tmp_path / "p.db").exit_code == 1


def test_a_speaker_set_to_unknown_on_purpose_is_not_listed_as_unmapped(tmp_path, nlp, write):
    db = tmp_path / "p.db"
    assert "speakers without a perspective: 利用者" in run("ingest", write("a.txt", TEXT), "--db", db).output
    assert run("speakers", "set", "利用者", "unknown", "--db", db).exit_code == 0
    again = run("ingest", write("b.txt", TEXT.replace("助かっています", "慣れました")), "--db", db)
    assert again.exit_code == 0 and "imported b.txt" in again.output, again.output
    unmapped = [line for line in again.output.splitlines() if "speakers without a perspective" in line]
    assert unmapped == ["  b: speakers without a perspective: 支援員"]


def test_speakers_listing_lines_up_japanese_names(tmp_path, nlp, write):
    from coder.columns import width

    run("ingest", write("a.txt", TEXT), "--speaker", "支援員=supporter", "--db", tmp_path / "p.db")
    lines = run("speakers", "--db", tmp_path / "p.db").output.splitlines()
    starts = {width(line[: line.index(line.split()[3])]) for line in lines}  # where the perspective column starts
    assert len(lines) == 3 and len(starts) == 1, lines
