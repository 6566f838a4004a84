"""The findings report as a download (``coder.report``): Word, one HTML file, or Markdown zipped with
its chart folder. The user's policy decides the source (default: theirs, as on the matrix page)."""

import io
import tempfile
from pathlib import Path

from flask import Blueprint, request, send_file

from coder import attributes
from coder import report as findings
from coder.errors import CoderError

from .database import get_codebook, get_db
from .policy import policy

bp = Blueprint("report", __name__, url_prefix="/report")
MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "md": "application/zip",
}  # Flask adds the charset to text/*


@bp.route("/")
def index():
    a = request.args
    fmt = a.get("format") or "docx"
    if fmt not in findings.FORMATS:
        raise CoderError(f"形式は {'、'.join(findings.FORMATS)} のいずれかです（{fmt!r} は使えません）")
    book, source = get_codebook(), a.get("source") or policy().default_source()
    result = findings.build(
        get_db(),
        book,
        source,
        a.get("by") or "perspective",
        policy=policy(),  # or 403/404
        where=attributes.parse_filters(a.getlist("attribute")),
    )
    with tempfile.TemporaryDirectory(prefix="coder-report-") as folder:
        path = findings.write(result, Path(folder) / findings.file_name(fmt, result["meta"]["source"]), fmt, book)
        data = findings.markdown_zip(path) if fmt == "md" else path.read_bytes()
    name = path.with_suffix(".zip").name if fmt == "md" else path.name
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=MIMETYPES[fmt])
