"""The analytics page's success metrics (issue 22 #14): the numbers a person would check by hand on the small school
of tests/factories.py whose history is told month by month (seed_metrics_school), read live and from the rollups,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.services import analytics, jobs
from tests.factories import seed_metrics_school

D = Decimal
UTC = timezone.utc
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


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
        "DSA 2026": (2, 3, 1, D("33.3")),
        "Flask 2026": (4, 2, 1, D("50.0")),
        "No tasks yet 2026": (0, 0, 0, None),
        "Starter 2026": (1, 1, 1, D("100.0")),
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
    assert (mona.name, mona.booked_minutes, mona.booked_hours, mona.completed) == ("Mona 2026", 90, D("1.5"), 2)
    assert (mona.ratings, mona.average_rating) == (2, D("4.5"))
    assert (sami.name, sami.booked_hours, sami.completed, sami.ratings, sami.average_rating) == (
        "Sami 2026",
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


def test_the_success_metrics_of_a_known_seed_metrics_school(session):
    seed_metrics_school(session)
    _check_autumn(_autumn(session))
    all_time = analytics.revenue_between(session, at(1, 1), NOW)["TOTAL"]
    assert all_time == _autumn(session).net_paid  # the cohorts add up to the ledger's net revenue


def test_the_rollups_give_the_same_numbers(session):
    seed_metrics_school(session)
    live = _autumn(session)
    assert jobs.roll_up_analytics(session, now=at(10, 20)) > 0  # part rolled up, the rest live
    assert _autumn(session) == live
    assert jobs.roll_up_analytics(session, now=at(11, 11)) > 0  # Amal's first November booking: marked once
    assert _autumn(session) == live
    assert jobs.roll_up_analytics(session, now=NOW) > 0  # all decided rows rolled up; Dina's request stays live
    assert _autumn(session) == live
    _check_autumn(_autumn(session))


def test_an_empty_period_has_no_rates_and_no_division_by_zero(session):
    seed_metrics_school(session)
    m = analytics.success_metrics(session, analytics.month_period("2025-01", "2025-03", now=NOW))
    assert [(r.revenue, r.growth_pct) for r in m.revenue] == [(D("0.00"), None)] * 3
    assert m.completion_rate_pct is None and all(p.rate_pct is None for p in m.completion)
    assert m.bookings_total == 0 and m.booked_hours == D("0.0") and m.average_rating is None
    assert [(a.students, a.active, a.share_pct) for a in m.adoption] == [(0, 0, None)] * 3
    assert [(c.students, c.value) for c in m.cohorts] == [(0, None)] * 3


def test_an_empty_seed_metrics_school(session):
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
