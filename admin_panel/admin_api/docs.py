"""The API's documentation: one OpenAPI document for both JSON APIs (/api/openapi.json), the interactive page
(vendored Swagger UI) and a plain server-rendered reference, for admins."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from admin_panel.web.auth import roles_required
from admin_panel.web.openapi import ApiSpec
from core.models import AdminRole

docs = Blueprint("api_docs", __name__, url_prefix="/api", template_folder="templates")


@docs.get("/openapi.json")
@roles_required(*AdminRole)
def openapi_json():
    return jsonify(current_app.extensions["student_api_spec"].document())


@roles_required(*AdminRole)
def api_docs():
    """Interactive API docs for admins (vendored Swagger UI; a panel page, so outside /api/)."""
    return render_template("admin_api/api_docs.html", spec=current_app.extensions["student_api_spec"].document())


@roles_required(*AdminRole)
def api_reference_plain():
    """The same document as a plain server-rendered page (works without JavaScript)."""
    return render_template("admin_api/api_reference.html", spec=current_app.extensions["student_api_spec"].document())


def build_spec() -> ApiSpec:
    return ApiSpec(
        title="CodeHub API",
        version="1.1.0",
        description="The students' API (tags wallet, platforms, mentorship) for the Telegram Mini App: every request "
        "carries Telegram's signed init data, `Authorization: tma <initData>` (at most 24 h old); money "
        "POSTs need an `Idempotency-Key` header (a new UUID per action); error messages are in the "
        "student's language. The admins' API (tag admin) under /api/admin/: an API token, "
        "`Authorization: Bearer chk_...` (Owner → API tokens), or a panel session with the X-CSRFToken "
        "header on PUT. Money is a string with two decimals. Errors: "
        '`{"error": {"code", "message"}}`.',
        security_schemes={
            "tma": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "tma <initData> (Telegram.WebApp.initData)",
            },
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "chk_...",
                "description": "An admin API token (Owner → API tokens); it has its account's role",
            },
            "panelSession": {
                "type": "apiKey",
                "in": "cookie",
                "name": "codehub_session",
                "description": "A logged-in panel session; PUT requests also need X-CSRFToken",
            },
        },
    )
