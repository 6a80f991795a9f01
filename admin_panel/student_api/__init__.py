"""The students' JSON API under /api/ (the seed's endpoints), for the Telegram Mini App.

One module per OpenAPI tag (wallet, platforms, mentorship) declares its routes; each handler reads its
validated input, calls one core service and shapes the answer. routing.py runs every route the same way
(auth, validation, Idempotency-Key, the error envelope); auth.py verifies Telegram's init data.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g
from flask_limiter import Limiter

from admin_panel.student_api import mentorship, platforms, wallet
from admin_panel.student_api.routing import (
    REDIS_TIMEOUTS,
    LimiterHealth,
    Route,
    errors_of,
    fail,
    openapi_path,
    rate_key,
    request_language,
    wrap,
)
from admin_panel.web.openapi import ApiSpec, Operation
from core.words import language_of

READ_LIMIT = "120 per minute"
MONEY_LIMIT = "20 per minute"
TAGS: dict[str, list[Route]] = {"wallet": wallet.ROUTES, "platforms": platforms.ROUTES, "mentorship": mentorship.ROUTES}


def create_student_api(app: Flask, spec: ApiSpec) -> Blueprint:
    """The blueprint, its rate limiter (Redis when REDIS_URL is set) and its OpenAPI operations."""
    settings = app.extensions["codehub"].settings
    # Redis down (REDIS_URL set): reads fail open, counted per process in memory meanwhile (swallow_errors and the
    # in-memory fallback); money POSTs answer 503 PAYMENTS_PAUSED (see routing.wrap): their limits are what keeps
    # a guesser or a runaway client in check across replicas, so they wait for Redis rather than go unlimited.
    limiter = Limiter(
        key_func=rate_key,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        storage_options=REDIS_TIMEOUTS if settings.redis_url else {},
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        headers_enabled=True,
        strategy="fixed-window",
        key_prefix="codehub-api",
    )
    app.extensions["student_limiter"] = limiter
    app.extensions["limiter_health"] = LimiterHealth(limiter, shared=bool(settings.redis_url))
    sessions = app.extensions["codehub"].db.sessions
    bp = Blueprint("student_api", __name__, url_prefix="/api")
    for tag, routes in TAGS.items():
        for r in routes:
            path, names = openapi_path(r.rule)
            op = spec.add(
                Operation(
                    r.method,
                    path,
                    r.summary,
                    tag,
                    r.response,
                    201 if r.idempotent else 200,
                    r.query,
                    r.body,
                    names,
                    r.idempotent,
                    errors=errors_of(r.method, names, r.idempotent),
                )
            )
            view = limiter.limit(MONEY_LIMIT if r.method == "POST" else READ_LIMIT)(wrap(r.handler, op, sessions))
            bp.add_url_rule(r.rule, endpoint=r.handler.__name__, view_func=view, methods=[r.method])

    @bp.errorhandler(429)
    def _too_many(_err):  # before the student is loaded: Telegram's language of the verified caller
        data = g.get("tma")
        language = language_of(data.user.language_code) if getattr(data, "user", None) else request_language()
        return fail("RATE_LIMITED", 429, language)

    return bp
