"""Booking by slot through the students' API: a mentor's free slots (Cairo time with its offset), book one with
slotStart, a slot taken or outside the hours refused with SLOT_TAKEN / SLOT_UNAVAILABLE and no money taken, a
hold, the cancellation policy, cancelling under it and asking for another time."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from core.models import Transaction, TransactionType
from core.services import availability
from core.services.common import Actor
from core.timeutil import CAIRO, utcnow
from tests.student_api.conftest import NEWCOMER

OWNER = Actor(name="owner")


@pytest.fixture
def salma(api, omar) -> int:
    """Salma Farouk, with hours every day 10:00-18:00 Cairo time."""
    mentor = next(m for m in omar.get("/api/mentorship/info").get_json()["mentors"] if m["name"] == "Salma Farouk")
    with api.session() as s:
        availability.set_week(s, mentor["id"], {d: [(600, 1080)] for d in range(7)}, actor=OWNER)
    return mentor["id"]


def tomorrow() -> str:
    return (utcnow().astimezone(CAIRO) + timedelta(days=1)).date().isoformat()


def test_free_slots_are_listed_in_cairo_time_and_one_is_booked_once(api, salma, newcomer, omar):
    info = newcomer.get("/api/mentorship/info").get_json()
    assert next(m for m in info["mentors"] if m["id"] == salma)["bookedBySlot"] is True
    r = newcomer.get(f"/api/mentorship/mentors/{salma}/slots?duration=60&from={tomorrow()}&days=1")
    assert r.status_code == 200, r.text
    slots = r.get_json()["slots"]
    assert [s["start"][11:16] for s in slots[:3]] == ["10:00", "10:30", "11:00"] and slots[-1]["end"][11:16] == "18:00"
    assert all(s["start"].endswith(("+02:00", "+03:00")) for s in slots)
    first = slots[0]["start"]
    before = api.balance(NEWCOMER)
    r = newcomer.post("/api/mentorship/book", {"duration": 60, "mentorId": salma, "slotStart": first})
    assert r.status_code == 201, r.text
    booking = r.get_json()["booking"]
    assert datetime.fromisoformat(booking["sessionDate"]) == datetime.fromisoformat(first)
    assert booking["endsAt"] and booking["refundIfCancelled"] == booking["totalCost"]  # more than 24 h ahead
    again = newcomer.get(f"/api/mentorship/mentors/{salma}/slots?duration=60&from={tomorrow()}&days=1").get_json()
    assert first not in [s["start"] for s in again["slots"]]
    omar_before = omar.get("/api/wallet/balance").get_json()["balance"]
    r = omar.post("/api/mentorship/book", {"duration": 60, "mentorId": salma, "slotStart": first})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "SLOT_TAKEN", r.text
    assert "Nothing was charged" in r.get_json()["error"]["message"]
    assert omar.get("/api/wallet/balance").get_json()["balance"] == omar_before
    off_hours = first[:11] + "20:00" + first[16:]
    r = omar.post("/api/mentorship/book", {"duration": 60, "mentorId": salma, "slotStart": off_hours})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "SLOT_UNAVAILABLE"
    r = omar.post("/api/mentorship/book", {"duration": 60, "mentorId": salma})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "SLOT_UNAVAILABLE"
    r = omar.post("/api/mentorship/book", {"duration": 60, "mentorId": salma, "slotStart": first[:16]})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "slotStart"  # no offset: whose 10:00?
    assert api.balance(NEWCOMER) == before - Decimal(booking["totalCost"]) and api.ledger_ok()


def test_a_held_slot_is_not_offered_to_another_student(api, salma, newcomer, omar):
    slots = newcomer.get(f"/api/mentorship/mentors/{salma}/slots?duration=30&from={tomorrow()}&days=1").get_json()
    start = slots["slots"][2]["start"]
    r = newcomer.post(f"/api/mentorship/mentors/{salma}/hold", {"duration": 30, "slotStart": start}, key=None)
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.get_json()["heldUntil"]) > utcnow()
    others = omar.get(f"/api/mentorship/mentors/{salma}/slots?duration=30&from={tomorrow()}&days=1").get_json()
    assert start not in [s["start"] for s in others["slots"]]
    mine = newcomer.get(f"/api/mentorship/mentors/{salma}/slots?duration=30&from={tomorrow()}&days=1").get_json()
    assert start in [s["start"] for s in mine["slots"]]
    r = newcomer.post(f"/api/mentorship/mentors/{salma}/hold", {"duration": 45, "slotStart": start}, key=None)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "INVALID_DURATION"
    r = newcomer.post("/api/mentorship/mentors/99999/hold", {"duration": 30, "slotStart": start}, key=None)
    assert r.status_code == 404


def test_the_policy_is_said_in_the_students_language(api, newcomer, omar):
    en = omar.get("/api/mentorship/policy").get_json()
    assert (en["fullRefundHours"], en["partialRefundHours"], en["partialPercent"], en["maxReschedules"]) == (
        24,
        6,
        50,
        2,
    )
    assert en["text"].startswith("Cancel at least 24 hours before the start for a full refund.")
    ar = newcomer.get("/api/mentorship/policy").get_json()["text"]
    assert "٢٤" in ar and "24" not in ar


def test_cancel_answers_the_refund_the_policy_gave_and_a_move_is_asked(api, salma, newcomer):
    slots = newcomer.get(f"/api/mentorship/mentors/{salma}/slots?duration=60&days=7").get_json()["slots"]
    far = [s for s in slots if datetime.fromisoformat(s["start"]) - utcnow() > timedelta(hours=30)]
    r = newcomer.post("/api/mentorship/book", {"duration": 60, "mentorId": salma, "slotStart": far[0]["start"]})
    booking = r.get_json()["booking"]
    r = newcomer.post(f"/api/mentorship/bookings/{booking['id']}/reschedule", {"slotStart": far[4]["start"]}, key=None)
    assert r.status_code == 200, r.text
    moved = r.get_json()
    assert datetime.fromisoformat(moved["requestedStart"]) == datetime.fromisoformat(far[4]["start"])
    assert moved["sessionDate"] == booking["sessionDate"]  # the mentor or an admin decides
    r = newcomer.post(f"/api/mentorship/bookings/{booking['id']}/cancel")
    assert r.status_code == 201 and r.get_json()["refundRule"] == "full"
    assert (
        r.get_json()["refund"] == booking["totalCost"] and r.get_json()["booking"]["refunded"] == booking["totalCost"]
    )
    assert api.rows(NEWCOMER, Transaction.type == TransactionType.REFUND) == 1 and api.ledger_ok()


def test_a_booked_session_comes_as_a_calendar_file_at_its_own_link(api, salma, newcomer):
    slots = newcomer.get(f"/api/mentorship/mentors/{salma}/slots?duration=60&from={tomorrow()}&days=1").get_json()
    r = newcomer.post(
        "/api/mentorship/book", {"duration": 60, "mentorId": salma, "slotStart": slots["slots"][1]["start"]}
    )
    booking = r.get_json()["booking"]
    assert booking["googleCalendarUrl"].startswith("https://calendar.google.com/calendar/render?action=TEMPLATE")
    plain = api.app.test_client()  # no init data: the link itself is the credential
    r = plain.get(booking["calendarUrl"])
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    assert "attachment" in r.headers["Content-Disposition"]
    body = r.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "TZID=Africa/Cairo" in body and "BEGIN:VTIMEZONE" in body
    assert plain.get(booking["calendarUrl"].replace(".ics", "x.ics")).status_code == 404  # a forged token
    newcomer.post(f"/api/mentorship/bookings/{booking['id']}/cancel")
    assert plain.get(booking["calendarUrl"]).status_code == 404  # cancelled: no more calendar
