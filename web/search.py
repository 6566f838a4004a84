"""The search page: find words in the segments (KWIC) and code the hits an analyst ticks."""

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from coder import attributes, layers
from coder import db as store
from coder import search as finder
from coder.speakers import PERSPECTIVES

from .database import get_codebook, get_db
from .policy import policy, row_id

bp = Blueprint("search", __name__, url_prefix="/search")
LIMIT = 500  # hits shown on one page
FILTERS = ("perspective", "case", "speaker", "transcript", "code", "coder", "attribute")


def _params() -> dict:
    a = request.args
    return {
        "query": a.get("q", "").strip(),
        "lemma": a.get("mode") == "lemma",
        "uncoded": a.get("uncoded") == "1",
        "all_turns": a.get("all_turns") == "1",
        **{k: a.get(k) or None for k in FILTERS},
    }


@bp.route("/")
def index():
    """The query form and, for a query, its hits as a KWIC table (at most ``LIMIT``)."""
    db, params = get_db(), _params()
    hits = finder.search(db, policy=policy(), **params) if params["query"] else []  # 400/403/404
    transcripts = store.list_transcripts(db)
    # the codes the current user confirmed on each hit's segment
    mine = layers.confirmed_by(db, current_user.name, sorted({h["segment_id"] for h in hits[:LIMIT]}))
    return render_template(
        "search/index.html",
        hits=hits[:LIMIT],
        total=len(hits),
        limit=LIMIT,
        params=params,
        mine=mine,
        last_code=session.get("search_code"),
        code_names={c.id: c.name for c in get_codebook().codes},
        codebook=get_codebook(),
        perspectives=PERSPECTIVES,
        transcripts=transcripts,
        cases=sorted({t["case_name"] for t in transcripts} - {None}),
        coders=[s for s in policy().sources(db) if s != layers.MODEL],
        attribute_pairs=attributes.pairs(db),
    )


@bp.route("/code", methods=["POST"])
def code():
    """Confirm one code, as the current user, on every ticked hit (each change logged by coding.apply)."""
    db, book, code_id = get_db(), get_codebook(), request.form.get("code", "")
    if not policy().may_write(current_user.name):
        abort(403)
    ids = [row_id(v) for v in request.form.getlist("segment")]  # 404 for a forged id
    if not ids:
        flash("コードを付ける結果が選ばれていません。", "error")
    else:
        n = finder.code_hits(db, ids, current_user.name, book, code_id)  # unknown code → 400
        session["search_code"] = code_id  # offered first next time
        flash(f"{n} 件のセグメントに「{book.code(code_id).name}」を付けました。")
    back = urlencode(parse_qsl(request.form.get("back", "")))  # only a query string: never another site
    return redirect(url_for("search.index") + ("?" + back if back else ""))
