"""Login, logout and roles: Flask-Login over core.services.admins (hashing and throttling live there)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from core.errors import AuthFailed
from core.models import AdminRole
from core.services import admins
from core.services.common import Actor

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@dataclass(frozen=True)
class PanelUser:
    """The logged-in admin (a snapshot of core.services.admins.AdminInfo)."""

    id: int
    username: str
    role: AdminRole
    mentor_user_id: int | None

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def actor(self) -> Actor:
        return Actor(name=self.username, admin_id=self.id)

    def has_role(self, *roles: AdminRole) -> bool:
        return self.role in roles


def panel():
    return current_app.extensions["codehub"]


@login_manager.user_loader
def _load(admin_id: str):
    try:
        ident = int(admin_id)
    except (TypeError, ValueError):
        return None
    with panel().db.sessions() as s:
        info = admins.get_admin(s, ident)
    if info is None:
        return None
    return PanelUser(info.id, info.username, info.role, info.mentor_user_id)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "UNAUTHENTICATED", "message": "log in first"}}), 401
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def roles_required(*roles: AdminRole):
    """For plain Flask routes: authenticated, and one of `roles` (server side, every request)."""
    def decorator(fn):
        @wraps(fn)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                if request.path.startswith("/api/"):
                    return jsonify({"error": {"code": "FORBIDDEN", "message": "your role does not allow this"}}), 403
                abort(403)
            return fn(*args, **kwargs)
        return wrapper
    return decorator


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    with panel().db.sessions() as s:
        no_admins = admins.admin_count(s) == 0
    error = None
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        try:
            with panel().db.sessions() as s:
                info = admins.authenticate(s, form.username.data, form.password.data, address)
        except AuthFailed as exc:
            error = ("Too many failed attempts for this username from your address. "
                     "Wait 15 minutes and try again.") if exc.details.get("throttled") else \
                "Wrong username or password."
        else:
            session.clear()
            login_user(PanelUser(info.id, info.username, info.role, info.mentor_user_id))
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        error = "Enter your username and password."
    status = 401 if error and request.method == "POST" else 200
    return render_template("admin_panel/login.html", form=form, error=error, no_admins=no_admins), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
