"""The web's side of the one access policy (``coder.access``): the logged-in user's ``Policy``, ids
that cannot overflow SQLite, and every error answer: library errors turned into 400/403/404 answers
instead of 500s, and any HTTP error (400 … 415, 500) as a Japanese page in the site layout — or
``{"error": …}`` under ``/api/``. A 500 never shows a traceback (Flask logs it)."""

from __future__ import annotations

from flask import current_app, g, jsonify, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from coder.access import Policy
from coder.errors import ENGLISH_LEAD, CoderError, Forbidden, NotFound, japanese

from .database import get_db

SQLITE_MAX_INT = 2**63 - 1
BLIND_NOTE = "ブラインドモードのため、ほかの分析者のコーディング（およびそれを含む集計）は表示できません"
TITLES = {
    400: "リクエストが正しくありません",
    403: "この操作は許可されていません",
    404: "見つかりません",
    405: "この方法では利用できません",
    413: "ファイルが大きすぎます",
    415: "送信された形式が正しくありません",
    500: "サーバーでエラーが起きました",
}
# What a page says under its title when the error carries no Japanese text of its own
DETAILS = {
    400: "送信された内容を処理できませんでした。ページを再読み込みしてから、もう一度お試しください。",
    403: "このページや操作を利用する権限がありません。",
    404: "お探しのページやデータは見つかりませんでした。リンクが古いか、アドレスが間違っている可能性があります。",
    405: "このページはこの方法では開けません。画面のリンクやボタンから開き直してください。",
    413: "送信されたデータが上限（{limit}）を超えています。ファイルを分けて送ってください。",
    415: "送信されたデータの形式が正しくありません。ページを再読み込みしてから、もう一度お試しください。",
    500: "予期しないエラーが起きました。もう一度お試しください。繰り返し起きるときは、管理者にサーバーのログを"
    "確認してもらってください。",
}
GENERIC = "エラーが起きました"


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
        raise NotFound(f"no row {value!r}", ja="指定されたデータは見つかりません")
    return int(value)


def _detail(status: int) -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return DETAILS.get(status, "").format(limit=f"{limit / 2**20:,.0f} MB" if limit >= 2**20 else f"{limit:,} バイト")


def _answer(status: int, message: str | None = None):
    """``{"error": message or the title}`` under /api/; else the error page: the status's title, then
    ``message`` (already Japanese, or English after ``ENGLISH_LEAD``) or the status's explanation."""
    title = TITLES.get(status, GENERIC)
    if request.path.startswith("/api/"):
        return jsonify(error=message or title), status
    if message and message.startswith(ENGLISH_LEAD):  # shown under a lead-in of its own, marked lang="en"
        message, english = None, message.removeprefix(ENGLISH_LEAD)
    else:
        message, english = message or _detail(status), None
    return render_template("error.html", status=status, title=title, message=message, english=english), status


def library_error(exc: CoderError):
    """NotFound → 404, Forbidden → 403, any other CoderError (bad input) → 400, with the message in
    Japanese (``exc.ja``); without one, a Forbidden is blind mode's (``BLIND_NOTE``), any other error
    shows its English message after a Japanese lead-in."""
    if isinstance(exc, Forbidden):
        return _answer(403, exc.ja or f"{BLIND_NOTE}（{exc}）")
    return _answer(404 if isinstance(exc, NotFound) else 400, japanese(exc))


def http_error(exc: HTTPException):
    """Any HTTP error Flask or a view raises (``abort``), in Japanese (JSON under /api/): a Japanese
    description given by the view, else the status's own explanation (werkzeug's are English)."""
    custom = exc.description if exc.description and not exc.description.isascii() else None
    return _answer(exc.code or 500, custom)


def server_error(exc: InternalServerError):
    """An unexpected exception (Flask has logged its traceback): a Japanese page, never the traceback.
    If even the site layout cannot be drawn (a broken database), a bare page says the same."""
    try:
        return _answer(500)
    except Exception:  # the layout needs the session user and the database
        current_app.logger.exception("error page failed")
        body = (
            f'<!doctype html><html lang="ja"><meta charset="utf-8"><title>{TITLES[500]}</title>'
            f"<h1>{TITLES[500]}</h1><p>{DETAILS[500]}</p></html>"
        )
        return body, 500, {"Content-Type": "text/html; charset=utf-8"}


def init_app(app):
    app.url_map.converters["int"] = RowId
    app.register_error_handler(CoderError, library_error)
    app.register_error_handler(HTTPException, http_error)  # handlers by status (429, CSRF) take precedence
    app.register_error_handler(InternalServerError, server_error)
