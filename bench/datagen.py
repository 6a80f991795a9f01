"""Bulk data for the benchmarks: students, a ledger, enrollments and bookings, written in seconds.

The rows follow the product's shapes (a signup bonus per student, top-ups mostly decided, purchases
referencing their enrollment, bookings paid and some refunded), and every balance equals its approved
ledger rows, so `codehub check-ledger` holds on the result. Rows go in through the driver in bulk
(executemany on SQLite, COPY on PostgreSQL), not through the services: generating a million ledger rows
through the money path would take hours and measures nothing the benchmarks look at.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import make_url

from core.crypto import FieldCipher
from core.db import migrate, optimize_database, sync_url

PLATFORMS = 12
TASKS_PER_PLATFORM = 6
MENTORS = 5


@dataclass(frozen=True)
class Size:
    students: int
    transactions: int
    enrollments: int
    bookings: int


SIZES = {
    "tiny": Size(60, 600, 40, 20),
    "10k": Size(1_000, 10_000, 200, 50),
    "full": Size(100_000, 1_000_000, 20_000, 5_000),
}


# Bench data is not secret: one fixed field key, so every process of a run (generator, panel, bot) reads
# the same ciphertext, and the start-up key check passes.
BENCH_FIELD_KEY = "KuSU6GMGmxKK4G8VSyAlChsyaRXWSPs7MTf5rmlmUic="
WALLET_TOKEN = FieldCipher(BENCH_FIELD_KEY).encrypt("01012345678")


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def rows(size: Size, now: datetime, seed: int = 16) -> dict[str, list[tuple]]:
    """Every table's rows as tuples, in the column order of COLUMNS."""
    rnd = random.Random(seed)
    year = 365 * 24 * 3600
    start = now - timedelta(seconds=year)

    def moment(after: datetime | None = None) -> datetime:
        base = after or start
        span = max(1, int((now - base).total_seconds()) - 60)
        return base + timedelta(seconds=rnd.randrange(span))

    users, balances, created = [], [], []
    for uid in range(1, size.students + 1):
        joined = moment()
        created.append(joined)
        balances.append(0)
        mentor = uid <= MENTORS
        users.append(
            [
                uid,
                10_000_000 + uid,
                f"student{uid}",
                f"Student {uid} Name",
                "ar" if uid % 3 else "en",
                0,
                mentor,
                "Mentor" if mentor else None,
                30000 if mentor else None,
                True,
                False,
                None,
                _ts(joined),
                _ts(moment(joined)),
            ]
        )
    platforms = [
        (p, f"Platform {p:02d}", "A platform", 25000 + 1000 * p, True, 30 if p % 2 else None, _ts(start))
        for p in range(1, PLATFORMS + 1)
    ]
    tasks = [
        (t, (t - 1) // TASKS_PER_PLATFORM + 1, f"Task {t}", "Do it", t % TASKS_PER_PLATFORM)
        for t in range(1, PLATFORMS * TASKS_PER_PLATFORM + 1)
    ]

    tx: list[tuple] = []

    def ledger(uid, type_, amount, status, at, decided, reference=None, wallet=None, key=None, desc=""):
        if status == "APPROVED":
            balances[uid - 1] += amount
        tx.append(
            (
                len(tx) + 1,
                uid,
                type_,
                amount,
                desc,
                status,
                wallet,
                "010****5678" if wallet else None,
                None,
                "finance" if type_ == "TOP_UP" and status != "PENDING" else None,
                None,
                key,
                reference,
                balances[uid - 1] if status == "APPROVED" else None,
                None,
                _ts(at),
                _ts(decided) if decided else None,
                _ts(decided or at),
            )
        )

    for uid in range(1, size.students + 1):  # the welcome credit
        at = created[uid - 1]
        ledger(uid, "SIGNUP_BONUS", 50000, "APPROVED", at, at, key="signup", desc="Welcome bonus")

    enrollments, pairs = [], set()
    while len(enrollments) < size.enrollments:
        uid, pid = rnd.randrange(1, size.students + 1), rnd.randrange(1, PLATFORMS + 1)
        if (uid, pid) in pairs:
            continue
        pairs.add((uid, pid))
        at = moment(created[uid - 1])
        expires = at + timedelta(days=30) if pid % 2 else None
        enrollments.append((len(enrollments) + 1, uid, pid, _ts(at), _ts(expires) if expires else None, True, None))
    purchases = size.transactions // 5  # first purchases and renewals, each referencing its enrollment
    bookings_n = size.bookings
    fixed = size.students + purchases + bookings_n + bookings_n // 10
    topups = max(0, size.transactions - fixed)
    # top-ups before purchases, so balances never go below zero
    for i in range(topups):
        uid = rnd.randrange(1, size.students + 1)
        at = moment(created[uid - 1])
        roll = rnd.random()
        if i < 200 or roll < 0.0003:
            ledger(uid, "TOP_UP", 15000, "PENDING", at, None, wallet=WALLET_TOKEN, desc="Top-up")
        else:
            status = "REJECTED" if roll < 0.1 else "APPROVED"
            ledger(
                uid,
                "TOP_UP",
                rnd.choice((10000, 15000, 50000, 100000)),
                status,
                at,
                min(now, at + timedelta(minutes=rnd.randrange(5, 600))),
                wallet=WALLET_TOKEN,
                desc="Top-up",
            )
    for i in range(purchases):
        eid, uid, pid, enrolled_at, *_ = enrollments[i % len(enrollments)]
        price = platforms[pid - 1][3]
        if balances[uid - 1] < price:
            ledger(
                uid,
                "ADJUSTMENT",
                price,
                "APPROVED",
                datetime.fromisoformat(enrolled_at).replace(tzinfo=timezone.utc),
                datetime.fromisoformat(enrolled_at).replace(tzinfo=timezone.utc),
                desc="Bench credit",
            )
        at = datetime.fromisoformat(enrolled_at).replace(tzinfo=timezone.utc)
        ledger(
            uid,
            "PLATFORM_PURCHASE",
            -price,
            "APPROVED",
            at,
            at,
            reference=f"enrollment:{eid}",
            key=f"enroll-{i}",
            desc=f"Enrolled in Platform {pid:02d}",
        )
    bookings = []
    statuses = ("PENDING", "CONFIRMED", "COMPLETED", "COMPLETED", "CANCELLED")
    for b in range(1, bookings_n + 1):
        uid = rnd.randrange(MENTORS + 1, size.students + 1)
        mentor = rnd.randrange(1, MENTORS + 1)
        at = moment(created[uid - 1])
        status = statuses[b % len(statuses)]
        cost = 30000
        if balances[uid - 1] < cost:
            ledger(uid, "ADJUSTMENT", cost, "APPROVED", at, at, desc="Bench credit")
        ledger(
            uid,
            "MENTORSHIP_PAYMENT",
            -cost,
            "APPROVED",
            at,
            at,
            reference=f"booking:{b}",
            key=f"book-{b}",
            desc="Mentorship",
        )
        if status == "CANCELLED":
            ledger(uid, "REFUND", cost, "APPROVED", at, at, reference=f"booking:{b}", key=f"refund-{b}", desc="Refund")
        bookings.append(
            (
                b,
                uid,
                mentor,
                _ts(at + timedelta(days=2)) if status != "PENDING" else None,
                60,
                cost,
                status,
                None,
                None,
                None,
                (b % 5) + 1 if status == "COMPLETED" else None,
                None,
                None,
                None,
                None,
                None,
                _ts(at),
                _ts(at),
                None,
                None,
                None,
            )
        )
    completions, done = [], set()
    for e in enrollments[: size.enrollments // 2]:
        for t in range(1, TASKS_PER_PLATFORM // 2 + 1):
            task_id = (e[2] - 1) * TASKS_PER_PLATFORM + t
            if (e[1], task_id) not in done:
                done.add((e[1], task_id))
                completions.append((len(completions) + 1, e[1], task_id, e[3]))
    for u, bal in zip(users, balances):
        u[5] = bal
    return {
        "users": [tuple(u) for u in users],
        "platforms": platforms,
        "tasks": tasks,
        "enrollments": enrollments,
        "transactions": tx,
        "mentorship_bookings": bookings,
        "task_completions": completions,
    }


COLUMNS = {
    "users": "id telegram_id username full_name language balance is_mentor mentor_bio mentor_rate mentor_available "
    "is_blocked bot_blocked_at created_at last_seen_at",
    "platforms": "id name description price is_active access_days created_at",
    "tasks": "id platform_id title body position",
    "enrollments": "id user_id platform_id enrolled_at expires_at is_active expiry_notice_for",
    "transactions": "id user_id type amount description status wallet_number wallet_number_masked admin_id "
    "processed_by admin_notes idempotency_key reference balance_after stale_alert_sent_at "
    "created_at decided_at updated_at",
    "mentorship_bookings": "id student_id mentor_id session_date duration total_cost status student_notes "
    "admin_notes feedback rating cancel_reason processed_by reminder_24h_for "
    "reminder_1h_for completion_reminder_for created_at updated_at confirmed_at "
    "completed_at cancelled_at",
    "task_completions": "id user_id task_id completed_at",
}


def generate(url: str, size: Size, now: datetime, *, rolled_up: bool = True) -> dict[str, int]:
    """Migrate `url` (an empty database) and fill it, with the analytics rollups made (rolled_up) as the
    scheduler would have; returns the row count of each table."""
    migrate(url)
    data = rows(size, now)
    u = make_url(sync_url(url))
    if u.drivername.startswith("sqlite"):
        _load_sqlite(u.database, data)
    else:
        _load_postgresql(url, data)
    if rolled_up:
        roll_up(url, now)
    optimize_database(url)  # statistics for the ledger and the rollups (without, PostgreSQL guesses 1 row)
    return {table: len(r) for table, r in data.items()}


def roll_up(url: str, now: datetime) -> None:
    """What the bot's scheduler does every few minutes: the analytics rollups up to `now` (less the grace)."""
    from sqlalchemy.orm import Session

    from core.db import create_sync_engine
    from core.services import jobs

    engine = create_sync_engine(url)
    try:
        with Session(engine) as session:
            jobs.roll_up_analytics(session, now=now)
    finally:
        engine.dispose()


def _load_sqlite(path: str, data: dict[str, list[tuple]]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")  # bench data only: the product's connections stay FULL
    conn.execute("BEGIN")
    for table, cols in COLUMNS.items():
        names = cols.split()
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", data[table]
        )
    conn.execute("COMMIT")
    conn.close()


def _load_postgresql(url: str, data: dict[str, list[tuple]]) -> None:
    import psycopg

    u = make_url(sync_url(url))
    dsn = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for table, cols in COLUMNS.items():
            names = cols.split()
            with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in data[table]:
                    copy.write_row(row)
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
