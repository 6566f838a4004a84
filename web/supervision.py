"""Supervisor pages: agreement tables, disagreements with codebook memos, adjudication, re-code samples."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coder import agreement, attributes, coding
from coder import db as store
from coder.errors import CoderError, japanese
from coder.memos import add_memo, list_memos
from coder.speakers import PERSPECTIVES

from .database import get_codebook, get_db
from .policy import policy, row_id
from .tasks import schedule

bp = Blueprint("supervision", __name__, url_prefix="/agreement")


@bp.before_request
def only_supervisors():
    if not policy().may_supervise:
        abort(403)


@bp.route("/")
def index():
    db, book = get_db(), get_codebook()
    chosen = policy().check_layers(db, request.args.getlist("coders"))  # unknown → 404
    names = attributes.names(db)
    by_attr = request.args.get("attribute") or (names[0] if names else None)
    if by_attr is not None and by_attr not in names:
        abort(404)
    bys = (*agreement.BY, *((f"{attributes.PREFIX}{by_attr}",) if by_attr else ()))
    tables, error = {}, None
    try:
        tables = agreement.project_agreements(db, book, chosen, bys)
    except CoderError as exc:
        error = japanese(exc)
    return render_template(
        "supervision/index.html",
        tables=tables,
        error=error,
        chosen=chosen,
        codebook=book,
        perspectives=PERSPECTIVES,
        thresholds=(agreement.RELIABLE, agreement.TENTATIVE),
        attribute_names=names,
        by_attr=by_attr,
        **agreement.overview(db, book),
    )


@bp.route("/disagreements")
def disagreements():
    db, book = get_db(), get_codebook()
    code = request.args.get("code") if request.args.get("code") in book.ids else None
    coders = request.args.getlist("coders")
    rows = agreement.disagreements(db, book, policy().check_layers(db, coders) if coders else None, code)
    return render_template(
        "supervision/disagreements.html",
        rows=rows,
        code=code,
        codebook=book,
        memos=list_memos(db, code),
        perspectives=PERSPECTIVES,
    )


@bp.route("/memos", methods=["POST"])
def memo():
    try:
        segment = request.form.get("segment_id")
        add_memo(
            get_db(),
            request.form.get("code", ""),
            current_user.name,
            request.form.get("text", ""),
            get_codebook(),
            row_id(segment) if segment else None,
        )
        flash("コードブックの明確化メモを保存しました。")
    except CoderError as exc:
        flash(f"メモを保存できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("supervision.disagreements", code=request.form.get("code")))


@bp.route("/adjudicate")
def queue():
    book, show_all = get_codebook(), request.args.get("all") == "1"
    pending, total = agreement.adjudication_queue(get_db(), book, show_all)  # with the codes to pre-tick
    return render_template(
        "supervision/adjudicate.html",
        rows=pending,
        total=total,
        show_all=show_all,
        codebook=book,
        perspectives=PERSPECTIVES,
    )


@bp.route("/adjudicate/<int:segment_id>", methods=["POST"])
def adjudicate(segment_id):
    try:
        codes = coding.adjudicate(
            get_db(), segment_id, request.form.getlist("codes"), current_user.name, get_codebook()
        )
        schedule(store.transcript_of(get_db(), segment_id))  # settled codes train the suggestions
        flash(f"セグメント {segment_id} を裁定しました：{'、'.join(codes) or 'コードなし'}")
    except CoderError as exc:
        flash(f"裁定できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("supervision.queue", all=request.args.get("all")))


@bp.route("/recode", methods=["POST"])
def draw_recode():
    try:
        n = agreement.draw_recode_sample(
            get_db(),
            request.form["coder"],
            int(request.form.get("size", 20)),
            float(request.form.get("min_age_days", 14)),
        )  # checked there
        flash(f"{request.form['coder']} さんの再コーディング対象は {n} セグメントになりました。")
    except (CoderError, ValueError, KeyError) as exc:
        flash(f"抽出できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("supervision.index"))
