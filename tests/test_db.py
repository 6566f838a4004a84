import pytest
from sqlite_utils.migrations import Migrations

from coder import db as store
from coder.errors import CoderError
from coder.ingest import ingest


def test_new_project_is_migrated_and_uses_wal(tmp_path):
    db = store.open_db(tmp_path / "p.db")
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert [m.name for m in store.migrations.applied(db)] == [m.name for m in store.migrations._migrations]
    assert {"transcripts", "speakers", "turns", "segments"} <= set(db.table_names())


def test_upgrading_an_existing_project_keeps_a_backup(tmp_path, monkeypatch):
    path = tmp_path / "p.db"
    store.open_db(path).close()
    newer = Migrations("coder")
    newer._migrations = list(store.migrations._migrations)

    @newer(name="9999_extra_table")
    def _extra(db):
        db["extra"].create({"id": int}, pk="id")

    monkeypatch.setattr(store, "migrations", newer)
    assert "extra" in store.open_db(path).table_names()
    backups = list(tmp_path.glob("p.db.bak-*"))
    assert len(backups) == 1 and "extra" not in store.Database(backups[0]).table_names()


def test_opening_a_missing_project_for_reading_says_how_to_create_it(tmp_path):
    with pytest.raises(CoderError, match="coder init"):
        store.open_db(tmp_path / "missing.db", create=False)


def test_unknown_transcript_error_lists_the_transcripts(db, nlp, write):
    ingest(db, [write("kaede.txt", "聞き手：はい。\n本人：そうです。\n")], nlp=nlp)
    with pytest.raises(CoderError, match="have: 1:kaede"):
        store.find_transcript(db, "minato")
    assert store.find_transcript(db, 1)["name"] == store.find_transcript(db, "kaede")["name"] == "kaede"


def test_setting_a_speaker_changes_every_segment_of_that_speaker(db, nlp, write):
    ingest(
        db,
        [write("a.txt", "聞き手：はい。\n本人：一つ。二つ。\n"), write("b.txt", "聞き手：では。\n本人：三つ。\n")],
        nlp=nlp,
    )
    assert store.set_speaker(db, "本人", "person", user="sato") == 2
    assert store.set_speaker(db, "聞き手", "unknown", transcript="b", user="sato") == 1
    persp = {(r["transcript_name"], r["speaker"]): r["perspective"] for r in store.iter_segments(db)}
    assert persp == {
        ("a", "聞き手"): "interviewer",
        ("a", "本人"): "person",
        ("b", "聞き手"): "unknown",
        ("b", "本人"): "person",
    }
    with pytest.raises(CoderError, match="no speaker '支援員'"):
        store.set_speaker(db, "支援員", "supporter", user="sato")
