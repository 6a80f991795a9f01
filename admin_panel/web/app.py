"""create_app: the one Flask app of the web process: its config and security (login, CSRF, cookies), then each
interface's blueprint (the panel, the admins' API and docs, the students' API, the Mini App, the webhooks, health),
then the error pages."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, redirect, request, send_from_directory, url_for
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy.orm import scoped_session

from admin_panel import admin_api
from admin_panel.miniapp import pages as miniapp_pages
from admin_panel.panel import register_views
from admin_panel.panel.dashboard import DashboardView
from admin_panel.student_api import create_student_api
from admin_panel.student_api.calendar import calendar_files
from admin_panel.web import auth
from admin_panel.web.errors import register_error_pages
from admin_panel.web.i18n import init_i18n
from admin_panel.web.ops import ops
from admin_panel.web.security import csrf, exempt_from_csrf, init_security, needs_csrf
from admin_panel.webhooks.sms import sms_webhook
from core.config import Settings
from core.db import Database
from core.startup import open_database

PANEL_FILES = Path(__file__).resolve().parent.parent / "panel"  # the panel's templates (Flask-Admin's overrides too)
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
    app = Flask("admin_panel", root_path=str(PANEL_FILES), static_url_path="/assets")
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
    init_i18n(app)  # before Flask-Admin: its own words (and WTForms') then follow the admin's language too

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

    admin = Admin(
        app,
        name=lazy_gettext("CodeHub Admin"),
        url=PANEL,
        theme=Bootstrap4Theme(base_template="admin_panel/base.html", fluid=True),
        index_view=DashboardView(name=lazy_gettext("Dashboard"), url=PANEL, endpoint="admin"),
    )
    register_views(admin, panel)

    spec = admin_api.build_spec()  # one OpenAPI document for both JSON APIs
    admin_api.register(app, spec)  # /api/admin/, /api/openapi.json, /api-docs
    app.register_blueprint(exempt_from_csrf(create_student_api(app, spec)))  # /api/: init data in a header
    app.register_blueprint(calendar_files)  # /api/mentorship/calendar/<token>.ics: the token is the credential
    app.register_blueprint(miniapp_pages)  # /app/
    app.register_blueprint(exempt_from_csrf(sms_webhook))  # /api/sms/: authenticated by its own secret
    app.register_blueprint(ops)  # /healthz, /readyz, /metrics: public, no data

    _front_door(app)
    register_error_pages(app)
    return app


# The seed's panel page names, leading to the matching pages.
SEED_PAGES = {"financial": "topups.index_view", "mentorship": "bookings.index_view", "analytics": "analytics.index"}


STATIC = Path(__file__).resolve().parent / "static"


def _favicon():
    return send_from_directory(STATIC, "favicon.svg", mimetype="image/svg+xml", max_age=86_400)


def _front_door(app: Flask) -> None:
    """`/` is the panel's door (students use the Mini App under /app/); the seed's page names still work."""
    app.add_url_rule("/", "front_door", lambda: redirect(url_for("admin.index")))
    # browsers ask every site for /favicon.ico (a 404 on each page otherwise): the one icon, for panel and Mini App
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    for name, endpoint in SEED_PAGES.items():
        app.add_url_rule(  # the query too: /admin/analytics?from=2026-01 keeps its period
            f"{PANEL}/{name}", f"seed_{name}", lambda endpoint=endpoint: redirect(url_for(endpoint, **request.args))
        )
