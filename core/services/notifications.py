"""The outbox: services enqueue messages in their own transaction; the bot claims and delivers them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.db import context_of, unit_of_work
from core.models import Notification, NotificationStatus, User
from core.timeutil import as_utc

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=60)


def insert_ignore(session: Session, model, values: dict, conflict: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id (SQLite and PostgreSQL)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    return session.scalar(stmt.returning(model.id))


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict | None = None,
    user_id: int | None = None,
    chat_id: int | None = None,
    audience: str = "user",
    subject: str | None = None,
    dedupe_key: str | None = None,
    broadcast_id: int | None = None,
    now: datetime | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Add a message to the caller's transaction. Returns its id, or None when there is no
    recipient (a mentor without Telegram) or the dedupe_key was already used."""
    if audience == "user" and chat_id is None:
        if user_id is None:
            raise ValueError("a user notification needs user_id or chat_id")
        chat_id = session.scalar(select(User.telegram_id).where(User.id == user_id))
        if chat_id is None:
            return None
    now = as_utc(now)
    values = dict(
        kind=kind,
        payload=json.dumps(payload or {}, ensure_ascii=False, default=str),
        user_id=user_id,
        chat_id=chat_id,
        audience=audience,
        subject=subject,
        dedupe_key=dedupe_key,
        broadcast_id=broadcast_id,
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=as_utc(not_before) if not_before else now,
        created_at=now,
    )
    if dedupe_key is None:
        row = Notification(**values)
        session.add(row)
        session.flush()
        return row.id
    return insert_ignore(session, Notification, values, ["dedupe_key"])


