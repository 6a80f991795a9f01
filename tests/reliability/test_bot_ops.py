"""The bot's metrics (updates handled and failed, handler latency, scheduler runs) and its webhook
server's /healthz, /readyz and /metrics routes."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import REGISTRY, add_ops_routes
from core.db import AsyncDatabase
from tests.bot.conftest import bot_settings, fake_api, runner  # noqa: F401 - fixtures
from tests.bot.helpers import MONA
from tests.helpers import context


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def ops_client(db) -> TestClient:
    app = web.Application()
    add_ops_routes(app, db)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_updates_are_counted_and_timed_and_failures_counted(runner, monkeypatch):
    from core.services import wallet

    handled, failed = value("codehub_bot_updates_handled_total"), value("codehub_bot_updates_failed_total")
    timed = value("codehub_bot_handler_seconds_count")
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/balance")

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(wallet, "entries_of", broken)  # what /balance reads its entries with
    calls = await runner.send(MONA, "/balance")
    assert "Error reference" in calls[-1].text
    assert value("codehub_bot_updates_handled_total") - handled == 3
    assert value("codehub_bot_updates_failed_total") - failed == 1
    assert value("codehub_bot_handler_seconds_count") - timed == 3

    client = await ops_client(runner.db)
    try:
        body = await (await client.get("/metrics")).text()
    finally:
        await client.close()
    names = {s.name for f in text_string_to_metric_families(body) for s in f.samples}
    assert {
        "codehub_bot_updates_handled_total",
        "codehub_bot_updates_failed_total",
        "codehub_bot_handler_seconds_bucket",
    } <= names


async def test_webhook_server_health_routes(sqlite_url):
    db = AsyncDatabase(sqlite_url, context())
    client = await ops_client(db)
    try:
        live = await client.get("/healthz")
        assert live.status == 200 and (await live.json()) == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status == 200 and (await ready.json()) == {"status": "ready"}
    finally:
        await client.close()
        await db.dispose()


async def test_webhook_readiness_is_503_when_the_database_is_down():
    db = AsyncDatabase("postgresql+asyncpg://postgres@127.0.0.1:1/codehub", context())
    client = await ops_client(db)
    try:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 503 and body["status"] == "unavailable" and "database unreachable" in body["reason"]
    finally:
        await client.close()
        await db.dispose()


def test_scheduler_runs_are_counted():
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

    from bot.outbox.scheduler import _count_run

    ok, err = (
        value("codehub_scheduler_runs_total", job="core_jobs", outcome="ok"),
        value("codehub_scheduler_runs_total", job="core_jobs", outcome="error"),
    )
    _count_run(JobExecutionEvent(EVENT_JOB_EXECUTED, "core_jobs", "default", None))
    _count_run(JobExecutionEvent(EVENT_JOB_ERROR, "core_jobs", "default", None, exception=RuntimeError("x")))
    assert value("codehub_scheduler_runs_total", job="core_jobs", outcome="ok") == ok + 1
    assert value("codehub_scheduler_runs_total", job="core_jobs", outcome="error") == err + 1
