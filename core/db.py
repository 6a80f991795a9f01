"""Engines, sessions and the unit of work; SQLite tuned for money (WAL, FULL, BEGIN IMMEDIATE)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

import migrations
from core.config import Settings
from core.crypto import FieldCipher, load_or_create_key
from core.money import set_currency
from core.timeutil import CAIRO

WRITE = {"sqlite_begin": "IMMEDIATE"}
BUSY_TIMEOUT_MS = 30_000


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


def create_sync_engine(url: str, **kw) -> Engine:
    url = sync_url(url)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                  "check_same_thread": False}, **kw)
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kw)


def create_async_db_engine(url: str, **kw) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kw)
        _install_sqlite_hooks(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kw)


def build_context(settings: Settings) -> ServiceContext:
    set_currency(settings.currency)  # CURRENCY: the default of every formatted amount, bot and panel
    key = load_or_create_key(
        settings.field_encryption_key.get_secret_value() if settings.field_encryption_key else None,
        settings.data_dir,
    )
    return ServiceContext(
        cipher=FieldCipher(key),
        admin_chat_ids=tuple(settings.admin_telegram_ids),
        defaults={
            "vodafone_cash_number": settings.vodafone_cash_number,
            "signup_bonus": str(settings.signup_bonus),
        },
    )


class Database:
    """Sync engine and sessions for the panel, CLI and services."""

    def __init__(self, url: str, context: ServiceContext, **engine_kw):
        self.url = url
        self.context = context
        self.engine = create_sync_engine(url, **engine_kw)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={"codehub": context})

    @classmethod
    def from_settings(cls, settings: Settings, **engine_kw) -> Database:
        return cls(settings.effective_database_url, build_context(settings), **engine_kw)

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
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False,
                                           info={"codehub": context})

    @classmethod
    def from_settings(cls, settings: Settings, **engine_kw) -> AsyncDatabase:
        return cls(settings.effective_database_url, build_context(settings), **engine_kw)

    async def dispose(self) -> None:
        await self.engine.dispose()


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
    session.connection(execution_options=WRITE if write else None)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database schema (Alembic), as the entry points do on start."""
    command.upgrade(alembic_config(url), revision)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg
