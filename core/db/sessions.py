"""Async sessions for the bot: fair turns at the pool, SQLite's one writer, and cheap point reads."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.util import await_

from core.db.engines import CONNECT_TIMEOUT_S, POINT_READ_BUSY_MS, async_url
from core.db.prepared import PointRead


class ConnectionGate:
    """First come, first served turns for database calls: at most `size` at once (the pool's capacity), so a
    call that has its turn never waits for the pool; a caller waits at most `timeout` for a turn.

    asyncio's pool queue lets a newcomer take a connection just handed to a waiter, so under a burst some
    waiters starve until the pool timeout; this semaphore is fair (no barging while others wait)."""

    def __init__(self, size: int, timeout: float):
        self.size, self.timeout = size, timeout
        self._slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def turn(self):
        try:
            async with asyncio.timeout(self.timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise sa_exc.TimeoutError(f"no database connection free within {self.timeout:g}s") from None
        try:
            yield
        finally:
            self._slots.release()


class WriteTurn:
    """SQLite has one writer at a time: writers of this process take turns here (fair, no connection held
    while waiting) instead of each holding a pool connection in SQLite's sleeping busy handler, where under
    a burst some wait many seconds. Taken by unit_of_work inside `run_sync` (a greenlet, hence `await_`).
    Writers in other processes (the panel, the CLI) still queue on busy_timeout and BEGIN IMMEDIATE."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._lock = asyncio.Lock()

    async def _acquire(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise sa_exc.TimeoutError(f"no write turn within {self.timeout:g}s") from None

    def acquire(self) -> None:
        await_(self._acquire())

    def release(self) -> None:
        self._lock.release()


class BriefAsyncSession(AsyncSession):
    """An AsyncSession that holds a pool connection only while a call runs.

    Each `run_sync` waits for its turn at the database's ConnectionGate, and afterwards a transaction with
    nothing pending ends (services commit their own writes; a read's snapshot is over), so the connection
    goes back to the pool before the caller awaits the network. One session per update can then never
    hold a connection while waiting for another.
    """

    async def run_sync(self, fn, *args, **kw):
        gate: ConnectionGate | None = self.info.get("gate")
        if gate is None:
            return await self._run_and_release(fn, *args, **kw)
        async with gate.turn():
            return await self._run_and_release(fn, *args, **kw)

    async def _run_and_release(self, fn, *args, **kw):
        try:
            result = await super().run_sync(fn, *args, **kw)
        except Exception:
            if self.in_transaction():
                await self.rollback()
            raise
        await self.release()
        return result

    async def release(self) -> None:
        sync = self.sync_session
        if self.in_transaction() and not (sync.new or sync.dirty or sync.deleted):
            await self.commit()  # a read-only transaction: commit keeps loaded objects (expire_on_commit=False)

    async def read_point(self, fn, *args, **kw):
        """`fn(connection, ...)` for one small read by key (a row by its unique key; one statement).

        On SQLite it runs right here on the event loop's thread, through a pysqlite connection of the loop's
        own, as a lone statement (no BEGIN: one SELECT is atomic by itself). Such a read takes tens of
        microseconds, while aiosqlite hands each cursor call to its thread and back (about eight hand-offs for
        BEGIN, one SELECT and COMMIT, each a turn of the busy event loop). In WAL mode a reader never waits for
        a writer; should it meet a lock anyway (a checkpoint, a recovery), it gives up after POINT_READ_BUSY_MS
        and the read goes through aiosqlite. Never for writes: the connection is opened with `query_only`.

        On PostgreSQL it runs on a small AUTOCOMMIT pool of its own: one round trip, where run_sync costs
        four (the pool's pre-ping, BEGIN, the SELECT, COMMIT). Any error there (a connection gone stale, the
        small pool busy) and the read goes through run_sync, whose pool pings first."""
        engine: Engine | None = self.info.get("point_reads")
        if engine is not None:
            try:
                with engine.connect() as conn:
                    return fn(conn, *args, **kw)
            except sa_exc.OperationalError:
                pass
        reads: AutocommitReads | None = self.info.get("autocommit_reads")
        if reads is not None:
            try:
                return await reads.run(fn, *args, **kw)
            except (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError):
                pass
        return await self.run_sync(_on_connection, fn, *args, **kw)

    async def read_rows(self, point: PointRead, params: dict) -> list[tuple]:
        """The rows of a PointRead (core.db.prepared) on the driver's own connection where the database has one
        (SQLite's read-only connection on the loop's thread; PostgreSQL's small asyncpg pool); should that fail
        (a lock, a connection gone), through read_point."""
        reader = self.info.get("point_reader")
        if reader is not None:
            try:
                return await reader.rows(point, params)
            except reader.errors:
                pass
        return await self.read_point(_rows_on, point.statement, params)

    async def read_only(self, fn, *args, **kw):
        """`fn(session, ...)` for a short read (a few indexed statements, e.g. a student's last transactions):
        as read_point, on a Session of the read-only connection (SQLite) or the AUTOCOMMIT pool (PostgreSQL),
        its statements each on its own; on any error there, run_sync. Nothing it loads is cached across
        updates: each call reads the database afresh."""
        engine: Engine | None = self.info.get("point_reads")
        info = self.sync_session.info
        if engine is not None:
            try:
                with Session(engine, expire_on_commit=False, info=info) as session:
                    return fn(session, *args, **kw)
            except sa_exc.OperationalError:
                pass
        reads: AutocommitReads | None = self.info.get("autocommit_reads")
        if reads is not None:
            try:
                return await reads.run(_on_session, fn, info, *args, **kw)
            except (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError):
                pass
        return await self.run_sync(fn, *args, **kw)


class AutocommitReads:
    """PostgreSQL: a small pool of AUTOCOMMIT connections for the bot's per-update reads (read_point), with
    its own fair gate. No pre-ping (a stale connection fails the read, which then takes the main path)."""

    SIZE, OVERFLOW = 2, 3

    def __init__(self, url: str, timeout: float):
        self.engine = create_async_engine(
            async_url(url),
            isolation_level="AUTOCOMMIT",
            pool_size=self.SIZE,
            max_overflow=self.OVERFLOW,
            pool_timeout=timeout,
            connect_args={"timeout": CONNECT_TIMEOUT_S},
        )
        self.gate = ConnectionGate(self.SIZE + self.OVERFLOW, timeout)

    async def run(self, fn, *args, **kw):
        async with self.gate.turn():
            async with self.engine.connect() as conn:
                return await conn.run_sync(fn, *args, **kw)


def _rows_on(conn, statement, params) -> list[tuple]:
    return [tuple(row) for row in conn.execute(statement, params)]


def _on_session(conn, fn, info, *args, **kw):
    with Session(bind=conn, expire_on_commit=False, info=info) as session:
        return fn(session, *args, **kw)


def _on_connection(session: Session, fn, *args, **kw):
    return fn(session.connection(), *args, **kw)


def _point_read_pragmas(dbapi_conn, _record) -> None:
    """Runs after _install_sqlite_hooks' pragmas: a short busy wait, the event loop must not stall; and
    this connection only reads."""
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={POINT_READ_BUSY_MS}")
    cur.execute("PRAGMA query_only=ON")
    cur.close()
