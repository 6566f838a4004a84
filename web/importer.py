"""Upload transcripts: same formats, encodings and errors as `coder ingest`; one transaction."""

import tempfile
import unicodedata
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for

from coder.errors import CoderError
from coder.ingest import ingest
from coder.segment import load_nlp
from coder.speakers import PERSPECTIVES, SpeakerMapError, parse_pairs

from .database import get_db
from .tasks import schedule

bp = Blueprint("importer", __name__)


def safe_name(filename: str) -> str:
    """The last path part of an uploaded file name, without control characters: '../x.txt' → 'x.txt'.

    Unlike werkzeug's secure_filename this keeps Japanese names (楓_本人.txt), which become
    transcript names.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return name[:200] or "upload.txt"


@bp.route("/import", methods=["GET", "POST"])
def upload():
    if request.method == "GET":
        return render_template("importer/upload.html", perspectives=PERSPECTIVES)
    files = [f for f in request.files.getlist("files") if f and f.filename]
    case = request.form.get("case", "").strip() or None
    try:
        if not files:
            raise CoderError("ファイルが選択されていません。")
        mapping = parse_pairs([line.strip() for line in request.form.get("speakers", "").splitlines() if line.strip()])
        with tempfile.TemporaryDirectory(prefix="coder-upload-") as tmp:
            paths = []
            for n, f in enumerate(files):
                path = Path(tmp, str(n), safe_name(f.filename))
                path.parent.mkdir()
                f.save(path)
                paths.append(path)
            try:
                report = ingest(get_db(), paths, nlp=load_nlp(), case=case, speaker_map=mapping)
            except CoderError as exc:  # name the uploaded file, not the temporary copy
                message = str(exc)
                for path in paths:
                    message = message.replace(str(path), path.name)
                raise CoderError(message) from exc
    except (CoderError, SpeakerMapError) as exc:
        flash(f"取り込めませんでした（何も変更していません）：{exc}", "error")
        return render_template("importer/upload.html", perspectives=PERSPECTIVES, case=case,
                               speakers=request.form.get("speakers", "")), 400
    for path, name in report.skipped:
        flash(f"{Path(path).name} は取り込み済みです（{name}）。変更はありません。")
    for t in report.imported:
        flash(f"{t.source_file} を「{t.name}」として取り込みました：{len(t.turns)} 発言、{len(t.segments)} セグメント。")
        schedule(t.id)
    unknown = report.unknown_speakers()
    if len(report.imported) == 1 and unknown:
        return redirect(url_for("transcripts.speakers", transcript_id=report.imported[0].id))
    for name, speakers in unknown.items():
        flash(f"{name}：立場が未設定の話者がいます（{'、'.join(speakers)}）。話者の設定から選んでください。", "error")
    return redirect(url_for("transcripts.index"))
