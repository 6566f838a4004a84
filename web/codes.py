"""The codebook page: definitions, when to use and not, examples, rules, how often each code is used;
for supervisors, the editor of the project's codebook (``coder.codebook_edit``)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coder import codebook_edit as edit
from coder import db as store
from coder.coding import code_counts
from coder.errors import CoderError, NotFound, japanese
from coder.memos import list_memos

from .database import get_codebook, get_db
from .policy import policy

bp = Blueprint("codes", __name__)

# form "op" → the library edit and the form fields it takes after the code id
OPS = {
    "rename": (edit.rename_code, ["name"]),
    "describe": (edit.describe_code, ["description"]),
    "color": (edit.recolour_code, ["color"]),
    "nest": (edit.nest_code, ["parent"]),
    "merge": (edit.merge_codes, ["into"]),
    "retire": (edit.retire_code, []),
}
DONE = {
    "add": "コードを追加しました",
    "rename": "名前を変更しました",
    "describe": "定義を更新しました",
    "color": "色を変更しました",
    "nest": "上位コードを変更しました",
    "merge": "コードを統合しました",
    "retire": "コードを廃止しました",
    "promote": "コードブックに昇格しました",
}


@bp.route("/codebook")
def index():
    db = get_db()
    memos = {}
    for m in list_memos(db):
        memos.setdefault(m["code"], []).append(m)
    counts = code_counts(db, policy().visible_layers(db))  # blind: only the user's own codings
    editor = policy().may_supervise
    book = get_codebook()
    children: dict[str, list] = {}
    for c in book.active:
        if c.parent:
            children.setdefault(c.parent, []).append(c)
    keys = {c.id: i + 1 for i, c in enumerate(book.active[:8])}  # the coding view's number keys
    return render_template(
        "codes/index.html",
        codebook=book,
        counts=counts,
        memos=memos,
        editor=editor,
        tree=edit.tree(book.active),
        children=children,
        keys=keys,
        user_codes=store.user_codes(db) if editor else [],
        versions=edit.versions(db)[:10] if editor else [],
    )


@bp.route("/codebook/edit", methods=["POST"])
def change():
    """One codebook edit by a supervisor; a refused edit (e.g. a duplicate id) is shown, not a 500."""
    if not policy().may_supervise:
        abort(403)
    form, db, who = request.form, get_db(), current_user.name
    op, code = form.get("op", ""), form.get("code", "")
    get_codebook()  # seeds the project's codebook from the configured file on first use
    if op not in DONE:
        abort(400)
    if op in ("merge", "retire") and form.get("confirm") != "1":  # neither can be undone from the page
        flash("変更できませんでした：元に戻せない操作です。確認のチェックを入れてからもう一度押してください。", "error")
        return redirect(url_for("codes.index", _anchor=code or None))
    try:
        if op == "add":
            code = form.get("id", "")
            book = edit.add_code(
                db, who, code, form.get("name", ""), form.get("parent") or None, form.get("description", "")
            )
        elif op == "promote":
            code = form.get("id", "")
            book = edit.promote_user_code(db, who, form.get("user_code", ""), code, form.get("name") or None)
        else:
            run, fields = OPS[op]
            book = run(db, who, code, *[form.get(f) or None for f in fields])
    except NotFound:
        raise
    except CoderError as exc:  # a refused edit (duplicate id, empty name, a loop of parents …)
        flash(f"変更できませんでした：{japanese(exc)}", "error")
        return redirect(url_for("codes.index"))
    flash(f"{DONE[op]}（{book.version_tag}）")
    return redirect(url_for("codes.index", _anchor=code or None))