def notify_admins(
    session: Session,
    *,
    kind: str,
    payload: dict,
    subject: str | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """One row for all admins; delivery fans it out to every ADMIN_TELEGRAM_IDS chat."""
    return enqueue(
        session, kind=kind, payload=payload, audience="admins", subject=subject, dedupe_key=dedupe_key, now=now
    )


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    chat_id: int
    user_id: int | None
    kind: str
    payload: dict
    subject: str | None
    attempts: int
    language: str | None
    broadcast_id: int | None


def _due(now: datetime):
    return or_(
        and_(Notification.status == NotificationStatus.PENDING, Notification.next_attempt_at <= now),
        and_(Notification.status == NotificationStatus.SENDING, Notification.claimed_at < now - LEASE),
    )


def _fan_out_admin_rows(session: Session, now: datetime) -> None:
    admins = context_of(session).admin_chat_ids
    parents = session.scalars(
        select(Notification)
        .where(
            Notification.audience == "admins",
            Notification.status == NotificationStatus.PENDING,
            Notification.next_attempt_at <= now,
        )
        .limit(100)
    ).all()
    for parent in parents:
        won = session.execute(
            update(Notification)
            .where(Notification.id == parent.id, Notification.status == NotificationStatus.PENDING)
            .values(status=NotificationStatus.SENT, sent_at=now)
        ).rowcount
        if not won:
            continue
        for chat in admins:
            insert_ignore(
                session,
                Notification,
                dict(
                    kind=parent.kind,
                    payload=parent.payload,
                    chat_id=chat,
                    audience="admin",
                    subject=parent.subject,
                    dedupe_key=f"n{parent.id}:admin:{chat}",
                    status=NotificationStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                ),
                ["dedupe_key"],
            )


def claim_due(session: Session, worker: str, *, now: datetime | None = None, limit: int = 25) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this worker; each row is won by exactly one worker."""
    now = as_utc(now)
    with unit_of_work(session):
        _fan_out_admin_rows(session, now)
        # Broadcast rows go after everything else that is due: a top-up decision must not wait
        # behind thousands of announcements sent at 25 a second.
        ids = session.scalars(
            select(Notification.id)
            .where(_due(now), Notification.audience != "admins")
            .order_by(Notification.broadcast_id.is_not(None), Notification.id)
            .limit(limit)
        ).all()
        claimed = []
        for nid in ids:
            won = session.execute(
                update(Notification)
                .where(Notification.id == nid, _due(now))
                .values(
                    status=NotificationStatus.SENDING,
                    claimed_by=worker,
                    claimed_at=now,
                    attempts=Notification.attempts + 1,
                )
            ).rowcount
            if won:
                claimed.append(nid)
        rows = (
            session.execute(
                select(Notification, User.language)
                .outerjoin(User, User.id == Notification.user_id)
                .where(Notification.id.in_(claimed))
                .order_by(Notification.id)
            ).all()
            if claimed
            else []
        )
        return [
            OutboxMessage(
                n.id,
                n.chat_id,
                n.user_id,
                n.kind,
                json.loads(n.payload or "{}"),
                n.subject,
                n.attempts,
                lang,
                n.broadcast_id,
            )
            for n, lang in rows
        ]


def mark_sent(
    session: Session, notification_id: int, *, message_id: int | None = None, now: datetime | None = None
) -> bool:
    with unit_of_work(session):
        return bool(
            session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.status == NotificationStatus.SENDING)
                .values(status=NotificationStatus.SENT, sent_at=as_utc(now), message_id=message_id, last_error=None)
            ).rowcount
        )


def mark_retry(
    session: Session, notification_id: int, error: str, *, retry_at: datetime, count_attempt: bool = True
) -> str:
    """Put a message back for a later try, or fail it after MAX_ATTEMPTS. Returns the new status."""
    with unit_of_work(session):
        row = session.get(Notification, notification_id)
        if row is None or row.status != NotificationStatus.SENDING:
            return row.status.value if row else "MISSING"
        if not count_attempt:
            row.attempts = max(0, row.attempts - 1)
        if row.attempts >= MAX_ATTEMPTS:
            row.status = NotificationStatus.FAILED
        else:
            row.status = NotificationStatus.PENDING
            row.next_attempt_at = as_utc(retry_at)
        row.last_error = error[:500]
        return row.status.value


def release(session: Session, notification_ids: list[int], worker: str) -> int:
    """Give claimed but unsent messages back (a worker shutting down), without counting an attempt."""
    if not notification_ids:
        return 0
    with unit_of_work(session):
        return session.execute(
            update(Notification)
            .where(
                Notification.id.in_(notification_ids),
                Notification.status == NotificationStatus.SENDING,
                Notification.claimed_by == worker,
            )
            .values(
                status=NotificationStatus.PENDING, claimed_by=None, claimed_at=None, attempts=Notification.attempts - 1
            )
            .execution_options(synchronize_session=False)
        ).rowcount


def mark_failed(session: Session, notification_id: int, error: str) -> None:
    with unit_of_work(session):
        session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(status=NotificationStatus.FAILED, last_error=error[:500])
        )


def mark_chat_blocked(session: Session, chat_id: int, *, now: datetime | None = None) -> int:
    """The user blocked the bot: mark them, and fail what waits for them (no endless retries)."""
    with unit_of_work(session):
        session.execute(update(User).where(User.telegram_id == chat_id).values(bot_blocked_at=as_utc(now)))
        return session.execute(
            update(Notification)
            .where(
                Notification.chat_id == chat_id,
                Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
            )
            .values(status=NotificationStatus.FAILED, last_error="blocked by user")
        ).rowcount


def sent_messages(session: Session, subject: str, *, audience: str = "admin") -> list[tuple[int, int]]:
    """(chat_id, message_id) of delivered messages about a subject, e.g. to edit other admins' copies."""
    return [
        (r.chat_id, r.message_id)
        for r in session.execute(
            select(Notification.chat_id, Notification.message_id).where(
                Notification.subject == subject,
                Notification.audience == audience,
                Notification.status == NotificationStatus.SENT,
                Notification.message_id.is_not(None),
            )
        )
    ]


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]))
        )
        or 0
    )


def withdraw(session: Session, subject: str, kind: str) -> int:
    """Messages of `kind` about `subject` still waiting are failed as withdrawn, in the caller's transaction (a
    reminder of a session that was moved or cancelled must never reach anyone)."""
    return session.execute(
        update(Notification)
        .where(
            Notification.subject == subject,
            Notification.kind == kind,
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.FAILED, last_error="withdrawn: the session was moved or cancelled")
    ).rowcount
