"""Point reads compiled once: a SELECT by key on the driver's own connection, its values read as SQLAlchemy would."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.sql import Select


class PointRead:
    """A SELECT by key (the bot reads the student and the FSM state with one on every update), compiled once per
    dialect. BriefAsyncSession.read_rows runs it on the driver's connection: no SQLAlchemy Connection, no
    statement cache key built per call, no greenlet hand-off. Its parameters and values pass through the column
    types' own processors, so a row reads as `connection.execute(statement, params)` gives it."""

    def __init__(self, statement: Select):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return found


class _Compiled:
    def __init__(self, statement: Select, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())
        binds = {name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names}
        self.binds = tuple((name, binds[name]) for name in self.names)
        # values the statement carries itself (a literal the compiler added, e.g. SQLite's OFFSET 0)
        self.fixed = {
            name: compiled.binds[name].effective_value for name in self.names if not compiled.binds[name].required
        }
        self.results: tuple[Callable[[Any], Any] | None, ...] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns
        )

    def arguments(self, params: dict) -> list:
        values = {**self.fixed, **params} if self.fixed else params
        return [values[name] if proc is None else proc(values[name]) for name, proc in self.binds]

    def row(self, values) -> tuple:
        return tuple(value if proc is None else proc(value) for proc, value in zip(self.results, values))


class SqlitePointReader:
    """SQLite: one read-only pysqlite connection of the event loop's thread (the point-read engine's), held for
    the database's life. A statement is atomic by itself, so no BEGIN; WAL readers do not wait for writers."""

    errors = (sqlite3.OperationalError,)

    def __init__(self, engine: Engine):
        self.engine = engine
        self.listeners: list[Callable[[str], None]] = []  # called with each statement's SQL (tests, bench)
        self._conn = None

    async def rows(self, point: PointRead, params: dict) -> list[tuple]:
        if self._conn is None:
            self._conn = self.engine.raw_connection()
        compiled = point.compiled(self.engine.dialect)
        for listen in self.listeners:
            listen(compiled.sql)
        cursor = self._conn.driver_connection.execute(compiled.sql, compiled.arguments(params))
        try:
            return [compiled.row(values) for values in cursor.fetchall()]
        finally:
            cursor.close()

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class AsyncpgPointReader:
    """PostgreSQL: a small asyncpg pool of its own (AUTOCOMMIT, each statement prepared once per connection):
    one round trip per read, without SQLAlchemy's async adaptation around it."""

    def __init__(self, url: str, dialect: Dialect, size: int, timeout: float):
        import asyncpg

        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.dialect, self.size, self.timeout = dialect, size, timeout
        self.errors = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, asyncio.TimeoutError)
        self.listeners: list[Callable[[str], None]] = []  # called with each statement's SQL (tests, bench)
        self._pool = None
        self._opening: asyncio.Lock | None = None

    async def _open(self):
        import asyncpg

        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=self.size,
                    timeout=self.timeout,
                    command_timeout=self.timeout,
                    reset=_nothing_to_reset,
                )
        return self._pool

    async def rows(self, point: PointRead, params: dict) -> list[tuple]:
        pool = self._pool or await self._open()
        compiled = point.compiled(self.dialect)
        for listen in self.listeners:
            listen(compiled.sql)
        async with pool.acquire(timeout=self.timeout) as conn:
            records = await conn.fetch(compiled.sql, *compiled.arguments(params))
        return [compiled.row(record.values()) for record in records]

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _nothing_to_reset(_conn) -> None:
    """These connections only ever run single SELECTs outside a transaction: no session state to undo, so a
    connection goes back to the pool without asyncpg's default RESET ALL round trip (an open transaction
    would still be rolled back by asyncpg itself)."""
