"""The JSON API the pages' own JavaScript uses; same login and CSRF rules as the pages."""

from flask import Blueprint, jsonify, request
from flask_login import current_user

from coder import access, coding, memos
from coder.layers import RECODE

from .database import get_codebook, get_db, transcript_or_404
from .memos import change
from .policy import policy
from .tasks import retrainer, schedule

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/transcripts/<int:transcript_id>/segments")
def segments(transcript_id):
    db = get_db()
    transcript_or_404(db, transcript_id)
    states = coding.states(db, current_user.name, transcript_id, show_others=policy().sees_others)
    notes = memos.by_segment(db, policy(), [s["id"] for s in states])  # blind: only my own segment memos
    for s in states:
        s["memos"] = [_memo(m) for m in notes.get(s["id"], [])]
    return jsonify(transcript=transcript_id, segments=states)


def _memo(m: dict) -> dict:
    return {"id": m["id"], "author": m["author"], "text": m["text"], "mine": m["author"] == current_user.name}


def _text(data) -> str:
    data = data if isinstance(data, dict) else {}
    return data.get("text") if isinstance(data.get("text"), str) else ""


def _segment_memos(db, segment_id: int | None) -> list[dict]:
    return [_memo(m) for m in memos.by_segment(db, policy(), [segment_id]).get(segment_id, [])]


@bp.route("/segments/<int:segment_id>/memos", methods=["POST"])
def add_memo(segment_id):
    """A memo by the current user on a segment ({"text": …}); returns the segment's memos the user
    may see. Unknown segment → 404, no text → 400."""
    db = get_db()
    memos.add(db, current_user.name, _text(request.get_json(silent=True)), segment_id=segment_id)
    return jsonify(memos=_segment_memos(db, segment_id)), 201


@bp.route("/memos/<int:memo_id>", methods=["POST"])
def edit_memo(memo_id):
    """Change the current user's own memo ({"text": …}), or delete it with an empty text; returns its
    segment's memos. Someone else's memo → 403."""
    text = _text(request.get_json(silent=True))
    memo = change(memos.edit, memo_id, text) if text.strip() else change(memos.delete, memo_id)
    return jsonify(memos=_segment_memos(get_db(), memo["segment_id"]))


@bp.route("/recode/segments")
def recode_segments():
    """The caller's blind re-coding sample: no suggestions, no earlier codes, nobody else's codes."""
    db = get_db()
    ids = coding.recode_sample(db, current_user.name)
    return jsonify(
        segments=coding.states(
            db, current_user.name + RECODE, segment_ids=ids, show_others=False, show_suggestions=False
        )
    )


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
    state = coding.apply(db, segment_id, coder, data.get("action"), get_codebook(), data.get("code"), recode=recode)
    if data.get("action") == "review" and not recode and not access.blind(db):  # blind: only the consensus trains
        schedule(state["transcript_id"])
    if recode or not policy().sees_others:
        state["others"] = {}
    return jsonify(segment=state)


@bp.route("/undo", methods=["POST"])
def undo():
    """Take back the caller's last coding action (``layer: "recode"``: on their re-coding layer)."""
    data = request.get_json(silent=True)
    recode = isinstance(data, dict) and data.get("layer") == "recode"
    coder = current_user.name + RECODE if recode else current_user.name
    if not policy().may_write(coder):
        return jsonify(error="この層には書き込めません。"), 403
    state = coding.undo(get_db(), coder, get_codebook(), recode=recode)
    if state is None:
        return jsonify(segment=None, message="元に戻せる操作はありません。")
    if recode or not policy().sees_others:
        state["others"] = {}
    return jsonify(segment=state)


@bp.route("/codebook")
def codebook():
    book = get_codebook()
    return jsonify(
        version=book.version_tag,
        codes=[
            {
                "id": c.id,
                "name": c.name,
                "name_en": c.name_en,
                "group": c.group,
                "key": i + 1 if i < 8 else None,
                "parent": c.parent,
                "color": c.color,
                "status": c.status,
            }
            for i, c in enumerate(book.active + [c for c in book.codes if c.status != "active"])
        ],
    )


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
