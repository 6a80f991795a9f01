"""Broadcasts: audiences, validation, bulk creation and delivery progress."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select

from core.db import unit_of_work
from core.errors import InvalidInput
from core.models import Broadcast, Enrollment, Notification, User
from core.services import audit, broadcasts, enrollment, mentorship, notifications, students, topups
from tests.core.helpers import platform
from tests.scheduler.helpers import ADMIN, NOW, key, later, mentor, student


@pytest.fixture
def school(session):
    """Students: Amal (enrolled), Badr (enrollment expired), Camelia (a cancelled booking), Dina (nothing),
    Emad (enrolled, blocked by admins), Fady (enrolled, blocked the bot); a mentor not on Telegram."""
    pid = platform(session, name="Flask", price="0", days=10)
    ids = {
        name: student(session, telegram_id=5000 + i, name=name)
        for i, name in enumerate(["Amal", "Badr", "Camelia", "Dina", "Emad", "Fady"])
    }
    for name in ("Amal", "Badr", "Emad", "Fady"):
        enrollment.enroll(session, ids[name], pid, idempotency_key=key(), now=NOW)
    with unit_of_work(session):
        session.get(
            Enrollment, session.scalar(select(Enrollment.id).where(Enrollment.user_id == ids["Badr"]))
        ).expires_at = NOW - timedelta(days=1)
    mid = mentor(session)
    booking = mentorship.book(session, ids["Camelia"], mid, 60, idempotency_key=key(), now=NOW).booking
    mentorship.cancel(session, booking.id, student_id=ids["Camelia"], now=NOW)
    students.set_blocked(session, ids["Emad"], True, actor=ADMIN, now=NOW)
    notifications.mark_chat_blocked(session, 5005, now=NOW)
    return pid, ids


def test_audience_counts_and_preview(session, school):
    pid, _ = school
    assert broadcasts.audience_count(session, "all", now=NOW) == 4  # blocked either way: left out
    assert broadcasts.audience_count(session, "platform", pid, now=NOW) == 1  # only current access
    assert broadcasts.audience_count(session, "booking", now=NOW) == 1  # any status
    assert broadcasts.preview_recipients(session, "all", now=NOW) == ["Amal", "Badr", "Camelia", "Dina"]
    assert broadcasts.preview_recipients(session, "all", limit=2, now=NOW) == ["Amal", "Badr"]
    assert broadcasts.preview_recipients(session, "platform", pid, now=NOW) == ["Amal"]
    assert broadcasts.preview_recipients(session, "booking", now=NOW) == ["Camelia"]


@pytest.mark.parametrize(
    "text, audience, platform_id",
    [
        ("", "all", None),
        ("   \n ", "all", None),
        ("x" * 4001, "all", None),
        ("🎉" * 2001, "all", None),
        ("hi", "everyone", None),
        ("hi", "platform", None),
        ("hi", "platform", 999_999),
    ],
)
def test_bad_broadcasts_are_refused_and_write_nothing(session, school, text, audience, platform_id):
    with pytest.raises(InvalidInput):
        broadcasts.create_broadcast(session, text, audience, platform_id=platform_id, actor=ADMIN, now=NOW)
    assert session.scalar(select(func.count()).select_from(Broadcast)) == 0
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "broadcast")) == 0


def test_a_broadcast_queues_one_message_per_reachable_student(session, school):
    pid, ids = school
    text = "  New tasks in Flask! مهام جديدة  "
    info = broadcasts.create_broadcast(session, text, "all", actor=ADMIN, now=NOW)
    assert (info.text, info.audience, info.recipients, info.created_at) == (text.strip(), "all", 4, NOW)
    rows = session.scalars(
        select(Notification).where(Notification.broadcast_id == info.id).order_by(Notification.user_id)
    ).all()
    assert [r.user_id for r in rows] == [ids[n] for n in ("Amal", "Badr", "Camelia", "Dina")]
    assert [r.chat_id for r in rows] == [5000, 5001, 5002, 5003]
    assert {r.kind for r in rows} == {"broadcast"}
    assert {json.loads(r.payload)["text"] for r in rows} == {text.strip()}
    assert [r.dedupe_key for r in rows] == [f"broadcast:{info.id}:{r.user_id}" for r in rows]
    [entry] = audit.recent(session, action="broadcast.create")
    assert entry.actor == ADMIN.name and entry.after["recipients"] == 4
    # the bot can claim and deliver them like any outbox message, in the student's language
    claimed = notifications.claim_due(session, "w1", now=NOW)
    assert sorted(m.chat_id for m in claimed if m.broadcast_id == info.id) == [5000, 5001, 5002, 5003]
    assert {m.language for m in claimed if m.broadcast_id == info.id} == {"en"}

    by_platform = broadcasts.create_broadcast(session, "Flask only", "platform", platform_id=pid, actor=ADMIN, now=NOW)
    assert by_platform.recipients == 1 and by_platform.platform_id == pid


def test_the_longest_announcement_telegram_takes_is_accepted(session, school):
    assert broadcasts.create_broadcast(session, "م" * 4000, "all", actor=ADMIN, now=NOW).recipients == 4
    assert broadcasts.create_broadcast(session, "🎉" * 2000, "all", actor=ADMIN, now=NOW).recipients == 4


def test_a_double_submit_does_not_send_twice(session, school):
    first = broadcasts.create_broadcast(session, "Hello", "all", actor=ADMIN, now=NOW)
    again = broadcasts.create_broadcast(session, "Hello", "all", actor=ADMIN, now=later(seconds=5))
    assert again.id == first.id and again.replayed
    later_one = broadcasts.create_broadcast(session, "Hello", "all", actor=ADMIN, now=later(minutes=5))
    assert later_one.id != first.id
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "broadcast")) == 8


def test_a_thousand_recipients_in_a_few_statements(session, db):
    with unit_of_work(session):
        session.execute(
            insert(User),
            [
                dict(telegram_id=700_000 + i, full_name=f"Student {i:04d}", language="ar", created_at=NOW)
                for i in range(1000)
            ],
        )
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        info = broadcasts.create_broadcast(session, "Exams next week", "all", actor=ADMIN, now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert info.recipients == 1000
    assert len(statements) < 15, statements  # bulk: not one INSERT per recipient
    assert (
        session.scalar(
            select(func.count(func.distinct(Notification.chat_id))).where(Notification.broadcast_id == info.id)
        )
        == 1000
    )
    assert broadcasts.broadcast_progress(session, info.id) == {
        "total": 1000,
        "sent": 0,
        "failed": 0,
        "blocked": 0,
        "pending": 1000,
    }


def test_progress_counts_sent_failed_blocked_and_pending(session):
    for i in range(6):
        student(session, telegram_id=6100 + i, name=f"S{i}")
    info = broadcasts.create_broadcast(session, "Server maintenance tonight", "all", actor=ADMIN, now=NOW)
    claimed = {m.chat_id: m.id for m in notifications.claim_due(session, "w1", now=NOW)}
    notifications.mark_sent(session, claimed[6100], message_id=1, now=NOW)
    notifications.mark_sent(session, claimed[6101], message_id=2, now=NOW)
    notifications.mark_failed(session, claimed[6102], "Bad Request: chat not found")
    notifications.mark_chat_blocked(session, 6103, now=NOW)
    notifications.mark_retry(session, claimed[6104], "timeout", retry_at=later(seconds=30))
    # 6105 is still claimed (in flight): pending too
    expected = {"total": 6, "sent": 2, "failed": 1, "blocked": 1, "pending": 2}
    assert broadcasts.broadcast_progress(session, info.id) == expected

    older = broadcasts.create_broadcast(session, "Second", "all", actor=ADMIN, now=later(minutes=5))
    listed = broadcasts.list_broadcasts(session)
    assert [b.id for b in listed] == [older.id, info.id]
    assert listed[1].progress == expected and listed[1].text == "Server maintenance tonight"
    assert listed[0].progress == {"total": 5, "sent": 0, "failed": 0, "blocked": 0, "pending": 5}
    assert broadcasts.list_broadcasts(session, limit=1)[0].id == older.id


def test_a_big_broadcast_does_not_delay_a_top_up_decision(session):
    with unit_of_work(session):
        session.execute(
            insert(User), [dict(telegram_id=800_000 + i, full_name=f"S{i}", created_at=NOW) for i in range(100)]
        )
    sid = student(session, telegram_id=6200, name="Waiting")
    t = topups.request_topup(session, sid, "100", "01012345678", idempotency_key=key(), now=NOW)
    info = broadcasts.create_broadcast(session, "Ramadan timetable", "all", actor=ADMIN, now=later(seconds=1))
    topups.approve(
        session, t.transaction_id, actor=ADMIN, now=later(seconds=2), confirmed=True, reason="checked the statement"
    )
    first = notifications.claim_due(session, "w1", now=later(seconds=3), limit=25)
    assert "topup.approved" in {m.kind for m in first}  # not behind 101 announcements
    claimed = [m for m in first if m.broadcast_id == info.id]
    while batch := notifications.claim_due(session, "w1", now=later(seconds=3), limit=25):
        claimed += [m for m in batch if m.broadcast_id == info.id]
    assert len(claimed) == info.recipients == 101  # and the announcement still reaches everyone
