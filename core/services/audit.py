"""Audit log: who did what to which record, with before and after, written in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import AuditLog
from core.services.common import Actor
from core.timeutil import as_utc


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return str(value)


def _dump(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value, default=_default, ensure_ascii=False, sort_keys=True)


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id,
    *,
    before: dict | None = None,
    after: dict | None = None,
    now: datetime | None = None,
) -> None:
    """Add an audit row to the caller's open transaction (never commits by itself)."""
    session.add(
        AuditLog(
            admin_id=actor.admin_id,
            actor=actor.name,
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            before=_dump(before),
            after=_dump(after),
            created_at=as_utc(now),
        )
    )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    before: dict | None
    after: dict | None
    created_at: datetime


def recent(session: Session, *, limit: int = 50, action: str | None = None) -> list[AuditEntry]:
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action == action)
    return [
        AuditEntry(
            r.id,
            r.actor,
            r.action,
            r.entity_type,
            r.entity_id,
            json.loads(r.before) if r.before else None,
            json.loads(r.after) if r.after else None,
            r.created_at,
        )
        for r in session.scalars(query)
    ]
