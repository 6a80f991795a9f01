"""Revenue and engagement numbers, computed by the database (aggregates, not rows in Python).

At a million ledger rows the sums over long ranges read rollups instead of the ledger: `ledger_days`
(count and piastres per Cairo day of creation, Cairo day of decision, type, status and, for a purchase,
its platform) and `ledger_user_marks` (students who ever used the wallet / ever paid). They hold exactly
the rows decided before `analytics_rollups.until`, an instant at least ROLLUP_GRACE in the past: a
decided row never changes (decided_at is the deciding service's `now`; approved rows are immutable), so
what is rolled up stays true. Everything else (rows decided since `until`, pending top-ups, the part days
at the ends of a range) is read live from the ledger's indexes, so every figure is exact. Before the
first roll-up (an empty or new database) everything is live. The scheduler moves `until` forward every
few minutes (jobs.roll_up_analytics); a page or API read never writes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import InvalidInput
from core.models import (
    AnalyticsRollup,
    BookingStatus,
    Enrollment,
    LedgerActiveCount,
    LedgerActiveMonth,
    LedgerCohort,
    LedgerDay,
    LedgerUserMark,
    MentorshipBooking,
    Platform,
    Task,
    TaskCompletion,
    Transaction,
    TransactionStatus,
    TransactionType,
    User,
)
from core.money import ZERO
from core.timeutil import CAIRO, UTCDateTime, as_utc, cairo_day_start, cairo_midnight, cairo_month_start

REVENUE_TYPES = (TransactionType.PLATFORM_PURCHASE, TransactionType.MENTORSHIP_PAYMENT)
ALL_TYPES = tuple(TransactionType)
ALL_STATUSES = tuple(TransactionStatus)
ROLLUP = "ledger"
# Rows are rolled up only once decided this long ago: a write whose `now` was taken before `until` has
# long committed by then (writes last seconds).
ROLLUP_GRACE = timedelta(minutes=15)
ROLLUP_STEP = timedelta(hours=6)  # the most one roll-up transaction takes in
_UNSET = object()
_FAR_PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # "all time" starts here
_ENROLLMENT_REF = re.compile(r"enrollment:([1-9][0-9]{0,17})")


def _money(piastres) -> Decimal:
    return (Decimal(int(piastres or 0)) / 100).quantize(Decimal("0.01"))


def _raw(column):
    """The integer piastres behind a Money column, for SUM in SQL without type round-trips."""
    return cast(column, BigInteger)


def revenue_between(session: Session, start: datetime, end: datetime, *, until=_UNSET) -> dict[str, Decimal]:
    """Net revenue by type: purchases and mentorship paid, less refunds of mentorship."""
    return _revenue_totals(
        _sums(
            session,
            types=REVENUE_TYPES + (TransactionType.REFUND,),
            statuses=(TransactionStatus.APPROVED,),
            start=start,
            end=end,
            until=until,
        )
    )


def _revenue_days(session: Session, start: datetime, end: datetime, until) -> dict[tuple, list[int]]:
    """revenue_between's rows by Cairo day of creation, to total several ranges ending at `end` at once."""
    return _sums(
        session,
        types=REVENUE_TYPES + (TransactionType.REFUND,),
        statuses=(TransactionStatus.APPROVED,),
        start=start,
        end=end,
        by_day=True,
        until=until,
    )


def _revenue_totals(sums: dict[tuple, list[int]], since_day: date | None = None) -> dict[str, Decimal]:
    """revenue_between's figures from _sums rows (with since_day: of the rows created that Cairo day or later)."""
    piastres: dict[str, int] = defaultdict(int)
    for (day, type_, _), (_, total) in sums.items():
        if since_day is None or day >= since_day:
            piastres[type_] += total
    totals = {t.value: -_money(piastres[t.value]) for t in REVENUE_TYPES}
    refunds = _money(piastres[TransactionType.REFUND.value])
    totals[TransactionType.MENTORSHIP_PAYMENT.value] -= refunds
    totals["REFUNDS"] = refunds
    totals["TOTAL"] = sum((totals[t.value] for t in REVENUE_TYPES), ZERO)
    return totals


