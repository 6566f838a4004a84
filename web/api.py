"""The JSON API the pages' own JavaScript uses; same login and CSRF rules as the pages."""

from flask import Blueprint, jsonify, request
from flask_login import current_user

from coder import access, coding
from coder.layers import RECODE

from .database import get_codebook, get_db, transcript_or_404
from .policy import policy
from .tasks import retrainer, schedule

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/transcripts/<int:transcript_id>/segments")
def segments(transcript_id):
    db = get_db()
    transcript_or_404(db, transcript_id)
    return jsonify(transcript=transcript_id,
                   segments=coding.states(db, current_user.name, transcript_id, show_others=policy().sees_others))


@bp.route("/recode/segments")
def recode_segments():
    """The caller's blind re-coding sample: no suggestions, no earlier codes, nobody else's codes."""
    db = get_db()
    ids = coding.recode_sample(db, current_user.name)
    return jsonify(segments=coding.states(db, current_user.name + RECODE, segment_ids=ids, show_others=False,
                                          show_suggestions=False))


@bp.route("/segments/<int:segment_id>/actions", methods=["POST"])
def act(segment_id):
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}  # a list, number or string body is no action at all
    db = get_db()
    recode = data.get("layer") == "recode"
    if recode and segment_id not in coding.recode_sample(db, current_user.name):
        return jsonify(error=f"セグメント {segment_id} は再コーディングの対象ではありません。"), 400
    coder = current_user.name + RECODE if recode else current_user.name
    if not policy().may_write(coder):
        return jsonify(error="この層には書き込めません。"), 403
    # unknown segment → 404, bad action or code → 400 (web/policy.py)
    state = coding.apply(db, segment_id, coder, data.get("action"), get_codebook(), data.get("code"), blind=recode)
    if data.get("action") == "review" and not recode and not access.blind(db):  # blind: only the consensus trains
        schedule(state["transcript_id"])
    if recode or not policy().sees_others:
        state["others"] = {}
    return jsonify(segment=state)


@bp.route("/codebook")
def codebook():
    book = get_codebook()
    return jsonify(version=book.version_tag,
                   codes=[{"id": c.id, "name": c.name, "name_en": c.name_en, "group": c.group, "key": i + 1}
                          for i, c in enumerate(book.codes)])


@bp.route("/transcripts/<int:transcript_id>/suggestions", methods=["POST"])
def resuggest(transcript_id):
    """Compute a transcript's suggestions again (the coding page's button after a failed run)."""
    transcript_or_404(get_db(), transcript_id)
    schedule(transcript_id)
    return jsonify(retraining=retrainer().status()), 202


@bp.route("/status")
def status():
    return jsonify(retraining=retrainer().status())


@bp.errorhandler(404)
def not_found(exc):
    return jsonify(error="見つかりません。"), 404
