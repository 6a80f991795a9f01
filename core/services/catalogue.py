"""The catalogue: platforms and their tasks, created and edited by the owner; every change audited."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import InvalidInput, NotFound
from core.models import Platform, Task
from core.money import parse_amount
from core.services import audit
from core.services.common import Actor, clean_text
from core.timeutil import as_utc

MAX_PRICE = Decimal("100000.00")
MAX_NAME = 120
MAX_DESCRIPTION = 5000
MAX_TITLE = 200
MAX_TASK_BODY = 20000
MAX_ACCESS_DAYS = 3650
MAX_POSITION = 10000


def _price(value: Decimal | str | None) -> Decimal | None:
    """Empty or 0 means free; anything else is an amount up to MAX_PRICE."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool) and value == 0:
        return Decimal("0.00")
    return parse_amount(value, maximum=MAX_PRICE)


def _platform_values(
    session: Session,
    platform_id: int | None,
    name: str,
    description: str | None,
    price,
    is_active: bool,
    access_days: int | None,
) -> dict:
    name = clean_text(name, limit=MAX_NAME, field="name")
    if not name:
        raise InvalidInput("a name is required", field="name")
    clash = session.scalar(select(Platform.id).where(Platform.name == name))
    if clash is not None and clash != platform_id:
        raise InvalidInput(f"a platform named {name!r} already exists", field="name")
    if access_days is not None and not 1 <= access_days <= MAX_ACCESS_DAYS:
        raise InvalidInput(f"access days must be between 1 and {MAX_ACCESS_DAYS}", field="access_days")
    return dict(
        name=name,
        description=clean_text(description, limit=MAX_DESCRIPTION, field="description") or "",
        price=_price(price),
        is_active=bool(is_active),
        access_days=access_days,
    )


def _platform_state(p: Platform) -> dict:
    return {"name": p.name, "price": p.price, "is_active": p.is_active, "access_days": p.access_days}


def create_platform(
    session: Session,
    *,
    name: str,
    description: str | None = "",
    price=None,
    is_active: bool = True,
    access_days: int | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> int:
    """A new platform (empty or 0 price = free; no access_days = forever); returns its id."""
    now = as_utc(now)
    with unit_of_work(session):
        platform = Platform(
            **_platform_values(session, None, name, description, price, is_active, access_days), created_at=now
        )
        session.add(platform)
        session.flush()  # the id, for the audit row
        audit.record(
            session, actor, "platform.create", "platform", platform.id, after=_platform_state(platform), now=now
        )
        return platform.id


def update_platform(
    session: Session,
    platform_id: int,
    *,
    name: str,
    description: str | None = "",
    price=None,
    is_active: bool = True,
    access_days: int | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> int:
    with unit_of_work(session):
        platform = session.get(Platform, platform_id)
        if platform is None:
            raise NotFound("platform not found", entity="platform", id=platform_id)
        before = _platform_state(platform)
        for field, value in _platform_values(
            session, platform_id, name, description, price, is_active, access_days
        ).items():
            setattr(platform, field, value)
        audit.record(
            session,
            actor,
            "platform.update",
            "platform",
            platform_id,
            before=before,
            after=_platform_state(platform),
            now=now,
        )
        return platform_id


def _task_values(
    session: Session, platform_id: int | None, title: str, body: str | None, position: int | None
) -> tuple[Platform, dict]:
    platform = session.get(Platform, platform_id) if platform_id is not None else None
    if platform is None:
        raise InvalidInput("choose the platform", field="platform")
    title = clean_text(title, limit=MAX_TITLE, field="title")
    if not title:
        raise InvalidInput("a title is required", field="title")
    position = position or 0
    if not 0 <= position <= MAX_POSITION:
        raise InvalidInput(f"the order must be between 0 and {MAX_POSITION}", field="position")
    body = clean_text(body, limit=MAX_TASK_BODY, field="task text") or ""
    return platform, dict(platform_id=platform.id, title=title, body=body, position=position)


def create_task(
    session: Session,
    *,
    platform_id: int | None,
    title: str,
    body: str | None = "",
    position: int | None = 0,
    actor: Actor,
    now: datetime | None = None,
) -> int:
    """A task of a platform (what enrollment unlocks), shown in `position` order; returns its id."""
    with unit_of_work(session):
        platform, values = _task_values(session, platform_id, title, body, position)
        task = Task(**values)
        session.add(task)
        session.flush()
        audit.record(
            session,
            actor,
            "task.create",
            "task",
            task.id,
            after={"platform": platform.name, "title": task.title, "position": task.position},
            now=now,
        )
        return task.id


def update_task(
    session: Session,
    task_id: int,
    *,
    platform_id: int | None,
    title: str,
    body: str | None = "",
    position: int | None = 0,
    actor: Actor,
    now: datetime | None = None,
) -> int:
    with unit_of_work(session):
        task = session.get(Task, task_id)
        if task is None:
            raise NotFound("task not found", entity="task", id=task_id)
        before = {"platform_id": task.platform_id, "title": task.title, "position": task.position}
        platform, values = _task_values(session, platform_id, title, body, position)
        for field, value in values.items():
            setattr(task, field, value)
        audit.record(
            session,
            actor,
            "task.update",
            "task",
            task_id,
            before=before,
            after={"platform": platform.name, "title": task.title, "position": task.position},
            now=now,
        )
        return task_id


def platform_choices(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every platform, by name: for pickers such as a broadcast's audience."""
    return [(r.id, r.name) for r in session.execute(select(Platform.id, Platform.name).order_by(Platform.name))]
