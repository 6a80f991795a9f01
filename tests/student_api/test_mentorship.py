"""Mentorship: info with prices from the service, book (mentor chosen when several), cancel own pending
booking with refund, rate after completion; another student's booking is never touched."""

from __future__ import annotations

from decimal import Decimal

from core.models import Transaction, TransactionType
from core.services import mentorship
from core.services.common import Actor
from core.timeutil import utcnow
from tests.student_api.conftest import NEWCOMER, OMAR


def test_info_lists_mentors_with_prices(api, omar):
    info = omar.get("/api/mentorship/info").get_json()
    assert info["durations"] == [30, 60, 90, 120] and info["isAvailable"] is True
    founder = next(m for m in info["mentors"] if m["name"].startswith("Ahmed"))
    assert founder["hourlyRate"] == "300.00" and founder["averageRating"] == "5.0"
    assert [(p["duration"], p["price"]) for p in founder["prices"]] == [
        (30, "150.00"),
        (60, "300.00"),
        (90, "450.00"),
        (120, "600.00"),
    ]


def test_book_needs_a_mentor_when_there_are_several(api, mariam):
    r = mariam.post("/api/mentorship/book", {"duration": 60})
    assert r.status_code == 400 and r.get_json()["error"]["message"] == "من فضلك اختر مرشدًا."


def test_book_cancel_and_refund(api, newcomer):
    mariam = newcomer
    salma = next(m for m in mariam.get("/api/mentorship/info").get_json()["mentors"] if m["name"] == "Salma Farouk")
    before = api.balance(NEWCOMER)
    r = mariam.post(
        "/api/mentorship/book",
        {"duration": 90, "mentorId": salma["id"], "studentNotes": "SQL joins", "expectedCost": "300.00"},
    )
    assert r.status_code == 201, r.text
    booking = r.get_json()["booking"]
    assert (
        booking["status"] == "PENDING" and booking["totalCost"] == "300.00" and booking["studentNotes"] == "SQL joins"
    )
    assert r.get_json()["balance"] == f"{before - 300:.2f}"
    mine = mariam.get("/api/mentorship/my-bookings").get_json()["bookings"]
    assert mine[0]["id"] == booking["id"]
    r = mariam.post(f"/api/mentorship/bookings/{booking['id']}/cancel")
    assert r.status_code == 201 and r.get_json()["refund"] == "300.00" and r.get_json()["balance"] == f"{before:.2f}"
    assert r.get_json()["booking"]["status"] == "CANCELLED"
    r = mariam.post(f"/api/mentorship/bookings/{booking['id']}/cancel")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "INVALID_STATE"
    assert api.rows(NEWCOMER, Transaction.type == TransactionType.REFUND) == 1 and api.ledger_ok()


def test_another_students_booking_cannot_be_cancelled_or_rated(api, omar, mariam):
    pending = next(
        b for b in mariam.get("/api/mentorship/my-bookings").get_json()["bookings"] if b["status"] == "PENDING"
    )
    r = omar.post(f"/api/mentorship/bookings/{pending['id']}/cancel")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "NOT_OWNER"
    r = omar.post(f"/api/mentorship/feedback/{pending['id']}", {"rating": 5, "feedback": "x"}, key=None)
    assert r.status_code in (403, 404) and r.get_json()["error"]["code"] in ("NOT_OWNER", "NOT_FOUND")
    assert mariam.get("/api/mentorship/my-bookings").get_json()["bookings"][0]["status"] == "PENDING"
    assert omar.post("/api/mentorship/bookings/9999/cancel").status_code == 404


def test_rate_after_completion_once(api, mariam):
    pending = next(
        b for b in mariam.get("/api/mentorship/my-bookings").get_json()["bookings"] if b["status"] == "PENDING"
    )
    r = mariam.post(f"/api/mentorship/feedback/{pending['id']}", {"rating": 4, "feedback": "x"}, key=None)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "INVALID_STATE"
    now = utcnow()
    with api.session() as s:
        mentorship.confirm(s, pending["id"], now + _hours(1), actor=Actor("t"), now=now)
        mentorship.complete(s, pending["id"], actor=Actor("t"), now=now + _hours(2))
    for rating in (0, 6, "5", None):
        r = mariam.post(f"/api/mentorship/feedback/{pending['id']}", {"rating": rating, "feedback": "x"}, key=None)
        assert r.status_code == 400, rating
    r = mariam.post(f"/api/mentorship/feedback/{pending['id']}", {"rating": 4, "feedback": "مفيدة جدًا"}, key=None)
    assert r.status_code == 200 and r.get_json()["rating"] == 4 and r.get_json()["feedback"] == "مفيدة جدًا"
    r = mariam.post(f"/api/mentorship/feedback/{pending['id']}", {"rating": 5, "feedback": "again"}, key=None)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ALREADY_RATED"


def _hours(n: int):
    from datetime import timedelta

    return timedelta(hours=n)


def test_booking_more_than_the_balance(api, omar):
    r = omar.post("/api/mentorship/book", {"duration": 120, "mentorId": 1})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert api.balance(OMAR) == Decimal("100.00")
