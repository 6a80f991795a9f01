"""create_app: config, security (login, CSRF, cookies), Flask-Admin views, JSON API, error pages."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import scoped_session

from admin_panel import auth, miniapp
from admin_panel.api import api
from admin_panel.ops import ops
from admin_panel.security import csrf, exempt_from_csrf, init_security, needs_csrf
from admin_panel.sms_webhook import sms_webhook
from admin_panel.views import register_views
from admin_panel.views.dashboard import DashboardView
from core.config import Settings
from core.db import Database
from core.startup import open_database



PANEL = "/admin"  # the admins' panel; the Mini App is under /app, the APIs under /api


@dataclass
class Panel:
    """What views need, kept in app.extensions['codehub']."""

    settings: Settings
    db: Database
    scoped: scoped_session
    owns_db: bool


def load_secret_key(settings: Settings) -> str:
    """SECRET_KEY if set, else a key generated into data_dir on first run (sessions survive restarts)."""
    if settings.secret_key and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    path = Path(settings.data_dir) / "panel_secret.key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def create_app(settings: Settings, db: Database | None = None) -> Flask:
    app = Flask(__name__, static_url_path="/assets")
    app.config.update(
        SECRET_KEY=load_secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="codehub_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        FLASK_ADMIN_FLUID_LAYOUT=True,
    )
    init_security(app, settings)
    owns_db = db is None
    db = db or open_database(settings)
    panel = Panel(settings, db, scoped_session(db.sessions), owns_db)
    app.extensions["codehub"] = panel

    @app.teardown_appcontext
    def _remove_session(_exc=None):
        panel.scoped.remove()

    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, after a possible API-token login
    csrf.init_app(app)

    auth.init_app(app)

    @app.before_request
    def _authenticate_then_check_csrf():
        token = auth.bearer_login()
        if token is True:
            return None  # a bearer token is not sent by browsers on their own: no CSRF to fear
        if token is not None:
            return token
        if request.path.startswith("/api/admin/") and not current_user.is_authenticated:
            return auth.login_manager.unauthorized()  # anonymous: 401 before any CSRF complaint (a 400)
        if needs_csrf():
            csrf.protect()
        return None

    admin = Admin(app, name="CodeHub Admin", url=PANEL,
                  theme=Bootstrap4Theme(base_template="admin_panel/base.html", fluid=True),
                  index_view=DashboardView(name="Dashboard", url=PANEL, endpoint="admin"))
    register_views(admin, panel)

    app.register_blueprint(api)
    app.register_blueprint(ops)  # /healthz, /readyz, /metrics: public, no data
    app.register_blueprint(exempt_from_csrf(sms_webhook))  # authenticated by its own secret, not a session
    miniapp.init_app(app)  # the students' Mini App (/app/), their API (/api/) and its OpenAPI document

    _front_door(app)
    _error_pages(app)
    return app


# The seed's panel page names, leading to the matching pages.
SEED_PAGES = {"financial": "topups.index_view", "mentorship": "bookings.index_view", "analytics": "admin.index"}


def _front_door(app: Flask) -> None:
    """`/` is the panel's door (students use the Mini App under /app/); the seed's page names still work."""
    app.add_url_rule("/", "front_door", lambda: redirect(url_for("admin.index")))
    for name, endpoint in SEED_PAGES.items():
        app.add_url_rule(f"{PANEL}/{name}", f"seed_{name}", lambda endpoint=endpoint: redirect(url_for(endpoint)))


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error_pages(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        if _wants_json():
            code = {400: "BAD_REQUEST", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
                    413: "TOO_LARGE", 500: "SERVER_ERROR"}.get(status, "ERROR")
            return jsonify({"error": {"code": code, "message": message}}), status
        return render_template("admin_panel/error.html", status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def _csrf(err):
        if _wants_json():
            return jsonify({"error": {"code": "CSRF_FAILED", "message": err.description}}), 400
        return page(400, "Form expired", "The form was missing its security token or it expired. "
                                         "Go back, reload the page and try again. Nothing was changed.")

    @app.errorhandler(400)
    def _bad(err):
        return page(400, "Bad request", getattr(err, "description", "Bad request"))

    @app.errorhandler(403)
    def _forbidden(err):
        return page(403, "Not allowed", "Your role does not allow this page or action.")

    @app.errorhandler(404)
    def _missing(err):
        return page(404, "Not found", "There is nothing at this address, or the record no longer exists.")

    @app.errorhandler(405)
    def _method(err):
        return page(405, "Not allowed", "This address does not accept that kind of request.")

    @app.errorhandler(413)
    def _large(err):
        return page(413, "Too large", "The submitted data is too large.")

    @app.errorhandler(500)
    def _server(err):
        app.logger.exception("unhandled error")
        return page(500, "Something went wrong", "The error was logged. Nothing was changed.")
