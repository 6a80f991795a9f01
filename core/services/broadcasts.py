"""Broadcasts: an announcement to an audience of students, queued in the outbox in one bulk statement."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, case, cast, exists, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import InvalidInput
from core.models import (
    Broadcast,
    Enrollment,
    MentorshipBooking,
    Notification,
    NotificationKind,
    NotificationStatus,
    Platform,
    User,
)
from core.services import audit
from core.services.common import Actor
from core.text import check_text
from core.timeutil import UTCDateTime, as_utc

AUDIENCES = ("all", "platform", "booking")
MAX_TEXT = 4000  # Telegram allows 4096 characters; leave room for a header
BLOCKED_ERROR = "blocked by user"  # what notifications.mark_chat_blocked writes
REPEAT_WINDOW = timedelta(seconds=60)  # the same announcement again within it is a double submit


@dataclass(frozen=True)
class BroadcastInfo:
    id: int
    text: str
    audience: str
    recipients: int
    created_at: datetime
    platform_id: int | None = None
    created_by: str = ""
    progress: dict | None = None  # filled by list_broadcasts
    replayed: bool = False  # a double submit returned the first broadcast


def _check_audience(session: Session, audience: str, platform_id: int | None) -> None:
    if audience not in AUDIENCES:
        raise InvalidInput(
            "choose an audience: all students, a platform's students, or students with a booking", field="audience"
        )
    if audience == "platform":
        if platform_id is None:
            raise InvalidInput("choose the platform whose students should get it", field="platform_id")
        if session.get(Platform, platform_id) is None:
            raise InvalidInput("that platform does not exist", field="platform_id", id=platform_id)


def _recipients_where(audience: str, platform_id: int | None, now: datetime) -> list:
    """Conditions on User for the audience: reachable (on Telegram, not blocked either way)."""
    conditions = [User.telegram_id.is_not(None), User.is_blocked.is_(False), User.bot_blocked_at.is_(None)]
    if audience == "platform":
        conditions.append(
            exists().where(
                Enrollment.user_id == User.id,
                Enrollment.platform_id == platform_id,
                Enrollment.is_active.is_(True),
                or_(Enrollment.expires_at.is_(None), Enrollment.expires_at > now),
            )
        )
    elif audience == "booking":
        conditions.append(exists().where(MentorshipBooking.student_id == User.id))
    return conditions


def audience_count(
    session: Session, audience: str, platform_id: int | None = None, *, now: datetime | None = None
) -> int:
    """How many students a broadcast to this audience would reach right now."""
    _check_audience(session, audience, platform_id)
    where = _recipients_where(audience, platform_id, as_utc(now))
    return session.scalar(select(func.count(User.id)).where(*where)) or 0


def preview_recipients(
    session: Session, audience: str, platform_id: int | None = None, *, limit: int = 5, now: datetime | None = None
) -> list[str]:
    """A few recipients' names, so the owner can check the audience before sending."""
    _check_audience(session, audience, platform_id)
    where = _recipients_where(audience, platform_id, as_utc(now))
    rows = session.execute(
        select(User.full_name, User.username).where(*where).order_by(User.full_name, User.id).limit(limit)
    ).all()
    return [name or (f"@{username}" if username else "?") for name, username in rows]


def _clean(text: str | None) -> str:
    text = check_text(text or "", field="text").strip()
    if not text:
        raise InvalidInput("write the announcement first", field="text")
    if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:  # Telegram counts UTF-16 units: an emoji is 2
        raise InvalidInput(
            f"the announcement is too long (at most {MAX_TEXT} characters)", field="text", limit=MAX_TEXT
        )
    return text


