"""The bot's per-update reads by key (BriefAsyncSession.read_point / read_only): on SQLite on the event loop's
thread through a read-only connection, without aiosqlite's pool connection or BEGIN; elsewhere run_sync."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, update
from sqlalchemy.exc import OperationalError

from bot.storage import load_record_on
from core.db import AsyncDatabase, Database, create_async_db_engine, create_sync_engine
from core.models import User
from core.services import ledger, students
from tests.helpers import context


def _register(url: str) -> int:
    db = Database(url, context())
    try:
        with db.session() as s:
            return students.register(s, 4242, full_name="Mai").user.id
    finally:
        db.dispose()


def _listen(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt.split()[0].upper()))
    return seen


async def test_sqlite_point_reads_take_no_pool_connection_and_see_committed_writes(sqlite_url):
    uid = _register(sqlite_url)
    db = AsyncDatabase(sqlite_url, context())
    pooled = _listen(db.engine.sync_engine)
    try:
        async with db.sessions() as session:
            student = await session.read_point(students.find_by_telegram_on, 4242)
            assert (student.id, student.full_name, student.balance, student.reachable) == (
                uid,
                "Mai",
                Decimal("500.00"),
                True,
            )
            assert (await session.read_point(load_record_on, "no-such-key")).empty
            page = await session.read_only(ledger.statement, uid, page=1, per_page=5)
            assert page.total == 1 and page.items[0].entry.amount == Decimal("500.00")
            # a write committed meanwhile (another process, the panel) is seen by the next read: nothing cached
            sync = Database(sqlite_url, context())
            with sync.session() as s, s.begin():
                s.execute(update(User).where(User.id == uid).values(balance=Decimal("7.00")))
            sync.dispose()
            assert (await session.read_point(students.find_by_telegram_on, 4242)).balance == Decimal("7.00")
            assert not session.in_transaction()
        assert pooled == []  # neither aiosqlite's pool nor a BEGIN was involved
    finally:
        await db.dispose()


async def test_the_point_read_connection_refuses_writes(sqlite_url):
    _register(sqlite_url)
    db = AsyncDatabase(sqlite_url, context())
    try:
        with db.point_engine.connect() as conn, pytest.raises(OperationalError):
            conn.execute(update(User).values(full_name="x"))
    finally:
        await db.dispose()


async def test_a_point_read_that_meets_an_error_goes_through_the_session(sqlite_url, tmp_path):
    _register(sqlite_url)
    db = AsyncDatabase(sqlite_url, context())
    broken = create_sync_engine(f"sqlite:///{tmp_path / 'x.db'}")
    (tmp_path / "x.db").mkdir()  # a directory where the database file should be: OperationalError on connect
    try:
        async with db.sessions() as session:
            session.sync_session.info["point_reads"] = broken
            pooled = _listen(db.engine.sync_engine)
            student = await session.read_point(students.find_by_telegram_on, 4242)
            assert student.full_name == "Mai" and "SELECT" in pooled  # read through aiosqlite instead
    finally:
        broken.dispose()
        await db.dispose()


async def test_on_postgresql_point_reads_use_the_autocommit_pool_and_fall_back_on_its_errors(pg_url):
    uid = _register(pg_url)
    db = AsyncDatabase(pg_url, context())
    main = _listen(db.engine.sync_engine)
    reads = _listen(db.reads.engine.sync_engine)
    try:
        assert db.point_engine is None
        async with db.sessions() as session:
            assert (await session.read_point(students.find_by_telegram_on, 4242)).full_name == "Mai"
            assert (await session.read_only(ledger.statement, uid)).total == 1
            assert main == [] and len(reads) == 3  # the student, the count, the page: no BEGIN, no COMMIT
            assert not session.in_transaction()
            await db.reads.engine.dispose()
            db.reads.engine = create_async_db_engine("postgresql://postgres@127.0.0.1:9/nowhere")  # gone
            assert (await session.read_point(students.find_by_telegram_on, 4242)).full_name == "Mai"
            assert main == ["SELECT"]  # through the session instead
    finally:
        await db.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_an_update_reads_the_student_and_the_state_in_one_statement(request, database, fake_api, tmp_path):
    """A returning student's /start or /balance: their row and their FSM state come in one statement (one
    round trip), read inside aiogram's per-student lock; no write."""
    from tests.bot.fake_api import TgUser
    from tests.bot.helpers import BotRunner
    from tests.helpers import make_settings

    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    settings = make_settings(url, tmp_path, bot_token=fake_api.token, telegram_api_url=fake_api.base_url)
    runner = await BotRunner(fake_api, settings, throttle_limit=1000).start()
    seen: list[str] = []
    try:
        engines = [
            runner.db.engine.sync_engine,
            runner.db.point_engine,
            runner.db.reads.engine.sync_engine if runner.db.reads is not None else None,
        ]
        for engine in (e for e in engines if e is not None):
            event.listen(engine, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(" ".join(stmt.split())))
        runner.db.point_reader.listeners.append(lambda stmt: seen.append(" ".join(stmt.split())))  # past SQLAlchemy
        mai = TgUser(4321, "Mai")
        await runner.send(mai, "/start")  # registers
        for text in ("/start", "💰 Balance"):
            seen.clear()
            calls = await runner.send(mai, text)
            assert calls and calls[-1].chat_id == mai.id
            reads = [s for s in seen if "fsm_states" in s or "FROM users" in s]
            assert len(reads) == 1 and "fsm_states" in reads[0] and "users" in reads[0], seen
            assert not [s for s in seen if s.upper().startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE"))]
    finally:
        await runner.stop()


async def test_a_prepared_point_read_gives_the_rows_sqlalchemy_gives(db_url):
    """read_rows runs a PointRead on the driver's own connection (pysqlite on the loop's thread, asyncpg's pool):
    the same values, of the same types (money as Decimal, flags as bool, times as datetimes), as
    connection.execute; a key that matches nothing gives the outer join's empty side."""
    from bot.storage import _LOAD_WITH_STUDENT, _READ_WITH_STUDENT, record_and_student_of

    _register(db_url)
    sync = create_sync_engine(db_url)
    db = AsyncDatabase(db_url, context())
    try:
        for params in ({"telegram_id": 4242, "key": "fsm:4242"}, {"telegram_id": 999, "key": "none"}):
            with sync.connect() as conn:
                expected = [tuple(row) for row in conn.execute(_LOAD_WITH_STUDENT, params)]
            async with db.sessions() as session:
                rows = await session.read_rows(_READ_WITH_STUDENT, params)
            assert rows == expected and [type(v) for v in rows[0]] == [type(v) for v in expected[0]]
        record, student = record_and_student_of(rows[0])
        assert record.empty and student is None
        async with db.sessions() as session:
            [row] = await session.read_rows(_READ_WITH_STUDENT, {"telegram_id": 4242, "key": "k"})
        _record, student = record_and_student_of(row)
        assert (student.full_name, student.balance, student.is_blocked, student.reachable) == (
            "Mai",
            Decimal("500.00"),
            False,
            True,
        )
        assert student.created_at is not None and student.created_at.year >= 2020
    finally:
        sync.dispose()
        await db.dispose()


async def test_a_prepared_point_read_that_fails_at_the_driver_takes_the_pooled_path(db_url, monkeypatch):
    """A lock on SQLite or a connection gone on PostgreSQL: the read goes through SQLAlchemy instead, and the
    student sees the same answer."""
    from bot.storage import _READ_WITH_STUDENT

    _register(db_url)
    db = AsyncDatabase(db_url, context())
    reader = db.point_reader
    calls = []

    async def broken(point, params):
        calls.append(params)
        raise reader.errors[0]("gone")

    try:
        async with db.sessions() as session:
            [expected] = await session.read_rows(_READ_WITH_STUDENT, {"telegram_id": 4242, "key": "k"})
        monkeypatch.setattr(reader, "rows", broken)
        async with db.sessions() as session:
            assert await session.read_rows(_READ_WITH_STUDENT, {"telegram_id": 4242, "key": "k"}) == [expected]
        assert len(calls) == 1
    finally:
        await db.dispose()


async def test_balance_reads_the_newest_entries_as_history_does(db_url):
    """/balance's newest entries (wallet.RECENT, a PointRead) are history's first page: the same entries, enums
    as enums, amounts as Decimals."""
    from core.services import wallet
    from tests.factories import SEED

    uid = _register(db_url)
    sync = Database(db_url, context())
    with sync.session() as s:
        for n in range(1, 8):
            wallet.adjust_balance(s, uid, Decimal(n), f"correction {n}", actor=SEED, idempotency_key=f"fix-{n}")
        expected = wallet.history(s, uid, page=1, per_page=5).items
    sync.dispose()
    db = AsyncDatabase(db_url, context())
    try:
        async with db.sessions() as session:
            entries = wallet.entries_of(await session.read_rows(wallet.RECENT, wallet.recent_params(uid, 5)))
        assert entries == expected and len(entries) == 5
        assert entries[0].amount == Decimal("7.00") and entries[0].type.name == "ADJUSTMENT"
    finally:
        await db.dispose()
