"""Platforms: buying access, renewals, expiry, and tasks behind the enrollment gate."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import (
    AccessDenied,
    AlreadyEnrolled,
    HasEnrollments,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    PlatformInactive,
    PriceChanged,
    UserBlocked,
)
from core.models import Notification, Platform, TransactionType
from core.services import enrollment, students, wallet
from tests.core.helpers import ADMIN, NOW, key, later, platform, student

D = Decimal


def test_catalogue_shows_price_tasks_and_my_status(session):
    uid = student(session)
    paid = platform(session, "Flask", "250.00", days=30, tasks=4)
    free = platform(session, "Basics", None, tasks=2)
    platform(session, "Hidden", "10.00", active=False)
    enrollment.enroll(session, uid, paid, idempotency_key=key(), now=NOW)
    listing = {p.name: p for p in enrollment.list_platforms(session, uid, now=NOW)}
    assert set(listing) == {"Flask", "Basics"}
    assert listing["Flask"].enrolled and listing["Flask"].task_count == 4
    assert listing["Flask"].expires_at == NOW + timedelta(days=30)
    assert listing["Basics"].is_free and not listing["Basics"].enrolled
    assert len(enrollment.list_platforms(session, None, include_inactive=True)) == 3
    assert enrollment.get_platform(session, free, uid).task_count == 2


def test_enroll_debits_and_writes_one_ledger_row(session):
    uid = student(session)
    pid = platform(session, "Flask", "250.00")
    result = enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    assert result.balance == D("250.00") and result.price == D("250.00") and result.expires_at is None
    rows = wallet.history(session, uid, type=TransactionType.PLATFORM_PURCHASE).items
    assert [(r.amount, r.balance_after, r.reference) for r in rows] == [
        (D("-250.00"), D("250.00"), f"enrollment:{result.enrollment_id}")
    ]
    assert enrollment.check_access(session, uid, pid, now=NOW)
    with pytest.raises(AlreadyEnrolled):
        enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    assert wallet.check_ledger(session) == []


def test_enroll_repeat_key_has_one_effect(session):
    uid = student(session)
    pid = platform(session, "Flask", "100.00")
    first = enrollment.enroll(session, uid, pid, idempotency_key="tap", now=NOW)
    again = enrollment.enroll(session, uid, pid, idempotency_key="tap", now=NOW)
    assert again.replayed and again.enrollment_id == first.enrollment_id and again.balance == D("400.00")
    assert wallet.balance(session, uid) == D("400.00")


def test_not_enough_balance_reports_the_shortfall_and_changes_nothing(session):
    uid = student(session)
    pid = platform(session, "Pricey", "650.00")
    with pytest.raises(InsufficientFunds) as info:
        enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    assert info.value.details["shortfall"] == D("150.00")
    assert wallet.balance(session, uid) == D("500.00")
    assert not enrollment.check_access(session, uid, pid, now=NOW)
    assert enrollment.my_enrollments(session, uid) == []


def test_free_platform_enrolls_without_debit(session):
    uid = student(session)
    pid = platform(session, "Free", None)
    result = enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    assert result.price == 0 and result.balance == D("500.00")
    assert enrollment.check_access(session, uid, pid, now=NOW)


def test_inactive_unknown_blocked_and_changed_price(session):
    uid = student(session)
    off = platform(session, "Off", "10.00", active=False)
    with pytest.raises(PlatformInactive):
        enrollment.enroll(session, uid, off, idempotency_key=key(), now=NOW)
    with pytest.raises(NotFound):
        enrollment.enroll(session, uid, 98765, idempotency_key=key(), now=NOW)
    pid = platform(session, "Moving", "100.00")
    with pytest.raises(PriceChanged):
        enrollment.enroll(session, uid, pid, idempotency_key=key(), expected_price=D("90.00"), now=NOW)
    students.set_blocked(session, uid, True, actor=ADMIN)
    with pytest.raises(UserBlocked):
        enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    assert wallet.balance(session, uid) == D("500.00")


def test_access_expires_and_renewal_reuses_the_row(session):
    uid = student(session, telegram_id=8801)
    pid = platform(session, "Monthly", "100.00", days=30)
    first = enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    assert enrollment.check_access(session, uid, pid, now=later(days=29))
    assert not enrollment.check_access(session, uid, pid, now=later(days=30))
    expired = enrollment.expire_due(session, now=later(days=31))
    assert [e.enrollment_id for e in expired] == [first.enrollment_id]
    assert enrollment.expire_due(session, now=later(days=32)) == []  # once
    note = session.scalar(select(Notification).where(Notification.kind == "enrollment.expired"))
    assert note.user_id == uid and "Monthly" in note.payload
    with pytest.raises(AccessDenied):
        enrollment.platform_tasks(session, uid, pid, now=later(days=31))
    renewed = enrollment.enroll(session, uid, pid, idempotency_key=key(), now=later(days=40))
    assert renewed.renewed and renewed.enrollment_id == first.enrollment_id
    assert renewed.expires_at == later(days=70) and renewed.balance == D("300.00")
    assert len(enrollment.my_enrollments(session, uid, now=later(days=40))) == 1


def test_renewing_before_expiry_extends_from_the_expiry(session):
    uid = student(session)
    pid = platform(session, "Monthly", "100.00", days=30)
    enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    with pytest.raises(AlreadyEnrolled):  # a second "Enroll" is not a silent, paid renewal
        enrollment.enroll(session, uid, pid, idempotency_key=key(), now=later(days=28))
    renewed = enrollment.enroll(session, uid, pid, idempotency_key=key(), renew=True, now=later(days=28))
    assert renewed.expires_at == later(days=60) and renewed.balance == D("300.00")


def test_renew_is_offered_from_two_weeks_before_the_end_not_right_after_buying(session):
    uid = student(session)
    timed = platform(session, "Half year", "100.00", days=180)
    lifetime = platform(session, "Forever", "50.00")
    enrollment.enroll(session, uid, timed, idempotency_key=key(), now=NOW)
    enrollment.enroll(session, uid, lifetime, idempotency_key=key(), now=NOW)

    def offered(days):
        found = {p.id: p for p in enrollment.list_platforms(session, uid, now=later(days=days))}
        assert enrollment.get_platform(session, timed, uid, now=later(days=days)).can_renew == found[timed].can_renew
        return found[timed].can_renew, found[lifetime].can_renew

    assert offered(0) == (False, False)  # just bought
    assert offered(180 - 15) == (False, False)
    assert offered(180 - 14) == (True, False)  # the last two weeks
    assert offered(181) == (True, False)  # expired
    other = student(session, telegram_id=8802)
    assert not any(p.can_renew for p in enrollment.list_platforms(session, other, now=NOW))  # never bought


def test_tasks_gated_and_progress(session):
    uid = student(session)
    pid = platform(session, "Flask", "50.00", tasks=3)
    with pytest.raises(AccessDenied):
        enrollment.platform_tasks(session, uid, pid, now=NOW)
    tasks_any = session.get(Platform, pid).tasks
    with pytest.raises(AccessDenied):
        enrollment.complete_task(session, uid, tasks_any[0].id, now=NOW)
    with pytest.raises(AccessDenied):
        enrollment.get_task(session, uid, tasks_any[0].id, now=NOW)
    enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    tasks = enrollment.platform_tasks(session, uid, pid, now=NOW)
    assert [t.position for t in tasks] == [1, 2, 3] and not any(t.done for t in tasks)
    p1 = enrollment.complete_task(session, uid, tasks[0].id, now=NOW)
    p2 = enrollment.complete_task(session, uid, tasks[0].id, now=NOW)
    assert (p1.done, p1.total, p1.newly_done) == (1, 3, True)
    assert (p2.done, p2.newly_done) == (1, False)
    assert enrollment.get_task(session, uid, tasks[0].id, now=NOW).done
    mine = enrollment.my_enrollments(session, uid, now=NOW)
    assert [(m.platform_name, m.done, m.total, m.active) for m in mine] == [("Flask", 1, 3, True)]
    with pytest.raises(NotFound):
        enrollment.complete_task(session, uid, 99999, now=NOW)
    with pytest.raises(NotFound):
        enrollment.platform_tasks(session, uid, 99999, now=NOW)


def test_admin_deactivate_extend_and_delete_rules(session):
    uid = student(session)
    pid = platform(session, "Monthly", "100.00", days=30)
    e = enrollment.enroll(session, uid, pid, idempotency_key=key(), now=NOW)
    enrollment.set_enrollment_active(session, e.enrollment_id, False, actor=ADMIN)
    assert not enrollment.check_access(session, uid, pid, now=NOW)
    new_expiry = enrollment.extend_enrollment(session, e.enrollment_id, 10, actor=ADMIN, now=NOW)
    assert new_expiry == later(days=40) and enrollment.check_access(session, uid, pid, now=NOW)
    with pytest.raises(InvalidInput):
        enrollment.extend_enrollment(session, e.enrollment_id, 0, actor=ADMIN)
    with pytest.raises(NotFound):
        enrollment.extend_enrollment(session, 4242, 5, actor=ADMIN)
    with pytest.raises(HasEnrollments):
        enrollment.delete_platform(session, pid, actor=ADMIN)
    empty = platform(session, "Unused", "10.00")
    enrollment.delete_platform(session, empty, actor=ADMIN)
    assert session.get(Platform, empty) is None


def test_purchase_is_one_read_and_three_writes_and_a_repeated_renewal_replays(session):
    """The Core money path: one read (plus the row lock on PostgreSQL), the debit, the enrollment and the
    ledger row; a repeat of a renewal replays it (renewed, same expiry) and reads only."""
    from sqlalchemy import event

    uid = student(session)
    pid = platform(session, "Monthly", "100.00", days=30)
    engine = session.get_bind()
    seen: list[str] = []
    listener = lambda conn, cur, stmt, *a: seen.append(stmt.split()[0].upper())  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        enrollment.enroll(session, uid, pid, idempotency_key="buy", now=NOW)
        reads = ["SELECT", "SELECT"] if engine.dialect.name == "postgresql" else ["SELECT"]
        assert [s for s in seen if s not in ("BEGIN", "COMMIT")] == reads + ["UPDATE", "INSERT", "INSERT"]
        renewed = enrollment.enroll(session, uid, pid, idempotency_key="renew", renew=True, now=later(days=10))
        seen.clear()
        again = enrollment.enroll(session, uid, pid, idempotency_key="renew", renew=True, now=later(days=11))
        assert not {"UPDATE", "INSERT"} & set(seen)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert again.replayed and again.renewed and again.expires_at == renewed.expires_at == later(days=60)
    assert again.balance == renewed.balance == wallet.balance(session, uid) == D("300.00")
    assert wallet.check_ledger(session) == []
