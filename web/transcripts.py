"""The dashboard (transcripts with my progress), speaker → perspective mapping, blind mode."""

import json
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coder import access, attributes
from coder import db as store
from coder import transcripts as manage
from coder.coding import progress, recode_sample
from coder.errors import CoderError, Forbidden, japanese
from coder.speakers import PERSPECTIVES, SpeakerMapError, perspective_id

from .auth import supervisor_required
from .database import get_codebook, get_db, transcript_or_404
from .policy import policy
from .tasks import schedule

bp = Blueprint("transcripts", __name__)
READ_ONLY = "話者の立場を変更できるのはスーパーバイザーだけです。"
MANAGE_ONLY = "トランスクリプトの名前の変更・削除・差し替えができるのはスーパーバイザーだけです。"


@bp.route("/")
def index():
    db, chosen = get_db(), request.args.get("attribute") or None
    rows = store.list_transcripts(db)
    if chosen:  # not NAME=VALUE → 400, unknown name → 404
        keep = attributes.transcripts_where(db, attributes.parse_filters(chosen))
        rows = [t for t in rows if t["id"] in keep]
    return render_template(
        "transcripts/index.html",
        transcripts=rows,
        values=attributes.effective(db),
        attribute_pairs=attributes.pairs(db),
        chosen=chosen,
        progress=progress(db, current_user.name),
        blind=access.blind(db),
        perspectives=PERSPECTIVES,
        recode=len(recode_sample(db, current_user.name)),
    )


@bp.route("/transcripts/<int:transcript_id>/speakers", methods=["GET", "POST"])
def speakers(transcript_id):
    """Speaker → perspective mapping: a supervisor changes it (each change logged), analysts read it."""
    db = get_db()
    transcript = transcript_or_404(db, transcript_id)
    rows = store.list_speakers(db, transcript_id)
    if request.method == "POST":
        if not policy().may_supervise:
            raise Forbidden(READ_ONLY)
        try:
            changes = [
                (r["speaker"], perspective_id(request.form[f"speaker-{r['speaker']}"]))
                for r in rows
                if request.form.get(f"speaker-{r['speaker']}", r["perspective"]) != r["perspective"]
            ]
            store.set_speakers(db, changes, current_user.name, transcript_id)  # all or nothing
        except (SpeakerMapError, CoderError) as exc:
            flash(f"話者の立場を保存できませんでした：{japanese(exc)}", "error")
            return _speakers_page(db, transcript, rows), 400
        flash("話者の立場を保存しました。")
        return redirect(url_for("transcripts.index"))
    return _speakers_page(db, transcript, rows)


def _speakers_page(db, transcript: dict, rows: list[dict]) -> str:
    return render_template(
        "transcripts/speakers.html",
        transcript=transcript,
        speakers=rows,
        perspectives=PERSPECTIVES,
        may_change=policy().may_supervise,
        read_only=READ_ONLY,
        changes=store.speaker_changes(db, transcript["id"]),
        **_import_record(transcript),
    )


def _import_record(transcript: dict) -> dict:
    """How the source was read and what its import left out (stored at import; older projects: none)."""
    from .importer import LAYOUTS_JA, note_ja

    notes = json.loads(transcript.get("import_notes") or "[]")
    return {
        "layout": LAYOUTS_JA.get(transcript.get("layout") or "", ""),
        "import_notes": [(where, note_ja(what), text) for where, what, text in notes],
    }


def _manage_or_403(transcript_id: int) -> dict:
    if not policy().may_supervise:
        abort(403, MANAGE_ONLY)
    return transcript_or_404(get_db(), transcript_id)


@bp.route("/transcripts/<int:transcript_id>/rename", methods=["POST"])
def rename(transcript_id):
    """A new name for a transcript (unique; logged)."""
    _manage_or_403(transcript_id)
    try:
        t = manage.rename(get_db(), transcript_id, request.form.get("name", ""), user=current_user.name)
        flash(f"トランスクリプトの名前を「{t['name']}」に変更しました。")
    except CoderError as exc:
        flash(f"名前を変更できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("transcripts.speakers", transcript_id=transcript_id))


@bp.route("/transcripts/<int:transcript_id>/remove", methods=["GET", "POST"])
def remove(transcript_id):
    """A confirmation page (what will be deleted), then the removal after a backup."""
    db, transcript = get_db(), _manage_or_403(transcript_id)
    if request.method == "GET":
        return render_template(
            "transcripts/remove.html", transcript=transcript, counts=manage.counts(db, transcript_id)
        )
    result = manage.remove(db, transcript_id, user=current_user.name)
    flash(f"「{transcript['name']}」を削除しました（削除前のバックアップ：{result['backup'] or 'なし'}）。")
    return redirect(url_for("transcripts.index"))


@bp.route("/transcripts/<int:transcript_id>/replace", methods=["POST"])
def replace(transcript_id):
    """Replace the text by an uploaded corrected file; show which segments kept their codings."""
    from coder.segment import load_nlp

    from .importer import safe_name

    _manage_or_403(transcript_id)
    upload = request.files.get("file")
    if not upload or not upload.filename:
        flash("ファイルが選択されていません。", "error")
        return redirect(url_for("transcripts.speakers", transcript_id=transcript_id))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / safe_name(upload.filename)
        upload.save(path)
        try:
            result = manage.replace(get_db(), transcript_id, path, user=current_user.name, nlp=load_nlp())
        except CoderError as exc:
            message = japanese(exc).replace(str(path), path.name)  # the upload's own name, not its temporary copy
            flash(f"差し替えられませんでした（何も変更していません）：{message}", "error")
            return redirect(url_for("transcripts.speakers", transcript_id=transcript_id))
    schedule(transcript_id)  # suggestions for the new segments
    names = {c.id: c.name for c in get_codebook().codes}
    return render_template("transcripts/replaced.html", result=result, names=names)


@bp.route("/settings/blind", methods=["POST"])
@supervisor_required
def set_blind():
    on = request.form.get("blind") == "1"
    access.set_blind(get_db(), on)
    flash("ブラインドモードをオンにしました。" if on else "ブラインドモードをオフにしました。")
    return redirect(url_for("transcripts.index"))
