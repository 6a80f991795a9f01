"""HTTP hardening of the panel: headers (CSP, HSTS), cookies, proxies, body and JSON limits, id bounds."""
from __future__ import annotations

import json

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from core.config import Settings
from core.text import has_control

MAX_BODY = 1024 * 1024  # the largest form is a 4,000-character broadcast; 1 MiB is generous
MAX_JSON_DEPTH = 32
MAX_REDIRECT = 4096
MAX_ID = 2**63 - 1  # a BIGINT; larger numbers in a URL are a 404, not an overflow in the driver

# No inline script anywhere (the pages load their JS from /assets and Flask-Admin's static folder);
# styles may be inline because Flask-Admin's templates use style attributes.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
PERMISSIONS = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=(), "
               "clipboard-read=(), display-capture=()")
HSTS = "max-age=31536000; includeSubDomains"


csrf = CSRFProtect()
# Blueprints whose requests are authenticated by a header or a shared secret, never by the session
# cookie (the students' API, the SMS webhook): a forged cross-site request carries neither.
HEADER_AUTHENTICATED: set[str] = set()


def exempt_from_csrf(blueprint):
    HEADER_AUTHENTICATED.add(blueprint.name)
    return blueprint


def needs_csrf() -> bool:
    return (request.method in current_app.config["WTF_CSRF_METHODS"] and request.endpoint is not None
            and request.blueprint not in HEADER_AUTHENTICATED)


class BoundedInt(IntegerConverter):
    """`<int:id>` that matches only ids a database column can hold."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def json_depth_ok(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True unless brackets nest deeper than `limit` (outside strings); linear, no recursion."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


class SafeJSONProvider(DefaultJSONProvider):
    """A body nested thousands of levels deep is invalid JSON (a 400), not a RecursionError (a 500)."""

    def loads(self, s, **kwargs):
        if not json_depth_ok(s):
            raise ValueError("JSON nested too deeply")
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _no_store(response) -> bool:
    return (request.path.startswith("/api/") or response.mimetype == "text/html"
            or "attachment" in response.headers.get("Content-Disposition", ""))


def init_security(app: Flask, settings: Settings) -> None:
    """Call before any blueprint or view is registered (the id converter applies to rules added later)."""
    app.url_map.converters["int"] = BoundedInt
    app.json = SafeJSONProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY,
        MAX_FORM_MEMORY_SIZE=MAX_BODY,
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
    )
    if settings.trusted_proxy_count:
        n = settings.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    plain_redirect = app.redirect

    def redirect_without_control_characters(location, code=302):
        """A `?url=` or `next` with a line break (Flask-Admin echoes them) goes home instead of a 500."""
        if has_control(str(location), multiline=False) or len(str(location)) > MAX_REDIRECT:
            location = "/"
        return plain_redirect(location, code)

    app.redirect = redirect_without_control_characters

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:  # the Mini App may be framed
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        if _no_store(response):
            headers["Cache-Control"] = "no-store"
        return response
