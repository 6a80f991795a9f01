"""The bot's Prometheus metrics and its webhook server's /healthz, /readyz and /metrics.

Counters live in their own registry (not the process-wide default), so tests that build several
dispatchers see one set. In polling mode there is no HTTP server, so these routes exist only with
WEBHOOK_URL set (the webhook server on WEBHOOK_HOST:WEBHOOK_PORT).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from core.services import health

REGISTRY = CollectorRegistry()
UPDATES_HANDLED = Counter(
    "codehub_bot_updates_handled", "Telegram updates the bot finished handling", registry=REGISTRY
)
UPDATES_FAILED = Counter(
    "codehub_bot_updates_failed",
    "Updates that ended in an unexpected error (the student got an error reference)",
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "codehub_bot_handler_seconds",
    "Time to handle one update, seconds",
    registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SCHEDULER_RUNS = Counter(
    "codehub_scheduler_runs", "Scheduled job runs, by job and outcome", ["job", "outcome"], registry=REGISTRY
)


def add_ops_routes(app, db) -> None:
    """/healthz, /readyz (SELECT 1 on the bot's database) and /metrics on an aiohttp web.Application."""
    from aiohttp import web

    async def healthz(_request):
        return web.json_response({"status": "ok"})

    async def readyz(_request):
        reason = await health.database_ready_async(db.engine)
        if reason:
            return web.json_response({"status": "unavailable", "reason": reason}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics(_request):
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
