"""Log in and out; every other page and API needs a logged-in user (Flask-Login, werkzeug hashes).

Failed logins are throttled per account name and per client address (Flask-Limiter, counting only
failures) and lock the account after ``users.LOCKOUT_FAILURES`` in a row. A session's user id carries
the account's ``session_epoch``, so logout, a new password or disabling the account ends every
session saved before.
"""

import unicodedata
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from coder import users

from .database import get_db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()
OPEN_ENDPOINTS = {"auth.login", "static"}
# Failed logins allowed per minute for one account name and for one client address; the next attempt
# gets 429 whatever the password. OWASP Authentication Cheat Sheet ("Login Throttling") and NIST
# SP 800-63B §5.2.2 (limit failed authentication attempts) ask for this; five a minute per account
# leaves room for typos, twenty per address for several people behind one office address.
LOGIN_LIMIT_PER_ACCOUNT = "5 per minute"
LOGIN_LIMIT_PER_ADDRESS = "20 per minute"
# One limiter, initialised per app in ``init_app`` (RATELIMIT_ENABLED=False switches it off). Counters
# live in RATELIMIT_STORAGE_URI, memory:// by default: per process, which suits one waitress process
# serving with threads. Several apps in one process (tests) share it; the latest one's storage counts.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True, strategy="moving-window")
WRONG = "ユーザー名またはパスワードが違います。"
LOCKED = "このアカウントは一時的にロックされています。スーパーバイザーに解除を依頼してください。"
THROTTLED = "ログインの試行が多すぎます。しばらく待ってからもう一度お試しください。"


class User(UserMixin):
    def __init__(self, row):
        self.id, self.name, self.role = str(row["id"]), row["name"], row["role"]
        self.epoch = row["session_epoch"]

    def get_id(self):
        """The user id kept in the session: "ID:EPOCH", so raising the account's epoch ends the session."""
        return f"{self.id}:{self.epoch}"

    @property
    def is_supervisor(self):
        return self.role == "supervisor"


class LoginForm(FlaskForm):
    name = StringField("ユーザー名", validators=[DataRequired()])
    password = PasswordField("パスワード", validators=[DataRequired()])


@login_manager.user_loader
def load_user(session_id):
    """The session's user, or None (logged out) if the account is gone, disabled or its epoch moved on."""
    user_id, _, epoch = session_id.partition(":")
    row = users.get_user_by_id(get_db(), int(user_id)) if user_id.isdigit() else None
    if row is None or row["disabled_at"] or str(row["session_epoch"]) != epoch:
        return None
    return User(row)


@login_manager.unauthorized_handler
def unauthorized():
    if request.path.startswith("/api/"):
        return jsonify(error="ログインが必要です。"), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require_login():
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        return unauthorized()


def supervisor_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_supervisor:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def csrf_failed(exc):
    if request.path.startswith("/api/"):
        return jsonify(error="CSRFトークンがないか無効です。ページを再読み込みしてください。"), 400
    return render_template("auth/csrf.html"), 400


def safe_next(target):
    """``target`` if it is a path on this site, else the dashboard (open-redirect guard). Refused: any
    control or whitespace character (browsers drop tabs and newlines, so "/\t/evil" becomes "//evil"),
    backslashes (read as "/"), a leading "//", and anything with a scheme or a host."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(unicodedata.category(c)[0] in "CZ" for c in target)
    ):
        return url_for("transcripts.index")
    parts = urlsplit(target)
    return url_for("transcripts.index") if parts.scheme or parts.netloc else target


def _failed(response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    """The throttling key of a login attempt: the submitted name, normalised (NFKC, trimmed, case-folded)."""
    return "account:" + unicodedata.normalize("NFKC", request.form.get("name", "")).strip().casefold()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, methods=["POST"], deduct_when=_failed)
@limiter.limit(LOGIN_LIMIT_PER_ACCOUNT, key_func=_account_key, methods=["POST"], deduct_when=_failed)
def login():
    form = LoginForm()
    no_users = not users.list_users(get_db())
    if form.validate_on_submit():
        try:
            row = users.attempt_login(get_db(), form.name.data, form.password.data)
        except users.AccountLocked:  # said only after LOCKOUT_FAILURES wrong passwords for a real name
            row, message = None, f"{WRONG}{LOCKED}"
        else:
            message = WRONG
        if row:
            login_user(User(row))
            return redirect(safe_next(request.args.get("next")))
        flash(message, "error")
    return render_template("auth/login.html", form=form, no_users=no_users), 200 if request.method == "GET" else 401


@bp.route("/logout", methods=["POST"])
def logout():
    users.end_sessions(get_db(), current_user.name)  # a copy of the session cookie stops working too
    logout_user()
    flash("ログアウトしました。")
    return redirect(url_for("auth.login"))


def too_many_attempts(exc):
    """429 with a Japanese message: the login form again, JSON under /api/ (the limiter adds Retry-After)."""
    if request.path.startswith("/api/"):
        return jsonify(error=THROTTLED), 429
    if request.endpoint != "auth.login":
        return render_template("error.html", status=429, title="試行が多すぎます", message=THROTTLED), 429
    flash(THROTTLED, "error")
    return render_template("auth/login.html", form=LoginForm(), no_users=False), 429


def init_app(app):
    app.config.setdefault("RATELIMIT_ENABLED", True)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    app.register_error_handler(429, too_many_attempts)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, csrf_failed)
    app.before_request(require_login)
