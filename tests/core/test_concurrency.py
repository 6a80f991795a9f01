"""Money under concurrency, with real threads (and processes) on the real databases."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from decimal import Decimal

import pytest

from core.db import Database
from core.errors import AlreadyProcessed, DomainError, InsufficientFunds
from core.services import enrollment, mentorship, topups, wallet
from tests.core.helpers import ADMIN, NOW, OTHER_ADMIN, mentor, platform, student
from tests.helpers import context

pytestmark = pytest.mark.slow
D = Decimal


def hammer(db: Database, calls) -> list:
    """Run each call in its own thread and session, all released at once; return results/errors."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        with db.session() as s:
            barrier.wait()
            try:
                results[i] = fn(s)
            except DomainError as exc:
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.fixture
def big_db(db_url):
    database = Database(db_url, context(), pool_size=55, max_overflow=10)
    yield database
    database.dispose()


def test_50_purchases_only_k_succeed(big_db):
    with big_db.session() as s:
        uid = student(s)
        pids = [platform(s, f"P{i}", "60.00") for i in range(50)]
    calls = [lambda s, pid=pid: enrollment.enroll(s, uid, pid, idempotency_key=f"buy-{pid}", now=NOW) for pid in pids]
    results = hammer(big_db, calls)
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"EnrollmentResult": 8, "InsufficientFunds": 42}, kinds
    with big_db.session() as s:
        assert wallet.balance(s, uid) == D("20.00")
        assert len(enrollment.my_enrollments(s, uid, now=NOW)) == 8
        assert wallet.check_ledger(s) == []


def test_two_admins_approving_at_once_credit_once(big_db):
    with big_db.session() as s:
        uid = student(s)
        from core.services.settings import update_settings

        update_settings(s, {"max_pending_topups": "20", "max_topups_per_day": "20"}, actor=ADMIN)
        ids = [
            topups.request_topup(s, uid, "100", "01012345678", idempotency_key=f"t{i}", now=NOW).transaction_id
            for i in range(10)
        ]
    for tid in ids:
        results = hammer(
            big_db,
            [
                lambda s, tid=tid: topups.approve(s, tid, actor=ADMIN, confirmed=True, reason="checked the statement"),
                lambda s, tid=tid: topups.approve(
                    s, tid, actor=OTHER_ADMIN, confirmed=True, reason="checked the statement"
                ),
            ],
        )
        assert sorted(type(r).__name__ for r in results) == ["AlreadyProcessed", "TopupDecision"]
        loser = next(r for r in results if isinstance(r, AlreadyProcessed))
        winner = next(r for r in results if not isinstance(r, AlreadyProcessed))
        assert loser.details["by"] == winner.processed_by
    with big_db.session() as s:
        assert wallet.balance(s, uid) == D("1500.00")
        assert wallet.check_ledger(s) == []


def test_one_tap_approvals_without_a_transfer_feed_credit_once_at_once_and_on_repeat(big_db):
    """No transfer feed (a fresh install): Approve needs no confirmation or reason. Two admins tapping at once,
    and the same tap sent again, still credit once."""
    with big_db.session() as s:
        uid = student(s)
        assert not topups.transfer_feed_in_use(s)
        tid = topups.request_topup(s, uid, "100", "01012345678", idempotency_key="one-tap", now=NOW).transaction_id
    results = hammer(
        big_db,
        [lambda s: topups.approve(s, tid, actor=ADMIN), lambda s: topups.approve(s, tid, actor=OTHER_ADMIN)],
    )
    assert sorted(type(r).__name__ for r in results) == ["AlreadyProcessed", "TopupDecision"]
    with big_db.session() as s:
        with pytest.raises(AlreadyProcessed):  # the repeat of a tap
            topups.approve(s, tid, actor=ADMIN)
        assert wallet.balance(s, uid) == D("600.00")
        assert wallet.check_ledger(s) == []


def test_approve_and_reject_race_has_one_outcome(big_db):
    with big_db.session() as s:
        uid = student(s)
        tid = topups.request_topup(s, uid, "100", "01012345678", idempotency_key="t", now=NOW).transaction_id
    results = hammer(
        big_db,
        [
            lambda s: topups.approve(s, tid, actor=ADMIN, confirmed=True, reason="checked the statement"),
            lambda s: topups.reject(s, tid, "no", actor=OTHER_ADMIN),
        ],
    )
    assert sum(isinstance(r, AlreadyProcessed) for r in results) == 1
    with big_db.session() as s:
        assert wallet.check_ledger(s) == []


