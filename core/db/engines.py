"""Engines for SQLite and PostgreSQL: URLs per driver, SQLite tuned for money (WAL, FULL, BEGIN IMMEDIATE)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import aiosqlite
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.timeutil import CAIRO

WRITE = {"sqlite_begin": "IMMEDIATE"}
ANALYZE_FROM_ROWS = 10_000  # ledger rows before SQLite's planner is given statistics (optimize_database)
BUSY_TIMEOUT_MS = 30_000
# Waiting longer than this for a free pool connection (or for PostgreSQL to accept one) means the
# database is overloaded or down: fail fast, so a student gets an apology in seconds, not after 30.
POOL_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5
# A point read on the event loop's thread (BriefAsyncSession.read_point) waits at most this long for SQLite's
# lock (rare in WAL mode: readers do not wait for writers), then goes through aiosqlite instead.
POINT_READ_BUSY_MS = 50


def sync_url(url: str) -> str:
    u = make_url(url.replace("postgres://", "postgresql://", 1))
    if u.drivername in ("sqlite", "sqlite+aiosqlite"):
        return u.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    if u.drivername.startswith("postgresql"):
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def async_url(url: str) -> str:
    u = make_url(url.replace("postgres://", "postgresql://", 1))
    if u.drivername.startswith("sqlite"):
        return u.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if u.drivername.startswith("postgresql"):
        return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    return url


def _install_sqlite_hooks(engine: Engine) -> None:
    """Pragmas on connect; BEGIN (DEFERRED or IMMEDIATE) emitted by us, not by the driver."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite and aiosqlite both: take over transaction control.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", f"busy_timeout={BUSY_TIMEOUT_MS}", "foreign_keys=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()
        # SQLite has no time zones: reports bucket by Cairo local time (with its DST) through this.
        dbapi_conn.create_function("cairo_local", 1, _cairo_local, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is None:  # a lone statement, atomic by itself (BriefAsyncSession.read_point)
            return
        driver = conn.connection.driver_connection
        if mode == "IMMEDIATE" and isinstance(driver, InlineWriteConnection):
            driver.begin_write(lambda: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        else:
            conn.exec_driver_sql(f"BEGIN {mode}")


class InlineWriteConnection(aiosqlite.Connection):
    """aiosqlite runs every cursor call on the connection's own thread, a turn of the event loop each way. While
    this connection holds SQLite's write lock (from unit_of_work's BEGIN IMMEDIATE to its COMMIT), its calls
    run right here on the loop's thread instead: the transaction ends without yielding to the loop, so the
    lock is held for the statements' own time, not also for the loop's other work in between (which had
    writers in a burst queue past the write turn's timeout; bench/results.md has the figures).

    Only BEGIN IMMEDIATE may wait for another process's writer, and that wait goes to the thread. Once the lock
    is held, WAL's statements and COMMIT never wait on a lock."""

    inline = False

    def begin_write(self, wait_on_thread) -> None:
        """BEGIN IMMEDIATE right here if the lock is free (almost always: this process's writers take turns
        before); if another process holds it, `wait_on_thread` waits for it on aiosqlite's thread, up to
        busy_timeout, the event loop free meanwhile. From then on, until unit_of_work ends, calls run inline."""
        raw = self._conn
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute("BEGIN IMMEDIATE")
            busy = False
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            busy = True
        finally:
            raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if busy:
            wait_on_thread()
        self.inline = True

    async def _execute(self, fn, *args, **kwargs):
        if self.inline and self._connection is not None:
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


def _inline_write_connection(*args, **kwargs) -> InlineWriteConnection:
    connection = InlineWriteConnection(partial(sqlite3.connect, *args, **kwargs), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
    return connection


def _cairo_local(value: str | None) -> str | None:
    """'2026-07-01 22:30:00' (naive UTC, as stored) -> the same instant in Cairo local time."""
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value)).replace(tzinfo=timezone.utc).astimezone(CAIRO)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _ensure_sqlite_dir(url: str) -> None:
    u = make_url(url)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)


def _pool_defaults(url: str, kw: dict) -> dict:
    """A bounded wait for a pool connection, unless the caller chose its own pool (in-memory SQLite has no queue)."""
    in_memory = url.startswith("sqlite") and make_url(url).database in (None, "", ":memory:")
    if not in_memory and "poolclass" not in kw:
        kw.setdefault("pool_timeout", POOL_TIMEOUT_S)
    return kw


def create_sync_engine(url: str, **kw) -> Engine:
    url = sync_url(url)
    kw = _pool_defaults(url, kw)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, **kw)
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}, **kw)


def create_async_db_engine(url: str, **kw) -> AsyncEngine:
    url = async_url(url)
    kw = _pool_defaults(url, kw)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_async_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, **kw
        )  # inline writes
        _install_sqlite_hooks(engine.sync_engine)

        @event.listens_for(engine.sync_engine, "do_connect")
        def _connect(dialect, _record, cargs, cparams):
            return dialect.dbapi.connect(*cargs, async_creator_fn=_inline_write_connection, **cparams)

        @event.listens_for(engine.sync_engine, "checkin")
        def _checkin(dbapi_conn, _record):  # a transaction that failed half-way never leaves a connection inline
            if dbapi_conn is not None and isinstance(dbapi_conn.driver_connection, InlineWriteConnection):
                dbapi_conn.driver_connection.inline = False

        return engine
    return create_async_engine(url, pool_pre_ping=True, connect_args={"timeout": CONNECT_TIMEOUT_S}, **kw)
