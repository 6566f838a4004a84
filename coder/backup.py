"""A consistent copy of a project database, safe to take while ``coder serve`` is writing to it.

The copy is made with SQLite's online backup API (https://www.sqlite.org/backup.html) through
``sqlite3.Connection.backup``, into a temporary file in the target folder, and takes its name only
after ``PRAGMA integrity_check`` on the copy answers ``ok``. Copying the file with ``cp`` while the
server runs is not safe: recent changes may still be in ``project.db-wal``.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path

from .db import BUSY_TIMEOUT
from .errors import CoderError

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
STEP_PAGES = 1024  # pages copied per backup step: 4 MiB at SQLite's default page size of 4096 bytes
MAX_RESTARTS = 5  # then copy what is left of the work in one step (see _copy)


class _TooBusy(Exception):
    """The source changed under the step-wise copy too often."""


def backup(db_path, out_path, progress=None, force: bool = False) -> dict:
    """Copy the project database ``db_path`` to ``out_path`` and check the copy; return its figures.

    ``out_path`` is a file, or an existing folder to put ``<db stem>-YYYYmmddTHHMMSS.db`` in (local
    time). ``progress``, if given, is called as ``progress(pages_done, pages_total)`` after each step.
    Returns ``{"path": Path, "pages": int, "bytes": int, "seconds": float, "integrity": "ok",
    "restarts": int}`` — ``restarts`` counts how often a write by another connection (the web app)
    made SQLite start the copy again.

    Raises ``CoderError`` naming the file and the problem when ``db_path`` is missing or not a SQLite
    database, when ``out_path`` is ``db_path``, exists (unless ``force``) or is in a missing folder,
    or when the copy fails or its integrity check does not answer ``ok``; then no file is left at
    ``out_path`` (an existing one is kept as it was).
    """
    source, out = Path(db_path), Path(out_path)
    _check_source(source)
    if out.is_dir():
        out = out / f"{source.stem}-{datetime.now().strftime('%Y%m%dT%H%M%S')}.db"
    if out.resolve() == source.resolve() or (out.exists() and out.samefile(source)):
        raise CoderError(f"{out}: that is the project database itself; back it up to another file")
    if out.exists() and not force:
        raise CoderError(f"{out} exists; choose another name or replace it with --force")
    if not out.parent.is_dir():
        raise CoderError(f"cannot write {out}: there is no folder {out.parent}")
    started = time.perf_counter()
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)  # same disk: rename
    except OSError as exc:
        raise CoderError(f"cannot write {out}: {exc.strerror or exc}") from exc
    os.close(fd)
    temporary = Path(name)
    try:
        with closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT)) as src, closing(sqlite3.connect(temporary)) as dst:
            restarts = _copy(src, dst, progress)
            problems = [
                line
                for (text,) in dst.execute("PRAGMA integrity_check")
                for line in text.splitlines()
                if not line.startswith("***")
            ]
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
        if problems != ["ok"]:
            more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
            raise CoderError(
                f"{source}: the copy failed its integrity check ({'; '.join(problems[:3])}{more}); "
                "the project file may be damaged — keep it and an older backup"
            )
        os.replace(temporary, out)
    except sqlite3.Error as exc:
        raise CoderError(f"{source}: cannot back up: {exc}") from exc
    except OSError as exc:
        raise CoderError(f"cannot write {out}: {exc.strerror or exc}") from exc
    finally:
        for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
            leftover.unlink(missing_ok=True)
    return {
        "path": out,
        "pages": pages,
        "bytes": out.stat().st_size,
        "seconds": round(time.perf_counter() - started, 3),
        "integrity": "ok",
        "restarts": restarts,
    }


def _check_source(source: Path) -> None:
    if not source.is_file():
        raise CoderError(f"{source}: no such project database")
    with open(source, "rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise CoderError(f"{source}: not a SQLite database, so not a coder project (made by `coder init`)")


def _copy(src, dst, progress) -> int:
    """Copy in steps of ``STEP_PAGES``, so a long copy does not hold one read transaction throughout;
    return how often SQLite restarted it. A commit by another connection between two steps restarts
    the copy from the first page (https://www.sqlite.org/c3ref/backup_finish.html), so a busy server
    could keep a large copy from ever finishing: after ``MAX_RESTARTS`` the rest is copied in one
    step — one read snapshot, which in WAL mode (every project database) does not hold up writers."""
    restarts, last = 0, None

    def step(status, remaining, total):
        nonlocal restarts, last
        if last is not None and remaining > last:
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise _TooBusy
        last = remaining
        if progress is not None:
            progress(total - remaining, total)

    try:
        src.backup(dst, pages=STEP_PAGES, progress=step)
    except _TooBusy:
        src.backup(dst, pages=-1)
        if progress is not None:
            total = dst.execute("PRAGMA page_count").fetchone()[0]
            progress(total, total)
    return restarts
