"""The name list of pseudonymised exports (supervisors only): review candidates, add names,
download the key table (placeholder → real name), which no export ever contains."""

import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from coder import pseudonymise
from coder.errors import CoderError, japanese

from .auth import supervisor_required
from .database import get_db

bp = Blueprint("names", __name__, url_prefix="/names")
ORIGINS = {"ner": "固有表現（GiNZA）", "speaker": "話者名", "manual": "手入力"}
STATUSES = {"candidate": "未確認（置き換える）", "replace": "置き換える", "keep": "そのままにする"}


@bp.before_request
@supervisor_required
def only_supervisors():
    pass


@bp.route("/")
def index():
    rows = pseudonymise.list_names(get_db(), request.args.get("show") or None)
    return render_template(
        "names/index.html",
        rows=rows,
        kinds=pseudonymise.KIND_LABELS,
        origins=ORIGINS,
        statuses=STATUSES,
        show=request.args.get("show"),
        waiting=len(pseudonymise.list_names(get_db(), "candidate")),
    )


@bp.route("/add", methods=["POST"])
def add():
    try:
        row = pseudonymise.add_name(
            get_db(), request.form.get("name", ""), request.form.get("kind", ""), current_user.name
        )
        flash(f"「{row['name']}」を {row['placeholder']} に置き換えます。")
    except CoderError as exc:
        flash(f"追加できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("names.index"))


@bp.route("/review", methods=["POST"])
def review():
    try:
        row = pseudonymise.review(
            get_db(), request.form.get("name", ""), request.form.get("status", ""), current_user.name
        )
        flash(f"「{row['name']}」：{STATUSES[row['status']]}")
    except CoderError as exc:
        flash(f"変更できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("names.index", show=request.args.get("show")))


@bp.route("/speakers", methods=["POST"])
def speakers():
    found = pseudonymise.scan(get_db())
    flash(f"話者名から {found['speakers']} 件の候補を追加しました。")
    return redirect(url_for("names.index"))


@bp.route("/key.csv")
def key():
    rows = pseudonymise.Pseudonymiser.from_db(get_db()).key()
    data = io.BytesIO(pseudonymise.key_csv(rows).encode("utf-8-sig"))
    response = send_file(data, as_attachment=True, download_name="pseudonym-key.csv", mimetype="text/csv")
    response.headers["Cache-Control"] = "no-store"
    return response