def _bucket_expr(session: Session, column, period: str, since: datetime, until: datetime):
    """Local (Cairo) day/week/month label computed in SQL, for both SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("Africa/Cairo", func.timezone("UTC", column))  # DST-correct
        fmt = {"day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM"}[period]
        return func.to_char(local, fmt)
    local = _sqlite_cairo_time(column, since, until)
    if period == "week":  # ISO weeks, as PostgreSQL's IYYY-IW (SQLite before 3.46 has no %G/%V; %W is a week off)
        thursday = func.date(local, "-3 days", "weekday 4")  # the week's Thursday names its ISO year and week
        number = (cast(func.strftime("%j", thursday), Integer) - 1) / 7 + 1
        return func.printf("%s-W%02d", func.strftime("%Y", thursday), number)
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m"}[period]
    return func.strftime(fmt, local)


def _sqlite_cairo_time(column, since: datetime, until: datetime):
    """Cairo local time of a naive-UTC column, in plain SQL: Cairo's UTC offset only changes at its DST
    transitions, found here once per query, so each row costs a comparison and datetime(), not a call into
    Python (a Python function per row was 2.6 of 3.3 s of `financial` at a million rows)."""
    spans = _utc_offsets(as_utc(since) - timedelta(days=1), as_utc(until) + timedelta(days=1))
    whens = [
        (column < literal(boundary, UTCDateTime()), func.datetime(column, f"{hours:+d} hours"))
        for boundary, hours in spans[:-1]
    ]
    last = func.datetime(column, f"{spans[-1][1]:+d} hours")
    return case(*whens, else_=last) if whens else last


def _utc_offsets(start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """[(end of span, Cairo's UTC offset in hours during it)], covering start..end; the last span is open."""

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(CAIRO).utcoffset().total_seconds() // 3600)

    spans, current, moment = [], offset(start), start
    while moment < end:
        step = min(moment + timedelta(days=1), end)
        if offset(step) != current:
            low, high = moment, step  # the change happens within this day: find the hour
            while high - low > timedelta(minutes=30):
                mid = low + (high - low) / 2
                low, high = (mid, high) if offset(mid) == current else (low, mid)
            boundary = high.replace(minute=0, second=0, microsecond=0)
            if offset(boundary) == current:
                boundary += timedelta(hours=1)
            spans.append((boundary, current))
            current = offset(boundary)
        moment = step
    spans.append((end, current))
    return spans


def _period_label(day: date, period: str, dialect: str) -> str:
    """The label _bucket_expr gives any moment of this Cairo day (weeks: ISO year and week, on both databases)."""
    if period == "day":
        return day.isoformat()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    iso = day.isocalendar()
    return f"{iso[0]:04d}-W{iso[1]:02d}"


def revenue_series(
    session: Session, *, period: str = "day", since: datetime | None = None, now: datetime | None = None, until=_UNSET
) -> list[dict]:
    """[{period: '2026-11-25', type: 'PLATFORM_PURCHASE', amount: Decimal}] for charts and the API,
    ordered by period, then type."""
    if period not in ("day", "week", "month"):
        raise ValueError(f"unknown period {period!r}")
    now = as_utc(now)
    since = as_utc(since) if since else now - timedelta(days=30)
    sums = _sums(
        session,
        types=REVENUE_TYPES,
        statuses=(TransactionStatus.APPROVED,),
        start=since,
        end=now + timedelta(microseconds=1),
        by_day=True,
        until=until,
    )  # created_at <= now
    dialect = session.get_bind().dialect.name
    buckets: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (day, type_, _), (n, total) in sums.items():
        bucket = buckets[(_period_label(day, period, dialect), type_)]
        bucket[0] += n
        bucket[1] += total
    return [{"period": b, "type": t, "amount": -_money(total)} for (b, t), (n, total) in sorted(buckets.items()) if n]


# -- rollups: reading ---------------------------------------------------------------------------------


def rollup_until(session: Session) -> datetime | None:
    """Every ledger row decided before this instant is in the rollups (None: nothing rolled up yet)."""
    return session.scalar(select(AnalyticsRollup.until).where(AnalyticsRollup.name == ROLLUP))


def _hour(session: Session, column):
    """The UTC hour of a naive-UTC column, for grouping: Cairo's offset is whole hours and changes on the
    hour, so every moment of one UTC hour falls on the same Cairo day."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(literal_column("'hour'"), column)
    return func.substr(column, literal_column("1"), literal_column("13"))  # 'YYYY-MM-DD HH'


@lru_cache(maxsize=100_000)
def _cairo_day_of_hour(hour) -> date:
    if isinstance(hour, str):
        hour = datetime.fromisoformat(hour[:13] + ":00")
    return hour.replace(tzinfo=timezone.utc).astimezone(CAIRO).date()


def _value(member) -> str:
    """An enum column's value, whether the driver row gives the member or (through a UNION) its string."""
    return getattr(member, "value", member)


def _cairo_day(moment: datetime) -> date:
    return as_utc(moment).astimezone(CAIRO).date()


def _first_whole_day(start: datetime) -> date:
    """The first Cairo day that starts at or after `start`."""
    day = _cairo_day(start)
    return day if cairo_midnight(day) >= as_utc(start) else day + timedelta(days=1)


def _sums(
    session: Session,
    *,
    types,
    statuses,
    start: datetime | None = None,
    end: datetime | None = None,
    by_day: bool = False,
    until=_UNSET,
) -> dict[tuple, list[int]]:
    """{(Cairo day of creation or None, type, status): [count, piastres]} of the ledger rows of these types
    and statuses created in [start, end) (None: unbounded), exactly: whole Cairo days from the rollups
    (their rows decided before `until`), the rest live."""
    if until is _UNSET:
        until = rollup_until(session)
    start = as_utc(start) if start is not None else None
    end = as_utc(end) if end is not None else None
    t = Transaction
    out: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    base = [t.type.in_(types), t.status.in_(statuses)]

    def live(*branches: list, days: tuple | None = None) -> None:
        """Add the live rows matching any of `branches` (lists of conditions; several: one UNION ALL
        statement, each branch on its own index); with `days` (first, last), only those created on
        Cairo days in [first, last) (either None: unbounded), told apart by their UTC hour of creation."""
        hourly = by_day or days is not None
        if len(branches) == 1:
            cols = [t.type, t.status] + ([_hour(session, t.created_at)] if hourly else [])
            query = select(*cols, func.count(), func.sum(_raw(t.amount))).where(*base, *branches[0]).group_by(*cols)
        else:
            inner = [t.type.label("type"), t.status.label("status"), _raw(t.amount).label("amount")]
            if hourly:
                inner.append(_hour(session, t.created_at).label("hour"))
            rows = union_all(*(select(*inner).where(*base, *where) for where in branches)).subquery()
            cols = [rows.c.type, rows.c.status] + ([rows.c.hour] if hourly else [])
            query = select(*cols, func.count(), func.sum(rows.c.amount)).group_by(*cols)
        for type_, status, *rest in session.execute(query):
            hour, n, total = rest if hourly else [None, *rest]
            day = _cairo_day_of_hour(hour) if hourly else None
            if days is not None and (
                (days[0] is not None and day < days[0]) or (days[1] is not None and day >= days[1])
            ):
                continue
            bucket = out[(day if by_day else None, _value(type_), _value(status))]
            bucket[0] += n
            bucket[1] += int(total or 0)

    created = ([t.created_at >= start] if start is not None else []) + ([t.created_at < end] if end is not None else [])
    first = _first_whole_day(start) if start is not None else None
    last = _cairo_day(end) if end is not None else None  # whole days: [first, last)
    if until is None or (first is not None and last is not None and first >= last):
        live(created)
        return out
    d = LedgerDay
    cols = [d.type, d.status]
    if by_day:
        cols.insert(0, d.day)
    rolled = select(*cols, func.sum(d.count), func.sum(d.amount)).where(
        d.type.in_([x.value for x in types]), d.status.in_([x.value for x in statuses])
    )
    if first is not None:
        rolled = rolled.where(d.day >= first)
    if last is not None:
        rolled = rolled.where(d.day < last)
    for row in session.execute(rolled.group_by(*cols)):
        *key, n, total = row
        day = key.pop(0) if by_day else None
        bucket = out[(day, key[0], key[1])]
        bucket[0] += int(n or 0)
        bucket[1] += int(total or 0)
    edges = []
    if first is not None and start < cairo_midnight(first):
        edges.append([t.created_at >= start, t.created_at < cairo_midnight(first)])  # the part day at the start
    if last is not None and cairo_midnight(last) < end:
        edges.append([t.created_at >= cairo_midnight(last), t.created_at < end])  # the part day at the end
    if edges:
        live(*edges)
    # rows of the whole days not in the rollups: decided since `until` (minutes' worth), or pending (the
    # (status, decided_at) index finds both; the day of creation is checked on the grouped rows)
    live([t.decided_at >= until], [t.decided_at.is_(None)], days=(first, last))
    return out


def _distinct_students(session: Session, kind: str, conditions: list, until) -> int:
    """How many students have a ledger row matching `conditions` (rollup marks plus the live rows)."""
    t = Transaction
    if until is None:
        return session.scalar(select(func.count(func.distinct(t.user_id))).where(*conditions)) or 0
    marked = session.scalar(select(func.count()).select_from(LedgerUserMark).where(LedgerUserMark.kind == kind)) or 0
    statuses = t.status.in_(ALL_STATUSES)  # lets the planner use (status, decided_at)
    live = union_all(
        select(t.user_id).where(*conditions, statuses, t.decided_at >= until),
        select(t.user_id).where(*conditions, statuses, t.decided_at.is_(None)),
    ).subquery()
    m = LedgerUserMark
    unmarked = (
        session.scalar(
            select(func.count(func.distinct(live.c.user_id))).where(
                ~exists().where(m.kind == kind, m.user_id == live.c.user_id)
            )
        )
        or 0
    )
    return marked + unmarked


def _paying_conditions() -> list:
    return [
        Transaction.status == TransactionStatus.APPROVED,
        Transaction.type.in_(REVENUE_TYPES),
        Transaction.amount < 0,
    ]


def _wallet_conditions() -> list:
    return [Transaction.type != TransactionType.SIGNUP_BONUS]


def _enrollment_ids(references) -> dict[str, int]:
    """{reference: enrollment id} for references exactly 'enrollment:<id>' (as the SQL join compares)."""
    out = {}
    for ref in references:
        m = _ENROLLMENT_REF.fullmatch(ref or "")
        if m:
            out[ref] = int(m.group(1))
    return out


def _platforms_of(session: Session, references) -> dict[str, int]:
    """{reference: platform id} of purchase references naming an existing enrollment."""
    ids = _enrollment_ids(references)
    found: dict[int, int] = {}
    wanted = sorted(set(ids.values()))
    for i in range(0, len(wanted), 500):
        found.update(
            (eid, pid)
            for eid, pid in session.execute(
                select(Enrollment.id, Enrollment.platform_id).where(Enrollment.id.in_(wanted[i : i + 500]))
            )
        )
    return {ref: found[eid] for ref, eid in ids.items() if eid in found}


def _platform_revenue(session: Session, until) -> dict[int, int]:
    """{platform id: piastres of approved purchases} (negative: money the students paid)."""
    t = Transaction
    purchase = [t.status == TransactionStatus.APPROVED, t.type == TransactionType.PLATFORM_PURCHASE]
    out: dict[int, int] = defaultdict(int)
    if until is None:
        for pid, total in session.execute(
            select(Enrollment.platform_id, func.sum(_raw(t.amount)))
            .join(t, t.reference == literal("enrollment:", String) + cast(Enrollment.id, String))
            .where(*purchase)
            .group_by(Enrollment.platform_id)
        ):
            out[pid] += int(total or 0)
        return out
    d = LedgerDay
    for pid, total in session.execute(
        select(d.platform_id, func.sum(d.amount))
        .where(
            d.type == TransactionType.PLATFORM_PURCHASE.value,
            d.status == TransactionStatus.APPROVED.value,
            d.platform_id != 0,
        )
        .group_by(d.platform_id)
    ):
        out[pid] += int(total or 0)
    live = {}
    for where in (t.decided_at >= until, t.decided_at.is_(None)):
        for ref, total in session.execute(
            select(t.reference, func.sum(_raw(t.amount))).where(*purchase, where).group_by(t.reference)
        ):
            live[ref] = live.get(ref, 0) + int(total or 0)
    for ref, pid in _platforms_of(session, live).items():
        out[pid] += live[ref]
    return out


# -- rollups: filling (the scheduler job; never a page) ------------------------------------------------


def rollup_target(now: datetime) -> datetime:
    """How far a roll-up at `now` goes: ROLLUP_GRACE back, to the minute."""
    return (as_utc(now) - ROLLUP_GRACE).replace(second=0, microsecond=0)


def roll_up(session: Session, *, now: datetime | None = None) -> int:
    """Add the ledger rows decided since the last roll-up and at least ROLLUP_GRACE before `now` to the
    rollups; returns the rollup rows written plus the students marked. Reads one row and writes nothing
    when there is nothing new. Catching up after a long stop goes ROLLUP_STEP at a time, one transaction
    each, so no write waits long behind it (SQLite has one writer). Two runners: the one whose conditional
    UPDATE moves `until` fills; the other finds nothing to do."""
    now = as_utc(now)
    target = rollup_target(now)
    written = 0
    while True:
        with unit_of_work(session, write=False):
            until = rollup_until(session)
        if until is not None and until >= target:
            return written
        step = target if until is None else min(target, until + ROLLUP_STEP)
        with unit_of_work(session):
            if until is None:
                won = (
                    session.execute(
                        _insert_ignore(session, AnalyticsRollup.__table__)
                        .values(name=ROLLUP, until=step, updated_at=now)
                        .returning(AnalyticsRollup.name)
                    ).first()
                    is not None
                )
            else:
                won = session.execute(
                    update(AnalyticsRollup)
                    .where(AnalyticsRollup.name == ROLLUP, AnalyticsRollup.until == until)
                    .values(until=step, updated_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
            if not won:
                return written  # another runner is rolling up
            written += fill_rollups(session, since=until, until=step)
            written += fill_month_rollups(session, since=until, until=step)


def _insert_ignore(session: Session, table, *, update: bool = True):
    """INSERT ... ON CONFLICT DO NOTHING (update=False: the bare dialect INSERT, for an upsert)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing() if update else insert(table)


def fill_rollups(session: Session, *, since: datetime | None, until: datetime) -> int:
    """Roll up the ledger rows decided in [since, until) (since None: from the beginning), inside the
    caller's transaction, which also moved `until` (so no other runner adds the same rows). Returns the
    ledger_days rows written or added to plus the students looked at for marks."""
    t = Transaction
    hour_c, hour_d = _hour(session, t.created_at), _hour(session, t.decided_at)
    where = [t.decided_at < until] + ([t.decided_at >= since] if since is not None else [])
    days: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    purchases: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for hc, hd, type_, status, ref, n, total in session.execute(
        select(
            hour_c,
            hour_d,
            t.type,
            t.status,
            case((t.type == TransactionType.PLATFORM_PURCHASE, t.reference), else_=None),
            func.count(),
            func.sum(_raw(t.amount)),
        )
        .where(*where)
        .group_by(hour_c, hour_d, t.type, t.status, t.reference)
    ):
        key = (_cairo_day_of_hour(hc), _cairo_day_of_hour(hd), type_.value, status.value)
        bucket = purchases[key + (ref,)] if ref is not None else days[key + (0,)]
        bucket[0] += n
        bucket[1] += int(total or 0)
    platforms = _platforms_of(session, {k[-1] for k in purchases})
    for (*key, ref), (n, total) in purchases.items():
        bucket = days[tuple(key) + (platforms.get(ref, 0),)]
        bucket[0] += n
        bucket[1] += total
    rows = [
        {
            "day": k[0],
            "decided_day": k[1],
            "type": k[2],
            "status": k[3],
            "platform_id": k[4],
            "count": n,
            "amount": total,
        }
        for k, (n, total) in days.items()
    ]
    table = LedgerDay.__table__
    add = _insert_ignore(session, table, update=False)
    add = add.on_conflict_do_update(
        index_elements=[table.c.decided_day, table.c.day, table.c.type, table.c.status, table.c.platform_id],
        set_={"count": table.c["count"] + add.excluded["count"], "amount": table.c["amount"] + add.excluded["amount"]},
    )
    for i in range(0, len(rows), 1000):
        session.connection().execute(add, rows[i : i + 1000])
    marked = 0
    conn = session.connection()
    for kind, conditions in (("wallet", _wallet_conditions()), ("paid", _paying_conditions())):
        users = session.scalars(select(t.user_id).where(*where, *conditions).distinct()).all()
        marked += len(users)
        for i in range(0, len(users), 1000):  # a student already marked stays as is
            conn.execute(
                _insert_ignore(session, LedgerUserMark.__table__),
                [{"kind": kind, "user_id": u} for u in users[i : i + 1000]],
            )
    return len(rows) + marked


@dataclass
class Financial:
    revenue_today: dict
    revenue_month: dict
    revenue_all_time: dict
    topups: dict  # status -> {count, amount}
    wallet_float: Decimal
    students: int
    paying_students: int
    arpu: Decimal
    lifetime_value: Decimal
    by_day: list = field(default_factory=list)
    by_week: list = field(default_factory=list)
    by_month: list = field(default_factory=list)


def _once(shared: dict | None, key: str, compute):
    """compute(), or its value already worked out for the same page (dashboard)."""
    if shared is None:
        return compute()
    if key not in shared:
        shared[key] = compute()
    return shared[key]


def _wallet_float(session: Session) -> Decimal:
    return _money(session.scalar(select(func.sum(_raw(User.balance)))))


def _students_q():
    return select(func.count()).select_from(User).where(User.telegram_id.is_not(None))


def financial(session: Session, *, now: datetime | None = None, _shared: dict | None = None) -> Financial:
    now = as_utc(now)
    until = _once(_shared, "until", lambda: rollup_until(session))
    far_past = _FAR_PAST
    tomorrow = now + timedelta(days=1)
    topups = {s.value: {"count": 0, "amount": ZERO} for s in TransactionStatus}
    for (_, _, status), (n, total) in _sums(
        session, types=(TransactionType.TOP_UP,), statuses=ALL_STATUSES, until=until
    ).items():
        if n:
            topups[status] = {"count": n, "amount": _money(total)}
    wallet_float = _once(_shared, "float", lambda: _wallet_float(session))
    students = _once(_shared, "students", lambda: session.scalar(_students_q()) or 0)
    paying = _distinct_students(session, "paid", _paying_conditions(), until)
    # today's, this month's and all-time revenue from one pass (each starts at a Cairo midnight or before all)
    days = _once(_shared, "revenue_days", lambda: _revenue_days(session, far_past, tomorrow, until))
    all_time = _revenue_totals(days)
    if cairo_month_start(now) >= far_past:
        today = _revenue_totals(days, _cairo_day(cairo_day_start(now)))
        month = _revenue_totals(days, _cairo_day(cairo_month_start(now)))
    else:  # a clock before 2000
        today = revenue_between(session, cairo_day_start(now), tomorrow, until=until)
        month = revenue_between(session, cairo_month_start(now), tomorrow, until=until)
    total = all_time["TOTAL"]
    arpu = (total / students).quantize(Decimal("0.01")) if students else ZERO
    ltv = (total / paying).quantize(Decimal("0.01")) if paying else ZERO
    return Financial(
        revenue_today=today,
        revenue_month=month,
        revenue_all_time=all_time,
        topups=topups,
        wallet_float=wallet_float,
        students=students,
        paying_students=paying,
        arpu=arpu,
        lifetime_value=ltv,
        by_day=revenue_series(session, period="day", since=now - timedelta(days=30), now=now, until=until),
        by_week=revenue_series(session, period="week", since=now - timedelta(weeks=12), now=now, until=until),
        by_month=revenue_series(session, period="month", since=now - timedelta(days=365), now=now, until=until),
    )


@dataclass(frozen=True)
class PlatformStats:
    platform_id: int
    name: str
    price: Decimal
    is_active: bool
    enrollments: int
    active_enrollments: int
    revenue: Decimal
    tasks: int
    completion_rate: Decimal  # % of (enrolled students x tasks) done


def platform_performance(session: Session, *, now: datetime | None = None, until=_UNSET) -> list[PlatformStats]:
    now = as_utc(now)
    if until is _UNSET:
        until = rollup_until(session)
    enrolled = (
        select(
            Enrollment.platform_id,
            func.count().label("n"),
            func.sum(
                case(
                    (
                        (Enrollment.is_active.is_(True))
                        & (Enrollment.expires_at.is_(None) | (Enrollment.expires_at > now)),
                        1,
                    ),
                    else_=0,
                )
            ).label("active"),
        )
        .group_by(Enrollment.platform_id)
        .subquery()
    )
    tasks = select(Task.platform_id, func.count().label("n")).group_by(Task.platform_id).subquery()
    done = (
        select(Task.platform_id, func.count(TaskCompletion.id).label("n"))
        .join(TaskCompletion, TaskCompletion.task_id == Task.id)
        .join(Enrollment, (Enrollment.user_id == TaskCompletion.user_id) & (Enrollment.platform_id == Task.platform_id))
        .group_by(Task.platform_id)
        .subquery()
    )
    revenue = _platform_revenue(session, until)
    rows = session.execute(
        select(
            Platform,
            func.coalesce(enrolled.c.n, 0),
            func.coalesce(enrolled.c.active, 0),
            func.coalesce(tasks.c.n, 0),
            func.coalesce(done.c.n, 0),
        )
        .outerjoin(enrolled, enrolled.c.platform_id == Platform.id)
        .outerjoin(tasks, tasks.c.platform_id == Platform.id)
        .outerjoin(done, done.c.platform_id == Platform.id)
        .order_by(Platform.name)
    ).all()
    out = []
    for p, n, active, task_n, done_n in rows:
        rev = revenue.get(p.id, 0)
        possible = int(n) * int(task_n)
        rate = (Decimal(int(done_n)) * 100 / possible).quantize(Decimal("0.1")) if possible else Decimal("0.0")
        out.append(
            PlatformStats(
                p.id, p.name, p.price or ZERO, p.is_active, int(n), int(active), -_money(rev), int(task_n), rate
            )
        )
    return out


@dataclass
class Engagement:
    students: int
    active_30d: int
    new_30d: int
    wallet_adopters: int
    wallet_adoption_pct: Decimal
    enrollments_per_platform: list
    completion_rate_per_platform: list
    bookings_by_status: dict
    bookings_per_week: list
    mentors: list  # [{mentor_id, name, bookings, completed, utilization_pct, average_rating}]


def engagement(session: Session, *, now: datetime | None = None, _shared: dict | None = None) -> Engagement:
    now = as_utc(now)
    until = _once(_shared, "until", lambda: rollup_until(session))
    month_ago = now - timedelta(days=30)
    students_q = select(func.count()).select_from(User).where(User.telegram_id.is_not(None))
    students = _once(_shared, "students", lambda: session.scalar(students_q) or 0)
    active = _once(_shared, "active", lambda: session.scalar(students_q.where(User.last_seen_at >= month_ago)) or 0)
    new = session.scalar(students_q.where(User.created_at >= month_ago)) or 0
    # wallet adoption: students who did anything with money beyond the welcome credit
    adopters = _distinct_students(session, "wallet", _wallet_conditions(), until)
    pct = (Decimal(adopters) * 100 / students).quantize(Decimal("0.1")) if students else Decimal("0.0")
    perf = platform_performance(session, now=now, until=until)
    by_status = {s.value: 0 for s in BookingStatus}
    for status, n in session.execute(select(MentorshipBooking.status, func.count()).group_by(MentorshipBooking.status)):
        by_status[status.value] = n
    week = _bucket_expr(session, MentorshipBooking.created_at, "week", now - timedelta(weeks=12), now).label("week")
    per_week = [
        {"week": w, "bookings": n}
        for w, n in session.execute(
            select(week, func.count())
            .where(MentorshipBooking.created_at >= now - timedelta(weeks=12))
            .group_by(week)
            .order_by(week)
        )
    ]
    mentors = []
    for mid, name, total, completed, cancelled, avg in session.execute(
        select(
            User.id,
            User.full_name,
            func.count(MentorshipBooking.id),
            func.sum(case((MentorshipBooking.status == BookingStatus.COMPLETED, 1), else_=0)),
            func.sum(case((MentorshipBooking.status == BookingStatus.CANCELLED, 1), else_=0)),
            func.avg(MentorshipBooking.rating),
        )
        .outerjoin(MentorshipBooking, MentorshipBooking.mentor_id == User.id)
        .where(User.is_mentor.is_(True))
        .group_by(User.id, User.full_name)
    ):
        booked = int(total or 0) - int(cancelled or 0)
        mentors.append(
            {
                "mentor_id": mid,
                "name": name,
                "bookings": int(total or 0),
                "completed": int(completed or 0),
                "utilization_pct": (Decimal(int(completed or 0)) * 100 / booked).quantize(Decimal("0.1"))
                if booked
                else Decimal("0.0"),
                "average_rating": Decimal(str(avg)).quantize(Decimal("0.1")) if avg is not None else None,
            }
        )
    return Engagement(
        students,
        active,
        new,
        adopters,
        pct,
        [{"platform": p.name, "enrollments": p.enrollments} for p in perf],
        [{"platform": p.name, "completion_rate": p.completion_rate} for p in perf],
        by_status,
        per_week,
        mentors,
    )


def _decided_sums(
    session: Session, *, types, statuses, start: datetime | None, end: datetime, until
) -> dict[tuple[str, str], list[int]]:
    """{(type, status): [count, piastres]} of the rows decided in [start, end) (start None: from the
    beginning): the rollups' days of decision (rows decided before `until`) plus the rows decided since,
    live. Bounds that are not Cairo midnights are read live."""
    t = Transaction
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])

    def live(*where) -> None:
        for type_, status, n, total in session.execute(
            select(t.type, t.status, func.count(), func.sum(_raw(t.amount)))
            .where(t.type.in_(types), t.status.in_(statuses), *where)
            .group_by(t.type, t.status)
        ):
            bucket = out[(type_.value, status.value)]
            bucket[0] += n
            bucket[1] += int(total or 0)

    decided = ([t.decided_at >= start] if start is not None else []) + [t.decided_at < end]
    if until is None or any(x is not None and cairo_midnight(_cairo_day(x)) != x for x in (start, end)):
        live(*decided)
        return out
    d = LedgerDay
    rolled = select(d.type, d.status, func.sum(d.count), func.sum(d.amount)).where(
        d.type.in_([x.value for x in types]), d.status.in_([x.value for x in statuses]), d.decided_day < _cairo_day(end)
    )
    if start is not None:
        rolled = rolled.where(d.decided_day >= _cairo_day(start))
    for type_, status, n, total in session.execute(rolled.group_by(d.type, d.status)):
        bucket = out[(type_, status)]
        bucket[0] += int(n or 0)
        bucket[1] += int(total or 0)
    if until < end:
        live(t.decided_at >= (max(start, until) if start is not None else until), t.decided_at < end)
    return out


def monthly_report(session: Session, year: int, month: int) -> dict:
    """Revenue by type, top-ups, refunds and the wallet float at month end, for the CSV report."""
    until = rollup_until(session)
    start = cairo_midnight(date(year, month, 1))
    end = cairo_midnight(date(year + (month == 12), month % 12 + 1, 1))
    revenue = revenue_between(session, start, end, until=until)
    topups = {s.value: {"count": 0, "amount": ZERO} for s in TransactionStatus}
    # A decided top-up belongs to the month of its decision; a pending one to the month it was asked.
    in_month = _decided_sums(
        session,
        types=ALL_TYPES,
        statuses=(TransactionStatus.APPROVED, TransactionStatus.REJECTED),
        start=start,
        end=end,
        until=until,
    )
    for (type_, status), (n, total) in in_month.items():
        if type_ == TransactionType.TOP_UP.value and n:
            topups[status] = {"count": n, "amount": _money(total)}
    asked = (
        select(Transaction.status, func.count(), func.sum(_raw(Transaction.amount)))
        .where(
            Transaction.type == TransactionType.TOP_UP,
            Transaction.status == TransactionStatus.PENDING,
            Transaction.created_at >= start,
            Transaction.created_at < end,
        )
        .group_by(Transaction.status)
    )
    for status, n, total in session.execute(asked):
        topups[status.value] = {"count": n, "amount": _money(total)}
    before_end = _decided_sums(
        session, types=ALL_TYPES, statuses=(TransactionStatus.APPROVED,), start=None, end=end, until=until
    )
    float_end = _money(sum(total for _, total in before_end.values()))
    approved = TransactionStatus.APPROVED.value
    bonuses = _money(in_month.get((TransactionType.SIGNUP_BONUS.value, approved), (0, 0))[1])
    adjustments = _money(in_month.get((TransactionType.ADJUSTMENT.value, approved), (0, 0))[1])
    return {
        "month": f"{year:04d}-{month:02d}",
        "revenue": revenue,
        "topups": topups,
        "refunds": revenue["REFUNDS"],
        "signup_bonuses": bonuses,
        "adjustments": adjustments,
        "wallet_float_at_month_end": float_end,
    }


def daily_summary(session: Session, *, now: datetime | None = None) -> dict:
    """Yesterday (Cairo) in numbers, for the 09:00 admin summary."""
    now = as_utc(now)
    today = cairo_day_start(now)
    yesterday = cairo_day_start(now, days=-1)
    revenue = revenue_between(session, yesterday, today)
    approved = session.execute(
        select(func.count(), func.sum(_raw(Transaction.amount))).where(
            Transaction.type == TransactionType.TOP_UP,
            Transaction.status == TransactionStatus.APPROVED,
            Transaction.decided_at >= yesterday,
            Transaction.decided_at < today,
        )
    ).one()
    pending = session.execute(
        select(func.count(), func.sum(_raw(Transaction.amount))).where(
            Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING
        )
    ).one()
    bookings = (
        session.scalar(
            select(func.count())
            .select_from(MentorshipBooking)
            .where(MentorshipBooking.created_at >= yesterday, MentorshipBooking.created_at < today)
        )
        or 0
    )
    new_students = (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.telegram_id.is_not(None), User.created_at >= yesterday, User.created_at < today)
        )
        or 0
    )
    return {
        "date": yesterday.astimezone(CAIRO).date().isoformat(),
        "revenue": revenue,
        "topups_approved": {"count": approved[0], "amount": _money(approved[1])},
        "topups_pending": {"count": pending[0], "amount": _money(pending[1])},
        "bookings": bookings,
        "new_students": new_students,
    }


def kpis(session: Session, *, now: datetime | None = None, _shared: dict | None = None) -> dict:
    """The dashboard's cards."""
    now = as_utc(now)
    until = _once(_shared, "until", lambda: rollup_until(session))
    tomorrow = now + timedelta(days=1)
    pending = session.execute(
        select(func.count(), func.sum(_raw(Transaction.amount))).where(
            Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.PENDING
        )
    ).one()
    month = _cairo_day(cairo_month_start(now))
    if _shared is not None and "revenue_days" in _shared and _FAR_PAST <= cairo_month_start(now):
        days = _shared["revenue_days"]  # financial's, from the beginning: the month is its last days
    else:
        days = _revenue_days(session, cairo_month_start(now), tomorrow, until)  # the month's, by day
    return {
        "revenue_today": _revenue_totals(days, _cairo_day(cairo_day_start(now)))["TOTAL"],
        "revenue_month": _revenue_totals(days, month)["TOTAL"],
        "pending_topups": pending[0],
        "pending_topups_amount": _money(pending[1]),
        "pending_bookings": session.scalar(
            select(func.count()).select_from(MentorshipBooking).where(MentorshipBooking.status == BookingStatus.PENDING)
        )
        or 0,
        "active_students_30d": _once(
            _shared,
            "active",
            lambda: session.scalar(_students_q().where(User.last_seen_at >= now - timedelta(days=30))) or 0,
        ),
        "wallet_float": _once(_shared, "float", lambda: _wallet_float(session)),
    }


def dashboard(session: Session, *, now: datetime | None = None) -> tuple[dict, Financial, Engagement]:
    """kpis, financial and engagement for the home page, each figure they share worked out once."""
    now = as_utc(now)
    shared: dict = {}
    fin = financial(session, now=now, _shared=shared)
    return kpis(session, now=now, _shared=shared), fin, engagement(session, now=now, _shared=shared)


# -- the success metrics (the owner's document), over a period of Cairo months --------------------------------------

# What a student starts themselves: asking for a top-up (whatever its outcome), buying a platform, paying a session.
# Not the welcome credit, a refund or an admin's adjustment, which happen to a wallet.
STUDENT_ACTIONS = (TransactionType.TOP_UP, TransactionType.PLATFORM_PURCHASE, TransactionType.MENTORSHIP_PAYMENT)
PAID_TYPES = REVENUE_TYPES + (TransactionType.REFUND,)  # net paid: purchases and sessions, less refunds
MAX_PERIOD_MONTHS = 36
DEFAULT_PERIOD_MONTHS = 6
_MONTH_TEXT = re.compile(r"(\d{4})-(\d{2})")


def _add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def _pct(part, whole) -> Decimal | None:
    """part of whole in %, to 0.1; None when there is no whole (shown as "—", never a division by zero)."""
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else None


def _per(amount: Decimal, n: int) -> Decimal | None:
    return (amount / n).quantize(Decimal("0.01")) if n else None


@dataclass(frozen=True)
class MonthPeriod:
    """Whole Cairo months, first..last inclusive (each the first day of its month)."""

    first: date
    last: date

    @property
    def months(self) -> list[date]:
        n = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        return [_add_months(self.first, i) for i in range(n + 1)]

    @property
    def start(self) -> datetime:
        return cairo_midnight(self.first)

    @property
    def end(self) -> datetime:
        """The instant after the period: the Cairo midnight that starts the month after `last`."""
        return cairo_midnight(_add_months(self.last, 1))


def month_period(
    start: str | None, end: str | None, *, now: datetime | None = None, default_months: int = DEFAULT_PERIOD_MONTHS
) -> MonthPeriod:
    """The period an admin asked for as 'YYYY-MM' texts (either empty: the last `default_months` months up to
    this Cairo month). Raises InvalidInput with a sentence for a malformed month, a start after the end, an end
    after this month or a period over MAX_PERIOD_MONTHS; its details (`reason` and the months) let a reader
    say it in another language."""
    this_month = _cairo_day(as_utc(now)).replace(day=1)

    def parse(text: str | None, field: str) -> date | None:
        text = (text or "").strip()
        if not text:
            return None
        m = _MONTH_TEXT.fullmatch(text)
        if not m or not (2000 <= int(m.group(1)) <= 2100 and 1 <= int(m.group(2)) <= 12):
            raise InvalidInput(
                f"choose the '{field}' month as YYYY-MM, e.g. {_month_label(this_month)}",
                field=field,
                reason="month_format",
                example=_month_label(this_month),
            )
        return date(int(m.group(1)), int(m.group(2)), 1)

    first, last = parse(start, "from"), parse(end, "to")
    last = last or this_month
    first = first or min(_add_months(last, 1 - default_months), this_month)
    if first > last:
        raise InvalidInput(
            f"the period starts ({_month_label(first)}) after it ends ({_month_label(last)}): "
            "choose a 'from' month on or before the 'to' month",
            field="from",
            reason="period_order",
            first=_month_label(first),
            last=_month_label(last),
        )
    if last > this_month:
        raise InvalidInput(
            f"the period cannot end after this month ({_month_label(this_month)})",
            field="to",
            reason="period_future",
            this_month=_month_label(this_month),
        )
    if len(MonthPeriod(first, last).months) > MAX_PERIOD_MONTHS:
        raise InvalidInput(
            f"a period is at most {MAX_PERIOD_MONTHS} months",
            field="from",
            reason="period_too_long",
            most=MAX_PERIOD_MONTHS,
        )
    return MonthPeriod(first, last)


@dataclass(frozen=True)
class RevenueMonth:
    month: str
    revenue: Decimal  # approved platform purchases (first and renewals) created in the month
    growth_pct: Decimal | None  # against the month before; None when that month had none


@dataclass(frozen=True)
class PlatformCompletion:
    platform_id: int
    name: str
    tasks: int
    enrolled: int  # students who enrolled in the period
    completed: int  # of them, those who have done every task of the platform
    rate_pct: Decimal | None


@dataclass(frozen=True)
class BookingMonth:
    month: str
    by_status: dict[str, int]  # BookingStatus value -> bookings made in the month, by where they stand now
    total: int


@dataclass(frozen=True)
class MentorUse:
    mentor_id: int
    name: str
    booked_minutes: int  # confirmed or held sessions dated in the period
    booked_hours: Decimal
    completed: int  # sessions held (COMPLETED) dated in the period
    ratings: int
    average_rating: Decimal | None


@dataclass(frozen=True)
class AdoptionMonth:
    month: str
    students: int  # registered by the end of the month
    active: int  # of them, those with a ledger row they started in the month (STUDENT_ACTIONS)
    share_pct: Decimal | None


@dataclass(frozen=True)
class CohortValue:
    month: str
    students: int  # registered in the month
    net_paid: Decimal  # what they have paid to date, net of refunds
    value: Decimal | None  # net_paid per student


@dataclass(frozen=True)
class SuccessMetrics:
    period: MonthPeriod
    months: list[str]
    revenue: list[RevenueMonth]
    revenue_total: Decimal
    completion: list[PlatformCompletion]
    completion_enrolled: int
    completion_completed: int
    completion_rate_pct: Decimal | None
    bookings: list[BookingMonth]
    bookings_total: int
    mentors: list[MentorUse]
    booked_hours: Decimal
    sessions_completed: int
    ratings: int
    average_rating: Decimal | None
    adoption: list[AdoptionMonth]
    students: int  # registered, to date
    paying_students: int
    net_paid: Decimal  # to date
    lifetime_value: Decimal | None  # net_paid per registered student
    paying_lifetime_value: Decimal | None  # net_paid per paying student
    cohorts: list[CohortValue]


def success_metrics(session: Session, period: MonthPeriod) -> SuccessMetrics:
    """The owner's success metrics over whole Cairo months: monthly revenue from enrollments and its growth,
    completion per platform, bookings by outcome, mentors' booked hours and ratings, wallet adoption per month and
    lifetime value (overall and per registration cohort). Ledger figures come from the rollups plus the live rows
    since (as every figure here); bookings, enrollments and tasks are small indexed tables, read as they are.
    Whole months, so the figures do not depend on the time of day: a month still running counts what is in it."""
    until = rollup_until(session)
    months = period.months
    labels = [_month_label(m) for m in months]
    revenue = _enrollment_revenue(session, period, until)
    completion = _platform_completion(session, period)
    bookings = _bookings_by_month(session, period)
    mentors, rating_sum = _mentor_use(session, period)
    registered = _students_registered(session, [_add_months(months[0], -1), *months])
    active = _active_students(session, period, until)
    adoption = [
        AdoptionMonth(label, registered[m], active.get(m, 0), _pct(active.get(m, 0), registered[m]))
        for m, label in zip(months, labels, strict=True)
    ]
    paid = _cohort_paid(session, until)
    students = session.scalar(_students_q()) or 0
    net = _money(sum(paid.values()))
    paying = _distinct_students(session, "paid", _paying_conditions(), until)
    cohorts = []
    for month, label in zip(months, labels, strict=True):
        joined, cohort_paid = registered[month] - registered[_add_months(month, -1)], _money(paid.get(month, 0))
        cohorts.append(CohortValue(label, joined, cohort_paid, _per(cohort_paid, joined)))
    enrolled = sum(p.enrolled for p in completion)
    done = sum(p.completed for p in completion)
    ratings = sum(x.ratings for x in mentors)
    return SuccessMetrics(
        period=period,
        months=labels,
        revenue=revenue,
        revenue_total=sum((r.revenue for r in revenue), ZERO),
        completion=completion,
        completion_enrolled=enrolled,
        completion_completed=done,
        completion_rate_pct=_pct(done, enrolled),
        bookings=bookings,
        bookings_total=sum(b.total for b in bookings),
        mentors=mentors,
        booked_hours=(Decimal(sum(x.booked_minutes for x in mentors)) / 60).quantize(Decimal("0.1")),
        sessions_completed=sum(x.completed for x in mentors),
        ratings=ratings,
        average_rating=_mean_rating(rating_sum, ratings),
        adoption=adoption,
        students=students,
        paying_students=paying,
        net_paid=net,
        lifetime_value=_per(net, students),
        paying_lifetime_value=_per(net, paying),
        cohorts=cohorts,
    )


def _mean_rating(total: int, n: int) -> Decimal | None:
    return (Decimal(total) / n).quantize(Decimal("0.1")) if n else None


def _month_of_hour(hour) -> date:
    return _cairo_day_of_hour(hour).replace(day=1)


def _enrollment_revenue(session: Session, period: MonthPeriod, until) -> list[RevenueMonth]:
    """Approved platform purchases per Cairo month of the period (and the month before, for the first growth)."""
    before = _add_months(period.first, -1)
    sums = _sums(
        session,
        types=(TransactionType.PLATFORM_PURCHASE,),
        statuses=(TransactionStatus.APPROVED,),
        start=cairo_midnight(before),
        end=period.end,
        by_day=True,
        until=until,
    )
    piastres: dict[date, int] = defaultdict(int)
    for (day, _, _), (_, total) in sums.items():
        piastres[day.replace(day=1)] -= total
    out, previous = [], piastres[before]
    for month in period.months:
        current = piastres[month]
        growth = _pct(current - previous, previous) if previous > 0 else None
        out.append(RevenueMonth(_month_label(month), _money(current), growth))
        previous = current
    return out


def _platform_completion(session: Session, period: MonthPeriod) -> list[PlatformCompletion]:
    """Per platform: students who enrolled in the period, and of them those who have done every one of its tasks
    (task_completions, one row per student and task; a platform without tasks has nobody complete)."""
    e = Enrollment
    in_period = [e.enrolled_at >= period.start, e.enrolled_at < period.end]
    per_platform = select(Task.platform_id, func.count().label("n")).group_by(Task.platform_id).subquery()
    tasks = dict(session.execute(select(per_platform.c.platform_id, per_platform.c.n)).all())
    enrolled = dict(
        session.execute(select(e.platform_id, func.count()).where(*in_period).group_by(e.platform_id)).all()
    )
    done = (
        select(TaskCompletion.user_id, Task.platform_id, func.count().label("n"))
        .join(Task, Task.id == TaskCompletion.task_id)
        .group_by(TaskCompletion.user_id, Task.platform_id)
        .subquery()
    )
    finished = dict(
        session.execute(  # each student's tasks done per platform, against the platform's tasks, counted in SQL
            select(done.c.platform_id, func.count())
            .join(e, (e.user_id == done.c.user_id) & (e.platform_id == done.c.platform_id))
            .join(per_platform, per_platform.c.platform_id == done.c.platform_id)
            .where(*in_period, done.c.n >= per_platform.c.n)
            .group_by(done.c.platform_id)
        ).all()
    )
    return [
        PlatformCompletion(
            pid,
            name,
            tasks.get(pid, 0),
            enrolled.get(pid, 0),
            finished.get(pid, 0),
            _pct(finished.get(pid, 0), enrolled.get(pid, 0)),
        )
        for pid, name in session.execute(select(Platform.id, Platform.name).order_by(Platform.name))
    ]


def _bookings_by_month(session: Session, period: MonthPeriod) -> list[BookingMonth]:
    """Bookings made in each Cairo month, by where they stand now (pending, confirmed, held, cancelled)."""
    b = MentorshipBooking
    month = _bucket_expr(session, b.created_at, "month", period.start, period.end).label("month")
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {s.value: 0 for s in BookingStatus})
    for label, status, n in session.execute(
        select(month, b.status, func.count())
        .where(b.created_at >= period.start, b.created_at < period.end)
        .group_by(month, b.status)
    ):
        counts[label][_value(status)] += n
    return [
        BookingMonth(label, dict(counts[label]), sum(counts[label].values()))
        for label in (_month_label(m) for m in period.months)
    ]


def _mentor_use(session: Session, period: MonthPeriod) -> tuple[list[MentorUse], int]:
    """Per mentor, of the sessions dated in the period: minutes confirmed or held, sessions held, their ratings
    (and the ratings' sum, for the overall mean). Mentors have no available hours yet, so no % is made up."""
    b = MentorshipBooking
    booked = b.status.in_((BookingStatus.CONFIRMED, BookingStatus.COMPLETED))
    held = b.status == BookingStatus.COMPLETED
    rows = session.execute(
        select(
            User.id,
            User.full_name,
            func.sum(case((booked, b.duration), else_=0)),
            func.sum(case((held, 1), else_=0)),
            func.count(case((held, b.rating), else_=None)),
            func.sum(case((held, b.rating), else_=None)),
        )
        .select_from(User)
        .outerjoin(b, (b.mentor_id == User.id) & (b.session_date >= period.start) & (b.session_date < period.end))
        .where(User.is_mentor.is_(True) | b.id.is_not(None))
        .group_by(User.id, User.full_name)
    ).all()
    mentors = [
        MentorUse(
            mid,
            name,
            int(minutes or 0),
            (Decimal(int(minutes or 0)) / 60).quantize(Decimal("0.1")),
            int(completed or 0),
            int(n),
            _mean_rating(int(total or 0), int(n)),
        )
        for mid, name, minutes, completed, n, total in rows
    ]
    mentors.sort(key=lambda m: (-m.booked_minutes, -m.completed, m.name))
    return mentors, sum(int(total or 0) for *_, total in rows)


def _students_registered(session: Session, months: list[date]) -> dict[date, int]:
    """{month: students registered before the end of that Cairo month}: a count per month on the index
    (created_at, telegram_id), so each student's entry is read once."""
    bounds = [cairo_midnight(m) for m in months] + [cairo_midnight(_add_months(months[-1], 1))]
    students = select(func.count()).select_from(User).where(User.telegram_id.is_not(None))
    total = session.scalar(students.where(User.created_at < bounds[0])) or 0
    out = {}
    for month, low, high in zip(months, bounds, bounds[1:]):
        total += session.scalar(students.where(User.created_at >= low, User.created_at < high)) or 0
        out[month] = total
    return out


def _active_students(session: Session, period: MonthPeriod, until) -> dict[date, int]:
    """{month: students with a ledger row they started (STUDENT_ACTIONS) created in that Cairo month}: the
    ledger_active_counts rollup, plus the live rows (decided since `until`, or pending) of students not marked in
    ledger_active_months for that month."""
    t = Transaction
    hour = _hour(session, t.created_at)

    def live(*branches: list) -> set[tuple[date, int]]:
        found = set()
        for where in branches:
            for uid, h in session.execute(
                select(t.user_id, hour).where(t.type.in_(STUDENT_ACTIONS), *where).distinct()
            ):
                month = _month_of_hour(h)
                if period.first <= month <= period.last:
                    found.add((month, uid))
        return found

    counts: dict[date, int] = defaultdict(int)
    if until is None:
        for month, _ in live([t.created_at >= period.start, t.created_at < period.end]):
            counts[month] += 1
        return counts
    c = LedgerActiveCount
    for month, n in session.execute(select(c.month, c.students).where(c.month >= period.first, c.month <= period.last)):
        counts[month] += n
    # the live rows on the (status, decided_at) index alone (their month is checked here: a bound on created_at
    # would send the planner through a year of the ledger)
    statuses = t.status.in_(ALL_STATUSES)
    fresh = live([statuses, t.decided_at >= until], [statuses, t.decided_at.is_(None)])
    for month, _ in fresh - _marked_months(session, fresh):
        counts[month] += 1
    return counts


def _marked_months(session: Session, pairs: set[tuple[date, int]]) -> set[tuple[date, int]]:
    """Those of the (month, student) pairs already in ledger_active_months: per month, its students looked up on the
    primary key (month, user_id)."""
    m = LedgerActiveMonth
    by_month: dict[date, list[int]] = defaultdict(list)
    for month, uid in pairs:
        by_month[month].append(uid)
    found = set()
    for month, users in sorted(by_month.items()):
        users.sort()
        for i in range(0, len(users), 500):
            found.update(
                (month, uid)
                for uid in session.scalars(select(m.user_id).where(m.month == month, m.user_id.in_(users[i : i + 500])))
            )
    return found


def _paid_by_cohort(session: Session, where: list) -> dict[date, int]:
    """{Cairo month of registration: net piastres paid} of the approved PAID_TYPES rows matching `where`."""
    t = Transaction
    joined = _hour(session, User.created_at)
    out: dict[date, int] = defaultdict(int)
    for h, total in session.execute(
        select(joined, func.sum(_raw(t.amount)))
        .join(User, User.id == t.user_id)
        .where(t.type.in_(PAID_TYPES), t.status == TransactionStatus.APPROVED, *where)
        .group_by(joined)
    ):
        out[_month_of_hour(h)] -= int(total or 0)
    return out


def _cohort_paid(session: Session, until) -> dict[date, int]:
    """Net piastres paid to date by the students of each registration month: ledger_cohorts plus the rows
    decided since `until`."""
    if until is None:
        return _paid_by_cohort(session, [])
    out: dict[date, int] = defaultdict(int)
    for cohort, paid in session.execute(select(LedgerCohort.cohort, LedgerCohort.paid)):
        out[cohort] += int(paid)
    for cohort, paid in _paid_by_cohort(session, [Transaction.decided_at >= until]).items():
        out[cohort] += paid
    return out


def fill_month_rollups(session: Session, *, since: datetime | None, until: datetime) -> int:
    """Add the ledger rows decided in [since, until) (since None: from the beginning) to ledger_active_months and
    ledger_cohorts, inside the caller's transaction (as fill_rollups). Returns the rows written or added to."""
    t = Transaction
    where = [t.decided_at < until] + ([t.decided_at >= since] if since is not None else [])
    hour = _hour(session, t.created_at)
    active = {
        (_month_of_hour(h), uid)
        for uid, h in session.execute(select(t.user_id, hour).where(*where, t.type.in_(STUDENT_ACTIONS)).distinct())
    }
    if since is not None:  # the first fill starts from empty tables
        active -= _marked_months(session, active)  # a student already marked for the month stays as is
    rows = [{"month": month, "user_id": uid} for month, uid in sorted(active)]
    conn = session.connection()
    for i in range(0, len(rows), 1000):
        conn.execute(_insert_ignore(session, LedgerActiveMonth.__table__), rows[i : i + 1000])
    new: dict[date, int] = defaultdict(int)
    for month, _ in active:
        new[month] += 1
    _add_up(session, LedgerActiveCount.__table__, "month", "students", sorted(new.items()))
    paid = sorted(_paid_by_cohort(session, where).items())
    _add_up(session, LedgerCohort.__table__, "cohort", "paid", paid)
    return len(rows) + len(new) + len(paid)


def _add_up(session: Session, table, key: str, column: str, rows: list[tuple]) -> None:
    """Insert the (key, number) rows, or add the number to the row the key already has."""
    if rows:
        add = _insert_ignore(session, table, update=False)
        session.connection().execute(
            add.on_conflict_do_update(
                index_elements=[table.c[key]], set_={column: table.c[column] + add.excluded[column]}
            ),
            [{key: k, column: n} for k, n in rows],
        )
