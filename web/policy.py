"""The web's side of the one access policy (``coder.access``): the logged-in user's ``Policy``, ids
that cannot overflow SQLite, and library errors turned into 400/403/404 answers instead of 500s."""

from __future__ import annotations

from flask import g, jsonify, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from coder.access import Policy
from coder.errors import CoderError, Forbidden, NotFound

from .database import get_db

SQLITE_MAX_INT = 2**63 - 1
BLIND_NOTE = "ブラインドモードのため、ほかの分析者のコーディング（およびそれを含む集計）は表示できません"
TITLES = {400: "リクエストが正しくありません", 403: "この操作は許可されていません", 404: "見つかりません",
          405: "この方法では利用できません", 413: "ファイルが大きすぎます"}


def policy() -> Policy:
    """What the current user may see and write (one per request)."""
    if "policy" not in g:
        g.policy = Policy.for_user(get_db(), current_user.name, current_user.role)
    return g.policy


class RowId(IntegerConverter):
    """``<int:…>`` in routes: a non-negative integer SQLite can hold; a longer one is a 404, not an
    OverflowError in the query."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", SQLITE_MAX_INT)
        super().__init__(map, *args, **kwargs)


def row_id(value: str) -> int:
    """A row id from a form field: ASCII digits within SQLite's integers, else ``NotFound`` (a form
    can send anything: "²" passes ``str.isdigit`` but not ``int``)."""
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > SQLITE_MAX_INT:
        raise NotFound(f"no row {value!r}")
    return int(value)


def _answer(status: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    return render_template("error.html", status=status, title=TITLES.get(status, "エラー"), message=message), status


def library_error(exc: CoderError):
    """NotFound → 404, Forbidden → 403, any other CoderError (bad input) → 400, with the message."""
    if isinstance(exc, Forbidden):
        return _answer(403, f"{BLIND_NOTE}（{exc}）")
    return _answer(404 if isinstance(exc, NotFound) else 400, str(exc))


def http_error(exc: HTTPException):
    """Flask's own 400/403/404/405/413 answers, in Japanese (JSON under /api/)."""
    detail = exc.description if exc.description and not exc.description.startswith(("The ", "You ")) else ""
    return _answer(exc.code, detail or TITLES.get(exc.code, "エラー"))


def init_app(app):
    app.url_map.converters["int"] = RowId
    app.register_error_handler(CoderError, library_error)
    for status in TITLES:
        app.register_error_handler(status, http_error)
