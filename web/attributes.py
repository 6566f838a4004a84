"""The attributes page (``/attributes``): cases and transcripts × attributes (障害種別, 年代 …).

Everyone reads the table; supervisors edit a value inline and upload a CSV/XLSX table. All writes go
through ``coder.attributes``."""

import tempfile
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coder import attributes
from coder.errors import CoderError, japanese

from .auth import supervisor_required
from .database import get_db

bp = Blueprint("attributes", __name__, url_prefix="/attributes")
SUFFIXES = (".csv", ".txt", ".xlsx")


def _page(status=200):
    return render_template("attributes/index.html", table=attributes.table(get_db())), status


@bp.route("/")
def index():
    return _page()


@bp.route("/set", methods=["POST"])
@supervisor_required
def set_value():
    form = request.form
    old = attributes.set_value(
        get_db(),
        form.get("scope", ""),
        form.get("ref", ""),
        form.get("name", ""),
        form.get("value", ""),
        user=current_user.name,
    )  # unknown target: 404, bad input: 400
    value = form.get("value", "").strip()
    flash(
        f"{form.get('name', '').strip()} を「{value}」にしました。"
        if value
        else f"{form.get('name', '').strip()} の値を削除しました。"
        if old
        else "変更はありません。"
    )
    return redirect(url_for("attributes.index"))


@bp.route("/import", methods=["POST"])
@supervisor_required
def upload():
    file = request.files.get("file")
    suffix = Path(file.filename).suffix.lower() if file and file.filename else ""
    if suffix not in SUFFIXES:
        flash("CSV または XLSX のファイルを選んでください。", "error")
        return _page(400)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, f"attributes{suffix}")
        file.save(path)
        try:
            report = attributes.import_table(get_db(), path, user=current_user.name, name=file.filename)
        except CoderError as exc:
            flash(f"取り込めませんでした（何も変更していません）：{japanese(exc)}", "error")
            return _page(400)
    flash(
        f"{file.filename}：{len(report.set)} 件を設定、{len(report.changed)} 件を変更、"
        f"{len(report.unchanged)} 件は変更なし、空欄 {len(report.left_out)} 件は取り込みませんでした。"
    )
    return redirect(url_for("attributes.index"))
