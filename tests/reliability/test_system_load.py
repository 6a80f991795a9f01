"""Two processes, one database, under load: run_bot.py (long polling against the fake Bot API) and run_admin.py
(waitress) as real subprocesses, a few hundred students topping up, enrolling, booking and cancelling in
Telegram while admins approve, reject, confirm and adjust over HTTP (the admin API with a token, the panel's
forms with CSRF). Afterwards: `codehub check-ledger` passes, nobody saw an error or "database is locked",
every notification reached Telegram exactly once, every admin action has its audit row.
On SQLite (one file) and on PostgreSQL with Redis (FSM state, throttling)."""

from __future__ import annotations

import asyncio
import os
import random
import time

import pytest

from tests.bot.fake_api import TgUser
from tests.external import require_redis
from tests.reliability.system import Admins, Student, System, record, tg  # noqa: F401 - fixture

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

STUDENTS = int(os.environ.get("RELIABILITY_STUDENTS", 200))
LOAD_SECONDS = float(os.environ.get("RELIABILITY_SECONDS", 20))


def class_of(n: int) -> list[TgUser]:
    base = 70_000 + random.randrange(1, 900) * 1000  # fresh ids: Redis is shared with other test runs
    return [TgUser(base + i, f"Student {i}") for i in range(n)]


async def run_load(
    system: System,
    students: list[TgUser],
    seconds: float,
    *,
    faults=None,
    step_timeout: float = 45,
    replay_rate: float = 0.0,
) -> float:
    """Everyone acts until the deadline (flows in progress finish); the admins work until the students stop."""
    started = time.monotonic()
    deadline = started + seconds
    stop_admins = asyncio.Event()
    admins = asyncio.create_task(Admins(system).work(stop_admins))
    system.students = [Student(system, u, step_timeout=step_timeout, replay_rate=replay_rate) for u in students]
    tasks = [st.live(deadline) for st in system.students]
    if faults is not None:
        tasks.append(faults(started))
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), seconds + 240)
    finally:
        stop_admins.set()
        await asyncio.wait_for(admins, 120)
    return time.monotonic() - started


async def verify(
    system: System, *, in_doubt: frozenset = frozenset(), drain_timeout: float = 90, killed: bool = False
) -> dict:
    started = time.monotonic()
    await system.drain_outbox(drain_timeout)
    drained = time.monotonic() - started
    out = await system.check_ledger_cli()
    assert "ledger OK" in out
    rows = system.check_no_half_writes()
    sends = system.check_outbox_exactly_once(set(in_doubt))
    audit = system.check_audit()
    receipts = system.check_each_receipt_once(system.students, allow_out_of_step=killed)
    system.check_nobody_saw_an_error()
    return {
        **rows,
        **sends,
        **audit,
        **receipts,
        "outbox_drain_s": round(drained, 1),
        "checks_s": round(time.monotonic() - started, 1),
    }


def figures(system: System, wall: float, checked: dict, students: int) -> dict:
    t = system.tally
    return {
        "students": students,
        "load_wall_s": round(wall, 1),
        "operations": sum(t.ops.values()),
        "by_operation": dict(t.ops),
        "flows_interrupted": t.interrupted,
        "steps_resumed_after_restart": t.resumed,
        "answers_a_step_behind": t.out_of_step,
        "faults_injected": len(t.faults),
        "faults": t.faults,
        "replays_sent": sum(t.replays.values()),
        "admin_conflicts_409": t.conflicts,
        "admin_requests_retried": t.http_retries,
        **checked,
    }


@pytest.mark.parametrize("database", ["sqlite", "postgresql+redis"])
async def test_bot_and_panel_on_one_database_under_load(request, database, tg, tmp_path):
    redis_url = None
    if database == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("pg_url")
        client = await require_redis()
        await client.aclose()
        from tests.external import REDIS_URL

        redis_url = REDIS_URL
    t0 = time.monotonic()
    system = await System(tg, url, tmp_path, redis_url=redis_url).start()
    print(f"started in {time.monotonic() - t0:.1f}s")
    students = class_of(STUDENTS)
    try:
        wall = await run_load(system, students, LOAD_SECONDS)
        checked = await verify(system)
    finally:
        t0 = time.monotonic()
        await system.stop()
        print(f"stopped in {time.monotonic() - t0:.1f}s")
    assert system.tally.unanswered == []  # nothing was killed: every step was answered
    system.assert_clean_exit()
    result = figures(system, wall, checked, len(students))
    record(f"two processes, {database}", result)
    assert result["operations"] >= len(students)
