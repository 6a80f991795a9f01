"""Purchases per second on SQLite (WAL + synchronous=FULL): enroll() through the sync service and through
the bot's async path, against raw sqlite3 doing the same work a purchase must do (equal work: the
idempotency lookup, the checks of student, platform and enrollment, the conditional debit, the enrollment
row and the ledger row, in one BEGIN IMMEDIATE ... COMMIT, with the same statements as the service)."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import event, update

from core.crypto import FieldCipher
from core.db import AsyncDatabase, Database, ServiceContext, migrate, unit_of_work
from core.models import Platform, User
from core.services import enrollment, students

CTX = ServiceContext(cipher=FieldCipher(Fernet.generate_key()))


def prepare(path: Path, n: int) -> tuple[str, list[int]]:
    url = f"sqlite:///{path}"
    migrate(url)
    db = Database(url, CTX)
    with db.session() as s:
        uid = students.register(s, 1, full_name="Bench").user.id
        with unit_of_work(s):
            s.execute(update(User).where(User.id == uid).values(balance=Decimal("10000000.00")))
            platforms = [Platform(name=f"P{i}", price=Decimal("1.00")) for i in range(n)]
            s.add_all(platforms)
            s.flush()
            pids = [p.id for p in platforms]
    db.dispose()
    return url, pids


def raw_sqlite(path: Path, pids: list[int]) -> float:
    """The floor: what a purchase must do, written by hand for the sqlite3 module, in the statements the
    service now uses (equal work): one read of the student, the idempotency key's ledger row, the platform and
    the student's enrollment; the conditional debit; the enrollment and the ledger row."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    start = time.perf_counter()
    for pid in pids:
        key = f"raw-{pid}"
        conn.execute("BEGIN IMMEDIATE")
        blocked, balance, prior, platform, name, price, active, days, enrolled = conn.execute(
            "SELECT u.is_blocked, u.balance, t.id, p.id, p.name, p.price, p.is_active, p.access_days, e.id "
            "FROM users u LEFT JOIN transactions t ON t.user_id = u.id AND t.idempotency_key = ? "
            "LEFT JOIN platforms p ON p.id = ? LEFT JOIN enrollments e ON e.platform_id = p.id AND e.user_id = u.id "
            "WHERE u.id = 1",
            (key, pid),
        ).fetchone()
        assert blocked == 0 and prior is None and platform == pid and active == 1 and enrolled is None
        balance = conn.execute(
            "UPDATE users SET balance = balance - ? WHERE id = 1 AND balance >= ? RETURNING balance", (price, price)
        ).fetchone()[0]
        eid = conn.execute(
            "INSERT INTO enrollments (user_id, platform_id, enrolled_at, expires_at, is_active) "
            "VALUES (1, ?, datetime('now'), NULL, 1) RETURNING id",
            (pid,),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO transactions (user_id, type, amount, description, status, idempotency_key, "
            "reference, balance_after, created_at, decided_at, updated_at) VALUES (1, 'PLATFORM_PURCHASE', "
            "?, ?, 'APPROVED', ?, ?, ?, datetime('now'), datetime('now'), datetime('now'))",
            (-price, f"Enrolled in {name}", key, f"enrollment:{eid}", balance),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(pids) / elapsed


def _count_statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt.split()[0].upper()))
    return seen


def service_sync(url: str, pids: list[int]) -> tuple[float, list[str]]:
    db = Database(url, CTX)
    seen = _count_statements(db.engine)
    start = time.perf_counter()
    with db.session() as s:
        for pid in pids:
            enrollment.enroll(s, 1, pid, idempotency_key=f"sync-{pid}")
    elapsed = time.perf_counter() - start
    db.dispose()
    return len(pids) / elapsed, seen[: len(seen) // len(pids)]


def service_async(url: str, pids: list[int]) -> float:
    async def go() -> float:
        db = AsyncDatabase(url, CTX)
        start = time.perf_counter()
        async with db.sessions() as s:
            for pid in pids:
                await s.run_sync(enrollment.enroll, 1, pid, idempotency_key=f"async-{pid}")
        elapsed = time.perf_counter() - start
        await db.dispose()
        return len(pids) / elapsed

    return asyncio.run(go())


def run(n: int, runs: int = 3) -> dict:
    """Medians over `runs` rounds, each round measuring floor, sync and async back to back."""
    rates: dict[str, list[float]] = {"floor": [], "sync": [], "async": []}
    statements: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(runs):
            for name in rates:
                path = Path(tmp) / f"{name}-{r}.db"
                url, pids = prepare(path, n)
                if name == "floor":
                    rates[name].append(raw_sqlite(path, pids))
                elif name == "sync":
                    rate, statements = service_sync(url, pids)
                    rates[name].append(rate)
                else:
                    rates[name].append(service_async(url, pids))
    med = {k: sorted(v)[len(v) // 2] for k, v in rates.items()}
    return {"floor": med["floor"], "sync": med["sync"], "async": med["async"], "statements": statements}
