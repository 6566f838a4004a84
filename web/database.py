"""One project database connection per request, on ``g``."""

from flask import current_app, g

from coder.db import open_db


def get_db():
    if "db" not in g:
        g.db = open_db(current_app.config["DATABASE"], create=False)
    return g.db


def close_db(exc=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app):
    app.teardown_appcontext(close_db)
