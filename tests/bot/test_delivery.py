"""Outbox delivery: every kind rendered in both languages, blocked chats, 429, retries, broadcast pace."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.i18n import build_i18n
from bot.outbox.scheduler import build_scheduler
from bot.ui.cards import RENDERERS, render
from core.db import unit_of_work
from core.models import Notification, NotificationKind, NotificationStatus, User
from core.services import notifications, topups
from core.timeutil import utcnow
from tests.bot.fake_api import TgUser
from tests.bot.helpers import ADMIN1, ADMIN2

SAMPLES = {
    "topup.approved": {"transaction_id": 12, "amount": "150.00", "balance": "650.00"},
    "topup.rejected": {"transaction_id": 12, "amount": "150.00", "reason": "no <transfer>"},
    "balance.adjusted": {"amount": "-20.00", "balance": "480.00", "reason": "fix"},
    "booking.confirmed": {
        "booking_id": 7,
        "session_date": "2026-12-01T16:00:00+00:00",
        "notes": "link",
        "duration": 60,
        "meeting_link": "https://meet.example/x",
        "mentor": "Ahmed",
    },
    "booking.rescheduled": {"booking_id": 7, "session_date": "2026-12-02T16:00:00+00:00", "notes": "", "duration": 60},
    "mentor.confirmed": {"booking_id": 7, "session_date": "2026-12-01T16:00:00+00:00", "notes": "", "duration": 60},
    "mentor.rescheduled": {"booking_id": 7, "session_date": "2026-12-01T16:00:00+00:00", "notes": "", "duration": 60},
    "booking.cancelled": {
        "booking_id": 7,
        "refund": "300.00",
        "balance": "500.00",
        "reason": "sick",
        "by_student": False,
    },
    "booking.rate_request": {"booking_id": 7},
    "enrollment.expired": {"platform_id": 3, "platform": "Flask"},
    "enrollment.expiring": {"platform_id": 3, "platform": "Flask", "expires_at": "2026-12-01T10:00:00+00:00"},
    "reminder.session": {
        "booking_id": 7,
        "session_date": "2026-12-01T16:00:00+00:00",
        "hours_before": 1,
        "duration": 60,
        "mentor": "Ahmed",
        "student": "Sara",
        "role": "student",
    },
    "broadcast": {"text": "New course <today> & more"},
    "admin.topup_new": {
        "transaction_id": 12,
        "user_id": 1,
        "student": "Sara",
        "username": "sara",
        "amount": "150.00",
        "wallet": "010****5678",
        "reference": "022768543034",
    },
    "admin.topup_decided": {"transaction_id": 12, "status": "APPROVED", "by": "@amr", "amount": "150.00"},
    "admin.booking_new": {
        "booking_id": 7,
        "student": "Sara",
        "username": None,
        "mentor": "Ahmed",
        "duration": 60,
        "cost": "300.00",
        "notes": "",
    },
    "admin.booking_decided": {"booking_id": 7, "status": "CANCELLED", "by": "student"},
    "admin.stale_topup": {"transaction_id": 12, "student": "Sara", "amount": "150.00", "age_hours": 13},
    "admin.session_ended": {
        "booking_id": 7,
        "student": "Sara",
        "mentor": "Ahmed",
        "session_date": "2026-12-01T16:00:00+00:00",
    },
    "admin.transfer_unmatched": {
        "transfer_id": 3,
        "reference": "022768543034",
        "amount": "150.00",
        "sender": "010****5678",
        "sender_name": "Omar <Hassan>",
        "received_at": "2026-12-01T16:00:00+00:00",
        "window_minutes": 120,
    },
    "reschedule.asked": {
        "booking_id": 7,
        "student": "Sara <b>",
        "from": "2026-12-01T16:00:00+00:00",
        "to": "2026-12-02T16:00:00+00:00",
        "duration": 60,
    },
    "reschedule.declined": {
        "booking_id": 7,
        "session_date": "2026-12-01T16:00:00+00:00",
        "asked": "2026-12-02T16:00:00+00:00",
    },
    "admin.daily_summary": {
        "date": "2026-11-24",
        "revenue": {"TOTAL": "550.00"},
        "topups_approved": {"count": 2, "amount": "300.00"},
        "topups_pending": {"count": 1, "amount": "100.00"},
        "bookings": 3,
        "new_students": 4,
    },
}
BUTTONS = {
    "booking.confirmed": ["📅 Add to Google Calendar"],
    "admin.topup_new": ["✅ Approve", "❌ Reject"],
    "admin.booking_new": ["✅ Confirm", "✖️ Cancel"],
    "booking.rate_request": ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐"],
    "enrollment.expiring": ["🔄 Renew"],
    "admin.stale_topup": ["✅ Approve", "❌ Reject"],
}


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_renders_in_both_languages(kind, lang):
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale(lang):
        text, markup = render(kind, SAMPLES[kind])
    assert text and "{" not in text
    if lang == "ar" and kind != "broadcast":  # a broadcast is the admin's own text
        assert any("\u0600" <= ch <= "\u06ff" for ch in text), text
    if lang == "en" and kind in BUTTONS:
        assert [b.text for row in markup.inline_keyboard for b in row] == BUTTONS[kind]
    if kind == "broadcast":
        assert "&lt;today&gt; &amp; more" in text
    if kind.startswith(("booking.confirmed", "reminder")) and lang == "en":
        assert "18:00" in text  # 16:00 UTC is 18:00 in Cairo
    if kind == "booking.confirmed":
        link = markup.inline_keyboard[0][0].url
        assert link.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE")
        assert "dates=20261201T160000Z%2F20261201T170000Z" in link and "meet.example" in text


def test_every_notification_kind_has_one_renderer_and_a_sample_here():
    """A kind added to core without words in the bot (or a typo in either) fails here, not in a student's chat."""
    assert set(RENDERERS) == set(NotificationKind)
    assert set(SAMPLES) == {kind.value for kind in NotificationKind}
    assert render("topup.aproved", SAMPLES["topup.approved"]) is None  # delivery fails such a row, loudly


