"""The web UI: a Flask application factory (flaskr layout), one blueprint per area.

Every page and API is behind login (``auth``); every form and state-changing request carries a
CSRF token (Flask-WTF). Views are thin: they call ``coder.*``.
"""

from __future__ import annotations

import os

from flask import Flask, request


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE=os.environ.get("CODER_DB", "coder.db"),
        CODEBOOK=None,
        EMBEDDING_MODEL=None,
        RETRAIN=True,  # confirmations retrain the learner in a background thread
        MAX_CONTENT_LENGTH=100 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # Japanese as UTF-8 in /api/ responses, not \uXXXX escapes
    from . import (
        api,
        attributes,
        auth,
        charts,
        codes,
        coding,
        database,
        exports,
        importer,
        matrix,
        memos,
        names,
        policy,
        report,
        search,
        supervision,
        tasks,
        topics,
        transcripts,
        users,
    )

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = database.secret_key(app.config["DATABASE"])
    database.init_app(app)
    policy.init_app(app)
    auth.init_app(app)
    tasks.init_app(app)
    for module in (
        auth,
        transcripts,
        importer,
        coding,
        codes,
        matrix,
        search,
        topics,
        exports,
        supervision,
        names,
        users,
        attributes,
        memos,
        charts,
        report,
        api,
    ):
        app.register_blueprint(module.bp)
    app.after_request(security_headers)
    from coder.db import hhmmss

    app.add_template_filter(hhmmss, "hhmmss")  # cue times as the exports write them (00:01:34.044)
    return app


# Scripts and styles only from our own static files: even if some text slipped past escaping,
# the browser would not run it. Nothing is loaded from other hosts.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(response):
    if request.endpoint != "static":  # pages, API answers and downloads hold interview text: never cached,
        response.headers["Cache-Control"] = "no-store"  # so nothing is shown again from the cache after logout
        response.headers["Pragma"] = "no-cache"
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin: other sites never learn our URLs, and Flask-WTF's HTTPS check of the Referer
    # (WTF_CSRF_SSL_STRICT) still sees our own form posts
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:  # served over HTTPS (--certfile, or a trusted proxy): browsers stay on HTTPS
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
