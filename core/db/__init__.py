"""The database: engines (engines), the bot's async sessions and point reads (sessions), the service context and the
two factories (database), the unit of work (uow), schema upgrades (migrate). Imports no service.

Services and interfaces import from here (`from core.db import Database, unit_of_work`); opening the database of a
starting process, with its key check, is core.startup's.
"""

from __future__ import annotations

from core.db.database import AsyncDatabase, Database, ServiceContext, build_context, context_of
from core.db.engines import (
    ANALYZE_FROM_ROWS,
    BUSY_TIMEOUT_MS,
    CONNECT_TIMEOUT_S,
    POINT_READ_BUSY_MS,
    POOL_TIMEOUT_S,
    WRITE,
    async_url,
    create_async_db_engine,
    create_sync_engine,
    sync_url,
)
from core.db.migrate import alembic_config, migrate, migrate_in_child, optimize_database
from core.db.sessions import AutocommitReads, BriefAsyncSession, ConnectionGate, WriteTurn
from core.db.uow import unit_of_work

__all__ = [
    "ANALYZE_FROM_ROWS",
    "BUSY_TIMEOUT_MS",
    "CONNECT_TIMEOUT_S",
    "POINT_READ_BUSY_MS",
    "POOL_TIMEOUT_S",
    "WRITE",
    "AsyncDatabase",
    "AutocommitReads",
    "BriefAsyncSession",
    "ConnectionGate",
    "Database",
    "ServiceContext",
    "WriteTurn",
    "alembic_config",
    "async_url",
    "build_context",
    "context_of",
    "create_async_db_engine",
    "create_sync_engine",
    "migrate",
    "migrate_in_child",
    "optimize_database",
    "sync_url",
    "unit_of_work",
]
