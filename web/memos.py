"""The memos page: every memo the user may see (``coder.memos.visible`` under their policy), with
filters, a form for a memo on a transcript, a case or the project, and editing of one's own memos."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coder import attributes, memos
from coder import db as store
from coder.errors import CoderError, Forbidden, NotFound, japanese

from .database import get_codebook, get_db
from .policy import policy, row_id

bp = Blueprint("memos", __name__, url_prefix="/memos")
FILTERS = ("author", "kind", "code", "transcript", "case", "attribute")
NOT_YOURS = "変更・削除できるのは自分が書いたメモだけです。"


def change(action, memo_id: int, *args):
    """``memos.edit``/``memos.delete`` of the current user's memo; someone else's memo → 403 saying
    so (not the blind-mode message other 403s carry)."""
    try:
        return action(get_db(), memo_id, current_user.name, *args)
    except Forbidden:
        abort(403, NOT_YOURS)


@bp.route("/")
def index():
    db = get_db()
    chosen = {k: request.args.get(k) or None for k in FILTERS}
    if chosen["transcript"] is not None:
        chosen["transcript"] = row_id(chosen["transcript"])  # the menu sends ids; anything else is a 404
    where = attributes.parse_filters(chosen["attribute"] or [])  # not NAME=VALUE → 400, unknown name → 404
    rows = memos.visible(db, policy(), where=where, **{k: v for k, v in chosen.items() if k != "attribute"})
    everyone = memos.visible(db, policy())
    return render_template(
        "memos/index.html",
        memos=rows,
        chosen=chosen,
        kinds=memos.KIND_LABELS,
        query=_query(),
        sees_others=policy().sees_others,
        authors=sorted({m["author"] for m in everyone}),
        codebook=get_codebook(),
        transcripts=store.list_transcripts(db),
        cases=store.list_cases(db),
        me=current_user.name,
        attribute_pairs=attributes.pairs(db),
    )


def _query() -> dict:
    """The page's filters, to come back to after a change."""
    return {k: request.args[k] for k in FILTERS if request.args.get(k)}


@bp.route("/", methods=["POST"])
def add():
    """A memo on a transcript, a case or the project (segment memos are written in the coding view)."""
    form, target = request.form, request.form.get("target")
    try:
        memos.add(
            get_db(),
            current_user.name,
            form.get("text", ""),
            transcript=row_id(form.get("transcript", "")) if target == "transcript" else None,
            case=form.get("case") if target == "case" else None,
            project=target == "project",
        )
        flash("メモを保存しました。")
    except (NotFound, Forbidden):
        raise
    except CoderError as exc:
        flash(f"メモを保存できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("memos.index"))


@bp.route("/<int:memo_id>/edit", methods=["POST"])
def edit(memo_id):
    try:
        change(memos.edit, memo_id, request.form.get("text", ""))
        flash("メモを更新しました。")
    except (NotFound, Forbidden):
        raise
    except CoderError as exc:
        flash(f"メモを更新できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("memos.index", **_query()))


@bp.route("/<int:memo_id>/delete", methods=["POST"])
def delete(memo_id):
    change(memos.delete, memo_id)  # unknown → 404, not yours → 403
    flash("メモを削除しました。")
    return redirect(url_for("memos.index", **_query()))
