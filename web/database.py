"""One project database connection per request, on ``g``; the project's codebook, per version; the
session-signing key, kept outside the database."""

import os
import secrets
import time
from pathlib import Path

from flask import abort, current_app, g

from coder import db as store
from coder.codebook_edit import current_version, project_codebook
from coder.errors import CoderError


def get_db():
    if "db" not in g:
        g.db = store.open_db(current_app.config["DATABASE"], create=False)
    return g.db


def close_db(exc=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def transcript_or_404(db, transcript_id: int) -> dict:
    try:
        return store.find_transcript(db, transcript_id)
    except CoderError:
        abort(404)


def get_codebook():
    """The project's current codebook (``coder.codebook_edit``; ``CODEBOOK`` config seeds it on first
    use, default codebook/renkei.yaml), read again only when a new version has been stored."""
    db = get_db()
    version = current_version(db)
    cached = current_app.extensions.get("codebook")
    if version is None or cached is None or cached[0] != version:
        book = project_codebook(db, current_app.config["CODEBOOK"])
        cached = current_app.extensions["codebook"] = (current_version(db), book)
    return cached[1]


def secret_key(database) -> str:
    """The session-signing key: ``CODER_SECRET_KEY`` from the environment if set, else the file
    ``DATABASE.secret`` beside the project, made on first start, readable by its owner only (0600).
    Never kept in the database: anyone with a copy of it could otherwise sign a supervisor's session.
    A key file that others may read is refused rather than used."""
    if os.environ.get("CODER_SECRET_KEY"):
        return os.environ["CODER_SECRET_KEY"]
    store.open_db(database, create=False).close()  # a clear error, not a stray key file, for a wrong path
    path = Path(f"{database}.secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32))
    return _read_key(path)


def _read_key(path: Path) -> str:
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise CoderError(
            f"{path}: the session key file is open to other users (group or world permissions); "
            f"run `chmod 600 {path}` (or delete it to make a new key) and start again"
        )
    for _ in range(50):  # another process may have just created it and not yet written the key
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        time.sleep(0.02)
    raise CoderError(f"{path}: the session key file is empty; delete it to make a new key")


def init_app(app):
    app.teardown_appcontext(close_db)
