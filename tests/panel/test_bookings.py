"""Bookings: confirm with a future Cairo date, complete, cancel with refund; mentors see only their own."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from core.models import BookingStatus, MentorshipBooking
from core.services import mentorship
from core.services.common import Actor
from core.timeutil import CAIRO, utcnow
from tests.panel.helpers import flashes


def _local(dt: datetime) -> str:
    return dt.astimezone(CAIRO).strftime("%Y-%m-%dT%H:%M")


def _pending(panel) -> MentorshipBooking:
    return panel.bookings(BookingStatus.PENDING)[0]


def test_list_shows_pending_first(panel, owner):
    html = owner.get("/admin/bookings/").text
    pending = _pending(panel)
    done = panel.bookings(BookingStatus.COMPLETED)[0]
    assert html.index(f">#{pending.id}<") < html.index(f">#{done.id}<")
    assert "Confirm…" in html


def test_confirm_with_a_future_cairo_date(panel, owner):
    b = _pending(panel)
    when = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    r = owner.post(
        f"/admin/bookings/booking/{b.id}/confirm",
        follow_redirects=True,
        data={"csrf_token": owner.csrf, "session_date": _local(when), "notes": "Meet link in chat"},
    )
    assert "confirmed for" in flashes(r.text)
    row = panel.booking(b.id)
    assert row.status == BookingStatus.CONFIRMED and row.session_date == when
    assert row.admin_notes == "Meet link in chat"
    assert panel.notifications("booking.confirmed")
    assert panel.audits("booking.confirm")[-1].actor == "owner"
    html = owner.get("/admin/bookings/").text
    assert "Upcoming confirmed sessions" in html and _local(when).replace("T", " ") in html


@pytest.mark.parametrize(
    "value,message",
    [
        ("2020-01-01T10:00", "must be in the future"),
        ("tomorrow", "YYYY-MM-DD HH:MM"),
        ("", "Choose the session date"),
    ],
)
def test_confirm_refuses_bad_dates(panel, owner, value, message):
    b = _pending(panel)
    r = owner.post(
        f"/admin/bookings/booking/{b.id}/confirm",
        data={"csrf_token": owner.csrf, "session_date": value},
        follow_redirects=True,
    )
    assert message in flashes(r.text)
    assert panel.booking(b.id).status == BookingStatus.PENDING


def test_confirm_notes_far_too_long(panel, owner):
    b = _pending(panel)
    when = _local(utcnow() + timedelta(days=1))
    r = owner.post(
        f"/admin/bookings/booking/{b.id}/confirm",
        follow_redirects=True,
        data={"csrf_token": owner.csrf, "session_date": when, "notes": "n" * 5000},
    )
    assert "too long" in flashes(r.text)
    assert panel.booking(b.id).status == BookingStatus.PENDING


def test_complete_only_after_the_session_started(panel, owner):
    b = _pending(panel)
    with panel.session() as s:
        mentorship.confirm(s, b.id, utcnow() + timedelta(hours=3), actor=Actor("t"))
    r = owner.post(f"/admin/bookings/booking/{b.id}/complete", data={"csrf_token": owner.csrf}, follow_redirects=True)
    assert "has not started yet" in flashes(r.text)
    with panel.session() as s:
        s.get(MentorshipBooking, b.id).session_date = utcnow() - timedelta(hours=1)
        s.commit()
    r = owner.post(f"/admin/bookings/booking/{b.id}/complete", data={"csrf_token": owner.csrf}, follow_redirects=True)
    assert "completed" in flashes(r.text)
    assert panel.booking(b.id).status == BookingStatus.COMPLETED


def test_cancel_refunds_and_needs_a_reason(panel, owner):
    b = _pending(panel)
    balance = panel.user(b.student_id).balance
    r = owner.post(
        f"/admin/bookings/booking/{b.id}/cancel", data={"csrf_token": owner.csrf, "reason": ""}, follow_redirects=True
    )
    assert "needs a reason" in flashes(r.text) and panel.booking(b.id).status == BookingStatus.PENDING
    r = owner.post(
        f"/admin/bookings/booking/{b.id}/cancel",
        data={"csrf_token": owner.csrf, "reason": "Mentor ill"},
        follow_redirects=True,
    )
    assert "150.00 EGP refunded" in flashes(r.text)
    assert panel.user(b.student_id).balance == balance + Decimal("150.00")
    r = owner.post(
        f"/admin/bookings/booking/{b.id}/cancel",
        data={"csrf_token": owner.csrf, "reason": "again"},
        follow_redirects=True,
    )
    assert "Not possible" in flashes(r.text)
    assert panel.user(b.student_id).balance == balance + Decimal("150.00")


def test_mentor_sees_and_acts_on_own_bookings_only(panel, mentor):
    b = _pending(panel)  # booked with the founder, who is "mentor"'s profile
    assert f">#{b.id}<" in mentor.get("/admin/bookings/").text
    other = panel.app.test_client()
    from tests.panel.helpers import login, token

    login(other, "mentor2")
    other_token = token(other)
    html = other.get("/admin/bookings/").text
    assert f">#{b.id}<" not in html
    assert other.get(f"/admin/bookings/booking/{b.id}").status_code == 404
    r = other.post(f"/admin/bookings/booking/{b.id}/cancel", data={"csrf_token": other_token, "reason": "x"})
    assert r.status_code == 404 and panel.booking(b.id).status == BookingStatus.PENDING
    when = _local(utcnow() + timedelta(days=1))
    r = mentor.post(
        f"/admin/bookings/booking/{b.id}/confirm",
        data={"csrf_token": mentor.csrf, "session_date": when},
        follow_redirects=True,
    )
    assert "confirmed for" in flashes(r.text)


def test_unknown_booking(panel, owner):
    assert owner.get("/admin/bookings/booking/99999").status_code == 404
    r = owner.post("/admin/bookings/booking/99999/complete", data={"csrf_token": owner.csrf})
    assert r.status_code == 404
