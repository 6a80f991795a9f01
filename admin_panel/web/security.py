"""HTTP hardening of the panel: headers (CSP, HSTS), cookies, proxies, body and JSON limits, id bounds."""

from __future__ import annotations

import json
from decimal import Decimal

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
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
PERMISSIONS = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=(), "
    "clipboard-read=(), display-capture=()"
)
HSTS = "max-age=31536000; includeSubDomains"


csrf = CSRFProtect()
# Blueprints whose requests are authenticated by a header or a shared secret, never by the session
# cookie (the students' API, the SMS webhook): a forged cross-site request carries neither.
HEADER_AUTHENTICATED: set[str] = set()


def exempt_from_csrf(blueprint):
    HEADER_AUTHENTICATED.add(blueprint.name)
    return blueprint


def needs_csrf() -> bool:
    return (
        request.method in current_app.config["WTF_CSRF_METHODS"]
        and request.endpoint is not None
        and request.blueprint not in HEADER_AUTHENTICATED
    )


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


MAX_JSON_NUMBER = 40  # characters of one number literal


def _plain_number(literal: str) -> str:
    if len(literal) > MAX_JSON_NUMBER or "e" in literal or "E" in literal:
        raise ValueError("numbers are written plainly: no exponent, at most 40 characters")
    return literal


def _decimal(literal: str) -> Decimal:
    return Decimal(_plain_number(literal))  # exact: 150.5 is Decimal("150.5"), never a float


def _int(literal: str) -> int:
    return int(_plain_number(literal))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _float(literal: str) -> float:
    return float(_plain_number(literal))


def read_json(raw: str | bytes, *, exact: bool = True):
    """The one reader of request bodies for every JSON endpoint (students' API, admin API, SMS webhook).

    Bounded before it is parsed: at most MAX_BODY bytes, brackets at most MAX_JSON_DEPTH deep (a cheap scan, so
    100,000 nested arrays never reach the recursive parser), number literals plain and short (an exponent like
    1e100000000 would cost seconds and a gigabyte once turned into digits). Raises ValueError for anything else
    that is not valid JSON; the caller answers 400 (413 for a body too large, which Flask refuses earlier).
    `exact`: fractions as Decimal (money bodies); else as float, as Flask's own reader gives them."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BODY:
            raise ValueError("the body is too large")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the body is not UTF-8") from None
    if len(raw) > MAX_BODY:
        raise ValueError("the body is too large")
    if not json_depth_ok(raw):
        raise ValueError("JSON nested too deeply")
    try:
        return json.loads(raw, parse_float=_decimal if exact else _float, parse_int=_int, parse_constant=_no_constant)
    except RecursionError:  # not reached after the depth scan; kept so no input can make a 500
        raise ValueError("JSON nested too deeply") from None


class SafeJSONProvider(DefaultJSONProvider):
    """request.get_json() through read_json: a hostile body is invalid JSON (a 400), never a 500."""

    def loads(self, s, **kwargs):
        return read_json(s, exact=False)


def _no_store(response) -> bool:
    return (
        request.path.startswith("/api/")
        or response.mimetype == "text/html"
        or "attachment" in response.headers.get("Content-Disposition", "")
    )


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
