"""The export page: pick a format (every entry of ``coder.export.EXPORTERS``), a source and a scope;
the file is written to a temporary folder and sent as a download."""

import io
import mimetypes
import tempfile

from flask import Blueprint, render_template, request, send_file
from flask_login import current_user

from coder import export, layers
from coder.errors import CoderError
from coder.matrix import BY

from .api import show_others
from .database import get_codebook, get_db

bp = Blueprint("exports", __name__, url_prefix="/export")
KINDS = {"quotes": "コード別の引用", "matrix": "立場 × コード マトリクス", "project": "プロジェクト全体（REFI-QDA）",
         "codebook": "コードブック（REFI-QDA）"}


def _sources(db) -> list[str]:
    """Sources this user may export: in blind mode an analyst gets only their own codes and the model's."""
    if not show_others(db):
        return [current_user.name, layers.MODEL]
    return ["consensus", "all", *layers.analysts(db), layers.MODEL]


def _download(db, form, sources):
    source = form.get("source", "")
    if source not in sources:
        raise CoderError(f"出典 {source!r} はこの画面では選べません。")
    with tempfile.TemporaryDirectory(prefix="coder-export-") as folder:
        path = export.run(db, form.get("format", ""), folder, get_codebook(), source, form.get("by") or "perspective",
                          form.get("case") or None, form.get("transcript") or None)
        data = io.BytesIO(path.read_bytes())
    return send_file(data, as_attachment=True, download_name=path.name,
                     mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream")


@bp.route("/", methods=["GET", "POST"])
def index():
    db, error = get_db(), None
    sources = _sources(db)
    if request.method == "POST":
        try:
            return _download(db, request.form, sources)
        except CoderError as exc:
            error = str(exc)
    exporters = export.load().values()
    cases = [r["case_name"] for r in db.query(
        "select distinct case_name from transcripts where case_name is not null order by case_name")]
    return render_template("export/index.html", groups={k: [e for e in exporters if e.kind == k] for k in KINDS},
                           kinds=KINDS, sources=sources, by=BY, cases=cases, form=request.form, error=error,
                           transcripts=list(db.query("select id, name from transcripts order by id"))), \
        400 if error else 200
