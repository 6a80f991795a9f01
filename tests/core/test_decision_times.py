"""A decision has a time of its own: the `now` the service was given, never the wall clock of a later update."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from core.db import alembic_config
from core.models import Transaction
from core.services import analytics, enrollment, mentorship, topups, wallet
from core.timeutil import CAIRO
from tests.core.helpers import ADMIN, key, mentor, platform, student

D = Decimal
LONG_AGO = datetime(2021, 3, 3, 10, 0, tzinfo=timezone.utc)  # far from any day this suite runs on


def cairo(*args) -> datetime:
    return datetime(*args, tzinfo=CAIRO).astimezone(timezone.utc)


def _topup(session, uid, amount, *, asked, decided, approve=True):
    t = topups.request_topup(session, uid, amount, "01012345678", idempotency_key=key(), now=asked)
    if approve:
        topups.approve(
            session, t.transaction_id, actor=ADMIN, now=decided, confirmed=True, reason="checked the statement"
        )
    else:
        topups.reject(session, t.transaction_id, "no transfer", actor=ADMIN, now=decided)
    return t.transaction_id


def test_every_ledger_row_carries_the_time_its_service_was_given(session):
    uid = student(session, now=LONG_AGO)
    pid = platform(session, "Flask", "100.00")
    mid = mentor(session, "Ahmed", "120.00")
    tid = _topup(session, uid, "200", asked=LONG_AGO, decided=LONG_AGO + timedelta(hours=5))
    rid = _topup(session, uid, "30", asked=LONG_AGO, decided=LONG_AGO + timedelta(hours=6), approve=False)
    enrollment.enroll(session, uid, pid, idempotency_key=key(), now=LONG_AGO + timedelta(hours=7))
    booking = mentorship.book(session, uid, mid, 60, idempotency_key=key(), now=LONG_AGO + timedelta(hours=8)).booking
    mentorship.cancel(session, booking.id, actor=ADMIN, reason="mentor ill", now=LONG_AGO + timedelta(hours=9))
    wallet.adjust_balance(
        session, uid, "-5", "typo", actor=ADMIN, idempotency_key=key(), now=LONG_AGO + timedelta(hours=10)
    )
    session.expire_all()
    rows = {r.id: r for r in session.scalars(select(Transaction))}
    assert rows[tid].decided_at == LONG_AGO + timedelta(hours=5)
    assert rows[tid].updated_at == LONG_AGO + timedelta(hours=5)  # the second update of the row kept it
    assert rows[rid].decided_at == LONG_AGO + timedelta(hours=6)
    pending = topups.request_topup(session, uid, "40", "01012345678", idempotency_key=key(), now=LONG_AGO)
    assert session.get(Transaction, pending.transaction_id).decided_at is None
    # every approved row: decided when it says; nothing stamped with today's date
    for row in rows.values():
        assert row.decided_at is not None and row.decided_at < LONG_AGO + timedelta(days=1)
        assert row.updated_at < LONG_AGO + timedelta(days=1) and row.created_at <= row.decided_at
    shown = {e.id: e for e in wallet.history(session, uid, per_page=50).items}
    assert shown[tid].decided_at == LONG_AGO + timedelta(hours=5)


@pytest.mark.parametrize(
    "day",
    [
        (2026, 11, 25),  # an ordinary day
        (2026, 4, 24),  # Cairo springs forward at midnight: a 23-hour day
        (2026, 10, 29),  # Cairo falls back at midnight: a 25-hour day
        (2026, 12, 31),  # the last day of a month and of a year
    ],
)
def test_daily_summary_counts_approvals_decided_yesterday_in_cairo(session, day):
    y, m, d = day
    start = datetime(y, m, d, tzinfo=CAIRO)
    next_day = (start + timedelta(days=1, hours=3)).replace(hour=0)
    asked = cairo(y, m, d, 0, 0) - timedelta(days=3)
    uid = student(session, now=asked)
    first = start.astimezone(timezone.utc) + timedelta(minutes=1)  # the first minute of the day
    last = next_day.astimezone(timezone.utc) - timedelta(minutes=1)  # the last minute of the day
    _topup(session, uid, "11", asked=asked, decided=first)
    _topup(session, uid, "22", asked=asked, decided=last)
    _topup(session, uid, "44", asked=asked, decided=first - timedelta(minutes=2))  # the day before
    _topup(session, uid, "88", asked=asked, decided=last + timedelta(minutes=2))  # the day after
    _topup(session, uid, "99", asked=asked, decided=last, approve=False)
    summary = analytics.daily_summary(session, now=next_day.replace(hour=9).astimezone(timezone.utc))
    assert summary["date"] == f"{y:04d}-{m:02d}-{d:02d}"
    assert summary["topups_approved"] == {"count": 2, "amount": D("33.00")}


def test_monthly_report_books_a_topup_in_the_month_it_was_approved(session):
    uid = student(session, now=cairo(2026, 10, 1, 9, 0))
    _topup(session, uid, "300", asked=cairo(2026, 10, 31, 23, 50), decided=cairo(2026, 11, 1, 0, 10))
    october, november = analytics.monthly_report(session, 2026, 10), analytics.monthly_report(session, 2026, 11)
    assert october["topups"]["APPROVED"]["count"] == 0
    assert november["topups"]["APPROVED"] == {"count": 1, "amount": D("300.00")}
    assert october["wallet_float_at_month_end"] == D("500.00")  # the welcome credit only
    assert november["wallet_float_at_month_end"] == D("800.00")


def test_migration_fills_decision_times_from_the_best_data_there_is(sqlite_url):
    cfg = alembic_config(sqlite_url)
    command.downgrade(cfg, "0001")
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, full_name, language, balance, is_mentor, mentor_available, "
                "is_blocked, created_at) VALUES (1, 'S', 'en', 0, 0, 1, 0, '2025-01-01 08:00:00')"
            )
        )
        rows = [  # id, type, status, created_at, updated_at
            (1, "TOP_UP", "APPROVED", "2025-01-01 09:00:00", "2025-03-01 00:00:00"),  # decided per audit row
            (2, "TOP_UP", "REJECTED", "2025-01-01 09:00:00", "2025-01-02 10:00:00"),  # no audit row
            (3, "TOP_UP", "PENDING", "2025-01-01 09:00:00", "2025-01-01 09:00:00"),
            (4, "PLATFORM_PURCHASE", "APPROVED", "2025-01-05 12:00:00", "2025-02-01 00:00:00"),
        ]
        for tid, type_, status, created, updated in rows:
            conn.execute(
                text(
                    "INSERT INTO transactions (id, user_id, type, amount, description, status, "
                    "created_at, updated_at) VALUES (:id, 1, :t, 100, '', :s, :c, :u)"
                ),
                dict(id=tid, t=type_, s=status, c=created, u=updated),
            )
        conn.execute(
            text(
                "INSERT INTO audit_log (actor, action, entity_type, entity_id, created_at) "
                "VALUES ('alice', 'topup.approved', 'transaction', '1', '2025-01-01 11:30:00')"
            )
        )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT id, decided_at FROM transactions ORDER BY id")).all())
    engine.dispose()
    assert str(got[1]).startswith("2025-01-01 11:30:00")
    assert str(got[2]).startswith("2025-01-02 10:00:00")
    assert got[3] is None
    assert str(got[4]).startswith("2025-01-05 12:00:00")
