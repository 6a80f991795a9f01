"""An admin typing a session date too far ahead, or with a control character, gets words and the booking stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.dates import lacks_time, parse_session_date
from core.models import MentorshipBooking
from core.timeutil import CAIRO, utcnow
from tests.bot.helpers import ADMIN1, booking_waiting_for_a_date, speaks_arabic


def _booking(sync_db):
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        return b.status.value, b.session_date


async def test_admin_far_dates_get_a_clear_answer_and_change_nothing(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    far = (utcnow() + timedelta(days=181)).astimezone(CAIRO).strftime("%Y-%m-%d %H:%M")
    for typed in ("9999-12-31 23:59", "2099-01-01 10:00", far):
        calls = await runner.send(ADMIN1, typed)
        assert "too far ahead" in calls[-1].text and "180 days" in calls[-1].text, typed
        assert _booking(sync_db) == ("PENDING", None)
    near = (utcnow() + timedelta(days=179)).astimezone(CAIRO).strftime("%Y-%m-%d 18:00")
    calls = await runner.send(ADMIN1, near)  # the step stayed open: a good date goes on to the notes
    assert "Session on" in calls[-1].text
    await runner.press(ADMIN1, runner.api.last_message(ADMIN1.id), "Skip")
    assert _booking(sync_db)[0] == "CONFIRMED"


async def test_far_date_answer_in_arabic(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    speaks_arabic(sync_db, ADMIN1)
    calls = await runner.send(ADMIN1, "2099-01-01 10:00")
    assert "هذا بعيد جدًا" in calls[-1].text and "١٨٠" in calls[-1].text
    assert _booking(sync_db) == ("PENDING", None)


async def test_control_character_in_the_date_is_not_read(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    for typed in ("tomorrow\x00 18:00", "tomorrow 18:00\x1b"):
        calls = await runner.send(ADMIN1, typed)
        assert "could not read" in calls[-1].text, repr(typed)
    assert _booking(sync_db) == ("PENDING", None)


def test_parser_refuses_control_characters():
    now = utcnow()
    assert parse_session_date("tomorrow 18:00", now=now) is not None
    for typed in ("tomorrow\x00 18:00", "tomorrow\t18:00", "2026-12-01\x7f 18:00", "tomorrow\n18:00"):
        assert parse_session_date(typed, now=now) is None and not lacks_time(typed, now=now), repr(typed)
