"""The analytics page's success metrics (issue 22 #14): the numbers a person would check by hand on a small school
whose history is written below month by month, read live and from the rollups, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.services import analytics, enrollment, jobs, mentorship, topups
from tests.core.helpers import ADMIN, key, mentor, platform, student

D = Decimal
UTC = timezone.utc
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _approved_topup(session, uid, amount, when):
    t = topups.request_topup(session, uid, amount, "01012345678", idempotency_key=key(), now=when)
    topups.approve(session, t.transaction_id, actor=ADMIN, now=when, confirmed=True, reason="checked the statement")


def _complete_all(session, uid, pid, when, first=None):
    for task in enrollment.platform_tasks(session, uid, pid, now=when)[:first]:
        enrollment.complete_task(session, uid, task.id, now=when)


def school(session):
    """Five students (each gets the 500.00 welcome credit), three paid platforms and a free one, two mentors.

    Aug: Amal registers (10th) and buys Flask 250.00 (15th).
    Sep: Badr registers (5th), buys Flask (10th), books 30 min with Mona (150.00, held on the 20th, rated 4);
         Eman registers (20th) and asks for a 1,000.00 top-up, rejected (25th).
    Oct: Amal tops up 500.00 (1st) and buys DSA 100.00 (12th); Celine registers (3rd), books 60 min (300.00, 5th),
         cancelled and refunded (6th), buys DSA (12th); Eman buys DSA at 00:30 Cairo time on 1 Nov.
    Nov: Dina registers (2nd), enrolls in the free course and does its task, asks for a 100.00 top-up (pending);
         Badr tops up 300.00 (5th); Celine buys Flask (8th); Amal books 60 min with Mona (10th, held on the 20th,
         rated 5) and 30 min with Sami (12th, pending).
    Tasks: Amal does all of Flask (bought in August) and of DSA; Badr all of Flask; Celine 1 of DSA's 2."""
    mona, sami = mentor(session, "Mona", "300.00"), mentor(session, "Sami", "200.00")
    flask = platform(session, "Flask", "250.00", tasks=4)
    dsa = platform(session, "DSA", "100.00", tasks=2)
    free = platform(session, "Starter", None, tasks=1)
    platform(session, "No tasks yet", "50.00", tasks=0)
    amal = student(session, 7001, "Amal", now=at(8, 10))
    enrollment.enroll(session, amal, flask, idempotency_key=key(), now=at(8, 15))
    badr = student(session, 7002, "Badr", now=at(9, 5))
    enrollment.enroll(session, badr, flask, idempotency_key=key(), now=at(9, 10))
    b1 = mentorship.book(session, badr, mona, 30, idempotency_key=key(), now=at(9, 15)).booking
    mentorship.confirm(session, b1.id, at(9, 20), actor=ADMIN, now=at(9, 16))
    mentorship.complete(session, b1.id, actor=ADMIN, now=at(9, 20, 12))
    mentorship.leave_feedback(session, b1.id, badr, 4, now=at(9, 20, 13))
    eman = student(session, 7005, "Eman", now=at(9, 20))
    t = topups.request_topup(session, eman, "1000", "01012345678", idempotency_key=key(), now=at(9, 25))
    topups.reject(session, t.transaction_id, "no transfer", actor=ADMIN, now=at(9, 26))
    _approved_topup(session, amal, "500", at(10, 1))
    celine = student(session, 7003, "Celine", now=at(10, 3))
    b2 = mentorship.book(session, celine, mona, 60, idempotency_key=key(), now=at(10, 5)).booking
    mentorship.cancel(session, b2.id, "mentor ill", actor=ADMIN, now=at(10, 6))
    enrollment.enroll(session, amal, dsa, idempotency_key=key(), now=at(10, 12))
    enrollment.enroll(session, celine, dsa, idempotency_key=key(), now=at(10, 12))
    enrollment.enroll(session, eman, dsa, idempotency_key=key(), now=at(10, 31, 22, 30))  # 1 Nov 00:30 in Cairo
    dina = student(session, 7004, "Dina", now=at(11, 2))
    enrollment.enroll(session, dina, free, idempotency_key=key(), now=at(11, 2))
    _complete_all(session, dina, free, at(11, 2))
    _approved_topup(session, badr, "300", at(11, 5))
    enrollment.enroll(session, celine, flask, idempotency_key=key(), now=at(11, 8))
    b3 = mentorship.book(session, amal, mona, 60, idempotency_key=key(), now=at(11, 10)).booking
    mentorship.confirm(session, b3.id, at(11, 20), actor=ADMIN, now=at(11, 11))
    mentorship.complete(session, b3.id, actor=ADMIN, now=at(11, 20, 12))
    mentorship.leave_feedback(session, b3.id, amal, 5, now=at(11, 20, 13))
    mentorship.book(session, amal, sami, 30, idempotency_key=key(), now=at(11, 12))
    topups.request_topup(session, dina, "100", "01012345678", idempotency_key=key(), now=at(11, 20))
    _complete_all(session, amal, flask, at(11, 21))
    _complete_all(session, amal, dsa, at(11, 21))
    _complete_all(session, badr, flask, at(11, 21))
    _complete_all(session, celine, dsa, at(11, 21), first=1)


def _autumn(session):
    return analytics.success_metrics(session, analytics.month_period("2026-09", "2026-11", now=NOW))


