"""The matrix page: perspective (or case, transcript, attribute) × code heatmap; a cell opens its quotes."""

from flask import Blueprint, abort, render_template, request

from coder import attributes
from coder import matrix as synthesis
from coder.speakers import PERSPECTIVES

from .database import get_codebook, get_db
from .policy import policy

bp = Blueprint("matrix", __name__, url_prefix="/matrix")


def _params():
    a = request.args
    by = a.get("by") if a.get("by") in synthesis.BY or (a.get("by") or "").startswith("attr:") else "perspective"
    return {"by": by, "source": a.get("source") or policy().default_source(), "case": a.get("case") or None,
            "transcript": a.get("transcript") or None, "attribute": a.get("attribute") or None}


def _build(db, params: dict, quotes: int) -> dict:
    """``coder.matrix.build`` for the page's parameters (``attribute``: one ``NAME=VALUE`` filter)."""
    args = {k: v for k, v in params.items() if k != "attribute"}
    where = attributes.parse_filters(params["attribute"] or [])  # not NAME=VALUE → 400
    return synthesis.build(db, get_codebook(), quotes=quotes, policy=policy(), where=where, **args)  # or 403/404


def _choices(db):
    return {"sources": policy().sources(db),
            "cases": sorted({r["case_name"] for r in db.query("select distinct case_name from transcripts")} - {None}),
            "transcripts": list(db.query("select id, name from transcripts order by id")),
            "attribute_names": attributes.names(db), "attribute_pairs": attributes.pairs(db)}


@bp.route("/")
def index():
    db, params = get_db(), _params()
    measure = "share" if request.args.get("measure") == "share" else "segments"
    result = _build(db, params, quotes=1)
    values = [c[measure] for row in result["cells"].values() for c in row.values()]
    top = max(values, default=0) or 1
    heat = {k: {code: round(9 * cell[measure] / top) for code, cell in row.items()} for k, row in result["cells"].items()}
    return render_template("matrix/index.html", m=result, heat=heat, measure=measure, params=params,
                           codebook=get_codebook(), perspectives=PERSPECTIVES, **_choices(db))


@bp.route("/cell")
def cell():
    db, params = get_db(), _params()
    row, code = request.args.get("row"), request.args.get("code")
    result = _build(db, params, quotes=200)
    if row not in result["cells"] or code not in result["codes"]:
        abort(404)
    return render_template("matrix/cell.html", m=result, row=row, code=code, cell=result["cells"][row][code],
                           params=params, codebook=get_codebook(), perspectives=PERSPECTIVES)
