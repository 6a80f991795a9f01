"""The bot's write transactions on SQLite (core.db.engines.InlineWriteConnection): once BEGIN IMMEDIATE holds the
lock, the transaction runs to its COMMIT without giving the event loop to other work, so the lock is held only
for the statements' own time; a writer of another process is waited for with the loop free; a transaction that
fails leaves nothing written and the next one works."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import make_url, select, text

from core.db import AsyncDatabase, unit_of_work
from core.models import User
from core.services import students
from tests.helpers import context


class Ticker:
    """Counts the event loop's turns given to other work."""

    def __init__(self):
        self.ticks, self._task = 0, None

    async def _run(self):
        while True:
            self.ticks += 1
            await asyncio.sleep(0)

    def __enter__(self):
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc):
        self._task.cancel()


def _rename_many(session, ticker: Ticker, telegram_id: int) -> tuple[int, int]:
    with unit_of_work(session):
        start = ticker.ticks
        user = session.scalar(select(User).where(User.telegram_id == telegram_id))
        for i in range(20):
            user.full_name = f"Mai {i}"
            session.flush()
        return start, ticker.ticks


async def test_a_write_transaction_runs_without_giving_the_loop_away(sqlite_url):
    db = AsyncDatabase(sqlite_url, context())
    try:
        async with db.sessions() as session:
            await session.run_sync(lambda s: students.register(s, 4242, full_name="Mai"))
            with Ticker() as ticker:
                await asyncio.sleep(0.01)
                start, end = await session.run_sync(_rename_many, ticker, 4242)
                assert ticker.ticks > 0
            assert end == start  # 20 UPDATEs and the COMMIT: no turn of the loop in between
            # and reads outside a write transaction still go through aiosqlite's thread, the loop free meanwhile
            with Ticker() as ticker:
                before = ticker.ticks
                await session.run_sync(lambda s: s.scalar(text("SELECT count(*) FROM users")))
                assert ticker.ticks > before
        async with db.sessions() as session:
            name = await session.run_sync(lambda s: s.scalar(select(User.full_name).where(User.telegram_id == 4242)))
        assert name == "Mai 19"
    finally:
        await db.dispose()


async def test_a_writer_of_another_process_is_waited_for_with_the_loop_free(sqlite_url):
    db = AsyncDatabase(sqlite_url, context())
    other = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the panel, say, in the middle of its own write
        with Ticker() as ticker:
            async with db.sessions() as session:
                write = asyncio.ensure_future(session.run_sync(lambda s: students.register(s, 4243, full_name="Omar")))
                await asyncio.sleep(0.3)
                assert not write.done() and ticker.ticks > 100  # waiting on the thread, not on the loop
                other.execute("COMMIT")
                result = await asyncio.wait_for(write, 10)
        assert result.user.telegram_id == 4243
        assert other.execute("SELECT count(*) FROM users WHERE telegram_id = 4243").fetchone() == (1,)
    finally:
        other.close()
        await db.dispose()


async def test_a_failed_write_transaction_leaves_nothing_and_the_next_one_works(sqlite_url):
    db = AsyncDatabase(sqlite_url, context(), pool_size=1, max_overflow=0)

    def half_then_fail(session):
        with unit_of_work(session):
            session.execute(text("UPDATE users SET full_name = 'half' WHERE 1 = 1"))
            raise RuntimeError("a bug half-way")

    try:
        async with db.sessions() as session:
            await session.run_sync(lambda s: students.register(s, 4244, full_name="Nour"))
            with pytest.raises(RuntimeError):
                await session.run_sync(half_then_fail)
            # the one pooled connection is not left inline: a plain read goes through the thread again
            with Ticker() as ticker:
                before = ticker.ticks
                names = await session.run_sync(lambda s: s.scalars(select(User.full_name)).all())
                assert ticker.ticks > before
            assert "half" not in names
            await session.run_sync(lambda s: students.register(s, 4245, full_name="Salma"))
        async with db.sessions() as session:
            count = await session.run_sync(
                lambda s: s.scalar(text("SELECT count(*) FROM users WHERE telegram_id IN (4244, 4245)"))
            )
        assert count == 2
    finally:
        await db.dispose()
