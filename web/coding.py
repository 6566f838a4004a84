"""The transcript coding view: turns and segments; the page's JavaScript does the coding via /api/."""

from itertools import groupby

from flask import Blueprint, render_template, request
from flask_login import current_user

from coder import coding
from coder import db as store
from coder.speakers import PERSPECTIVES

from .database import get_codebook, get_db, transcript_or_404
from .tasks import schedule

bp = Blueprint("coding", __name__)


@bp.route("/transcripts/<int:transcript_id>")
def show(transcript_id):
    db = get_db()
    transcript = transcript_or_404(db, transcript_id)
    order = "uncertain" if request.args.get("order") == "uncertain" else "reading"
    segments = list(store.iter_segments(db, transcript_id))
    ids = {s["index"]: i for i, s in enumerate(segments)}
    queue = []
    if order == "uncertain":  # unfinished segments, least certain suggestions first; finished ones last
        queue = [segments[ids[s["idx"]]] for s in coding.review_queue(db, current_user.name, transcript_id)]
    if not coding.has_suggestions(db, transcript_id):  # e.g. the server stopped before they were computed
        schedule(transcript_id)
    turns = [(turn, list(group)) for turn, group in groupby(segments, key=lambda s: s["turn"])]
    return render_template(
        "coding/show.html",
        transcript=transcript,
        turns=turns,
        queue=queue,
        order=order,
        codebook=get_codebook(),
        perspectives=PERSPECTIVES,
        progress=coding.progress(db, current_user.name).get(transcript_id),
    )


@bp.route("/recode")
def recode():
    """My blind re-coding sample (intra-coder agreement), drawn by a supervisor or `coder recode`."""
    db = get_db()
    ids = set(coding.recode_sample(db, current_user.name))
    segments = [s for s in coding.states(db, current_user.name, segment_ids=sorted(ids), show_suggestions=False)]
    return render_template("coding/recode.html", segments=segments, codebook=get_codebook(), perspectives=PERSPECTIVES)