def enqueue(db, chat_id: int, kind: str, payload: dict, **kw) -> int:
    with db.session() as s, unit_of_work(s):
        return notifications.enqueue(s, kind=kind, payload=payload, chat_id=chat_id, **kw)


def row(db, nid: int) -> Notification:
    with db.session() as s:
        return s.get(Notification, nid)


async def test_blocked_chat_is_marked_and_not_retried(runner, sync_db):
    student = TgUser(9301, "Blocked")
    await runner.send(student, "/start")
    runner.api.blocked.add(student.id)
    nid = enqueue(sync_db, student.id, "topup.approved", SAMPLES["topup.approved"])
    await runner.deliver()
    assert row(sync_db, nid).status == NotificationStatus.FAILED
    with sync_db.session() as s:
        assert s.scalar(select(User.bot_blocked_at).where(User.telegram_id == student.id)) is not None
    assert await runner.deliver(now=utcnow() + timedelta(hours=1)) == 0


async def test_retry_after_is_honoured_without_counting_a_failure(runner, sync_db):
    runner.api.retry_once["sendMessage"] = 7
    now = utcnow()
    nid = enqueue(sync_db, 9302, "broadcast", {"text": "hello"}, now=now)
    await runner.deliver(now=now)
    r = row(sync_db, nid)
    assert r.status == NotificationStatus.PENDING and r.attempts == 0
    assert abs((r.next_attempt_at - now).total_seconds() - 7) < 1
    assert await runner.deliver(now=now + timedelta(seconds=3)) == 0  # not before retry_after
    await runner.deliver(now=now + timedelta(seconds=8))
    assert row(sync_db, nid).status == NotificationStatus.SENT
    assert "hello" in runner.api.last_message(9302).plain_text


async def test_server_error_backs_off(runner, sync_db):
    runner.api.fail_once["sendMessage"] = 500
    now = utcnow()
    nid = enqueue(sync_db, 9303, "broadcast", {"text": "later"}, now=now)
    await runner.deliver(now=now)
    r = row(sync_db, nid)
    assert r.status == NotificationStatus.PENDING and r.attempts == 1 and r.next_attempt_at > now
    await runner.deliver(now=r.next_attempt_at)
    assert row(sync_db, nid).status == NotificationStatus.SENT


