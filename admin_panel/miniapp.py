"""The students' Telegram Mini App under /app/ (server-rendered shells + small static JS), the student
API under /api/, and the API's OpenAPI document; wired into the panel's app by init_app.

Mini App pages may be framed by Telegram Web only; the panel keeps refusing any framing.
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request

from admin_panel import api as admin_api
from admin_panel.auth import roles_required
from admin_panel.security import exempt_from_csrf
from admin_panel.openapi import ApiSpec
from admin_panel.student_api import create_student_api
from admin_panel.student_texts import UI, language_of
from core.models import AdminRole

PAGES = {  # start_param / page name -> (endpoint, query); the same names as the bot's (bot/webapp.py)
    "wallet": ("miniapp.wallet", {}),
    "topup": ("miniapp.wallet", {"focus": "topup"}),
    "platforms": ("miniapp.enrollments", {}),
    "mentorship": ("miniapp.mentorship", {}),
    "book": ("miniapp.book", {}),
}
CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
       # Telegram's script injects <style> elements when it runs inside Telegram Web's iframe
       "style-src 'self' 'unsafe-inline'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'self' https://web.telegram.org")

pages = Blueprint("miniapp", __name__, url_prefix="/app")


def _render(page: str, template: str):
    lang = language_of(request.args.get("lang"))
    return render_template(f"miniapp/{template}", page=page, lang=lang, t=UI[lang], texts=UI[lang],
                           pages=PAGES)


@pages.get("/")
def launch():
    """Opened by the menu button or a t.me/<bot>/<app>?startapp=<page> link: the script picks the page."""
    return _render("launch", "launch.html")


@pages.get("/dashboard/wallet")
def wallet():
    return _render("wallet", "wallet.html")


@pages.get("/dashboard/enrollments")
def enrollments():
    return _render("platforms", "platforms.html")


@pages.get("/dashboard/mentorship")
def mentorship():
    return _render("mentorship", "mentorship.html")


@pages.get("/mentorship/book")
def book():
    return _render("book", "book.html")


@pages.get("/<path:_rest>")
def unknown(_rest):
    abort(404)


@pages.after_request
def _frameable_by_telegram(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers.pop("X-Frame-Options", None)
    return response


docs = Blueprint("api_docs", __name__, url_prefix="/api")


@docs.get("/openapi.json")
@roles_required(*AdminRole)
def openapi_json():
    return jsonify(current_app.extensions["student_api_spec"].document())


@roles_required(*AdminRole)
def api_docs():
    """Interactive API docs for admins (vendored Swagger UI; a panel page, so outside /api/)."""
    return render_template("miniapp/api_docs.html", spec=current_app.extensions["student_api_spec"].document())


@roles_required(*AdminRole)
def api_reference_plain():
    """The same document as a plain server-rendered page (works without JavaScript)."""
    return render_template("miniapp/api_reference.html", spec=current_app.extensions["student_api_spec"].document())


def build_spec() -> ApiSpec:
    return ApiSpec(
        title="CodeHub API", version="1.1.0",
        description="The students' API (tags wallet, platforms, mentorship) for the Telegram Mini App: every request "
                    "carries Telegram's signed init data, `Authorization: tma <initData>` (at most 24 h old); money "
                    "POSTs need an `Idempotency-Key` header (a new UUID per action); error messages are in the "
                    "student's language. The admins' API (tag admin) under /api/admin/: an API token, "
                    "`Authorization: Bearer chk_...` (Owner → API tokens), or a panel session with the X-CSRFToken "
                    "header on PUT. Money is a string with two decimals. Errors: "
                    "`{\"error\": {\"code\", \"message\"}}`.",
        security_schemes={
            "tma": {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "tma <initData> (Telegram.WebApp.initData)"},
            "adminToken": {"type": "http", "scheme": "bearer", "bearerFormat": "chk_...",
                           "description": "An admin API token (Owner → API tokens); it has its account's role"},
            "panelSession": {"type": "apiKey", "in": "cookie", "name": "codehub_session",
                             "description": "A logged-in panel session; PUT requests also need X-CSRFToken"}})


def init_app(app: Flask) -> None:
    spec = build_spec()
    for op in admin_api.OPERATIONS:  # declared beside the admin routes (admin_panel/api.py)
        spec.add(op)
    app.register_blueprint(exempt_from_csrf(create_student_api(app, spec)))  # init data in a header
    app.register_blueprint(docs)
    app.add_url_rule("/api-docs", "api_reference", api_docs)
    app.add_url_rule("/api-docs/reference", "api_reference_plain", api_reference_plain)
    app.register_blueprint(pages)
    app.extensions["student_api_spec"] = spec
