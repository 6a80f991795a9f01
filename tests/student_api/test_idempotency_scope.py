"""An Idempotency-Key belongs to one student and one operation (issue 20, #3), on SQLite and PostgreSQL.

The probe: after the 30-day purge of stored responses, a key reused on another operation answered 500 (a
top-up key on an enrollment or a booking, a booking key on an enrollment), and an enrollment's key reused for
a booking answered 201 with another student's booking (the replay read the enrollment's id as a booking id).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import MentorshipBooking, Transaction, TransactionType
from core.services import idempotency, wallet
from core.services.common import Actor
from core.timeutil import utcnow
from tests.student_api.conftest import Student
from tests.student_api.test_idempotency import dsa, race_api, run_together  # noqa: F401 - fixture

TOPUP = {"amount": "100", "walletNumber": "01012345678"}


def purge(api) -> None:
    """The nightly job, a month on: every stored response is gone."""
    with api.session() as s:
        idempotency.purge_expired(s, now=utcnow() + timedelta(days=31))


def newcomer(api, telegram_id: int) -> Student:
    student = api.as_student(telegram_id)
    assert student.get("/api/me").status_code == 200  # registered, 500.00 welcome credit
    return student


def book(student: Student, key: str, notes: str = "my own notes"):
    return student.post("/api/mentorship/book", {"duration": 30, "mentorId": 1, "studentNotes": notes}, key=key)


def test_a_purged_top_up_key_is_new_for_an_enrollment_and_a_booking(race_api):
    student = newcomer(race_api, 557000001)
    key = f"reused-{uuid.uuid4()}"
    assert student.post("/api/wallet/topup", TOPUP, key=key).status_code == 201
    purge(race_api)
    enrolled = student.post("/api/enrollments", {"platformId": dsa(race_api)}, key=key)
    assert enrolled.status_code == 201, enrolled.get_json()
    assert "Idempotent-Replayed" not in enrolled.headers and enrolled.get_json()["price"] == "400.00"
    booked = book(student, key)
    # a new booking of its own: 150.00 with 100.00 left is a plain "not enough balance", no replay, no 500
    assert booked.status_code == 409 and booked.get_json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert race_api.rows(557000001, Transaction.type == TransactionType.TOP_UP) == 1
    assert race_api.balance(557000001) == Decimal("100.00") and race_api.ledger_ok()


def test_a_purged_booking_key_is_new_for_an_enrollment(race_api):
    student = newcomer(race_api, 557000002)
    key = f"reused-{uuid.uuid4()}"
    booked = book(student, key)
    assert booked.status_code == 201, booked.get_json()
    purge(race_api)
    enrolled = student.post("/api/enrollments", {"platformId": dsa(race_api)}, key=key)
    assert enrolled.status_code == 409 and enrolled.get_json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert "Idempotent-Replayed" not in enrolled.headers
    assert race_api.rows(557000002, Transaction.type == TransactionType.MENTORSHIP_PAYMENT) == 1
    assert race_api.ledger_ok()


def test_an_enrollment_key_reused_for_a_booking_never_answers_with_another_students_booking(race_api):
    victim = newcomer(race_api, 557000003)
    prober = newcomer(race_api, 557000004)
    # the prober's enrollment id equals the id of the victim's booking: the old replay read one as the other
    with race_api.session() as s:
        next_booking = (s.scalar(select(MentorshipBooking.id).order_by(MentorshipBooking.id.desc()).limit(1)) or 0) + 1
    from core.models import Enrollment

    with race_api.session() as s:
        next_enrollment = (s.scalar(select(Enrollment.id).order_by(Enrollment.id.desc()).limit(1)) or 0) + 1
    for _ in range(max(0, next_enrollment - next_booking)):
        assert book(victim, f"pad-{uuid.uuid4()}", notes="padding").status_code in (201, 409)
    victims = book(victim, f"victim-{uuid.uuid4()}", notes="the victim's private notes")
    assert victims.status_code == 201, victims.get_json()
    key = f"probe-{uuid.uuid4()}"
    enrolled = prober.post("/api/enrollments", {"platformId": dsa(race_api)}, key=key)
    assert enrolled.status_code == 201
    with race_api.session() as s:  # enough left to pay for the booking
        wallet.adjust_balance(
            s,
            race_api.user_id(557000004),
            "200",
            "test credit",
            actor=Actor("qa"),
            idempotency_key=f"credit-{uuid.uuid4()}",
        )
    purge(race_api)
    answer = book(prober, key)
    body = answer.get_json()
    assert "the victim's private notes" not in answer.get_data(as_text=True)
    assert answer.status_code == 201 and "Idempotent-Replayed" not in answer.headers, body
    assert body["booking"]["studentId"] == race_api.user_id(557000004)
    assert body["booking"]["id"] != victims.get_json()["booking"]["id"]
    assert body["balance"] == "150.00"  # 500 - 400 + 200 - 150: charged once, for its own booking
    assert race_api.ledger_ok()


def test_the_same_operation_after_the_purge_still_has_one_effect(race_api):
    student = newcomer(race_api, 557000005)
    key = f"retry-{uuid.uuid4()}"
    first = book(student, key)
    assert first.status_code == 201
    purge(race_api)
    again = book(student, key)
    assert again.status_code == 201 and again.get_json()["booking"]["id"] == first.get_json()["booking"]["id"]
    assert again.get_json()["balance"] == first.get_json()["balance"]
    assert race_api.rows(557000005, Transaction.type == TransactionType.MENTORSHIP_PAYMENT) == 1
    assert race_api.ledger_ok()


def test_a_stored_response_is_replayed_only_for_its_own_operation(race_api):
    """Within the 30 days too: a top-up's key sent to the enrollments endpoint is that endpoint's own key."""
    student = newcomer(race_api, 557000006)
    key = f"twice-{uuid.uuid4()}"
    topup = student.post("/api/wallet/topup", TOPUP, key=key)
    enrolled = student.post("/api/enrollments", {"platformId": dsa(race_api)}, key=key)
    assert topup.status_code == enrolled.status_code == 201
    assert "Idempotent-Replayed" not in enrolled.headers and enrolled.get_json()["platformName"]
    assert race_api.ledger_ok()


@pytest.mark.slow
def test_six_retries_of_one_booking_after_the_purge_at_once_pay_once(race_api):
    student = newcomer(race_api, 557000007)
    key = f"burst-{uuid.uuid4()}"
    assert book(student, key).status_code == 201
    purge(race_api)
    clients = [Student(race_api.app.test_client(), 557000007) for _ in range(6)]
    results = run_together(*[(lambda c=c: book(c, key)) for c in clients])
    assert {r.status_code for r in results} <= {201, 409}, [r.get_json() for r in results]
    assert len({r.get_json()["booking"]["id"] for r in results if r.status_code == 201}) == 1
    assert race_api.rows(557000007, Transaction.type == TransactionType.MENTORSHIP_PAYMENT) == 1
    assert race_api.balance(557000007) == Decimal("350.00") and race_api.ledger_ok()
