"""Health and metrics for load balancers and Prometheus: /healthz, /readyz, /metrics (no login, no data).

/healthz: the process answers (no database). /readyz: the database answers `SELECT 1`, else 503 with
the reason. /metrics: Prometheus text with the panel's gauges, read through core.services.health.
Keep /metrics off the public internet at the reverse proxy (README, Deployment).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from core.services import health, processes

ops = Blueprint("ops", __name__)


def _panel():
    return current_app.extensions["codehub"]


@ops.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


def redis_state() -> str | None:
    """ "up" or "down" for the students' API's rate-limit storage when REDIS_URL is set; None without Redis."""
    limiter = current_app.extensions.get("limiter_health")
    if limiter is None or not limiter.shared:
        return None
    return "up" if limiter.ok() else "down"


@ops.get("/readyz")
def readyz():
    reason = health.database_ready(_panel().db.engine)
    if reason:
        return jsonify({"status": "unavailable", "reason": reason}), 503
    bot = _bot_state()
    redis = redis_state()
    if redis == "down":  # still serving (reads fail open), but the students' payments are paused
        return jsonify(
            {
                "status": "degraded",
                "redis": "down",
                "reason": "Redis does not answer: the students' API pauses payments",
                **bot,
            }
        )
    return jsonify({"status": "ready", **({"redis": redis} if redis else {}), **bot})


def _bot_state() -> dict:
    """{"bot": state} as the bot last reported it ("stale" when it went quiet), {} when it never ran here: the panel
    is ready either way; a load balancer or a monitor reads it."""
    try:
        with _panel().db.session() as s:
            found = processes.status(s, "bot")
    except SQLAlchemyError:
        return {}
    if found is None:
        return {}
    return {"bot": "stale" if found.stale else found.state}


@ops.get("/metrics")
def metrics():
    registry = CollectorRegistry()  # one per scrape: the values are read from the database each time
    up = Gauge("codehub_database_up", "1 when the database answers", registry=registry)
    reason = health.database_ready(_panel().db.engine)
    up.set(0 if reason else 1)
    if redis_state() is not None:
        Gauge("codehub_redis_up", "1 when the rate limiter's Redis answers", registry=registry).set(
            1 if redis_state() == "up" else 0
        )
    if not reason:
        with _panel().db.session() as session:
            g = health.gauges(session)
        Gauge("codehub_pending_topups", "Top-up requests waiting for a decision", registry=registry).set(
            g.pending_topups
        )
        Gauge("codehub_outbox_backlog", "Telegram messages waiting in the outbox", registry=registry).set(
            g.outbox_backlog
        )
        Gauge(
            "codehub_outbox_oldest_age_seconds",
            "Age of the oldest waiting outbox message (0 when empty)",
            registry=registry,
        ).set(g.outbox_oldest_age_seconds)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
