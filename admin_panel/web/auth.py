"""Login, logout and roles: Flask-Login over core.services.admins (hashing and throttling live there)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin_panel.web import i18n
from admin_panel.web.context import panel
from admin_panel.web.errors import error_response
from core.errors import AuthFailed
from core.models import AdminRole
from core.services import admins, api_tokens
from core.services.common import Actor

bp = Blueprint("auth", __name__, url_prefix="/admin")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."  # unused: _unauthorized redirects without a flash
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@dataclass(frozen=True)
class PanelUser:
    """The logged-in admin (a snapshot of core.services.admins.AdminInfo)."""

    id: int
    username: str
    role: AdminRole
    mentor_user_id: int | None
    session_version: int = 0
    via_token: bool = False
    language: str = "en"  # the panel's language this admin chose (admin_panel.web.i18n)

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # The version is part of the session's identity: bumping it in the database ends the session.
        return f"{self.id}:{self.session_version}"

    @property
    def actor(self) -> Actor:
        return Actor(name=self.username, admin_id=self.id)

    def has_role(self, *roles: AdminRole) -> bool:
        return self.role in roles


def _panel_user(info) -> PanelUser:
    return PanelUser(
        info.id, info.username, info.role, info.mentor_user_id, info.session_version, language=info.language
    )


@login_manager.user_loader
def _load(user_id: str):
    ident, _, version = str(user_id).partition(":")
    if not (ident.isdigit() and version.isdigit() and len(ident) < 19 and len(version) < 19):
        return None  # also every cookie from before session versions existed
    with panel().db.sessions() as s:
        info = admins.get_admin(s, int(ident))
    if info is None or info.session_version != int(version):
        return None
    return _panel_user(info)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        return error_response("UNAUTHENTICATED", "log in first", 401)
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def roles_required(*roles: AdminRole):
    """For plain Flask routes: authenticated, and one of `roles` (server side, every request)."""

    def decorator(fn):
        @wraps(fn)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                if request.path.startswith("/api/"):
                    return error_response("FORBIDDEN", "your role does not allow this", 403)
                abort(403)
            return fn(*args, **kwargs)

        return wrapper

    return decorator


class LoginForm(FlaskForm):
    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=256)])


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
        address = request.remote_addr or "unknown"  # the client's, via ProxyFix when behind trusted proxies
        try:
            with panel().db.sessions() as s:
                info = admins.authenticate(s, form.username.data, form.password.data, address)
        except AuthFailed as exc:
            error = (
                _("Too many failed attempts for this username from your address. Wait 15 minutes and try again.")
                if exc.details.get("throttled")
                else _("Wrong username or password.")
            )
        else:
            session.clear()
            login_user(_panel_user(info))
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        error = _("Enter your username and password.")
    status = 401 if error and request.method == "POST" else 200
    command = codehub_command() if no_admins else None
    return (
        render_template("admin_panel/login.html", form=form, error=error, no_admins=no_admins, codehub=command),
        status,
    )


@bp.route("/login/language", methods=["POST"])
def choose_language():
    """The language switch of the login page, before login: kept in this browser's session only (a logged-in
    admin's language is the one stored on the account, chosen on "My profile")."""
    if current_user.is_authenticated:  # logged in, the account's language applies: it is chosen on My profile
        return redirect(url_for("account.index"))
    chosen = request.form.get("language", "")
    if chosen in i18n.LANGUAGES:
        session[i18n.LOGIN_CHOICE] = chosen
    else:
        flash(_("Choose English or Arabic."), "error")
    target = request.form.get("next") or ""
    return redirect(_safe_next(target) if target.startswith(bp.url_prefix + "/login") else url_for("auth.login"))


def codehub_command(executable: str | None = None, cwd: str | None = None) -> str:
    """How to call the `codehub` command on this server: plain `codehub` when the PATH finds this installation's,
    else its path beside the running Python (`.venv/bin/codehub` from the project folder, as dev.py installs it)."""
    script = Path(executable or sys.executable).parent / ("codehub.exe" if os.name == "nt" else "codehub")
    if not script.exists():
        return "codehub"
    found = shutil.which("codehub")
    if found and Path(found).resolve() == script.resolve():
        return "codehub"
    try:
        return str(script.relative_to(Path(cwd or os.getcwd())))
    except ValueError:
        return str(script)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        with panel().db.sessions() as s:
            admins.end_sessions(s, current_user.id)  # a copy of this cookie stops working too
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def bearer_login():
    """For /api/admin/*: `Authorization: Bearer <token>` logs in as the token's admin for this request only.

    Returns None when no token was sent (the session cookie applies), True when a valid token was
    sent, or a 401 response for a bad one. A token request never reads or writes the session cookie.
    """
    if not request.path.startswith("/api/admin/"):
        return None
    secret = _bearer_secret()
    if secret is None:
        return None
    with panel().db.sessions() as s:
        owner = api_tokens.authenticate_token(s, secret)
    if owner is None:
        return error_response("UNAUTHENTICATED", "unknown or revoked API token", 401)
    g._login_user = PanelUser(owner.admin_id, owner.username, owner.role.value, owner.mentor_user_id, via_token=True)
    return True


def init_app(app) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
