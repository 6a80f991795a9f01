"""Engines, sessions and the unit of work; SQLite tuned for money (WAL, FULL, BEGIN IMMEDIATE)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool, SingletonThreadPool
from sqlalchemy.util import await_

from core.config import ConfigError, Settings
from core.crypto import FieldCipher, load_or_create_key
from core.money import set_currency
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


@dataclass(frozen=True)
class ServiceContext:
    """What services need beyond the session: travels in session.info, set by the factory."""

    cipher: FieldCipher
    admin_chat_ids: tuple[int, ...] = ()
    defaults: dict = field(default_factory=dict)


def context_of(session: Session) -> ServiceContext:
    ctx = session.info.get("codehub")
    if ctx is None:
        raise RuntimeError("session has no ServiceContext: build sessions with core.db.Database")
    return ctx


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
        for pragma in ("journal_mode=WAL", "synchronous=FULL", f"busy_timeout={BUSY_TIMEOUT_MS}",
                       "foreign_keys=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()
        # SQLite has no time zones: reports bucket by Cairo local time (with its DST) through this.
        dbapi_conn.create_function("cairo_local", 1, _cairo_local, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is not None:  # None: a lone statement, atomic by itself (BriefAsyncSession.read_point)
            conn.exec_driver_sql(f"BEGIN {mode}")


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
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                  "check_same_thread": False}, **kw)
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}, **kw)


def create_async_db_engine(url: str, **kw) -> AsyncEngine:
    url = async_url(url)
    kw = _pool_defaults(url, kw)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kw)
        _install_sqlite_hooks(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, connect_args={"timeout": CONNECT_TIMEOUT_S}, **kw)


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
        BEGIN, one SELECT and COMMIT: ~1 ms on the loaded 2-core machine, the largest part of a bot update's
        cost in the burst profile). In WAL mode a reader never waits for a writer; should it meet a lock
        anyway (a checkpoint, a recovery), it gives up after POINT_READ_BUSY_MS and the read goes through
        aiosqlite. Never for writes: the connection is opened with `query_only`.

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
        self.engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT", pool_size=self.SIZE,
                                          max_overflow=self.OVERFLOW, pool_timeout=timeout,
                                          connect_args={"timeout": CONNECT_TIMEOUT_S})
        self.gate = ConnectionGate(self.SIZE + self.OVERFLOW, timeout)

    async def run(self, fn, *args, **kw):
        async with self.gate.turn():
            async with self.engine.connect() as conn:
                return await conn.run_sync(fn, *args, **kw)


def _on_session(conn, fn, info, *args, **kw):
    with Session(bind=conn, expire_on_commit=False, info=info) as session:
        return fn(session, *args, **kw)


def _on_connection(session: Session, fn, *args, **kw):
    return fn(session.connection(), *args, **kw)


def build_context(settings: Settings) -> ServiceContext:
    set_currency(settings.currency)  # CURRENCY: the default of every formatted amount, bot and panel
    try:
        key = load_or_create_key(
            settings.field_encryption_key.get_secret_value() if settings.field_encryption_key else None,
            settings.data_dir,
        )
        cipher = FieldCipher(key)
    except ValueError:
        raise ConfigError("FIELD_ENCRYPTION_KEY: malformed; expected a Fernet key (44 characters of url-safe "
                          "base64), e.g. one printed by `codehub rotate-key`") from None
    return ServiceContext(
        cipher=cipher,
        admin_chat_ids=tuple(settings.admin_telegram_ids),
        defaults={
            "vodafone_cash_number": settings.vodafone_cash_number,
            "signup_bonus": str(settings.signup_bonus),
        },
    )


def startup_context(settings: Settings) -> ServiceContext:
    """build_context, checked against the database (one row) before a process starts.

    FIELD_ENCRYPTION_KEY unset, no key file in DATA_DIR, but encrypted numbers stored: a new key would
    never read them, so none is generated. A malformed key, or one that cannot decrypt the newest stored
    number, stops start-up too. Each is a ConfigError whose message is one line naming the variable.
    """
    from core.services.keys import check_key, sample_ciphertext
    engine = create_sync_engine(settings.effective_database_url)
    try:
        try:
            conn = engine.connect()
        except sa_exc.DBAPIError as exc:  # a database that is down now may be up in a minute: the updates
            # get an apology meanwhile, and the key is checked by the next start
            logging.getLogger(__name__).warning(
                "could not check FIELD_ENCRYPTION_KEY against the database (%s)", type(exc.orig).__name__)
            return build_context(settings)
        with conn:
            token = sample_ciphertext(conn)
        if token is not None and settings.field_encryption_key is None \
                and not (settings.data_dir / "field_encryption.key").exists():
            raise ConfigError(
                f"FIELD_ENCRYPTION_KEY: not set, and no key file in {settings.data_dir}, but the "
                "database holds encrypted sender numbers; set it to the key they were encrypted with")
        context = build_context(settings)
        check_key(token, context.cipher)
        return context
    finally:
        engine.dispose()


class Database:
    """Sync engine and sessions for the panel, CLI and services."""

    def __init__(self, url: str, context: ServiceContext, **engine_kw):
        self.url = url
        self.context = context
        self.engine = create_sync_engine(url, **engine_kw)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={"codehub": context})

    @classmethod
    def from_settings(cls, settings: Settings, **engine_kw) -> Database:
        """A database for a process starting up: stops with ConfigError if the field key is missing,
        malformed or cannot read the stored numbers (see startup_context)."""
        return cls(settings.effective_database_url, startup_context(settings), **engine_kw)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


class AsyncDatabase:
    """Async engine for the bot; services run on it with `await session.run_sync(fn, ...)`."""

    def __init__(self, url: str, context: ServiceContext, **engine_kw):
        self.url = url
        self.context = context
        self.engine = create_async_db_engine(url, **engine_kw)
        timeout = engine_kw.get("pool_timeout", POOL_TIMEOUT_S)
        info: dict = {"codehub": context}
        if "poolclass" not in engine_kw:  # the default queue pool: 5 + 10 connections unless told otherwise
            info["gate"] = ConnectionGate(engine_kw.get("pool_size", 5) + max(0, engine_kw.get("max_overflow", 10)),
                                          timeout)
        self.point_engine: Engine | None = None
        if self.engine.dialect.name == "sqlite":
            info["write_turn"] = WriteTurn(timeout)
            in_memory = make_url(url).database in (None, "", ":memory:")
            if not in_memory:  # an in-memory database is one connection's: reads go through it
                self.point_engine = create_sync_engine(url, poolclass=SingletonThreadPool,
                                                       execution_options={"sqlite_begin": None})
                event.listen(self.point_engine, "connect", _point_read_pragmas)
                info["point_reads"] = self.point_engine
        self.reads: AutocommitReads | None = None
        if self.engine.dialect.name == "postgresql" and "poolclass" not in engine_kw:
            self.reads = info["autocommit_reads"] = AutocommitReads(url, timeout)
        self.sessions = async_sessionmaker(self.engine, class_=BriefAsyncSession, expire_on_commit=False, info=info)

    @classmethod
    def from_settings(cls, settings: Settings, **engine_kw) -> AsyncDatabase:
        return cls(settings.effective_database_url, startup_context(settings), **engine_kw)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.point_engine is not None:
            self.point_engine.dispose()
        if self.reads is not None:
            await self.reads.engine.dispose()


def _point_read_pragmas(dbapi_conn, _record) -> None:
    """Runs after _install_sqlite_hooks' pragmas: a short busy wait, the event loop must not stall; and
    this connection only reads."""
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={POINT_READ_BUSY_MS}")
    cur.execute("PRAGMA query_only=ON")
    cur.close()


@contextmanager
def unit_of_work(session: Session, *, write: bool = True) -> Iterator[Session]:
    """One database transaction: commit on success, roll back on any error.

    Write transactions start with BEGIN IMMEDIATE on SQLite, so concurrent writers queue on
    the lock instead of failing later on a stale snapshot.
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unit_of_work: the session has unflushed changes from its caller")
        session.rollback()  # end a read snapshot left open by the caller
    turn: WriteTurn | None = session.info.get("write_turn") if write else None
    if turn is not None:
        turn.acquire()  # no connection is held while waiting
    try:
        session.connection(execution_options=WRITE if write else None)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    finally:
        if turn is not None:
            turn.release()


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database schema (Alembic), then refresh the planner's statistics, as the entry points
    do on start."""
    from alembic import command  # here, not at the top: the bot process never loads alembic (~10 MB)
    command.upgrade(alembic_config(url), revision)
    if sync_url(url).startswith("sqlite"):
        optimize_database(url)


def migrate_in_child(url: str) -> None:
    """migrate() in a short-lived child process, for a long-running process (the bot): it then never holds
    alembic, mako and the migration scripts in memory (~10 MB of its resident size). Raises RuntimeError
    when the migration fails (its traceback is on stderr)."""
    import os
    import subprocess
    import sys
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, CODEHUB_MIGRATE_URL=url,  # not on the command line: it may hold a password
               PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    code = "import os; from core.db import migrate; migrate(os.environ['CODEHUB_MIGRATE_URL'])"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=root)
    if result.returncode != 0:
        raise RuntimeError(f"the database migration failed (exit status {result.returncode})")


def optimize_database(url: str) -> None:
    """Give the query planner table statistics.

    SQLite never gathers them by itself: without `sqlite_stat1` it guesses, and at a million ledger rows it
    guessed wrong (the dashboard's revenue join walked the status index: ~45 min). `analysis_limit` bounds
    ANALYZE to a sample per index, so this takes milliseconds even on a large file. PostgreSQL's autovacuum
    analyses on its own; an explicit ANALYZE helps right after a bulk load."""
    engine = create_sync_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                # Statistics of a small ledger mislead the planner once it grows (a 100-student burst on a
                # fresh file then waited on full scans): analyse only a ledger large enough to be worth it;
                # the bot's scheduler calls this again every night (bot/outbox/scheduler.py).
                size = conn.exec_driver_sql("SELECT max(id) FROM transactions").scalar() or 0
                if size < ANALYZE_FROM_ROWS:
                    conn.rollback()
                    return
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")
                conn.exec_driver_sql("PRAGMA optimize")
            else:  # VACUUM also fills the visibility map, which index-only scans need
                conn.commit()
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE)")
            conn.commit()
    finally:
        engine.dispose()


def alembic_config(url: str):
    """Alembic's Config for `url` (alembic imported here: the bot never needs it at run time)."""
    from alembic.config import Config

    import migrations
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg
