"""Charts: the matrix as images (heatmap, per-code bars; PNG or SVG) and the code co-occurrence page.

The images take the matrix page's parameters and build the matrix through its ``_params``/``_build``,
so the same access policy decides what they show (blind mode: 403, unknown source: 404).
``?download=1`` sends an image as a file to save instead of showing it.
"""

import io

from flask import Blueprint, render_template, request, send_file

from coder import attributes, charts, cooccurrence

from .database import get_codebook, get_db
from .matrix import _build, _params
from .policy import policy

bp = Blueprint("charts", __name__, url_prefix="/charts")
MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _image(draw, name: str, fmt: str, data: dict, **options):
    """``draw(data, codebook, out, fmt, **options)`` into memory, sent as ``name.fmt``."""
    buffer = io.BytesIO()
    draw(data, get_codebook(), buffer, fmt, **options)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype=MIMETYPES[fmt],
        as_attachment=request.args.get("download") == "1",
        download_name=f"{name}.{fmt}",
    )


@bp.route("/heatmap.<any(png, svg):fmt>")
def heatmap(fmt):
    measure = "share" if request.args.get("measure") == "share" else "segments"
    return _image(charts.heatmap, "heatmap", fmt, _build(get_db(), _params(), quotes=0), measure=measure)


@bp.route("/bars.<any(png, svg):fmt>")
def bars(fmt):
    return _image(
        charts.bars, "bars", fmt, _build(get_db(), _params(), quotes=0), code=request.args.get("code") or None
    )  # an unknown code → 404


def _cooccurrence():
    """``coder.cooccurrence.compute`` for the query's source (default as on the matrix page), level
    and attribute filter (one ``NAME=VALUE``), with the parameters to carry on."""
    a = request.args
    level = a.get("level") if a.get("level") in cooccurrence.LEVELS else "segment"
    params = {
        "source": a.get("source") or policy().default_source(),
        "level": level,
        "attribute": a.get("attribute") or None,
    }
    result = cooccurrence.compute(
        get_db(),
        get_codebook(),
        params["source"],
        policy=policy(),
        where=attributes.parse_filters(params["attribute"] or []),
    )  # or 400/403/404
    return result, params


@bp.route("/cooccurrence.<any(png, svg):fmt>")
def network(fmt):
    result, params = _cooccurrence()
    return _image(charts.network, "cooccurrence", fmt, result, level=params["level"])


@bp.route("/cooccurrence")
def cooccurrence_page():
    result, params = _cooccurrence()
    db = get_db()
    return render_template(
        "charts/cooccurrence.html",
        co=result,
        params=params,
        codebook=get_codebook(),
        sources=policy().sources(db),
        attribute_pairs=attributes.pairs(db),
        edges=charts.EDGES,
        level_labels=cooccurrence.LEVEL_LABELS,
    )
