"""The jobs as they really run: run_bot.py processes, the fake Bot API server, the panel in-process.

A top-up approved in the panel reaches the student within 10 seconds; pending messages survive a
restart and go exactly once; two bot replicas deliver each message and each reminder once; a
1,000-message broadcast keeps to 25 messages a second with correct counts.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.outbox.delivery import RateLimiter, deliver_due
from core.db import Database, migrate, unit_of_work
from core.models import Notification, NotificationStatus
from core.services import broadcasts, mentorship, notifications, students, topups
from core.services.common import Actor
from core.timeutil import utcnow
from tests.bot.fake_api import TOKEN, TgUser
from tests.bot.test_run_bot import RUN_BOT, bot_env
from tests.helpers import context, make_settings

pytestmark = pytest.mark.slow
OWNER = Actor(name="owner")


async def start_bot(fake, tmp_path, url: str, name: str = "bot"):
    env = bot_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake.base_url, DATABASE_URL=url)
    log = open(tmp_path / f"{name}.log", "wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, RUN_BOT, cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log
    )
    proc.log = log
    return proc


async def stop_bot(proc) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 30)
    proc.log.close()
    return proc.returncode


async def wait_until(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


def sends(fake, chat_ids=None) -> Counter:
    return Counter(
        c.chat_id
        for c in fake.calls
        if c.method == "sendMessage" and c.error is None and (chat_ids is None or c.chat_id in chat_ids)
    )


async def test_panel_approval_reaches_the_student_within_10_seconds(fake_api, tmp_path):
    from admin_panel import create_app
    from core.services.admins import create_admin

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    proc = await start_bot(fake_api, tmp_path, url)
    try:
        await fake_api.wait_for_call(lambda c: c.method == "deleteWebhook", timeout=30)
        fake_api.push(fake_api.message_update(TgUser(4242, "Laila", "laila", "en"), "/start"))
        await fake_api.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 4242, timeout=20)
        app = create_app(make_settings(url, tmp_path))
        db = app.extensions["codehub"].db
        with db.session() as s:
            create_admin(s, "fin", "plum-orbit-canyon-7", "finance")
            uid = students.find_by_telegram(s, 4242).id
            request = topups.request_topup(s, uid, "250", "01012345678", idempotency_key="e2e")
        # the admins' cards arrive first (the bot fans the outbox row out to ADMIN_TELEGRAM_IDS)
        await fake_api.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 111000111, timeout=15)
        client = app.test_client()
        page = client.get("/admin/login")
        from tests.panel.helpers import csrf_from

        client.post(
            "/admin/login",
            data={"username": "fin", "password": "plum-orbit-canyon-7", "csrf_token": csrf_from(page.text)},
        )
        csrf = client.get("/api/admin/csrf-token").get_json()["csrfToken"]
        mark = len(fake_api.calls)
        approved_at = time.monotonic()
        r = client.put(
            f"/api/admin/topup-requests/{request.transaction_id}",  # no transfer: confirmed
            json={"status": "APPROVED", "confirm": True, "reason": "statement checked"},
            headers={"X-CSRFToken": csrf},
        )
        assert r.status_code == 200, r.text
        told = await fake_api.wait_for_call(
            lambda c: c.method == "sendMessage" and c.chat_id == 4242, timeout=10, start=mark
        )
        assert told.at - approved_at < 10
        assert "750.00 EGP" in told.text  # the new balance
        edited = await fake_api.wait_for_call(
            lambda c: c.method == "editMessageText" and c.chat_id == 111000111, timeout=10, start=mark
        )
        assert "fin" in edited.text
        db.dispose()
    finally:
        assert await stop_bot(proc) == 0


def _students(db: Database, count: int, first_tg: int) -> list[int]:
    with db.session() as s:
        return [students.register(s, first_tg + i, full_name=f"S{i}").user.id for i in range(count)]


async def test_restart_with_messages_pending_delivers_each_exactly_once(fake_api, tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    migrate(url)
    db = Database(url, context())
    _students(db, 150, 500000)
    chats = set(range(500000, 500150))
    with db.session() as s:
        b = broadcasts.create_broadcast(s, "Exam week: good luck!", "all", actor=OWNER)
    assert b.recipients == 150
    first = await start_bot(fake_api, tmp_path, url, "first")
    assert await wait_until(lambda: sum(sends(fake_api, chats).values()) >= 40, 30)
    assert await stop_bot(first) == 0  # SIGTERM while most of the broadcast still waits
    delivered_before = sum(sends(fake_api, chats).values())
    assert delivered_before < 150
    second = await start_bot(fake_api, tmp_path, url, "second")
    try:
        assert await wait_until(lambda: len(sends(fake_api, chats)) == 150, 40)
        await asyncio.sleep(3)  # a duplicate, if any, would show up now
    finally:
        assert await stop_bot(second) == 0
    per_chat = sends(fake_api, chats)
    assert set(per_chat.values()) == {1}, [c for c, n in per_chat.items() if n > 1]
    with db.session() as s:
        assert broadcasts.broadcast_progress(s, b.id)["sent"] == 150
    db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_bot_replicas_send_each_message_and_reminder_once(fake_api, tmp_path, request, backend):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    db = Database(url, context())
    ids = _students(db, 40, 600000)
    with db.session() as s, unit_of_work(s):
        for uid in ids:
            notifications.enqueue(
                s,
                kind="balance.adjusted",
                user_id=uid,
                payload={"amount": "10.00", "balance": "510.00", "reason": "gift"},
            )
    with db.session() as s:  # closed: an unclosed one stayed idle in a transaction (issue 20, #12)
        # one mentor each: five sessions at one time (a mentor is never booked twice at once)
        mentors = [mentorship.create_mentor(s, f"Mentor {n}", actor=OWNER, rate=Decimal("100")) for n in range(5)]
    booked = []
    with db.session() as s:
        for uid, mentor in zip(ids[:5], mentors):
            b = mentorship.book(s, uid, mentor.id, 30, idempotency_key=f"b{uid}").booking
            mentorship.confirm(s, b.id, utcnow() + timedelta(minutes=50), actor=OWNER)
            booked.append(600000 + ids.index(uid))
    replicas = [await start_bot(fake_api, tmp_path, url, f"replica{i}") for i in range(2)]
    try:

        def done():
            c = sends(fake_api, set(range(600000, 600040)))
            return len(c) == 40 and all(c[chat] >= 3 for chat in booked)  # adjusted + confirmed + reminder

        assert await wait_until(done, 45)
        await asyncio.sleep(4)
    finally:
        for proc in replicas:
            assert await stop_bot(proc) == 0
    per_chat = sends(fake_api, set(range(600000, 600040)))
    assert all(per_chat[chat] == 3 for chat in booked), per_chat
    assert all(n == 1 for chat, n in per_chat.items() if chat not in booked), per_chat
    reminders = [c for c in fake_api.calls if c.method == "sendMessage" and "1 hour" in c.text.lower()]
    assert sorted(c.chat_id for c in reminders) == sorted(booked)
    with db.session() as s:
        left = s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.status != NotificationStatus.SENT, Notification.audience != "admins")
        )
        # admin cards go to ADMIN_TELEGRAM_IDS chats that the fake server accepts too
        assert left == 0
    db.dispose()


async def test_broadcast_of_1000_keeps_to_25_a_second_with_correct_counts(fake_api, runner):
    db = Database(runner.settings.effective_database_url, context())
    _students(db, 1000, 800000)
    blocked = set(range(800000, 800010))
    fake_api.blocked.update(blocked)
    with db.session() as s:
        b = broadcasts.create_broadcast(s, "New platform: Django!", "all", actor=OWNER)
        assert b.recipients == 1000
    limiter = RateLimiter(25)
    started = time.monotonic()
    while await deliver_due(runner.bot, runner.db, runner.i18n, "bcast", limiter=limiter, limit=100):
        pass
    elapsed = time.monotonic() - started
    calls = sorted(c.at for c in fake_api.calls if c.method == "sendMessage" and c.chat_id >= 800000)
    assert len(calls) == 1000  # 990 delivered + 10 refused by users who blocked the bot
    worst = max(sum(1 for t in calls[i : i + 40] if t - calls[i] < 1.0) for i in range(len(calls)))
    assert worst <= 26, f"{worst} messages within one second"
    assert elapsed >= 1000 / 25 - 2
    with db.session() as s:
        progress = broadcasts.broadcast_progress(s, b.id)
    assert (progress["sent"], progress["blocked"], progress["failed"], progress["pending"]) == (990, 10, 0, 0)
    db.dispose()
