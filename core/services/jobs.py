"""Scheduled jobs: reminders, expiries, stale top-up alerts and the daily summary, queued in the outbox;
and daily housekeeping (stored API responses past their retention).

Every job reads its work from the database and marks what it did with a conditional UPDATE in the
same transaction as the notifications it queues, so a restart neither loses nor repeats anything and
two runners (webhook replicas) never queue a message twice: the runner whose UPDATE changed the row
enqueues; the other sees rowcount 0. Dedupe keys on the notifications are a second guard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, aliased

from core.db import unit_of_work
from core.models import (
    BookingStatus,
    Enrollment,
    MentorshipBooking,
    Notification,
    NotificationKind,
    Platform,
    Transaction,
    TransactionStatus,
    TransactionType,
    User,
)
from core.services import analytics, enrollment, idempotency, notifications, reconciliation
from core.services.settings import get_settings
from core.timeutil import CAIRO, as_utc

log = logging.getLogger(__name__)

BATCH = 500  # rows handled per job per tick; the rest waits for the next tick
EXPIRY_NOTICE_AHEAD = timedelta(days=3)
SUMMARY_HOUR = 9  # Cairo local time


def _unmarked(mark, value):
    """The mark column does not record `value` (NULL counts as not recorded)."""
    return or_(mark.is_(None), mark != value)


# -- session reminders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Due:
    booking_id: int
    session_date: datetime
    duration: int
    student_id: int
    student_name: str
    student_chat: int | None
    mentor_id: int
    mentor_name: str
    mentor_chat: int | None
    reminder_24h_for: datetime | None
    reminder_1h_for: datetime | None


def _confirmed_bookings(session: Session, *conditions) -> list[_Due]:
    student, mentor = aliased(User), aliased(User)
    b = MentorshipBooking
    with unit_of_work(session, write=False):
        rows = session.execute(
            select(
                b.id,
                b.session_date,
                b.duration,
                b.student_id,
                student.full_name,
                student.telegram_id,
                b.mentor_id,
                mentor.full_name,
                mentor.telegram_id,
                b.reminder_24h_for,
                b.reminder_1h_for,
            )
            .join(student, student.id == b.student_id)
            .join(mentor, mentor.id == b.mentor_id)
            .where(b.status == BookingStatus.CONFIRMED, b.session_date.is_not(None), *conditions)
            .order_by(b.id)
            .limit(BATCH)
        ).all()
    return [_Due(*row) for row in rows]


def _mark_booking(session: Session, booking: _Due, where, values: dict) -> bool:
    """Set a reminder mark if this runner is first; the booking must still be CONFIRMED at that date."""
    return bool(
        session.execute(
            update(MentorshipBooking)
            .where(
                MentorshipBooking.id == booking.booking_id,
                MentorshipBooking.status == BookingStatus.CONFIRMED,
                MentorshipBooking.session_date == booking.session_date,
                where,
            )
            .values(**values, updated_at=MentorshipBooking.updated_at)  # bookkeeping, not a change of the booking
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _enqueue_reminder(session: Session, booking: _Due, hours: int, now: datetime) -> int:
    payload = {
        "booking_id": booking.booking_id,
        "session_date": booking.session_date.isoformat(),
        "hours_before": hours,
        "duration": booking.duration,
        "mentor": booking.mentor_name,
        "student": booking.student_name,
    }
    recipients = [("student", booking.student_id, booking.student_chat)]
    if booking.mentor_id != booking.student_id:
        recipients.append(("mentor", booking.mentor_id, booking.mentor_chat))
    queued = 0
    for role, user_id, chat_id in recipients:
        if chat_id is None:  # e.g. a mentor who is not on Telegram
            continue
        key = f"reminder:{booking.booking_id}:{hours}:{booking.session_date.isoformat()}:{role}"
        if (
            notifications.enqueue(
                session,
                kind=NotificationKind.REMINDER_SESSION,
                user_id=user_id,
                chat_id=chat_id,
                payload={**payload, "role": role},
                subject=f"booking:{booking.booking_id}",
                dedupe_key=key,
                now=now,
            )
            is not None
        ):
            queued += 1
    return queued


def queue_session_reminders(session: Session, *, now: datetime | None = None) -> int:
    """24 h and 1 h before each CONFIRMED session, once each per session date.

    Late (the bot was down) but before the start: sent late, once; after the start: skipped. When both
    are due at once only the 1 h reminder goes (the 24 h one is marked done). A reschedule moves
    session_date away from the marks, so the reminders go again for the new time.
    """
    now = as_utc(now)
    b = MentorshipBooking
    due = _confirmed_bookings(
        session,
        b.session_date > now,
        b.session_date <= now + timedelta(hours=24),
        or_(
            _unmarked(b.reminder_24h_for, b.session_date),
            and_(_unmarked(b.reminder_1h_for, b.session_date), b.session_date <= now + timedelta(hours=1)),
        ),
    )
    if not due:
        return 0
    queued = 0
    with unit_of_work(session):
        for booking in due:
            sd = booking.session_date
            if now >= sd - timedelta(hours=1) and booking.reminder_1h_for != sd:
                if _mark_booking(
                    session, booking, _unmarked(b.reminder_1h_for, sd), {"reminder_1h_for": sd, "reminder_24h_for": sd}
                ):
                    queued += _enqueue_reminder(session, booking, 1, now)
            elif booking.reminder_24h_for != sd:
                if _mark_booking(session, booking, _unmarked(b.reminder_24h_for, sd), {"reminder_24h_for": sd}):
                    queued += _enqueue_reminder(session, booking, 24, now)
    return queued


def queue_completion_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Tell the admins, once per session date, that a confirmed session has ended and awaits completion."""
    now = as_utc(now)
    b = MentorshipBooking
    started = _confirmed_bookings(session, b.session_date <= now, _unmarked(b.completion_reminder_for, b.session_date))
    ended = [bk for bk in started if bk.session_date + timedelta(minutes=bk.duration) <= now]
    if not ended:
        return 0
    queued = 0
    with unit_of_work(session):
        for booking in ended:
            sd = booking.session_date
            if not _mark_booking(
                session, booking, _unmarked(b.completion_reminder_for, sd), {"completion_reminder_for": sd}
            ):
                continue
            if (
                notifications.notify_admins(
                    session,
                    kind=NotificationKind.ADMIN_SESSION_ENDED,
                    subject=f"booking:{booking.booking_id}",
                    now=now,
                    dedupe_key=f"session-ended:{booking.booking_id}:{sd.isoformat()}",
                    payload={
                        "booking_id": booking.booking_id,
                        "student": booking.student_name,
                        "mentor": booking.mentor_name,
                        "session_date": sd.isoformat(),
                    },
                )
                is not None
            ):
                queued += 1
    return queued


