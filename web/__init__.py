"""The web UI: a Flask application factory (flaskr layout)."""

from __future__ import annotations

import os

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DATABASE=os.environ.get("CODER_DB", "coder.db"), JSON_AS_ASCII=False)
    if test_config:
        app.config.update(test_config)
    from . import database, transcripts

    database.init_app(app)
    app.register_blueprint(transcripts.bp)
    return app
