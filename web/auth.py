"""Log in and out; every other page and API needs a logged-in user (Flask-Login, werkzeug hashes)."""

from functools import wraps

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
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


class User(UserMixin):
    def __init__(self, row):
        self.id, self.name, self.role = str(row["id"]), row["name"], row["role"]

    @property
    def is_supervisor(self):
        return self.role == "supervisor"


class LoginForm(FlaskForm):
    name = StringField("ユーザー名", validators=[DataRequired()])
    password = PasswordField("パスワード", validators=[DataRequired()])


@login_manager.user_loader
def load_user(user_id):
    row = users.get_user_by_id(get_db(), int(user_id)) if user_id.isdigit() else None
    return User(row) if row else None


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
    """Only same-site paths: no scheme, no host, no '//' (open-redirect guard)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("transcripts.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    no_users = not users.list_users(get_db())
    if form.validate_on_submit():
        row = users.authenticate(get_db(), form.name.data, form.password.data)
        if row:
            login_user(User(row))
            return redirect(safe_next(request.args.get("next")))
        flash("ユーザー名またはパスワードが違います。", "error")
    return render_template("auth/login.html", form=form, no_users=no_users), 200 if request.method == "GET" else 401


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("ログアウトしました。")
    return redirect(url_for("auth.login"))


def init_app(app):
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, csrf_failed)
    app.before_request(require_login)
