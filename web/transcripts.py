"""Browse transcripts and their coding units (read-only until the coding UI lands)."""

from flask import Blueprint, render_template

from coder import db as store

from .database import get_db

bp = Blueprint("transcripts", __name__)


@bp.route("/")
def index():
    return render_template("transcripts/index.html", transcripts=store.list_transcripts(get_db()))


@bp.route("/transcripts/<int:transcript_id>")
def show(transcript_id):
    db = get_db()
    transcript = store.find_transcript(db, transcript_id)
    segments = list(store.iter_segments(db, transcript_id))
    return render_template("transcripts/show.html", transcript=transcript, segments=segments)