def _check_autumn(m):
    assert m.months == ["2026-09", "2026-10", "2026-11"]
    # enrollment revenue per month (Eman's purchase at 00:30 Cairo on 1 November is November's) and its growth
    assert [(r.month, r.revenue, r.growth_pct) for r in m.revenue] == [
        ("2026-09", D("250.00"), D("0.0")),  # August had 250.00
        ("2026-10", D("200.00"), D("-20.0")),
        ("2026-11", D("350.00"), D("75.0")),
    ]
    assert m.revenue_total == D("800.00")
    # completion: students who enrolled in the period (Amal's Flask was August's) and did every task
    rates = {p.name: (p.tasks, p.enrolled, p.completed, p.rate_pct) for p in m.completion}
    assert rates == {
        "DSA": (2, 3, 1, D("33.3")),
        "Flask": (4, 2, 1, D("50.0")),
        "No tasks yet": (0, 0, 0, None),
        "Starter": (1, 1, 1, D("100.0")),
    }
    assert (m.completion_enrolled, m.completion_completed, m.completion_rate_pct) == (6, 3, D("50.0"))
    # bookings by the month they were made, by where they stand now
    assert [(b.month, {k: v for k, v in b.by_status.items() if v}, b.total) for b in m.bookings] == [
        ("2026-09", {"COMPLETED": 1}, 1),
        ("2026-10", {"CANCELLED": 1}, 1),
        ("2026-11", {"COMPLETED": 1, "PENDING": 1}, 2),
    ]
    assert m.bookings_total == 4
    mona, sami = m.mentors
    assert (mona.name, mona.booked_minutes, mona.booked_hours, mona.completed) == ("Mona", 90, D("1.5"), 2)
    assert (mona.ratings, mona.average_rating) == (2, D("4.5"))
    assert (sami.name, sami.booked_hours, sami.completed, sami.ratings, sami.average_rating) == (
        "Sami",
        D("0.0"),
        0,
        0,
        None,
    )
    assert (m.booked_hours, m.sessions_completed, m.ratings, m.average_rating) == (D("1.5"), 2, 2, D("4.5"))
    # wallet adoption: students registered by the month's end who started a ledger row in it
    assert [(a.month, a.students, a.active, a.share_pct) for a in m.adoption] == [
        ("2026-09", 3, 2, D("66.7")),  # Badr, Eman (a rejected request is still using the wallet)
        ("2026-10", 4, 2, D("50.0")),  # Amal, Celine
        ("2026-11", 5, 5, D("100.0")),  # Dina's pending request counts
    ]
    # lifetime value: 1,050.00 of purchases + 550.00 of sessions (Celine's 300.00 refunded) over 5 students
    assert (m.students, m.paying_students, m.net_paid) == (5, 4, D("1600.00"))
    assert (m.lifetime_value, m.paying_lifetime_value) == (D("320.00"), D("400.00"))
    assert [(c.month, c.students, c.net_paid, c.value) for c in m.cohorts] == [
        ("2026-09", 2, D("500.00"), D("250.00")),
        ("2026-10", 1, D("350.00"), D("350.00")),
        ("2026-11", 1, D("0.00"), D("0.00")),
    ]


def test_the_success_metrics_of_a_known_school(session):
    school(session)
    _check_autumn(_autumn(session))
    all_time = analytics.revenue_between(session, at(1, 1), NOW)["TOTAL"]
    assert all_time == _autumn(session).net_paid  # the cohorts add up to the ledger's net revenue


def test_the_rollups_give_the_same_numbers(session):
    school(session)
    live = _autumn(session)
    assert jobs.roll_up_analytics(session, now=at(10, 20)) > 0  # part rolled up, the rest live
    assert _autumn(session) == live
    assert jobs.roll_up_analytics(session, now=NOW) > 0  # all decided rows rolled up; Dina's request stays live
    assert _autumn(session) == live
    _check_autumn(_autumn(session))


def test_an_empty_period_has_no_rates_and_no_division_by_zero(session):
    school(session)
    m = analytics.success_metrics(session, analytics.month_period("2025-01", "2025-03", now=NOW))
    assert [(r.revenue, r.growth_pct) for r in m.revenue] == [(D("0.00"), None)] * 3
    assert m.completion_rate_pct is None and all(p.rate_pct is None for p in m.completion)
    assert m.bookings_total == 0 and m.booked_hours == D("0.0") and m.average_rating is None
    assert [(a.students, a.active, a.share_pct) for a in m.adoption] == [(0, 0, None)] * 3
    assert [(c.students, c.value) for c in m.cohorts] == [(0, None)] * 3


def test_an_empty_school(session):
    m = analytics.success_metrics(session, analytics.month_period(None, None, now=NOW))
    assert m.months == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]  # the last 6 months
    assert (m.students, m.net_paid, m.lifetime_value, m.paying_lifetime_value) == (0, D("0.00"), None, None)
    assert m.mentors == [] and m.completion == []


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("2026-13", "2026-11", "'from' month as YYYY-MM"),
        ("2026-1", None, "'from' month as YYYY-MM"),
        ("2026-09", "next month", "'to' month as YYYY-MM"),
        ("2026-10", "2026-09", "starts (2026-10) after it ends (2026-09)"),
        ("2026-10", "2026-12", "cannot end after this month (2026-11)"),
        ("2023-01", "2026-11", "at most 36 months"),
    ],
)
def test_a_period_that_is_not_one_is_refused_with_a_sentence(start, end, words):
    with pytest.raises(InvalidInput) as err:
        analytics.month_period(start, end, now=NOW)
    assert words in err.value.args[0]


def test_default_and_short_periods():
    p = analytics.month_period("", "", now=NOW, default_months=3)
    assert (p.first.isoformat(), p.last.isoformat()) == ("2026-09-01", "2026-11-01")
    p = analytics.month_period("2026-11", None, now=datetime(2026, 11, 30, 22, 30, tzinfo=UTC))  # 1 Dec in Cairo
    assert [m.isoformat() for m in p.months] == ["2026-11-01", "2026-12-01"]
