"""Scale-out: two bot replicas (run_bot.py in webhook mode) on PostgreSQL with FSM state in Redis, and the panel,
under the two-process load. Each update goes to a random replica's webhook port, so one student's flow is split
across both; some updates are delivered to both (Telegram retrying a webhook through the load balancer); both
replicas run the scheduler. Every flow completes, nothing is sent twice (receipts, outbox rows), the ledger
holds."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from core.models import Notification, NotificationStatus
from tests.external import REDIS_URL, require_redis
from tests.reliability.system import System, record, tg  # noqa: F401 - fixture
from tests.reliability.test_system_load import class_of, figures, run_load, verify

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

STUDENTS = int(os.environ.get("RELIABILITY_STUDENTS", 200))
LOAD_SECONDS = float(os.environ.get("RELIABILITY_SECONDS", 20))
REPLAY_RATE = 0.05  # of the students' updates, delivered to both replicas


async def test_two_webhook_replicas_split_every_flow(pg_url, tg, tmp_path):
    client = await require_redis()
    await client.aclose()
    system = await System(tg, pg_url, tmp_path, redis_url=REDIS_URL, replicas=2).start()
    try:
        wall = await run_load(system, class_of(STUDENTS), LOAD_SECONDS, replay_rate=REPLAY_RATE)
        checked = await verify(system)
        with system.db.session() as s:
            workers = set(
                s.scalars(
                    select(Notification.claimed_by).where(
                        Notification.status == NotificationStatus.SENT, Notification.claimed_by.is_not(None)
                    )
                ).all()
            )
    finally:
        await system.stop()
    system.assert_clean_exit()
    assert system.tally.unanswered == []  # every flow completed, across both replicas
    pids = {w.rsplit(":", 1)[1] for w in workers}
    assert pids == {str(p.proc.pid) for p in system.bots}, "both replicas' schedulers delivered notifications"
    result = figures(system, wall, checked, STUDENTS)
    result["replicas"] = 2
    record("two webhook replicas, postgresql+redis", result)
    assert result["replays_sent"] > 0
