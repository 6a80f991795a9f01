"""Idempotency-Key on money POSTs, and races: the same key at once, and the Mini App against the bot.

Run on SQLite and PostgreSQL. The ledger invariant (balance == sum of approved rows, never negative)
is checked after every race.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from core.db import AsyncDatabase
from core.errors import InsufficientFunds
from core.models import Platform, Transaction, TransactionType
from core.services import enrollment, idempotency
from tests.helpers import context
from tests.student_api.conftest import NEWCOMER, Student, build_api


@pytest.fixture(params=["sqlite", "postgresql"])
def race_api(request, tmp_path):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    a = build_api(url, tmp_path)
    a.app.extensions["student_limiter"].enabled = False
    yield a
    a.db.dispose()


def dsa(api) -> int:
    with api.session() as s:
        return s.scalar(select(Platform.id).where(Platform.name == "Data Structures & Algorithms"))


def test_a_retry_replays_the_stored_response(api, newcomer):
    newcomer.get("/api/me")
    body = {"platformId": dsa(api)}
    first = newcomer.post("/api/enrollments", body, key="retry-key-0001")
    again = newcomer.post("/api/enrollments", body, key="retry-key-0001")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert api.rows(NEWCOMER, Transaction.type == TransactionType.PLATFORM_PURCHASE) == 1
    assert api.balance(NEWCOMER) == Decimal("100.00")


def test_a_stored_refusal_is_replayed_too(api, omar):
    body = {"platformId": dsa(api)}
    first = omar.post("/api/enrollments", body, key="refused-key-01")
    assert first.status_code == 409
    again = omar.post("/api/enrollments", body, key="refused-key-01")
    assert again.status_code == 409 and again.get_json() == first.get_json()


def test_same_key_other_body_is_422_and_missing_key_400(api, newcomer):
    assert (
        newcomer.post(
            "/api/wallet/topup", {"amount": "100", "walletNumber": "01012345678"}, key="topup-key-0001"
        ).status_code
        == 201
    )
    r = newcomer.post("/api/wallet/topup", {"amount": "200", "walletNumber": "01012345678"}, key="topup-key-0001")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert "مفتاح الطلب" in r.get_json()["error"]["message"]
    r = newcomer.post("/api/wallet/topup", {"amount": "200", "walletNumber": "01012345678"}, key=None)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_MISSING"
    r = newcomer.post("/api/wallet/topup", {"amount": "200", "walletNumber": "01012345678"}, key="bad key!")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "Idempotency-Key"
    assert api.rows(NEWCOMER, Transaction.type == TransactionType.TOP_UP) == 1


def test_keys_are_per_student(api, newcomer, omar):
    body = {"amount": "100", "walletNumber": "01012345678"}
    assert newcomer.post("/api/wallet/topup", body, key="shared-key-001").status_code == 201
    r = omar.post("/api/wallet/topup", body, key="shared-key-001")
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers


def test_a_request_in_flight_gets_409_and_a_dead_claim_is_taken_over(api, newcomer):
    from datetime import timedelta

    from core.timeutil import utcnow

    newcomer.get("/api/me")
    body = {"platformId": dsa(api)}
    user_id = api.user_id(NEWCOMER)
    print_ = idempotency.fingerprint(
        "POST", "/api/enrollments", {"platformId": body["platformId"], "expectedPrice": None, "renew": False}
    )
    with api.session() as s:
        assert idempotency.claim(s, user_id, "inflight-key-1", print_, operation="post_enrollment") is None
        assert (
            idempotency.claim(
                s, user_id, "dead-claim-key", print_, operation="post_enrollment", now=utcnow() - timedelta(minutes=5)
            )
            is None
        )
    r = newcomer.post("/api/enrollments", body, key="inflight-key-1")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "REQUEST_IN_FLIGHT"
    r = newcomer.post("/api/enrollments", body, key="dead-claim-key")
    assert r.status_code == 201
    assert api.rows(NEWCOMER, Transaction.type == TransactionType.PLATFORM_PURCHASE) == 1


def run_together(*jobs):
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def runner(i, job):
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - reported to the assertion
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.slow
def test_the_same_key_at_once_has_one_effect(race_api):
    student = race_api.as_student(NEWCOMER, "en")
    student.get("/api/me")
    body = {"platformId": dsa(race_api)}
    key = f"double-tap-{uuid.uuid4()}"
    clients = [Student(race_api.app.test_client(), NEWCOMER) for _ in range(6)]
    results = run_together(*[(lambda c=c: c.post("/api/enrollments", body, key=key)) for c in clients])
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    assert all(r.get_json()["error"]["code"] == "REQUEST_IN_FLIGHT" for r in results if r.status_code == 409)
    assert len({str(r.get_json()) for r in results if r.status_code == 201}) == 1
    assert race_api.rows(NEWCOMER, Transaction.type == TransactionType.PLATFORM_PURCHASE) == 1
    assert race_api.balance(NEWCOMER) == Decimal("100.00") and race_api.ledger_ok()


@pytest.mark.slow
def test_the_mini_app_and_the_bot_spend_the_same_balance(race_api):
    """500.00 each: the Mini App books 300.00 while the bot (run_sync on the async engine) buys 400.00."""
    platform = dsa(race_api)
    bot_db = AsyncDatabase(race_api.db.url, context(), poolclass=NullPool)  # one event loop per call

    async def bot_buys(user_id: int, key: str):
        async with bot_db.sessions() as session:
            return await session.run_sync(lambda s: enrollment.enroll(s, user_id, platform, idempotency_key=key))

    try:
        outcomes = []
        for n in range(4):
            telegram_id = 556000000 + n
            student = race_api.as_student(telegram_id)
            student.get("/api/me")
            user_id = race_api.user_id(telegram_id)
            api_result, bot_result = run_together(
                lambda: student.post("/api/mentorship/book", {"duration": 60, "mentorId": 1}),
                lambda: asyncio.run(bot_buys(user_id, f"bot-{n}")),
            )
            api_ok = api_result.status_code == 201
            bot_ok = not isinstance(bot_result, Exception)
            assert api_ok != bot_ok, (api_result.status_code, api_result.text, bot_result)
            if not api_ok:
                assert api_result.get_json()["error"]["code"] == "INSUFFICIENT_FUNDS"
            else:
                assert isinstance(bot_result, InsufficientFunds), bot_result
            assert race_api.balance(telegram_id) == (Decimal("200.00") if api_ok else Decimal("100.00"))
            outcomes.append(api_ok)
        assert race_api.ledger_ok()
    finally:
        asyncio.run(bot_db.dispose())
