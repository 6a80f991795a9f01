"""Analytics: the numbers an admin reads must add up to the ledger."""

from decimal import Decimal

from core.services import analytics, enrollment, mentorship, topups
from tests.core.helpers import ADMIN, NOW, key, later, mentor, platform, student

D = Decimal


def _scenario(session):
    a, b, c = student(session, name="A"), student(session, name="B"), student(session, name="C")
    p1 = platform(session, "Flask", "250.00", tasks=4)
    p2 = platform(session, "DSA", "100.00", tasks=2)
    m = mentor(session, "Ahmed", "300.00")
    enrollment.enroll(session, a, p1, idempotency_key=key(), now=NOW)
    enrollment.enroll(session, b, p1, idempotency_key=key(), now=NOW)
    enrollment.enroll(session, b, p2, idempotency_key=key(), now=NOW)
    for t in enrollment.platform_tasks(session, a, p1, now=NOW)[:2]:
        enrollment.complete_task(session, a, t.id, now=NOW)
    t1 = topups.request_topup(session, c, "200", "01012345678", idempotency_key=key(), now=NOW)
    topups.approve(session, t1.transaction_id, actor=ADMIN, now=NOW, confirmed=True, reason="checked the statement")
    t2 = topups.request_topup(session, c, "75", "01012345678", idempotency_key=key(), now=NOW)
    topups.reject(session, t2.transaction_id, "no transfer", actor=ADMIN, now=NOW)
    topups.request_topup(session, c, "40", "01012345678", idempotency_key=key(), now=NOW)
    b1 = mentorship.book(session, c, m, 60, idempotency_key=key(), now=NOW).booking
    b2 = mentorship.book(session, a, m, 30, idempotency_key=key(), now=NOW).booking
    mentorship.cancel(session, b2.id, "mentor ill", actor=ADMIN, now=NOW)
    mentorship.confirm(session, b1.id, later(hours=2), actor=ADMIN, now=NOW)
    mentorship.complete(session, b1.id, actor=ADMIN, now=later(hours=3))
    mentorship.leave_feedback(session, b1.id, c, 4, now=later(hours=3))
    return p1, p2


def test_financial_numbers(session):
    _scenario(session)
    f = analytics.financial(session, now=later(hours=4))
    assert f.revenue_all_time["PLATFORM_PURCHASE"] == D("600.00")
    assert f.revenue_all_time["MENTORSHIP_PAYMENT"] == D("300.00")  # 300 + 150 paid, 150 refunded
    assert f.revenue_all_time["REFUNDS"] == D("150.00")
    assert f.revenue_all_time["TOTAL"] == D("900.00")
    assert f.revenue_today["TOTAL"] == D("900.00")
    assert f.topups["APPROVED"] == {"count": 1, "amount": D("200.00")}
    assert f.topups["REJECTED"]["count"] == 1 and f.topups["PENDING"]["amount"] == D("40.00")
    assert f.wallet_float == D("800.00")  # 3 x 500 + 200 - 900
    assert f.students == 3 and f.paying_students == 3
    assert f.arpu == D("300.00") and f.lifetime_value == D("300.00")
    assert sum(r["amount"] for r in f.by_day) == D("1050.00")  # gross, before the refund
    assert {r["type"] for r in f.by_month} == {"PLATFORM_PURCHASE", "MENTORSHIP_PAYMENT"}


def test_platform_performance_and_engagement(session):
    _scenario(session)
    perf = {p.name: p for p in analytics.platform_performance(session, now=later(hours=4))}
    assert (perf["Flask"].enrollments, perf["Flask"].revenue, perf["Flask"].tasks) == (2, D("500.00"), 4)
    assert perf["Flask"].completion_rate == D("25.0")  # 2 of 2x4
    assert perf["DSA"].revenue == D("100.00") and perf["DSA"].completion_rate == D("0.0")
    e = analytics.engagement(session, now=later(hours=4))
    assert e.students == 3 and e.active_30d == 3 and e.new_30d == 3
    assert e.wallet_adopters == 3 and e.wallet_adoption_pct == D("100.0")
    assert e.bookings_by_status["COMPLETED"] == 1 and e.bookings_by_status["CANCELLED"] == 1
    [ahmed] = e.mentors
    assert ahmed["bookings"] == 2 and ahmed["utilization_pct"] == D("100.0") and ahmed["average_rating"] == D("4.0")
    assert sum(w["bookings"] for w in e.bookings_per_week) == 2


def test_kpis_report_and_summary(session):
    _scenario(session)
    k = analytics.kpis(session, now=later(hours=4))
    assert k["revenue_today"] == D("900.00") and k["pending_topups"] == 1
    assert k["pending_topups_amount"] == D("40.00") and k["wallet_float"] == D("800.00")
    report = analytics.monthly_report(session, 2026, 11)
    assert report["revenue"]["TOTAL"] == D("900.00") and report["refunds"] == D("150.00")
    assert report["wallet_float_at_month_end"] == D("800.00") and report["signup_bonuses"] == D("1500.00")
    assert analytics.monthly_report(session, 2026, 12)["revenue"]["TOTAL"] == 0
    summary = analytics.daily_summary(session, now=later(days=1))
    assert summary["date"] == "2026-11-25" and summary["bookings"] == 2 and summary["new_students"] == 3
    assert summary["topups_approved"]["amount"] == D("200.00")


def test_day_buckets_follow_cairo_time_with_summer_time(session):
    """23:30 UTC on 1 July is 02:30 on 2 July in Cairo (UTC+3 in summer); in January 23:30 UTC is 01:30."""
    from datetime import datetime, timezone

    summer = datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc)
    winter = datetime(2026, 1, 10, 21, 30, tzinfo=timezone.utc)  # 23:30 Cairo, same day
    uid = student(session, now=summer)
    pid = platform(session, "Night", "10.00")
    enrollment.enroll(session, uid, pid, idempotency_key=key(), now=summer)
    uid2 = student(session, now=winter)
    enrollment.enroll(session, uid2, pid, idempotency_key=key(), now=winter)
    days = {
        r["period"]
        for r in analytics.revenue_series(
            session,
            period="day",
            since=datetime(2026, 1, 1, tzinfo=timezone.utc),
            now=datetime(2026, 12, 1, tzinfo=timezone.utc),
        )
    }
    assert days == {"2026-07-02", "2026-01-10"}


def test_bookings_per_week_are_labelled_by_iso_week_on_both_databases(session):
    """ISO week 49 of 2026 (Monday 30 November to Sunday 6 December, Cairo time) showed as W48 on SQLite; the
    first days of 2027 belong to ISO week 53 of 2026; a booking late on Sunday evening (UTC) is Monday in Cairo."""
    from datetime import datetime, timezone

    ahmed = mentor(session)
    moments = {
        datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc): "2026-W49",  # a Thursday
        datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc): "2026-W49",  # Sunday UTC, Monday 01:30 in Cairo
        datetime(2027, 1, 1, 12, 0, tzinfo=timezone.utc): "2026-W53",  # Friday 1 January
        datetime(2027, 1, 4, 12, 0, tzinfo=timezone.utc): "2027-W01",
    }
    for n, moment in enumerate(moments):
        sid = student(session, 900 + n, now=moment)
        mentorship.book(session, sid, ahmed, 30, idempotency_key=f"week-{n}", now=moment)
    weeks = analytics.engagement(session, now=datetime(2027, 1, 5, tzinfo=timezone.utc)).bookings_per_week
    assert weeks == [
        {"week": "2026-W49", "bookings": 2},
        {"week": "2026-W53", "bookings": 1},
        {"week": "2027-W01", "bookings": 1},
    ]
