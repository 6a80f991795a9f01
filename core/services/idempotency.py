"""Idempotency-Key for the student API: the first response of a (student, operation, key) is stored and replayed.

The money services are idempotent by themselves (the key also goes to the ledger row, UNIQUE per
student), so a retry can never move money twice. This table adds what HTTP clients expect on top
(draft-ietf-httpapi-idempotency-key-header): the same key with another body is refused, a request
still in flight answers 409, and a retry after completion gets the stored response byte for byte.
A request that crashed in flight leaves a claim that a retry takes over after CLAIM_TIMEOUT; the
service then replays its ledger row, so the response is the same as if nothing had crashed.
Stored responses are kept for RETENTION (purge_expired); the ledger keeps the key for ever.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import DomainError
from core.models import IdempotencyRecord
from core.services.common import check_key
from core.services.notifications import insert_ignore
from core.timeutil import as_utc

CLAIM_TIMEOUT = timedelta(seconds=60)
RETENTION = timedelta(days=30)


class KeyReused(DomainError):
    """The same Idempotency-Key came with a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 422


class RequestInFlight(DomainError):
    code = "REQUEST_IN_FLIGHT"
    http_status = 409


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict


def fingerprint(method: str, path: str, body: object) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def scoped(operation: str, key: str) -> str:
    """A key is the student's within one operation (e.g. "post_book"): the same key sent to another endpoint is
    another key, and a stored response is only ever replayed for the operation that made it."""
    check_key(key)
    return f"{operation}:{key}"


def claim(
    session: Session, user_id: int, key: str, request_fingerprint: str, *, operation: str, now: datetime | None = None
) -> StoredResponse | None:
    """None: go ahead (this request now holds the key). Else the stored response to replay.

    Raises KeyReused (another body) or RequestInFlight (the first request has not finished).
    """
    key = scoped(operation, key)
    now = as_utc(now)
    with unit_of_work(session):
        if (
            insert_ignore(
                session,
                IdempotencyRecord,
                dict(user_id=user_id, key=key, fingerprint=request_fingerprint, created_at=now),
                ["user_id", "key"],
            )
            is not None
        ):
            return None
        row = session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        )
        if row.fingerprint != request_fingerprint:
            raise KeyReused("this Idempotency-Key was used for a different request")
        if row.status_code is not None:
            return StoredResponse(row.status_code, json.loads(row.response or "{}"))
        # Still in flight. A claim older than the timeout belongs to a request that died: take it over.
        won = session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == row.id,
                IdempotencyRecord.status_code.is_(None),
                IdempotencyRecord.created_at < now - CLAIM_TIMEOUT,
            )
            .values(created_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            raise RequestInFlight("the first request with this Idempotency-Key is still being processed")
        return None


def complete(
    session: Session,
    user_id: int,
    key: str,
    status_code: int,
    body: dict,
    *,
    operation: str,
    now: datetime | None = None,
) -> None:
    """Store the response for replay."""
    key = scoped(operation, key)
    with unit_of_work(session):
        session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.user_id == user_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.status_code.is_(None),
            )
            .values(
                status_code=status_code,
                response=json.dumps(body, ensure_ascii=False, default=str),
                completed_at=as_utc(now),
            )
            .execution_options(synchronize_session=False)
        )


def release(session: Session, user_id: int, key: str, *, operation: str) -> None:
    """Forget an unfinished claim (the request failed unexpectedly): a retry starts afresh."""
    key = scoped(operation, key)
    with unit_of_work(session):
        session.execute(
            delete(IdempotencyRecord)
            .where(
                IdempotencyRecord.user_id == user_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.status_code.is_(None),
            )
            .execution_options(synchronize_session=False)
        )


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete stored responses older than RETENTION (for a scheduler job)."""
    with unit_of_work(session):
        return session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.created_at < as_utc(now) - RETENTION)
            .execution_options(synchronize_session=False)
        ).rowcount
