"""The matrix page: perspective (or case, transcript, attribute) × code heatmap; a cell opens its quotes
and its summary (``coder.summaries``: the team's synthesis of the cell, with the quotes it rests on)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coder import attributes, summaries
from coder import db as store
from coder import matrix as synthesis
from coder.speakers import PERSPECTIVES

from .database import get_codebook, get_db
from .policy import policy, row_id

bp = Blueprint("matrix", __name__, url_prefix="/matrix")


def _params(a=None):
    a = request.args if a is None else a
    by = a.get("by") if a.get("by") in synthesis.BY or (a.get("by") or "").startswith("attr:") else "perspective"
    return {
        "by": by,
        "source": a.get("source") or policy().default_source(),
        "case": a.get("case") or None,
        "transcript": a.get("transcript") or None,
        "attribute": a.get("attribute") or None,
    }


def _build(db, params: dict, quotes: int) -> dict:
    """``coder.matrix.build`` for the page's parameters (``attribute``: one ``NAME=VALUE`` filter)."""
    args = {k: v for k, v in params.items() if k != "attribute"}
    where = attributes.parse_filters(params["attribute"] or [])  # not NAME=VALUE → 400
    return synthesis.build(db, get_codebook(), quotes=quotes, policy=policy(), where=where, **args)  # or 403/404


def _choices(db):
    return {
        "sources": policy().sources(db),
        "cases": store.list_cases(db),
        "transcripts": store.transcript_names(db),
        "attribute_names": attributes.names(db),
        "attribute_pairs": attributes.pairs(db),
    }


@bp.route("/")
def index():
    db, params = get_db(), _params()
    measure = "share" if request.args.get("measure") == "share" else "segments"
    result = _build(db, params, quotes=1)
    values = [c[measure] for row in result["cells"].values() for c in row.values()]
    top = max(values, default=0) or 1
    heat = {
        k: {code: round(9 * cell[measure] / top) for code, cell in row.items()} for k, row in result["cells"].items()
    }
    return render_template(
        "matrix/index.html",
        m=result,
        heat=heat,
        measure=measure,
        params=params,
        codebook=get_codebook(),
        perspectives=PERSPECTIVES,
        summaries=summaries.for_matrix(db, result),
        **_choices(db),
    )


@bp.route("/cell")
def cell():
    db, params = get_db(), _params()
    row, code = request.args.get("row"), request.args.get("code")
    result = _build(db, params, quotes=200)
    if row not in result["cells"] or code not in result["codes"]:
        abort(404)
    summary = summaries.get_summary(db, result["by"], row, code)  # shown to everyone, as blind mode allows
    quotes, linked = summaries.with_evidence(db, summary, result["cells"][row][code]["quotes"])
    hidden = 0
    if not policy().sees_others:  # evidence outside the user's own cell would show where others coded
        hidden, linked = len(linked), []
    return render_template(
        "matrix/cell.html",
        m=result,
        row=row,
        code=code,
        cell=result["cells"][row][code],
        params=params,
        codebook=get_codebook(),
        perspectives=PERSPECTIVES,
        summary=summary,
        quotes=quotes,
        linked=linked,
        hidden=hidden,
        may_write=policy().may_write(current_user.name),
    )


@bp.route("/summary", methods=["POST"])
def summary():
    """Save (an empty text: delete) the summary of a cell with the quotes ticked as its evidence."""
    form, params = request.form, _params(request.form)
    if not policy().may_write(current_user.name):
        abort(403)
    ids = [row_id(v) for v in form.getlist("segment")]  # 404 for a forged id
    db = get_db()
    if not policy().sees_others:  # links this user was not shown (blind mode) stay as they are
        before = summaries.get_summary(db, params["by"], form.get("row", ""), form.get("code", ""))
        if before:
            cell = _build(db, params, quotes=200)["cells"].get(form.get("row"), {}).get(form.get("code"), {})
            shown = {q["segment_id"] for q in cell.get("quotes", [])}
            ids += [i for i in before["segments"] if i not in shown and i not in ids]
    saved = summaries.set_summary(
        db,
        params["by"],
        form.get("row", ""),
        form.get("code", ""),
        form.get("text", ""),
        user=current_user.name,
        segment_ids=ids,
        codebook=get_codebook(),
    )  # unknown row → 404, unknown code or too long → 400
    flash("要約を保存しました。" if saved else "要約を削除しました。")
    back = {k: v for k, v in params.items() if v is not None}
    return redirect(url_for("matrix.cell", row=form.get("row"), code=form.get("code"), **back))
