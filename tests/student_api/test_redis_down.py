"""REDIS_URL set and Redis unreachable (issue 20, #9): reads fail open, money POSTs pause with a clear 503 in the
student's language, the panel says Redis is down, and nothing answers 500 or logs a traceback. Both databases."""

from __future__ import annotations

import logging

import pytest

from core.models import Transaction
from tests.student_api.conftest import build_api
from tests.student_api.test_idempotency import dsa

DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture(params=["sqlite", "postgresql"])
def no_redis(request, tmp_path):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    api = build_api(url, tmp_path, redis_url=DOWN)
    yield api
    api.db.dispose()


def test_reads_fail_open_and_money_posts_pause_with_a_clear_message(no_redis, caplog):
    student = no_redis.as_student(559000001, "ar")
    with caplog.at_level(logging.ERROR):
        me = student.get("/api/me")
        platforms = student.get("/api/platforms")
        topup = student.post("/api/wallet/topup", {"amount": "100", "walletNumber": "01012345678"})
        enroll = no_redis.as_student(559000003, "en").post("/api/enrollments", {"platformId": dsa(no_redis)})
    assert me.status_code == 200 and platforms.status_code == 200
    assert topup.status_code == 503 and topup.get_json()["error"]["code"] == "PAYMENTS_PAUSED"
    assert "لم يُخصم شيء" in topup.get_json()["error"]["message"]
    assert enroll.status_code == 503 and "Nothing was charged" in enroll.get_json()["error"]["message"]
    assert no_redis.rows(559000001, Transaction.type != "SIGNUP_BONUS") == 0
    assert no_redis.rows(559000003, Transaction.type != "SIGNUP_BONUS") == 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_health_endpoints_and_the_dashboard_say_redis_is_down(no_redis):
    client = no_redis.app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["redis"] == "down"
    assert ready.get_json()["status"] == "degraded"
    assert "codehub_redis_up 0.0" in client.get("/metrics").get_data(as_text=True)
    from core.services import admins
    from tests.panel.helpers import PASSWORD, login

    with no_redis.session() as s:
        admins.create_admin(s, "redis_owner", PASSWORD, "owner")
    login(client, "redis_owner")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Redis is down." in page and "pauses payments" in page


def test_with_redis_up_nothing_is_paused(tmp_path, sqlite_url):
    from tests.external import REDIS_URL

    api = build_api(sqlite_url, tmp_path, redis_url=REDIS_URL)
    try:
        student = api.as_student(559000002)
        r = student.post("/api/wallet/topup", {"amount": "100", "walletNumber": "01012345678"})
        assert r.status_code == 201, r.get_json()
        assert api.app.test_client().get("/readyz").get_json() == {"status": "ready", "redis": "up"}
    finally:
        api.db.dispose()
