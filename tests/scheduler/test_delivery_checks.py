"""Delivery-time checks: a reminder for a session that was cancelled or moved meanwhile is dropped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.db import Database
from core.models import Notification
from core.services import jobs, mentorship, students
from core.services.common import Actor
from core.timeutil import utcnow
from tests.external import require_redis
from tests.helpers import context

ADMIN = Actor(name="owner")


async def test_reminder_dropped_when_the_session_changed_before_delivery(fake_api, runner):
    db = Database(runner.settings.effective_database_url, context())
    with db.session() as s:
        uid = students.register(s, 31001, full_name="Rana").user.id
        uid2 = students.register(s, 31002, full_name="Karim").user.id
        mentor = mentorship.create_mentor(s, "Ahmed", actor=ADMIN, rate=Decimal("100")).id
        cancelled = mentorship.book(s, uid, mentor, 30, idempotency_key="a").booking.id
        moved = mentorship.book(s, uid2, mentor, 30, idempotency_key="b").booking.id
        now = utcnow()
        for n, bid in enumerate((cancelled, moved)):  # one mentor: two sessions one after the other
            mentorship.confirm(s, bid, now + timedelta(minutes=40 + 30 * n), actor=ADMIN, now=now)
        assert jobs.queue_session_reminders(s, now=now) == 2
        mentorship.cancel(s, cancelled, "mentor ill", actor=ADMIN, now=now)
        mentorship.confirm(s, moved, now + timedelta(days=2), actor=ADMIN, reschedule=True, now=now)
    await runner.deliver()
    texts = runner.texts(31001) + runner.texts(31002)
    assert texts and not any("1 hour" in t.lower() for t in texts)  # the cancel and the new date did arrive
    with db.session() as s:
        # withdrawn by the cancel and the move themselves (delivery would also drop them as stale, the second guard)
        stale = s.query(Notification).filter(Notification.kind == "reminder.session").all()
        assert {n.last_error for n in stale} == {"withdrawn: the session was moved or cancelled"}
    db.dispose()


def test_a_late_reminder_says_how_long_is_really_left():
    from bot.i18n import build_i18n
    from bot.ui.cards import render

    i18n = build_i18n()
    payload = {"booking_id": 7, "duration": 60, "mentor": "Ahmed", "student": "Rana", "role": "student"}
    texts = {}
    for lead, hours_before in (
        (timedelta(hours=24), 24),
        (timedelta(hours=5, minutes=10), 24),
        (timedelta(minutes=55), 1),
    ):
        for lang in ("en", "ar"):
            with i18n.context(), i18n.use_locale(lang):
                texts[lead, lang] = render(
                    "reminder.session",
                    {**payload, "hours_before": hours_before, "session_date": (utcnow() + lead).isoformat()},
                )[0]
    assert "in 24 hours" in texts[timedelta(hours=24), "en"]
    assert "in 5 hours" in texts[timedelta(hours=5, minutes=10), "en"]
    assert "in 1 hour" in texts[timedelta(minutes=55), "en"]
    assert "ساعات" in texts[timedelta(hours=5, minutes=10), "ar"]


async def test_replicas_share_one_broadcast_rate_through_redis():
    """Two replicas' limiters on one Redis: together they stay at 25 acquisitions a second."""
    import asyncio
    import time
    import uuid

    from bot.outbox.delivery import RedisRateLimiter

    redis = await require_redis("redis://127.0.0.1:6379/15")
    key = f"test-rate-{uuid.uuid4().hex}"
    a, b = RedisRateLimiter(redis, 25, key), RedisRateLimiter(redis, 25, key)
    stamps: list[float] = []

    async def replica(limiter):
        for _ in range(40):
            await limiter.wait()
            stamps.append(time.time())

    await asyncio.wait_for(asyncio.gather(replica(a), replica(b)), 20)
    await redis.aclose()
    stamps.sort()
    assert len(stamps) == 80
    worst = max(sum(1 for t in stamps[i : i + 40] if t - stamps[i] < 1.0) for i in range(len(stamps)))
    # 25 slots a second; a wake-up delayed on a loaded machine lets the next ones bunch up behind it by a
    # few: still under Telegram's 30 messages a second, the limit the rate is there to respect
    assert worst <= 28, f"{worst} acquisitions within one second"
    assert stamps[-1] - stamps[0] >= 79 / 25 - 0.2  # two limiters alone would take half that
