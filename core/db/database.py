"""A database as services see it: the service context (field cipher, defaults) and the sync and async factories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import SingletonThreadPool

from core.config import ConfigError, Settings
from core.crypto import FieldCipher, load_or_create_key
from core.db.engines import POOL_TIMEOUT_S, create_async_db_engine, create_sync_engine
from core.db.prepared import AsyncpgPointReader, SqlitePointReader
from core.db.sessions import AutocommitReads, BriefAsyncSession, ConnectionGate, WriteTurn, _point_read_pragmas
from core.money import set_currency


@dataclass(frozen=True)
class ServiceContext:
    """What services need beyond the session: travels in session.info, set by the factory."""

    cipher: FieldCipher
    admin_chat_ids: tuple[int, ...] = ()
    defaults: dict = field(default_factory=dict)
    sms_feed: bool = False  # SMS_WEBHOOK_SECRET is set: transfers arrive by themselves (topups.transfer_feed_in_use)


def context_of(session: Session) -> ServiceContext:
    ctx = session.info.get("codehub")
    if ctx is None:
        raise RuntimeError("session has no ServiceContext: build sessions with core.db.Database")
    return ctx


def build_context(settings: Settings) -> ServiceContext:
    set_currency(settings.currency)  # CURRENCY: the default of every formatted amount, bot and panel
    try:
        key = load_or_create_key(
            settings.field_encryption_key.get_secret_value() if settings.field_encryption_key else None,
            settings.data_dir,
        )
        cipher = FieldCipher(key)
    except ValueError:
        raise ConfigError(
            "FIELD_ENCRYPTION_KEY: malformed; expected a Fernet key (44 characters of url-safe "
            "base64), e.g. one printed by `codehub rotate-key`"
        ) from None
    return ServiceContext(
        cipher=cipher,
        admin_chat_ids=tuple(settings.admin_telegram_ids),
        sms_feed=settings.sms_webhook_secret is not None,
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
            info["gate"] = ConnectionGate(
                engine_kw.get("pool_size", 5) + max(0, engine_kw.get("max_overflow", 10)), timeout
            )
        self.point_engine: Engine | None = None
        self.point_reader: SqlitePointReader | AsyncpgPointReader | None = None  # PointReads (core.db.prepared)
        if self.engine.dialect.name == "sqlite":
            info["write_turn"] = WriteTurn(timeout)
            in_memory = make_url(url).database in (None, "", ":memory:")
            if not in_memory:  # an in-memory database is one connection's: reads go through it
                self.point_engine = create_sync_engine(
                    url, poolclass=SingletonThreadPool, execution_options={"sqlite_begin": None}
                )
                event.listen(self.point_engine, "connect", _point_read_pragmas)
                info["point_reads"] = self.point_engine
                self.point_reader = info["point_reader"] = SqlitePointReader(self.point_engine)
        self.reads: AutocommitReads | None = None
        if self.engine.dialect.name == "postgresql" and "poolclass" not in engine_kw:
            self.reads = info["autocommit_reads"] = AutocommitReads(url, timeout)
            self.point_reader = info["point_reader"] = AsyncpgPointReader(
                url, self.engine.dialect, AutocommitReads.SIZE + AutocommitReads.OVERFLOW, timeout
            )
        self.sessions = async_sessionmaker(self.engine, class_=BriefAsyncSession, expire_on_commit=False, info=info)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.point_reader is not None:
            await self.point_reader.close()
        if self.point_engine is not None:
            self.point_engine.dispose()
        if self.reads is not None:
            await self.reads.engine.dispose()
