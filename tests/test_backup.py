import sqlite3
import threading
from contextlib import closing

import pytest
from click.testing import CliRunner

from coder import backup as backups
from coder import db as store
from coder.backup import backup
from coder.cli import cli
from coder.errors import CoderError


@pytest.fixture
def project(tmp_path):
    """A project database of a few hundred pages (2000 settings of 500 characters each)."""
    path = tmp_path / "project.db"
    database = store.open_db(path)
    with store.immediate(database):
        database["settings"].insert_all({"key": f"old{i}", "value": "あ" * 500} for i in range(2000))
    database.close()
    return path


def keys(path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        return {k for (k,) in conn.execute("select key from settings")}


def test_backup_while_a_write_is_under_way_has_the_committed_rows_and_not_the_unfinished_ones(project, tmp_path):
    holding, done = threading.Event(), threading.Event()

    def writer():  # the web app in the middle of a transaction
        database = store.open_db(project)
        with store.immediate(database):
            database["settings"].insert({"key": "unfinished", "value": "x"})
            holding.set()
            done.wait(30)
        database.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(30)
    try:
        result = backup(project, tmp_path / "copy.db")
    finally:
        done.set()
        thread.join()
    assert result["integrity"] == "ok" and result["pages"] > 100
    assert result["bytes"] == (tmp_path / "copy.db").stat().st_size == result["pages"] * 4096  # SQLite's default
    copied = keys(tmp_path / "copy.db")
    assert len(copied) == 2000 and "unfinished" not in copied
    assert "unfinished" in keys(project)  # the writer's commit was not held up or lost


def test_backup_while_the_server_keeps_committing_is_a_consistent_snapshot(project, tmp_path, monkeypatch):
    monkeypatch.setattr(backups, "STEP_PAGES", 4)  # many steps, so commits fall between them
    stop = threading.Event()

    def writer():  # each transaction writes a pair: a copy with half a pair is torn
        database = store.open_db(project)
        i = 0
        while not stop.is_set():
            with store.immediate(database):
                database["settings"].insert_all([{"key": f"a{i}", "value": "x"}, {"key": f"b{i}", "value": "x"}])
            i += 1
        database.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = backup(project, tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join()
    copied = keys(tmp_path / "copy.db")
    pairs = {k for k in copied if k[0] in "ab"}
    assert result["integrity"] == "ok" and sum(k.startswith("old") for k in copied) == 2000
    assert {k[1:] for k in pairs if k[0] == "a"} == {k[1:] for k in pairs if k[0] == "b"}


def test_backup_reports_progress_until_every_page_is_copied(project, tmp_path):
    seen = []
    result = backup(project, tmp_path / "copy.db", progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (result["pages"], result["pages"])


def test_backup_into_a_folder_gets_a_dated_name_and_opens_as_the_project(project, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    result = backup(project, folder)
    assert result["path"].parent == folder and result["path"].name.startswith("project-2")
    assert result["path"].suffix == ".db" and len(result["path"].stem) == len("project-YYYYmmddTHHMMSS")
    assert [p.name for p in folder.iterdir()] == [result["path"].name]  # no temporary file left
    copy = store.open_db(result["path"], create=False)
    assert store.get_setting(copy, "old7") == "あ" * 500
    copy.close()


def test_backup_refuses_to_overwrite_a_file_unless_forced(project, tmp_path):
    out = tmp_path / "copy.db"
    out.write_text("an older backup")
    with pytest.raises(CoderError, match="exists.*--force"):
        backup(project, out)
    assert out.read_text() == "an older backup"
    backup(project, out, force=True)
    assert len(keys(out)) == 2000


def test_backup_refuses_to_copy_the_project_onto_itself(project):
    with pytest.raises(CoderError, match="project database itself"):
        backup(project, project.parent / "." / project.name)
    assert len(keys(project)) == 2000


@pytest.mark.parametrize("content, problem", [(b"interview notes\n", "not a SQLite database"), (b"", "not a SQLite")])
def test_a_file_that_is_not_a_database_is_refused_by_name(tmp_path, content, problem):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(content)
    with pytest.raises(CoderError, match=f"notes.txt: {problem}"):
        backup(notes, tmp_path / "copy.db")
    with pytest.raises(CoderError, match="missing.db: no such project database"):
        backup(tmp_path / "missing.db", tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


def test_a_damaged_database_leaves_no_backup_behind(project, tmp_path):
    with closing(sqlite3.connect(project)) as conn:
        conn.execute("create index settings_value on settings(value)")
        root = conn.execute("select rootpage from sqlite_master where name = 'settings_value'").fetchone()[0]
    data = bytearray(project.read_bytes())
    data[root * 4096 - 600 : root * 4096 - 8] = b"\x00" * 592  # wipe index entries: rows missing from the index
    project.write_bytes(bytes(data))
    out = tmp_path / "backups"
    out.mkdir()
    with pytest.raises(CoderError, match="project.db: .*(integrity|malformed)"):
        backup(project, out)
    assert list(out.iterdir()) == []


def test_cli_backup_prints_where_the_copy_went_and_refuses_to_overwrite(project, tmp_path):
    out = tmp_path / "copy.db"
    result = CliRunner().invoke(cli, ["backup", "--db", str(project), str(out)])
    assert result.exit_code == 0 and str(out) in result.output and "integrity ok" in result.output
    result = CliRunner().invoke(cli, ["backup", "--db", str(project), str(out)])
    assert result.exit_code == 1 and "--force" in result.output
    assert CliRunner().invoke(cli, ["backup", "--force", "--db", str(project), str(out)]).exit_code == 0
