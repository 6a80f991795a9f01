"""Wallet: welcome credit, history, top-up requests and their review, admin adjustments."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import (
    AlreadyProcessed,
    DailyTopupLimit,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    InvalidWalletNumber,
    NotFound,
    ReasonRequired,
    TooManyPendingTopups,
    UserBlocked,
)
from core.models import Notification, Transaction, TransactionStatus, TransactionType, User
from core.services import audit, students, topups, wallet
from core.services.settings import update_settings
from tests.core.helpers import ADMIN, NOW, OTHER_ADMIN, key, later, student
from tests.factories import add_student, approved_topup, pending_topup

D = Decimal


def test_register_records_the_welcome_credit_in_the_ledger(session):
    result = students.register(session, 77, full_name="Mona", username="mona", language="ar-EG", now=NOW)
    assert result.created and result.user.balance == D("500.00") and result.user.language == "ar"
    page = wallet.history(session, result.user.id)
    assert [(e.type, e.amount, e.status) for e in page.items] == [
        (TransactionType.SIGNUP_BONUS, D("500.00"), TransactionStatus.APPROVED)
    ]


def test_second_start_never_credits_again_but_refreshes_the_name(session):
    first = students.register(session, 78, full_name="Mona")
    again = students.register(session, 78, full_name="Mona Ali", username="mona2")
    assert not again.created and again.bonus == 0
    assert again.user.full_name == "Mona Ali" and again.user.balance == D("500.00")
    assert wallet.history(session, first.user.id).total == 1


def test_register_returns_the_student_as_stored(session):
    """The new student is answered from what was inserted (no read back): the same as reading them later."""
    made = students.register(session, 80, full_name="Omar\x07 Hassan", username="omarh", language="en", now=NOW)
    stored = students.find_by_telegram(session, 80)
    assert made.user == stored
    assert (made.user.full_name, made.user.balance, made.user.is_blocked, made.user.reachable) == (
        "Omar Hassan",
        D("500.00"),
        False,
        True,
    )


def test_a_returning_start_writes_only_when_the_name_or_reachability_changed(session):
    student = students.register(session, 81, full_name="Mona", username="mona").user
    assert not students.welcome_back_needed(student, full_name="Mona", username="mona")
    assert not students.welcome_back_needed(student, full_name="Mona\x00", username="mona")  # the same once cleaned
    assert students.welcome_back_needed(student, full_name="Mona Ali", username="mona")
    assert students.welcome_back_needed(student, full_name="Mona", username=None)
    assert students.welcome_back(session, student, full_name="Mona", username="mona") is student  # nothing written
    renamed = students.welcome_back(session, student, full_name="Mona Ali", username="mona", now=NOW)
    assert renamed.full_name == "Mona Ali" and students.find_by_telegram(session, 81).full_name == "Mona Ali"


def test_welcome_credit_follows_the_setting(session):
    update_settings(session, {"signup_bonus": "250"}, actor=ADMIN)
    assert students.register(session, 79).user.balance == D("250.00")


def test_history_pages_newest_first_and_filters(session):
    uid = student(session)
    for i in range(12):
        topups.request_topup(session, uid, "10", "01012345678", idempotency_key=key(), now=later(days=i))
        update_settings(
            session, {"max_pending_topups": "100", "max_topups_per_day": "100"}, actor=ADMIN
        ) if i == 0 else None
    page1 = wallet.history(session, uid, page=1, per_page=10)
    page2 = wallet.history(session, uid, page=2, per_page=10)
    assert page1.total == 13 and page1.pages == 2 and len(page1.items) == 10 and len(page2.items) == 3
    assert page1.items[0].created_at > page1.items[-1].created_at
    assert page2.items[-1].type == TransactionType.SIGNUP_BONUS
    top_ups = wallet.history(session, uid, type=TransactionType.TOP_UP)
    assert top_ups.total == 12
    assert wallet.history(session, uid, status=TransactionStatus.APPROVED).total == 1
    assert wallet.history(session, uid, page=99).page == 2  # clamped, not empty


def test_topup_request_is_pending_masked_and_encrypted(session):
    uid = student(session)
    result = topups.request_topup(session, uid, "150.5", "010 1234 5678", idempotency_key=key(), now=NOW)
    assert result.status == TransactionStatus.PENDING and result.amount == D("150.50")
    assert result.wallet_masked == "010****5678"
    row = session.get(Transaction, result.transaction_id)
    assert "01012345678" not in row.wallet_number  # ciphertext at rest
    assert topups.reveal_wallet(session, result.transaction_id) == "01012345678"
    assert wallet.balance(session, uid) == D("500.00")  # nothing credited yet
    note = session.scalar(select(Notification).where(Notification.kind == "admin.topup_new"))
    assert note.audience == "admins" and note.subject == f"topup:{result.transaction_id}"
    assert "010****5678" in note.payload and "01012345678" not in note.payload  # outbox holds no plain number


@pytest.mark.parametrize("number", ["+201012345678", "00201112345678", "٠١٢١٢٣٤٥٦٧٨", "0155-123-4567"])
def test_sender_number_forms_accepted(session, number):
    uid = student(session)
    result = topups.request_topup(session, uid, D("50"), number, idempotency_key=key(), now=NOW)
    assert len(topups.reveal_wallet(session, result.transaction_id)) == 11


@pytest.mark.parametrize("number", ["", "0101234567", "01312345678", "1012345678", "phone", "010123456789"])
def test_bad_sender_number_refused_and_nothing_written(session, number):
    uid = student(session)
    with pytest.raises(InvalidWalletNumber):
        topups.request_topup(session, uid, D("50"), number, idempotency_key=key(), now=NOW)
    assert wallet.history(session, uid).total == 1


@pytest.mark.parametrize(
    "amount,reason",
    [
        ("0", "NOT_POSITIVE"),
        ("5", "TOO_SMALL"),
        ("60000", "TOO_LARGE"),
        ("10.001", "TOO_MANY_DECIMALS"),
        ("ten", "NOT_A_NUMBER"),
        (D("-3"), "NOT_POSITIVE"),
        (D("1.234"), "TOO_MANY_DECIMALS"),
    ],
)
def test_bad_topup_amount_refused(session, amount, reason):
    uid = student(session)
    with pytest.raises(InvalidAmount) as info:
        topups.request_topup(session, uid, amount, "01012345678", idempotency_key=key(), now=NOW)
    assert info.value.reason == reason
    assert wallet.history(session, uid).total == 1


def test_pending_and_daily_limits(session):
    uid = student(session)
    for _ in range(3):
        topups.request_topup(session, uid, "20", "01012345678", idempotency_key=key(), now=NOW)
    with pytest.raises(TooManyPendingTopups) as info:
        topups.request_topup(session, uid, "20", "01012345678", idempotency_key=key(), now=NOW)
    assert info.value.code == "TOO_MANY_PENDING_TOPUPS"
    update_settings(session, {"max_pending_topups": "10", "max_topups_per_day": "4"}, actor=ADMIN)
    topups.request_topup(session, uid, "20", "01012345678", idempotency_key=key(), now=NOW)
    with pytest.raises(DailyTopupLimit):
        topups.request_topup(session, uid, "20", "01012345678", idempotency_key=key(), now=NOW)
    # the next Cairo day starts a new count
    topups.request_topup(session, uid, "20", "01012345678", idempotency_key=key(), now=later(days=1))


def test_topup_request_repeat_returns_the_first(session):
    uid = student(session)
    first = topups.request_topup(session, uid, "100", "01012345678", idempotency_key="same", now=NOW)
    again = topups.request_topup(session, uid, "100", "01012345678", idempotency_key="same", now=NOW)
    assert again.replayed and again.transaction_id == first.transaction_id
    assert wallet.history(session, uid, type=TransactionType.TOP_UP).total == 1


def test_blocked_student_cannot_request(session):
    uid = student(session)
    students.set_blocked(session, uid, True, actor=ADMIN)
    with pytest.raises(UserBlocked):
        topups.request_topup(session, uid, "100", "01012345678", idempotency_key=key(), now=NOW)


def test_approve_credits_once_notifies_and_audits(session):
    uid = student(session, telegram_id=5551)
    t = topups.request_topup(session, uid, "300", "01012345678", idempotency_key=key(), now=NOW)
    decision = topups.approve(
        session, t.transaction_id, actor=ADMIN, now=later(minutes=5), confirmed=True, reason="checked the statement"
    )
    assert decision.balance == D("800.00") and decision.status == TransactionStatus.APPROVED
    row = session.get(Transaction, t.transaction_id)
    session.refresh(row)
    assert row.balance_after == D("800.00") and row.processed_by == "alice"
    with pytest.raises(AlreadyProcessed) as info:
        topups.approve(session, t.transaction_id, actor=OTHER_ADMIN, confirmed=True, reason="checked the statement")
    assert info.value.details["by"] == "alice"
    with pytest.raises(AlreadyProcessed):
        topups.reject(session, t.transaction_id, "late", actor=OTHER_ADMIN)
    assert wallet.balance(session, uid) == D("800.00")
    kinds = session.scalars(select(Notification.kind).where(Notification.user_id == uid)).all()
    assert kinds == ["topup.approved"]
    assert [e.action for e in audit.recent(session)] == ["topup.approved"]
    assert wallet.check_ledger(session) == []


def test_reject_needs_a_reason_and_tells_the_student(session):
    uid = student(session, telegram_id=5552)
    t = topups.request_topup(session, uid, "300", "01012345678", idempotency_key=key(), now=NOW)
    with pytest.raises(ReasonRequired):
        topups.reject(session, t.transaction_id, "   ", actor=ADMIN)
    decision = topups.reject(session, t.transaction_id, "No transfer found", actor=ADMIN)
    assert decision.status == TransactionStatus.REJECTED and decision.balance == D("500.00")
    note = session.scalar(select(Notification).where(Notification.kind == "topup.rejected"))
    assert "No transfer found" in note.payload


def test_decisions_on_unknown_or_non_topup_rows(session):
    uid = student(session)
    with pytest.raises(NotFound):
        topups.approve(session, 999999, actor=ADMIN, confirmed=True, reason="checked the statement")
    bonus_row = wallet.history(session, uid).items[0].id
    with pytest.raises(NotFound):
        topups.approve(session, bonus_row, actor=ADMIN, confirmed=True, reason="checked the statement")


def test_adjust_balance_both_ways(session):
    uid = student(session)
    up = wallet.adjust_balance(session, uid, "25.50", "Compensation for outage", actor=ADMIN, idempotency_key=key())
    assert up.balance == D("525.50")
    down = wallet.adjust_balance(session, uid, "-125.50", "Duplicate credit", actor=ADMIN, idempotency_key=key())
    assert down.balance == D("400.00")
    with pytest.raises(InsufficientFunds):
        wallet.adjust_balance(session, uid, "-400.01", "too much", actor=ADMIN, idempotency_key=key())
    with pytest.raises(ReasonRequired):
        wallet.adjust_balance(session, uid, "10", "", actor=ADMIN, idempotency_key=key())
    with pytest.raises(InvalidAmount):
        wallet.adjust_balance(session, uid, "0", "zero", actor=ADMIN, idempotency_key=key())
    with pytest.raises(InvalidAmount):
        wallet.adjust_balance(session, uid, "abc", "bad", actor=ADMIN, idempotency_key=key())
    with pytest.raises(NotFound):
        wallet.adjust_balance(session, 424242, "10", "ghost", actor=ADMIN, idempotency_key=key())
    again = wallet.adjust_balance(
        session,
        uid,
        "-125.50",
        "Duplicate credit",
        actor=ADMIN,
        idempotency_key=wallet.history(session, uid).items[0].id and "nonce-x",
    )
    repeat = wallet.adjust_balance(session, uid, "-125.50", "Duplicate credit", actor=ADMIN, idempotency_key="nonce-x")
    assert repeat.replayed and repeat.balance == again.balance == D("274.50")
    assert wallet.balance(session, uid) == D("274.50")
    assert wallet.check_ledger(session) == []


def test_check_ledger_reports_a_tampered_balance(session):
    uid = student(session, name="Tampered")
    session.get(User, uid).balance = D("999.00")
    session.commit()
    problems = wallet.check_ledger(session)
    assert [(p.user_id, p.balance, p.ledger) for p in problems] == [(uid, D("999.00"), D("500.00"))]


def test_language_and_unknown_user(session):
    uid = student(session)
    assert students.set_language(session, uid, "ar").language == "ar"
    with pytest.raises(InvalidInput):
        students.set_language(session, uid, "fr")
    with pytest.raises(NotFound):
        students.get_user(session, 123456)
    assert students.find_by_telegram(session, 31337) is None


def test_activity_recorded_at_most_hourly(session):
    uid = student(session, now=NOW)
    assert not students.mark_active(session, uid, now=later(minutes=30))  # registration counted as activity
    assert students.mark_active(session, uid, now=later(hours=2))
    assert not students.mark_active(session, uid, now=later(hours=2, minutes=10))
    session.expire_all()
    assert session.get(User, uid).last_seen_at == later(hours=2)


def test_topup_allowed_check_before_money_is_sent(session):
    uid = student(session)
    assert topups.check_topup_allowed(session, uid, now=NOW).id == uid
    update_settings(session, {"max_pending_topups": "10", "max_topups_per_day": "2"}, actor=ADMIN)
    for _ in range(2):
        t = topups.request_topup(session, uid, "20", "01012345678", idempotency_key=key(), now=NOW)
        topups.reject(session, t.transaction_id, "no", actor=ADMIN, now=NOW)
    with pytest.raises(DailyTopupLimit):
        topups.check_topup_allowed(session, uid, now=NOW)
    assert topups.check_topup_allowed(session, uid, now=later(days=1))
    students.set_blocked(session, uid, True, actor=ADMIN)
    with pytest.raises(UserBlocked):
        topups.check_topup_allowed(session, uid, now=later(days=1))


def test_history_filters_by_cairo_month_at_its_edges_and_by_type_and_status(session):
    """A month is Cairo's: 22:30 UTC on 31 October is 00:30 on 1 November in Cairo (winter time, UTC+2)."""
    late_october = datetime(2026, 10, 31, 21, 30, tzinfo=timezone.utc)  # 23:30 Cairo, still October
    early_november = datetime(2026, 10, 31, 22, 30, tzinfo=timezone.utc)  # 00:30 Cairo, 1 November
    me = add_student(session, 90, "Mona", now=datetime(2026, 10, 1, 12, tzinfo=timezone.utc))
    october = pending_topup(session, me, "100", "01012345678", key="m-oct", now=late_october)
    november = approved_topup(session, me, "200", "01012345678", key="m-nov", now=early_november)

    def ids(**filters) -> list[int]:
        return [e.id for e in wallet.history(session, me, per_page=50, **filters).items]

    assert ids(month=(2026, 10))[0] == october and len(ids(month=(2026, 10))) == 2  # with the welcome credit
    assert ids(month=(2026, 11)) == [november]
    assert ids(month=(2026, 12)) == [] and wallet.history(session, me, month=(2026, 12)).total == 0
    assert ids(type=TransactionType.TOP_UP, status=TransactionStatus.PENDING) == [october]
    assert ids(type=TransactionType.TOP_UP, month=(2026, 11), status=TransactionStatus.APPROVED) == [november]
