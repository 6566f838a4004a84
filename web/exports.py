"""The export page: pick a format (every entry of ``coder.export.EXPORTERS``), a source and a scope;
the file is written to a temporary folder and sent as a download."""

import io
import mimetypes
import tempfile

from flask import Blueprint, render_template, request, send_file

from coder import attributes, export, layers
from coder import db as store
from coder.errors import CoderError, Forbidden, NotFound, japanese
from coder.matrix import BY

from .database import get_codebook, get_db
from .policy import policy

bp = Blueprint("exports", __name__, url_prefix="/export")
KINDS = {
    "quotes": "コード別の引用",
    "matrix": "立場 × コード マトリクス",
    "project": "プロジェクト全体（REFI-QDA）",
    "codebook": "コードブック（REFI-QDA）",
    "memos": "メモ",
}


def _download(db, form):
    with tempfile.TemporaryDirectory(prefix="coder-export-") as folder:
        path = export.run(
            db,
            form.get("format", ""),
            folder,
            get_codebook(),
            form.get("source") or None,
            form.get("by") or "perspective",
            form.get("case") or None,
            form.get("transcript") or None,
            policy=policy(),
            pseudonymise=form.get("pseudonymise") == "1",
            where=attributes.parse_filters(form.get("attribute") or []),
        )
        data = io.BytesIO(path.read_bytes())
    return send_file(
        data,
        as_attachment=True,
        download_name=path.name,
        mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
    )


@bp.route("/", methods=["GET", "POST"])
def index():
    db, error = get_db(), None
    sources = policy().sources(db)
    if request.method == "POST":
        try:
            return _download(db, request.form)
        except (NotFound, Forbidden):
            raise  # the app's handlers answer 404/403
        except CoderError as exc:
            error = japanese(exc)
    exporters = export.load().values()
    default = policy().default_source()  # the source preselected for quotes and the matrix
    empty = None if layers.codings_for(db, default, get_codebook().ids) else layers.source_label(default)
    return render_template(
        "export/index.html",
        groups={k: [e for e in exporters if e.kind == k] for k in KINDS},
        kinds=KINDS,
        sources=sources,
        by=[*BY, *(f"attr:{n}" for n in attributes.names(db))],
        cases=store.list_cases(db),
        form=request.form,
        error=error,
        attribute_pairs=attributes.pairs(db),
        transcripts=store.transcript_names(db),
        nothing_coded=empty,
    ), 400 if error else 200
