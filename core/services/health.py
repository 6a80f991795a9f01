"""Readiness and operational gauges for health and metrics endpoints (the edges only format them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from core.models import Notification, NotificationStatus
from core.services.topups import count_pending_topups
from core.timeutil import utcnow

OUTBOX_WAITING = (NotificationStatus.PENDING, NotificationStatus.SENDING)


def database_ready(engine: Engine) -> str | None:
    """None when the database answers `SELECT 1`, else a one-line reason (no secrets in it)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"database unreachable: {type(exc).__name__}"
    return None


@dataclass(frozen=True)
class Gauges:
    pending_topups: int
    outbox_backlog: int
    outbox_oldest_age_seconds: float  # 0 when the outbox is empty


def gauges(session: Session, *, now: datetime | None = None) -> Gauges:
    """Pending top-ups, and the outbox's waiting messages and the age of the oldest (read-only)."""
    now = now or utcnow()
    count, oldest = session.execute(
        select(func.count(), func.min(Notification.created_at)).where(Notification.status.in_(OUTBOX_WAITING))
    ).one()
    pending = count_pending_topups(session)
    session.rollback()  # end the read snapshot
    age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return Gauges(pending, count or 0, age)


async def database_ready_async(engine: AsyncEngine) -> str | None:
    """database_ready for the bot's async engine."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"database unreachable: {type(exc).__name__}"
    return None
