"""Builders and outbox readers for the scheduler tests."""

from __future__ import annotations

import json

from sqlalchemy import select

from core.models import Notification
from core.services import mentorship
from tests.core.helpers import ADMIN, NOW, key, later, mentor, student


def outbox(session, kind: str | None = None) -> list[dict]:
    """Queued messages (payload plus recipient), oldest first, optionally of one kind."""
    query = select(Notification).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    rows = session.scalars(query).all()
    session.rollback()
    return [
        {**json.loads(n.payload), "_chat": n.chat_id, "_user": n.user_id, "_audience": n.audience, "_kind": n.kind}
        for n in rows
    ]


def confirmed_booking(session, session_date, *, student_tg=None, mentor_tg=None, duration=60):
    """A student, a mentor and a CONFIRMED booking at `session_date`; returns (booking_id, student, mentor)."""
    sid = student(session, telegram_id=student_tg, name="Mona")
    mid = mentor(session, name="Ahmed", telegram_id=mentor_tg)
    booking = mentorship.book(session, sid, mid, duration, "help", idempotency_key=key(), now=NOW).booking
    mentorship.confirm(session, booking.id, session_date, "zoom", actor=ADMIN, now=NOW)
    return booking.id, sid, mid


__all__ = ["ADMIN", "NOW", "confirmed_booking", "key", "later", "outbox", "student", "mentor"]