# -- enrollments -------------------------------------------------------------------------------------


def queue_expiry_notices(session: Session, *, now: datetime | None = None) -> int:
    """Tell a student, once per expiry date, that access ends within 3 days (a renewal resets it)."""
    now = as_utc(now)
    e = Enrollment
    with unit_of_work(session, write=False):
        due = session.execute(
            select(e.id, e.user_id, e.platform_id, Platform.name, e.expires_at, User.telegram_id)
            .join(Platform, Platform.id == e.platform_id)
            .join(User, User.id == e.user_id)
            .where(
                e.is_active.is_(True),
                e.expires_at > now,
                e.expires_at <= now + EXPIRY_NOTICE_AHEAD,
                _unmarked(e.expiry_notice_for, e.expires_at),
            )
            .order_by(e.id)
            .limit(BATCH)
        ).all()
    if not due:
        return 0
    queued = 0
    with unit_of_work(session):
        for eid, uid, pid, name, expires_at, chat_id in due:
            won = session.execute(
                update(e)
                .where(
                    e.id == eid,
                    e.is_active.is_(True),
                    e.expires_at == expires_at,
                    _unmarked(e.expiry_notice_for, expires_at),
                )
                .values(expiry_notice_for=expires_at)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not won or chat_id is None:
                continue
            if (
                notifications.enqueue(
                    session,
                    kind=NotificationKind.ENROLLMENT_EXPIRING,
                    user_id=uid,
                    chat_id=chat_id,
                    now=now,
                    subject=f"enrollment:{eid}",
                    dedupe_key=f"expiring:{eid}:{expires_at.isoformat()}",
                    payload={"platform_id": pid, "platform": name, "expires_at": expires_at.isoformat()},
                )
                is not None
            ):
                queued += 1
    return queued


def expire_enrollments(session: Session, *, now: datetime | None = None) -> int:
    """Deactivate access past its expiry and tell each student (enrollment.expire_due does both, once)."""
    return len(enrollment.expire_due(session, now=now))


# -- admin alerts ------------------------------------------------------------------------------------


def queue_stale_topup_alerts(session: Session, *, now: datetime | None = None) -> int:
    """Alert the admins, once per request, about top-ups PENDING longer than settings.stale_topup_hours."""
    now = as_utc(now)
    t = Transaction
    with unit_of_work(session, write=False):
        hours = get_settings(session).stale_topup_hours
        stale = session.execute(
            select(t.id, t.amount, t.created_at, User.full_name)
            .join(User, User.id == t.user_id)
            .where(
                t.type == TransactionType.TOP_UP,
                t.status == TransactionStatus.PENDING,
                t.stale_alert_sent_at.is_(None),
                t.created_at <= now - timedelta(hours=hours),
            )
            .order_by(t.id)
            .limit(BATCH)
        ).all()
    if not stale:
        return 0
    queued = 0
    with unit_of_work(session):
        for tid, amount, created_at, student in stale:
            won = session.execute(
                update(t)
                .where(
                    t.id == tid,
                    t.status == TransactionStatus.PENDING,
                    t.stale_alert_sent_at.is_(None),
                )
                .values(stale_alert_sent_at=now, updated_at=t.updated_at)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not won:
                continue
            age_hours = int((now - created_at).total_seconds() // 3600)
            if (
                notifications.notify_admins(
                    session,
                    kind=NotificationKind.ADMIN_STALE_TOPUP,
                    subject=f"topup:{tid}",
                    now=now,
                    dedupe_key=f"stale-topup:{tid}",
                    payload={"transaction_id": tid, "student": student, "amount": str(amount), "age_hours": age_hours},
                )
                is not None
            ):
                queued += 1
    return queued


def _plain(value):
    """Decimals (and nested ones) as strings, for a JSON payload."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def queue_daily_summary(session: Session, *, now: datetime | None = None) -> int:
    """Yesterday's numbers to the admins, once per Cairo day, from 09:00 Cairo on."""
    now = as_utc(now)
    local = now.astimezone(CAIRO)
    if local.hour < SUMMARY_HOUR:
        return 0
    key = f"daily-summary:{local.date().isoformat()}"
    with unit_of_work(session, write=False):
        if session.scalar(select(Notification.id).where(Notification.dedupe_key == key)) is not None:
            return 0  # already queued today: skip computing the summary again
        summary = _plain(analytics.daily_summary(session, now=now))
    with unit_of_work(session):
        queued = notifications.notify_admins(
            session,
            kind=NotificationKind.ADMIN_DAILY_SUMMARY,
            payload=summary,
            subject="daily-summary",
            dedupe_key=key,
            now=now,
        )
    return 0 if queued is None else 1


# -- one tick ----------------------------------------------------------------------------------------

JOBS = (
    ("session_reminders", queue_session_reminders),
    ("completion_reminders", queue_completion_reminders),
    ("expired", expire_enrollments),
    ("expiry_notices", queue_expiry_notices),
    ("stale_topups", queue_stale_topup_alerts),
    ("unmatched_transfers", reconciliation.announce_unmatched_transfers),
    ("daily_summary", queue_daily_summary),
)


# -- housekeeping (daily) -----------------------------------------------------------------------------


def purge_idempotency_records(session: Session, *, now: datetime | None = None) -> int:
    """Delete the student API's stored responses older than idempotency.RETENTION (30 days); returns how many.

    A retry that late runs again, and the money service replays its ledger row by the same key: no second effect.
    """
    return idempotency.purge_expired(session, now=now)


DAILY_JOBS = (("idempotency_purge", purge_idempotency_records),)


def _run_jobs(session: Session, jobs: tuple, now: datetime | None) -> dict:
    now = as_utc(now)
    result: dict = {"errors": []}
    for name, job in jobs:
        try:
            result[name] = job(session, now=now)
        except Exception:
            log.exception("scheduled job %s failed", name)
            result[name] = 0
            result["errors"].append(name)
    return result


def run_all(session: Session, *, now: datetime | None = None) -> dict:
    """Run every job once: one scheduler tick (a command-line entry can call it too).

    Returns {job name: notifications queued, ..., "errors": [job names that failed]}. A failing job is
    logged and does not stop the others; its work stays in the database for the next tick.
    """
    return _run_jobs(session, JOBS, now)


def run_daily(session: Session, *, now: datetime | None = None) -> dict:
    """The daily housekeeping jobs once: {job name: rows affected, ..., "errors": [...]} (same rules as run_all).

    Safe to run on several replicas or twice a day: each job only deletes what is past its age at `now`.
    """
    return _run_jobs(session, DAILY_JOBS, now)


def roll_up_analytics(session: Session, *, now: datetime | None = None) -> int:
    """Move the panel's analytics rollups up to ROLLUP_GRACE before `now` (analytics.roll_up): the bot's
    scheduler runs it every few minutes, apart from the 30-second tick, since a first run over a long
    ledger takes seconds. Returns the rollup rows written plus the students looked at (0: up to date)."""
    return analytics.roll_up(session, now=now)


def reminder_still_due(session: Session, booking_id: int, session_date: str, *, now: datetime | None = None) -> bool:
    """At delivery time: the booking is still CONFIRMED for that date and has not started.

    A reminder queued seconds before a cancellation or a reschedule is dropped, not sent.
    """
    row = session.execute(
        select(MentorshipBooking.status, MentorshipBooking.session_date).where(MentorshipBooking.id == booking_id)
    ).first()
    if row is None or row.status != BookingStatus.CONFIRMED or row.session_date is None:
        return False
    return row.session_date.isoformat() == session_date and row.session_date > as_utc(now)


__all__ = [
    "reminder_still_due",
    "queue_session_reminders",
    "queue_completion_reminders",
    "queue_expiry_notices",
    "expire_enrollments",
    "queue_stale_topup_alerts",
    "queue_daily_summary",
    "run_all",
    "purge_idempotency_records",
    "run_daily",
    "roll_up_analytics",
]