def create_broadcast(
    session: Session,
    text: str,
    audience: str,
    *,
    platform_id: int | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> BroadcastInfo:
    """Record the broadcast and queue one outbox row per recipient, in one transaction.

    The rows are written by a single INSERT ... SELECT from users, so 1,000 recipients cost one
    statement; each carries dedupe_key broadcast:{id}:{user_id}. The bot sends them at its own pace.
    """
    text = _clean(text)
    now = as_utc(now)
    if audience != "platform":
        platform_id = None
    with unit_of_work(session):
        _check_audience(session, audience, platform_id)
        first = session.scalar(
            select(Broadcast)
            .where(
                Broadcast.text == text,
                Broadcast.audience == audience,
                Broadcast.created_by == actor.name,
                Broadcast.platform_id.is_(None) if platform_id is None else Broadcast.platform_id == platform_id,
                Broadcast.created_at >= now - REPEAT_WINDOW,
            )
            .order_by(Broadcast.id)
            .limit(1)
        )
        if first is not None:
            return _info(first, replayed=True)
        broadcast = Broadcast(
            text=text, audience=audience, platform_id=platform_id, created_by=actor.name, recipients=0, created_at=now
        )
        session.add(broadcast)
        session.flush()
        bid = broadcast.id
        rows = (
            select(
                User.id,
                User.telegram_id,
                literal("user", String),
                literal(NotificationKind.BROADCAST.value, String),
                literal(json.dumps({"text": text}, ensure_ascii=False), String),
                literal(f"broadcast:{bid}", String),
                literal(f"broadcast:{bid}:", String) + cast(User.id, String),
                literal(bid, Integer),
                literal(NotificationStatus.PENDING.value, String),
                literal(0, Integer),
                literal(now, UTCDateTime),
                literal(now, UTCDateTime),
            )
            .where(*_recipients_where(audience, platform_id, now))
            .order_by(User.id)
        )
        n = Notification
        session.execute(
            insert(n).from_select(
                [
                    n.user_id,
                    n.chat_id,
                    n.audience,
                    n.kind,
                    n.payload,
                    n.subject,
                    n.dedupe_key,
                    n.broadcast_id,
                    n.status,
                    n.attempts,
                    n.next_attempt_at,
                    n.created_at,
                ],
                rows,
            )
        )
        broadcast.recipients = session.scalar(select(func.count()).select_from(n).where(n.broadcast_id == bid)) or 0
        audit.record(
            session,
            actor,
            "broadcast.create",
            "broadcast",
            bid,
            now=now,
            after={"audience": audience, "platform_id": platform_id, "recipients": broadcast.recipients, "text": text},
        )
        return _info(broadcast)


def _info(b: Broadcast, progress: dict | None = None, replayed: bool = False) -> BroadcastInfo:
    return BroadcastInfo(
        b.id, b.text, b.audience, b.recipients, b.created_at, b.platform_id, b.created_by, progress, replayed
    )


def _progress_rows(session: Session, broadcast_ids):
    """(broadcast_id, status, rows, of which blocked) in one GROUP BY."""
    n = Notification
    blocked = func.sum(case((n.last_error == BLOCKED_ERROR, 1), else_=0))
    return session.execute(
        select(n.broadcast_id, n.status, func.count(), blocked)
        .where(n.broadcast_id.in_(broadcast_ids))
        .group_by(n.broadcast_id, n.status)
    ).all()


def _empty() -> dict:
    return {"total": 0, "sent": 0, "failed": 0, "blocked": 0, "pending": 0}


def _add(progress: dict, status: NotificationStatus, count: int, blocked: int) -> None:
    count, blocked = int(count), int(blocked or 0)
    progress["total"] += count
    if status == NotificationStatus.SENT:
        progress["sent"] += count
    elif status == NotificationStatus.FAILED:
        progress["blocked"] += blocked
        progress["failed"] += count - blocked
    else:  # PENDING, or SENDING (claimed, in flight)
        progress["pending"] += count


def broadcast_progress(session: Session, broadcast_id: int) -> dict:
    """{total, sent, failed, blocked, pending}: failed excludes students who blocked the bot."""
    progress = _empty()
    for _bid, status, count, blocked in _progress_rows(session, [broadcast_id]):
        _add(progress, status, count, blocked)
    return progress


def list_broadcasts(session: Session, limit: int = 20) -> list[BroadcastInfo]:
    """The latest broadcasts, newest first, each with its delivery progress."""
    rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)).all()
    progress = {b.id: _empty() for b in rows}
    if rows:
        for bid, status, count, blocked in _progress_rows(session, list(progress)):
            _add(progress[bid], status, count, blocked)
    return [_info(b, progress[b.id]) for b in rows]


__all__ = [
    "AUDIENCES",
    "BroadcastInfo",
    "audience_count",
    "broadcast_progress",
    "create_broadcast",
    "list_broadcasts",
    "preview_recipients",
]
