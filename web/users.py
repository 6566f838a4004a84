"""Accounts: supervisors list them, lift lockouts, disable and enable them (``/users``); every user
changes their own password (``/password``). All writes go through ``coder.users``."""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from coder import users
from coder.errors import CoderError

from .auth import LOGIN_LIMIT_PER_ACCOUNT, User, limiter, supervisor_required
from .database import get_db

bp = Blueprint("users", __name__)
STATUS = {"active": "有効", "locked": "ロック中", "disabled": "無効"}
ACTIONS = {
    "unlock": (users.unlock, "{} のロックを解除しました。"),
    "disable": (users.disable, "{} を無効にしました。ログイン中のセッションも終了しました。"),
    "enable": (users.enable, "{} を有効に戻しました。"),
}


class PasswordForm(FlaskForm):
    current = PasswordField("現在のパスワード", validators=[DataRequired()])
    new = PasswordField(
        "新しいパスワード",
        validators=[
            DataRequired(),
            Length(min=users.MIN_PASSWORD, message=f"{users.MIN_PASSWORD}文字以上にしてください。"),
        ],
    )
    confirm = PasswordField(
        "新しいパスワード（確認）",
        validators=[DataRequired(), EqualTo("new", message="新しいパスワードが一致しません。")],
    )


def _page(status=200):
    accounts = [
        {
            **row,
            "status": users.status(row),
            "until": row["locked_until"]
            and datetime.fromisoformat(row["locked_until"]).astimezone().strftime("%m/%d %H:%M"),
        }
        for row in users.list_users(get_db())
    ]
    return render_template("users/index.html", accounts=accounts, labels=STATUS, lockout=users.LOCKOUT_FAILURES), status


@bp.route("/users")
@supervisor_required
def index():
    return _page()


@bp.route("/users/<int:user_id>/<action>", methods=["POST"])
@supervisor_required
def act(user_id, action):
    row = users.get_user_by_id(get_db(), user_id)
    if row is None or action not in ACTIONS:
        abort(404)
    change, done = ACTIONS[action]
    try:
        change(get_db(), row["name"], **({"by": current_user.name} if action == "disable" else {}))
    except CoderError:  # the account exists, so this is a supervisor disabling themselves
        flash("自分のアカウントは無効にできません。", "error")
        return _page(400)
    flash(done.format(row["name"]))
    return redirect(url_for("users.index"))


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(
    LOGIN_LIMIT_PER_ACCOUNT,
    key_func=lambda: f"password:{current_user.name}",
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 400,
)
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.change_password(get_db(), current_user.name, form.current.data, form.new.data)
        except CoderError:
            form.current.errors.append("現在のパスワードが違います。")
        else:
            login_user(User(users.get_user(get_db(), current_user.name)))  # this browser stays logged in
            flash("パスワードを変更しました。ほかのブラウザーや端末では、もう一度ログインしてください。")
            return redirect(url_for("transcripts.index"))
    return render_template("users/password.html", form=form), 400 if request.method == "POST" else 200
