"""Mentorship: paid bookings, confirmation, completion, cancellation with refund, ratings."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import (
    AlreadyRated,
    DateInPast,
    InsufficientFunds,
    InvalidDuration,
    InvalidInput,
    InvalidRating,
    InvalidState,
    MentorUnavailable,
    NotFound,
    NotOwner,
    PriceChanged,
    TooManyPendingBookings,
)
from core.models import BookingStatus, Notification, Transaction, TransactionType
from core.services import mentorship, wallet
from core.services.settings import update_settings
from tests.core.helpers import ADMIN, NOW, OTHER_ADMIN, key, later, mentor, student

D = Decimal


def test_mentors_listed_with_rate_availability_and_rating(session):
    m = mentor(session, "Ahmed", "300.00")
    mentorship.update_mentor(session, mentor(session, "Salma", "200.00"), actor=ADMIN, available=False)
    listing = {x.name: x for x in mentorship.list_mentors(session)}
    assert listing["Ahmed"].rate == D("300.00") and listing["Ahmed"].available
    assert not listing["Salma"].available and listing["Ahmed"].average_rating is None
    assert [x.name for x in mentorship.list_mentors(session, include_unavailable=False)] == ["Ahmed"]
    assert mentorship.quote(session, m, 90) == D("450.00")
    with pytest.raises(InvalidDuration):
        mentorship.quote(session, m, 45)
    with pytest.raises(NotFound):
        mentorship.quote(session, 9999, 60)


def test_default_rate_applies_when_mentor_has_none(session):
    uid = student(session)
    mentorship.update_mentor(session, uid, actor=ADMIN, is_mentor=True, bio="TA")
    update_settings(session, {"mentor_default_rate": "120"}, actor=ADMIN)
    assert mentorship.quote(session, uid, 30) == D("60.00")


def test_book_pays_at_once_and_alerts_admins(session):
    sid, m = student(session), mentor(session)
    result = mentorship.book(session, sid, m, 60, "  Help with <b>graphs</b> ", idempotency_key=key(), now=NOW)
    b = result.booking
    assert b.status == BookingStatus.PENDING and b.total_cost == D("300.00") and result.balance == D("200.00")
    assert b.student_notes == "Help with <b>graphs</b>"
    rows = wallet.history(session, sid, type=TransactionType.MENTORSHIP_PAYMENT).items
    assert [(r.amount, r.reference) for r in rows] == [(D("-300.00"), f"booking:{b.id}")]
    assert (
        session.scalar(select(Notification.kind).where(Notification.subject == f"booking:{b.id}"))
        == "admin.booking_new"
    )


def test_booking_refusals_change_nothing(session):
    sid, m = student(session), mentor(session, rate="600.00")
    with pytest.raises(InsufficientFunds) as info:
        mentorship.book(session, sid, m, 60, idempotency_key=key(), now=NOW)
    assert info.value.details["shortfall"] == D("100.00")
    with pytest.raises(InvalidDuration):
        mentorship.book(session, sid, m, 61, idempotency_key=key(), now=NOW)
    with pytest.raises(PriceChanged):
        mentorship.book(session, sid, m, 30, idempotency_key=key(), expected_cost=D("250.00"), now=NOW)
    with pytest.raises(InvalidInput):
        mentorship.book(session, sid, m, 30, "x" * 1001, idempotency_key=key(), now=NOW)
    with pytest.raises(InvalidInput):
        mentorship.book(session, m, m, 30, idempotency_key=key(), now=NOW)
    mentorship.update_mentor(session, m, actor=ADMIN, available=False)
    with pytest.raises(MentorUnavailable):
        mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW)
    mentorship.update_mentor(session, m, actor=ADMIN, available=True)
    mentorship.set_mentorship_settings(session, actor=ADMIN, is_available=False)
    with pytest.raises(MentorUnavailable):
        mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW)
    assert wallet.balance(session, sid) == D("500.00")
    assert mentorship.student_bookings(session, sid) == []


def test_pending_booking_limit(session):
    sid, m = student(session), mentor(session, rate="60.00")
    for _ in range(3):
        mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW)
    with pytest.raises(TooManyPendingBookings):
        mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW)


def test_book_repeat_key_one_booking(session):
    sid, m = student(session), mentor(session)
    first = mentorship.book(session, sid, m, 30, idempotency_key="tap", now=NOW)
    again = mentorship.book(session, sid, m, 30, idempotency_key="tap", now=NOW)
    assert again.replayed and again.booking.id == first.booking.id
    assert len(mentorship.student_bookings(session, sid)) == 1 and wallet.balance(session, sid) == D("350.00")


def test_confirm_reschedule_complete_rate(session):
    sid = student(session, telegram_id=7001)
    m = mentor(session, telegram_id=7002)
    b = mentorship.book(session, sid, m, 60, idempotency_key=key(), now=NOW).booking
    with pytest.raises(DateInPast):
        mentorship.confirm(session, b.id, later(minutes=-1), actor=ADMIN, now=NOW)
    with pytest.raises(InvalidState):
        mentorship.confirm(session, b.id, later(days=2), actor=ADMIN, reschedule=True, now=NOW)
    confirmed = mentorship.confirm(session, b.id, later(days=2), "Meet link", actor=ADMIN, now=NOW)
    assert confirmed.status == BookingStatus.CONFIRMED and confirmed.session_date == later(days=2)
    with pytest.raises(InvalidState) as info:
        mentorship.confirm(session, b.id, later(days=3), actor=OTHER_ADMIN, now=NOW)
    assert info.value.details["by"] == "alice"
    moved = mentorship.confirm(session, b.id, later(days=3), "New time", actor=ADMIN, reschedule=True, now=NOW)
    assert moved.session_date == later(days=3)
    kinds = set(session.scalars(select(Notification.kind).where(Notification.subject == f"booking:{b.id}")))
    assert {"booking.confirmed", "mentor.confirmed", "booking.rescheduled", "mentor.rescheduled"} <= kinds
    with pytest.raises(InvalidState):
        mentorship.leave_feedback(session, b.id, sid, 5, now=NOW)  # confirmed, not completed yet
    with pytest.raises(InvalidState):
        mentorship.complete(session, b.id, actor=ADMIN, now=later(days=2))  # not started yet
    done = mentorship.complete(session, b.id, actor=ADMIN, now=later(days=3, hours=1))
    assert done.status == BookingStatus.COMPLETED
    assert session.scalar(select(Notification.kind).where(Notification.kind == "booking.rate_request"))
    with pytest.raises(InvalidRating):
        mentorship.leave_feedback(session, b.id, sid, 6)
    with pytest.raises(InvalidRating):
        mentorship.leave_feedback(session, b.id, sid, 0)
    other = student(session)
    with pytest.raises(NotOwner):
        mentorship.leave_feedback(session, b.id, other, 4)
    rated = mentorship.leave_feedback(session, b.id, sid, 4)
    assert rated.rating == 4 and rated.feedback is None
    assert mentorship.add_feedback_text(session, b.id, sid, "Great & clear <3").feedback == "Great & clear <3"
    with pytest.raises(AlreadyRated):
        mentorship.leave_feedback(session, b.id, sid, 5)
    with pytest.raises(AlreadyRated):
        mentorship.add_feedback_text(session, b.id, sid, "again")
    assert mentorship.get_mentor(session, m).average_rating == D("4.0")


def test_rating_only_for_completed(session):
    sid, m = student(session), mentor(session)
    b = mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW).booking
    with pytest.raises(InvalidState):
        mentorship.leave_feedback(session, b.id, sid, 5)
    with pytest.raises(NotFound):
        mentorship.leave_feedback(session, 5555, sid, 5)


def test_student_cancels_own_pending_with_full_refund(session):
    sid, m = student(session, telegram_id=7101), mentor(session)
    b = mentorship.book(session, sid, m, 90, idempotency_key=key(), now=NOW).booking
    other = student(session)
    with pytest.raises(NotOwner):
        mentorship.cancel(session, b.id, student_id=other, now=NOW)
    result = mentorship.cancel(session, b.id, "changed my mind", student_id=sid, now=NOW)
    assert result.refund == D("450.00") and result.balance == D("500.00")
    assert result.booking.status == BookingStatus.CANCELLED
    with pytest.raises(InvalidState):
        mentorship.cancel(session, b.id, "mentor ill", actor=ADMIN, now=NOW)
    refunds = wallet.history(session, sid, type=TransactionType.REFUND).items
    assert [(r.amount, r.reference) for r in refunds] == [(D("450.00"), f"booking:{b.id}")]
    assert wallet.check_ledger(session) == []


def test_a_student_cancels_a_confirmed_session_under_the_policy_and_an_admin_always_refunds_in_full(session):
    sid, m = student(session), mentor(session)  # 30 min at 300/h: 150.00
    soon = mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW).booking
    mentorship.confirm(session, soon.id, later(hours=10), actor=ADMIN, now=NOW)
    result = mentorship.cancel(session, soon.id, student_id=sid, now=NOW)  # 10 h ahead: 50 % (6 h to 24 h)
    assert (result.refund, result.rule, result.balance) == (D("75.00"), "partial", D("425.00"))
    late = mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW).booking
    mentorship.confirm(session, late.id, later(hours=2), actor=ADMIN, now=NOW)
    result = mentorship.cancel(session, late.id, student_id=sid, now=NOW)  # 2 h ahead: nothing back
    assert (result.refund, result.rule, result.balance) == (D("0.00"), "none", D("275.00"))
    assert mentorship.get_booking(session, late.id).status == BookingStatus.CANCELLED
    ill = mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW).booking
    mentorship.confirm(session, ill.id, later(hours=2), actor=ADMIN, now=NOW)
    result = mentorship.cancel(session, ill.id, "mentor ill", actor=ADMIN, now=NOW)
    assert (result.refund, result.rule, result.balance) == (D("150.00"), "full", D("275.00"))
    refunds = session.scalars(
        select(Transaction.amount).where(Transaction.type == TransactionType.REFUND).order_by(Transaction.id)
    ).all()
    assert refunds == [D("75.00"), D("150.00")]  # a refund of nothing writes no ledger row
    started = mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW).booking
    mentorship.confirm(session, started.id, later(hours=1), actor=ADMIN, now=NOW)
    with pytest.raises(InvalidState):  # once it has started, only an admin may cancel
        mentorship.cancel(session, started.id, student_id=sid, now=later(hours=1))
    with pytest.raises(NotFound):
        mentorship.cancel(session, 8888, "mentor ill", actor=ADMIN)
    with pytest.raises(ValueError):
        mentorship.cancel(session, started.id)
    assert wallet.check_ledger(session) == []


def test_sessions_list_upcoming_first(session):
    sid, m = student(session), mentor(session, rate="60.00")
    a = mentorship.book(session, sid, m, 30, idempotency_key=key(), now=NOW).booking
    b = mentorship.book(session, sid, m, 30, idempotency_key=key(), now=later(minutes=1)).booking
    mentorship.cancel(session, a.id, student_id=sid, now=NOW)
    mentorship.confirm(session, b.id, later(days=1), actor=ADMIN, now=NOW)
    assert [x.id for x in mentorship.student_bookings(session, sid)] == [b.id, a.id]
    assert [x.id for x in mentorship.pending_bookings(session)] == []


def test_mentor_profile_validation(session):
    m = mentor(session)
    with pytest.raises(InvalidInput):
        mentorship.update_mentor(session, m, actor=ADMIN, rate="-5")
    with pytest.raises(InvalidInput):
        mentorship.update_mentor(session, m, actor=ADMIN, rate="abc")
    with pytest.raises(NotFound):
        mentorship.update_mentor(session, 4040, actor=ADMIN, rate="10")
    with pytest.raises(InvalidInput):
        mentorship.create_mentor(session, "  ", actor=ADMIN)
    assert mentorship.update_mentor(session, m, actor=ADMIN, rate="450.5", bio="New").rate == D("450.50")