@pytest.mark.parametrize("operation", ["enroll", "book", "topup", "adjust"])
def test_one_key_sent_20_times_at_once_has_one_effect(big_db, operation):
    with big_db.session() as s:
        uid = student(s)
        pid = platform(s, "Flask", "100.00")
        mid = mentor(s, rate="200.00")
    fn = {
        "enroll": lambda s: enrollment.enroll(s, uid, pid, idempotency_key="same", now=NOW),
        "book": lambda s: mentorship.book(s, uid, mid, 30, idempotency_key="same", now=NOW),
        "topup": lambda s: topups.request_topup(s, uid, "50", "01012345678", idempotency_key="same", now=NOW),
        "adjust": lambda s: wallet.adjust_balance(s, uid, "-100", "fee", actor=ADMIN, idempotency_key="same"),
    }[operation]
    results = hammer(big_db, [fn] * 20)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(not r.replayed for r in results) == 1
    with big_db.session() as s:
        expected = {"enroll": D("400.00"), "book": D("400.00"), "topup": D("500.00"), "adjust": D("400.00")}
        assert wallet.balance(s, uid) == expected[operation]
        assert wallet.history(s, uid).total == 2
        assert wallet.check_ledger(s) == []


def test_cancel_race_refunds_once(big_db):
    with big_db.session() as s:
        uid = student(s)
        mid = mentor(s)
        bid = mentorship.book(s, uid, mid, 60, idempotency_key="b", now=NOW).booking.id
    results = hammer(
        big_db,
        [
            lambda s: mentorship.cancel(s, bid, student_id=uid, now=NOW),
            lambda s: mentorship.cancel(s, bid, "x", actor=ADMIN, now=NOW),
        ]
        * 3,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    with big_db.session() as s:
        assert wallet.balance(s, uid) == D("500.00")
        assert wallet.check_ledger(s) == []


def _buy_in_process(url: str, uid: int, pid: int, start, out) -> None:
    db = Database(url, context())
    start.wait()
    try:
        with db.session() as s:
            enrollment.enroll(s, uid, pid, idempotency_key=f"proc-{pid}", now=NOW)
        out.put("ok")
    except InsufficientFunds:
        out.put("insufficient")
    except Exception as exc:  # reported, and fails the test below
        out.put(f"error: {exc!r}")
    finally:
        db.dispose()


def test_purchases_from_separate_processes_on_sqlite(sqlite_url):
    db = Database(sqlite_url, context())
    with db.session() as s:
        uid = student(s)
        pids = [platform(s, f"P{i}", "120.00") for i in range(12)]
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_buy_in_process, args=(sqlite_url, uid, pid, start, out)) for pid in pids]
    for p in procs:
        p.start()
    start.set()
    outcomes = Counter(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert outcomes == {"ok": 4, "insufficient": 8}, outcomes
    with db.session() as s:
        assert wallet.balance(s, uid) == D("20.00") and wallet.check_ledger(s) == []
    db.dispose()


def test_twenty_students_racing_for_one_slot_get_one_booking_and_nineteen_refusals_without_charge(big_db):
    from datetime import datetime, timedelta, timezone

    from core.errors import SlotTaken
    from core.services import availability

    with big_db.session() as s:
        m = mentor(s)
        availability.set_week(s, m, {3: [(600, 720)]}, actor=ADMIN, now=NOW)  # Thursdays 10:00-12:00 Cairo
        students = [student(s, name=f"S{i}") for i in range(20)]
    slot = datetime(2026, 11, 26, 8, tzinfo=timezone.utc)  # Thursday 10:00 Cairo
    calls = [
        lambda s, sid=sid: mentorship.book(s, sid, m, 60, idempotency_key=f"race-{sid}", slot_start=slot, now=NOW)
        for sid in students
    ]
    results = hammer(big_db, calls)
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"BookingResult": 1, "SlotTaken": 19}, kinds
    assert all(isinstance(r, SlotTaken) for r in results if not hasattr(r, "booking"))
    with big_db.session() as s:
        balances = sorted(wallet.balance(s, sid) for sid in students)
        assert balances == [D("200.00")] + [D("500.00")] * 19  # 60 min at 300/h from the winner only
        free = availability.free_slots(s, m, 60, slot.date(), 1, now=NOW)
        assert [f.start for f in free] == []  # 10:00 booked; 11:00 falls in its break; 10:30 overlaps
        assert wallet.check_ledger(s) == []


def test_overlapping_live_bookings_are_impossible_in_postgresql_itself(pg_url):
    """Belt and braces: even a write that skips the service cannot put two live sessions of a mentor on top of
    each other (the exclusion constraint over (mentor, session range) of PENDING and CONFIRMED bookings)."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy.exc import IntegrityError

    from core.models import BookingStatus, MentorshipBooking

    database = Database(pg_url, context())
    try:
        with database.session() as s:
            m, a, b = mentor(s), student(s, name="A"), student(s, name="B")
            start = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)

            def booking(sid, at, status=BookingStatus.CONFIRMED):
                return MentorshipBooking(
                    student_id=sid,
                    mentor_id=m,
                    duration=60,
                    total_cost=D("300.00"),
                    status=status,
                    session_date=at,
                    ends_at=at + timedelta(minutes=60),
                )

            s.add(booking(a, start))
            s.commit()
            s.add(booking(b, start + timedelta(minutes=30)))
            with pytest.raises(IntegrityError):
                s.commit()
            s.rollback()
            s.add(booking(b, start + timedelta(minutes=30), BookingStatus.CANCELLED))  # not live: allowed
            s.add(booking(b, start + timedelta(minutes=60)))  # back to back: allowed
            s.commit()
    finally:
        database.dispose()