@pytest.mark.slow
async def test_broadcast_is_paced_at_most_25_per_second(runner, sync_db):
    now = utcnow()
    with sync_db.session() as s, unit_of_work(s):
        for i in range(40):
            notifications.enqueue(s, kind="broadcast", payload={"text": f"news {i}"}, chat_id=9400 + i, now=now)
    await runner.deliver(now=now)
    times = sorted(c.at for c in runner.api.calls if c.method == "sendMessage")
    assert len(times) == 40
    for i in range(len(times) - 25):
        assert times[i + 25] - times[i] >= 0.95, "more than 25 messages within one second"


async def test_admin_gets_cards_in_their_language_and_decisions_edit_them(runner, sync_db):
    await runner.send(TgUser(ADMIN2.id, "Hoda", "hoda_admin", "ar"), "/start")  # admin 2 reads Arabic
    student = TgUser(9304, "Sara", "sara")
    await runner.send(student, "/start")
    with sync_db.session() as s:
        uid = s.scalar(select(User.id).where(User.telegram_id == student.id))
        tx = topups.request_topup(s, uid, "75", "01012345678", idempotency_key="k1")
    await runner.deliver()
    en = runner.api.message_with(ADMIN1.id, "New top-up request")
    ar = runner.api.message_with(ADMIN2.id, "طلب شحن جديد")
    assert ar.buttons == ["✅ موافقة", "❌ رفض"]
    from core.services.common import Actor

    with sync_db.session() as s:  # decided in the panel, not in Telegram
        topups.approve(s, tx.transaction_id, actor=Actor("panel-owner"), confirmed=True, reason="checked the statement")
    await runner.deliver()
    assert "Approved by panel-owner" in runner.api.messages[(ADMIN1.id, en.message_id)].plain_text
    assert "بواسطة panel-owner" in runner.api.messages[(ADMIN2.id, ar.message_id)].plain_text
    assert runner.api.messages[(ADMIN2.id, ar.message_id)].buttons == []
    assert "New balance: 575.00 EGP" in runner.api.message_with(student.id, "approved").plain_text


async def test_scheduler_delivers_within_seconds_and_takes_extra_jobs(runner, sync_db):
    added = []

    def extra(scheduler, *, bot, db, i18n, settings):
        added.append(settings)
        scheduler.add_job(lambda: None, "interval", hours=1, id="extra")

    scheduler = build_scheduler(runner.bot, runner.db, runner.i18n, runner.settings, extra_jobs=[extra])
    job = scheduler.get_job("deliver_outbox")
    assert job.max_instances == 1 and job.coalesce and scheduler.get_job("extra") and added
    nid = enqueue(sync_db, 9305, "broadcast", {"text": "from the panel"})
    scheduler.start()
    try:
        await runner.api.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 9305, timeout=8)
        for _ in range(50):  # the job records the delivery right after sending
            if row(sync_db, nid).status == NotificationStatus.SENT:
                break
            await asyncio.sleep(0.1)
    finally:
        scheduler.shutdown(wait=False)
    assert row(sync_db, nid).status == NotificationStatus.SENT


async def test_blocking_the_bot_is_noticed_and_start_makes_the_student_reachable_again(runner, sync_db):
    student = TgUser(9306, "Leaver")
    await runner.send(student, "/start")
    chat = {"id": student.id, "type": "private", "first_name": "Leaver"}
    bot_user = runner.api.bot_user
    member = lambda status: {"user": bot_user, "status": status, **({"until_date": 0} if status == "kicked" else {})}
    await runner.feed(
        {
            "my_chat_member": {
                "chat": chat,
                "from": student.as_dict(),
                "date": 0,
                "old_chat_member": member("member"),
                "new_chat_member": member("kicked"),
            }
        }
    )
    with sync_db.session() as s:
        assert s.scalar(select(User.bot_blocked_at).where(User.telegram_id == student.id)) is not None
    await runner.send(student, "/start")
    with sync_db.session() as s:
        assert s.scalar(select(User.bot_blocked_at).where(User.telegram_id == student.id)) is None
