"""One project database connection per request, on ``g``; the codebook, loaded once per app."""

import secrets

from flask import abort, current_app, g

from coder import db as store
from coder.codebook import load_codebook
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
    """The project's codebook (``CODEBOOK`` config, default codebook/renkei.yaml), loaded once."""
    if "codebook" not in current_app.extensions:
        current_app.extensions["codebook"] = load_codebook(current_app.config["CODEBOOK"])
    return current_app.extensions["codebook"]


def secret_key(path) -> str:
    """The session-signing key, made once per project and kept in its database."""
    db = store.open_db(path, create=False)
    try:
        key = store.get_setting(db, "secret_key")
        if not key:
            key = secrets.token_hex(32)
            store.put_setting(db, "secret_key", key)
        return key
    finally:
        db.close()


def blind(db) -> bool:
    """Blind mode: analysts do not see each other's codings."""
    return store.get_setting(db, "blind", "0") == "1"


def init_app(app):
    app.teardown_appcontext(close_db)
