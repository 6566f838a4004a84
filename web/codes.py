"""The codebook page: definitions, when to use and not, examples, rules, and how often each code is used."""

from flask import Blueprint, render_template

from coder.coding import code_counts
from coder.memos import list_memos

from .database import get_codebook, get_db
from .policy import policy

bp = Blueprint("codes", __name__)


@bp.route("/codebook")
def index():
    memos = {}
    for m in list_memos(get_db()):
        memos.setdefault(m["code"], []).append(m)
    counts = code_counts(get_db(), policy().visible_layers(get_db()))  # blind: only the user's own codings
    return render_template("codes/index.html", codebook=get_codebook(), counts=counts, memos=memos)
