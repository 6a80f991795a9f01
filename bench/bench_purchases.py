"""Purchases per second on SQLite (synchronous=FULL): the enroll service, sync and through the bot's
async path, against raw sqlite3 doing the same two statements. Prints ratios to that baseline.

    .venv/bin/python bench/bench_purchases.py [N]
"""
from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import update

from core.crypto import FieldCipher
from core.db import AsyncDatabase, Database, ServiceContext, migrate, unit_of_work
from core.models import Platform, User
from core.services import enrollment, wallet
from cryptography.fernet import Fernet

N = int(sys.argv[1]) if len(sys.argv) > 1 else 400
CTX = ServiceContext(cipher=FieldCipher(Fernet.generate_key()))


def prepare(path: Path) -> tuple[str, list[int]]:
    url = f"sqlite:///{path}"
    migrate(url)
    db = Database(url, CTX)
    with db.session() as s:
        uid = wallet.register(s, 1, full_name="Bench").user.id
        with unit_of_work(s):
            s.execute(update(User).where(User.id == uid).values(balance=Decimal("10000000.00")))
            platforms = [Platform(name=f"P{i}", price=Decimal("1.00")) for i in range(N)]
            s.add_all(platforms)
            s.flush()
            pids = [p.id for p in platforms]
    db.dispose()
    return url, pids


def raw_sqlite(path: Path, pids: list[int]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    start = time.perf_counter()
    for pid in pids:
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute("UPDATE users SET balance = balance - 100 WHERE id = 1 AND balance >= 100")
        assert cur.rowcount == 1
        conn.execute("INSERT INTO transactions (user_id, type, amount, description, status, idempotency_key, "
                     "created_at, updated_at) VALUES (1, 'PLATFORM_PURCHASE', -100, 'x', 'APPROVED', ?, "
                     "datetime('now'), datetime('now'))", (f"raw-{pid}",))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(pids) / elapsed


def service_sync(url: str, pids: list[int]) -> float:
    db = Database(url, CTX)
    start = time.perf_counter()
    with db.session() as s:
        for pid in pids:
            enrollment.enroll(s, 1, pid, idempotency_key=f"sync-{pid}")
    elapsed = time.perf_counter() - start
    db.dispose()
    return len(pids) / elapsed


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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        runs = {}
        for name, fn in (("raw sqlite3 (baseline)", raw_sqlite), ("enroll() on sync Session", service_sync),
                         ("enroll() via run_sync on aiosqlite", service_async)):
            path = base / f"{len(runs)}.db"
            url, pids = prepare(path)
            runs[name] = fn(path if fn is raw_sqlite else url, pids)
        baseline = runs["raw sqlite3 (baseline)"]
        print(f"{N} purchases each, SQLite WAL + synchronous=FULL")
        for name, rate in runs.items():
            print(f"  {name:40s} {rate:8.0f}/s   {rate / baseline:5.2f}x baseline")
        print(f"  Telegram's outgoing limit is ~30 messages/s: async path = {runs['enroll() via run_sync on aiosqlite'] / 30:.1f}x that")


if __name__ == "__main__":
    main()
