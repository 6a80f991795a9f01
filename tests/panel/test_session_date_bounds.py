"""The panel form and the admins' API refuse a session date too far ahead (or off the calendar) with words, no 500."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.models import BookingStatus
from core.timeutil import CAIRO, utcnow
from tests.panel.helpers import flashes


def _local(dt: datetime) -> str:
    return dt.astimezone(CAIRO).strftime("%Y-%m-%dT%H:%M")


def _confirm(owner, booking_id, value, **extra):
    return owner.post(
        f"/admin/bookings/booking/{booking_id}/confirm",
        follow_redirects=True,
        data={"csrf_token": owner.csrf, "session_date": value, **extra},
    )


@pytest.mark.parametrize(
    "value,message",
    [
        ("9999-12-31T23:59", "at most 180 days ahead"),
        ("2099-01-01T10:00", "at most 180 days ahead"),
        ("0001-01-01T00:30", "must be in the future"),
    ],
)
def test_form_refuses_far_and_off_calendar_dates(panel, owner, value, message):
    b = panel.bookings(BookingStatus.PENDING)[0]
    r = _confirm(owner, b.id, value)
    assert r.status_code == 200 and message in flashes(r.text)
    assert panel.booking(b.id).status == BookingStatus.PENDING and panel.booking(b.id).session_date is None


def test_form_181_days_refused_179_accepted_and_reschedule_bounded(panel, owner):
    b = panel.bookings(BookingStatus.PENDING)[0]
    assert "at most 180 days ahead" in flashes(_confirm(owner, b.id, _local(utcnow() + timedelta(days=181))).text)
    when = (utcnow() + timedelta(days=179)).replace(second=0, microsecond=0)
    assert "confirmed for" in flashes(_confirm(owner, b.id, _local(when)).text)
    r = _confirm(owner, b.id, _local(utcnow() + timedelta(days=400)), reschedule="1")
    assert "at most 180 days ahead" in flashes(r.text)
    assert panel.booking(b.id).session_date == when


def test_api_refuses_far_date_with_its_code(panel, owner):
    b = panel.bookings(BookingStatus.PENDING)[0]
    r = owner.put(
        f"/api/admin/mentorship/{b.id}/confirm",
        json={"sessionDate": "2099-01-01T10:00"},
        headers={"X-CSRFToken": owner.csrf},
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "DATE_TOO_FAR"
    assert panel.booking(b.id).status == BookingStatus.PENDING


def test_form_offers_only_the_allowed_window(panel, owner):
    b = panel.bookings(BookingStatus.PENDING)[0]
    before = utcnow()
    html = owner.get(f"/admin/bookings/booking/{b.id}").text
    days = {f'max="{(t + timedelta(days=180)).astimezone(CAIRO):%Y-%m-%dT}' for t in (before, utcnow())}
    assert any(d in html for d in days)  # the date picker stops where the rule does
