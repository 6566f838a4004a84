"""Supervisor pages: agreement tables, disagreements with codebook memos, adjudication, re-code samples."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coder import agreement, attributes, coding, layers
from coder import db as store
from coder.errors import CoderError
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
    choices = layers.all_layers(db) + ([layers.model_layer(db)] if layers.model_layer(db) else [])
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
        error = str(exc)
    return render_template("supervision/index.html", tables=tables, error=error, choices=choices, chosen=chosen,
                           codebook=book, perspectives=PERSPECTIVES, model=agreement.model_report(db, book),
                           intra=agreement.intra_coder(db, book), analysts=layers.analysts(db),
                           open_disputes=sum(d["consensus"] is None for d in agreement.disagreements(db, book)),
                           thresholds=(agreement.RELIABLE, agreement.TENTATIVE), attribute_names=names,
                           by_attr=by_attr)


@bp.route("/disagreements")
def disagreements():
    db, book = get_db(), get_codebook()
    code = request.args.get("code") if request.args.get("code") in book.ids else None
    coders = request.args.getlist("coders")
    rows = agreement.disagreements(db, book, policy().check_layers(db, coders) if coders else None, code)
    return render_template("supervision/disagreements.html", rows=rows, code=code, codebook=book,
                           memos=list_memos(db, code), perspectives=PERSPECTIVES)


@bp.route("/memos", methods=["POST"])
def memo():
    try:
        segment = request.form.get("segment_id")
        add_memo(get_db(), request.form.get("code", ""), current_user.name, request.form.get("text", ""),
                 get_codebook(), row_id(segment) if segment else None)
        flash("コードブックの明確化メモを保存しました。")
    except CoderError as exc:
        flash(f"メモを保存できませんでした：{exc}", "error")
    return redirect(url_for("supervision.disagreements", code=request.form.get("code")))


@bp.route("/adjudicate")
def queue():
    db, book = get_db(), get_codebook()
    rows = agreement.disagreements(db, book)
    show_all = request.args.get("all") == "1"
    pending = [r for r in rows if show_all or r["consensus"] is None]
    for r in pending:  # preselect the codes most coders chose (or the consensus already given)
        votes = [c for codes in r["codes"].values() for c in codes]
        r["preselected"] = r["consensus"] if r["consensus"] is not None else \
            [c for c in book.ids if votes.count(c) * 2 > len(r["codes"])]
    return render_template("supervision/adjudicate.html", rows=pending, total=len(rows), show_all=show_all,
                           codebook=book, perspectives=PERSPECTIVES)


@bp.route("/adjudicate/<int:segment_id>", methods=["POST"])
def adjudicate(segment_id):
    try:
        codes = coding.adjudicate(get_db(), segment_id, request.form.getlist("codes"), current_user.name,
                                  get_codebook())
        schedule(store.transcript_of(get_db(), segment_id))  # settled codes train the suggestions
        flash(f"セグメント {segment_id} を裁定しました：{'、'.join(codes) or 'コードなし'}")
    except CoderError as exc:
        flash(f"裁定できませんでした：{exc}", "error")
    return redirect(url_for("supervision.queue", all=request.args.get("all")))


@bp.route("/recode", methods=["POST"])
def draw_recode():
    try:
        n = agreement.draw_recode_sample(get_db(), request.form["coder"], int(request.form.get("size", 20)),
                                         float(request.form.get("min_age_days", 14)))  # checked there
        flash(f"{request.form['coder']} さんの再コーディング対象は {n} セグメントになりました。")
    except (CoderError, ValueError, KeyError) as exc:
        flash(f"抽出できませんでした：{exc}", "error")
    return redirect(url_for("supervision.index"))
