"""Analytics from the rollups give exactly the numbers computed live from the ledger (issue 16).

A generated ledger over a year (bench/datagen.py: top-ups pending, approved and rejected, purchases
referencing enrollments, bookings paid and refunded) plus rows placed on the edges of Cairo days around
the October summer-time change and the month end, rolled up step by step at awkward moments: after each
step every figure the panel shows equals the live computation, and the revenue series equals the SQL the
previous implementation ran."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bench.datagen import Size, generate
from core.models import (
    AnalyticsRollup,
    LedgerActiveMonth,
    LedgerCohort,
    LedgerDay,
    LedgerUserMark,
    Transaction,
    TransactionStatus,
)
from core.services import analytics, enrollment, jobs, mentorship, topups
from tests.core.helpers import ADMIN, key, mentor, platform, student

UTC = timezone.utc
GEN_NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
# 29 Oct 2026 lasts 25 hours in Cairo: summer time (UTC+3) ends during it, winter time (UTC+2) follows
DST_DAY_NOON = datetime(2026, 10, 29, 9, 0, tzinfo=UTC)
MONTH_END_2330 = datetime(2026, 10, 31, 21, 30, tzinfo=UTC)  # 23:30 Cairo (UTC+2)
CHECK_AT = (DST_DAY_NOON, MONTH_END_2330, GEN_NOW)
ROLL_AT = (
    datetime(2026, 10, 28, 21, 20, tzinfo=UTC),  # 00:05 Cairo on the change day (UTC+3)
    datetime(2026, 10, 29, 22, 14, tzinfo=UTC),  # 23:59 Cairo, the change day's 25th hour over
    datetime(2026, 10, 31, 22, 16, tzinfo=UTC),  # 00:01 Cairo on 1 Nov: the month just ended
    GEN_NOW + timedelta(days=1),
)


def _edge_rows(session):
    """Ledger rows a second either side of Cairo midnights around the change and the month end."""
    pid = platform(session, "Edges", "10.00", tasks=1)
    edges = [
        datetime(2026, 10, 28, 20, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 28, 21, 0, tzinfo=UTC),
        datetime(2026, 10, 29, 21, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 29, 22, 0, tzinfo=UTC),
        datetime(2026, 10, 31, 21, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 31, 22, 0, tzinfo=UTC),
    ]
    m = mentor(session, "Edge Mentor", "20.00")
    for i, at in enumerate(edges):
        uid = student(session, telegram_id=9_900_000 + i, now=at - timedelta(hours=1))
        enrollment.enroll(session, uid, pid, idempotency_key=key(), now=at)
        booked = mentorship.book(session, uid, m, 60, idempotency_key=key(), now=at).booking
        if i % 2:
            mentorship.cancel(session, booked.id, "edge", actor=ADMIN, now=at)
    # a top-up asked before the first roll-up and decided after it, and one still pending
    uid = student(session, telegram_id=9_900_100, now=edges[0])
    early = topups.request_topup(session, uid, "70", "01012345678", idempotency_key=key(), now=edges[0])
    topups.request_topup(session, uid, "30", "01012345678", idempotency_key=key(), now=edges[2])
    return early.transaction_id, uid


def _snapshot(session, now):
    together = analytics.dashboard(session, now=now)
    alone = (
        analytics.kpis(session, now=now),
        analytics.financial(session, now=now),
        analytics.engagement(session, now=now),
    )
    assert together == alone  # the home page works shared figures out once: the same numbers
    return {
        "financial": analytics.financial(session, now=now),
        "engagement": analytics.engagement(session, now=now),
        "kpis": analytics.kpis(session, now=now),
        "platforms": analytics.platform_performance(session, now=now),
        "october": analytics.monthly_report(session, 2026, 10),
        "november": analytics.monthly_report(session, 2026, 11),
        "summary": analytics.daily_summary(session, now=now),
        "success_metrics": analytics.success_metrics(
            session, analytics.month_period(None, None, now=now, default_months=13)
        ),
        **{
            f"series_{p}": analytics.revenue_series(session, period=p, since=now - timedelta(days=400), now=now)
            for p in ("day", "week", "month")
        },
    }


def _live(session, now, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(analytics, "rollup_until", lambda s: None)
        return _snapshot(session, now)


def _previous_series(session, period, since, now):
    """The SQL revenue_series ran before the rollups (Cairo buckets computed by the database)."""
    t = Transaction
    bucket = analytics._bucket_expr(session, t.created_at, period, since, now).label("bucket")
    rows = session.execute(
        select(bucket, t.type, func.sum(analytics._raw(t.amount)))
        .where(
            t.status == TransactionStatus.APPROVED,
            t.type.in_(analytics.REVENUE_TYPES),
            t.created_at >= since,
            t.created_at <= now,
        )
        .group_by(bucket, t.type)
    ).all()
    return sorted(
        ({"period": b, "type": ty.value, "amount": -analytics._money(s)} for b, ty, s in rows),
        key=lambda r: (r["period"], r["type"]),
    )


@pytest.mark.slow
def test_rollups_give_the_live_numbers(db_url, session, monkeypatch):
    generate(db_url, Size(400, 6_000, 150, 60), GEN_NOW, rolled_up=False)
    early_topup, topup_user = _edge_rows(session)
    session.commit()
    live = {at: _live(session, at, monkeypatch) for at in CHECK_AT}
    for at in CHECK_AT:
        for period in ("day", "week", "month"):
            since = at - timedelta(days=400)
            assert live[at][f"series_{period}"] == _previous_series(session, period, since, at), (at, period)
    assert live[GEN_NOW]["financial"].revenue_all_time["TOTAL"] > 0

    for step, roll in enumerate(ROLL_AT):
        written = jobs.roll_up_analytics(session, now=roll)
        assert written > 0
        until = session.scalar(select(AnalyticsRollup.until))
        assert until == analytics.rollup_target(roll)
        assert jobs.roll_up_analytics(session, now=roll) == 0  # nothing new: nothing written
        if step == 0:  # decided after the first roll-up: its day is rolled up, the row is not
            topups.approve(
                session,
                early_topup,
                actor=ADMIN,
                now=ROLL_AT[1] - timedelta(hours=2),
                confirmed=True,
                reason="checked the statement",
            )
            live = {at: _live(session, at, monkeypatch) for at in CHECK_AT}
        for at in CHECK_AT:
            assert _snapshot(session, at) == live[at], (roll, at)

    assert session.scalar(select(func.count()).select_from(LedgerDay)) > 0
    assert session.scalar(select(func.count()).select_from(LedgerUserMark)) > 0
    assert session.scalar(select(func.count()).select_from(LedgerActiveMonth)) > 0
    assert session.scalar(select(func.count()).select_from(LedgerCohort)) > 0
    # everything decided is rolled up now; new rows are read live until the next roll-up
    later = GEN_NOW + timedelta(days=1, hours=2)
    pid = platform(session, "Late", "5.00", tasks=1)
    enrollment.enroll(session, topup_user, pid, idempotency_key=key(), now=later)
    pending = session.scalar(
        select(Transaction.id).where(Transaction.status == TransactionStatus.PENDING, Transaction.user_id == topup_user)
    )
    topups.reject(session, pending, "no transfer", actor=ADMIN, now=later)
    assert _snapshot(session, later) == _live(session, later, monkeypatch)
    jobs.roll_up_analytics(session, now=later + timedelta(hours=1))
    assert _snapshot(session, later) == _live(session, later, monkeypatch)


def test_a_read_writes_nothing_and_an_empty_ledger_has_no_rollups(db_url, session):
    student(session)
    analytics.financial(session)
    analytics.engagement(session)
    assert session.scalar(select(func.count()).select_from(AnalyticsRollup)) == 0
    assert session.scalar(select(func.count()).select_from(LedgerDay)) == 0


@pytest.mark.slow
def test_two_runners_roll_up_each_row_once(db, session, monkeypatch):
    """Two scheduler replicas on the same tick: one rolls up, the other finds nothing to do (the first
    roll-up inserts the state row, later ones move it with a conditional UPDATE)."""
    import threading

    generate(db.url, Size(200, 2_000, 60, 20), GEN_NOW, rolled_up=False)
    for tick in (GEN_NOW + timedelta(hours=1), GEN_NOW + timedelta(hours=4)):
        if tick > GEN_NOW + timedelta(hours=1):  # something new to roll up
            enrollment.enroll(
                session,
                student(session, now=tick),
                platform(session, "Tick", "1.00"),
                idempotency_key=key(),
                now=tick - timedelta(hours=1),
            )
        live = _live(session, tick, monkeypatch)
        session.rollback()
        barrier = threading.Barrier(2)
        written, errors = [0, 0], []

        def runner(no):
            try:
                with db.session() as s:
                    barrier.wait(timeout=60)
                    written[no] = jobs.roll_up_analytics(s, now=tick)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                errors.append(exc)

        threads = [threading.Thread(target=runner, args=(no,)) for no in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert sorted(w > 0 for w in written) == [False, True], written
        assert session.scalar(select(AnalyticsRollup.until)) == analytics.rollup_target(tick)
        assert _snapshot(session, tick) == live


@pytest.mark.slow
def test_the_migration_rolls_up_an_existing_ledger(db_url, session, monkeypatch):
    """Upgrading a database that already holds a ledger to 0007 rolls it up: the figures come from the
    rollups at once, and equal the live ones."""
    from alembic import command

    from core.db import alembic_config

    generated_at = datetime.now(UTC) - timedelta(days=2)  # the migration rolls up to the real clock
    generate(db_url, Size(300, 3_000, 100, 30), generated_at, rolled_up=False)
    session.close()
    command.downgrade(alembic_config(db_url), "0006")
    command.upgrade(alembic_config(db_url), "head")
    assert session.scalar(select(AnalyticsRollup.until)) > generated_at  # every row was decided by then
    assert session.scalar(select(func.sum(LedgerDay.count))) == session.scalar(
        select(func.count()).select_from(Transaction).where(Transaction.decided_at.is_not(None))
    )
    assert _snapshot(session, generated_at) == _live(session, generated_at, monkeypatch)
