"""Rate limits per Telegram user (Flask-Limiter): a student over the limit gets 429 in their language,
another student is not affected. In memory here; Redis storage when REDIS_URL is set."""

from __future__ import annotations

import uuid

from admin_panel import student_api
from tests.external import REDIS_URL, require_redis
from tests.student_api.conftest import MARIAM, OMAR, build_api


def exhaust(api, limit: int):
    mariam, omar = api.as_student(MARIAM, "ar"), api.as_student(OMAR)
    for _ in range(limit):
        assert mariam.get("/api/wallet/balance").status_code == 200
    r = mariam.get("/api/wallet/balance")
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "RATE_LIMITED"
    assert "طلبات كثيرة" in r.get_json()["error"]["message"]
    assert omar.get("/api/wallet/balance").status_code == 200  # keyed by Telegram user, not by address


def test_reads_are_limited_per_student(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setattr(student_api, "READ_LIMIT", "5 per minute")
    api = build_api(sqlite_url, tmp_path)
    try:
        exhaust(api, 5)
    finally:
        api.db.dispose()


def test_redis_storage_when_redis_url_is_set(sqlite_url, tmp_path, monkeypatch):
    import asyncio

    async def check():
        client = await require_redis()
        await client.aclose()

    asyncio.run(check())
    monkeypatch.setattr(student_api, "READ_LIMIT", "3 per minute")
    api = build_api(sqlite_url, tmp_path, redis_url=REDIS_URL)
    api.app.extensions["student_limiter"]._key_prefix = f"codehub-test-{uuid.uuid4().hex}"
    try:
        assert "redis" in type(api.app.extensions["student_limiter"].storage).__name__.lower()
        exhaust(api, 3)
    finally:
        api.db.dispose()
