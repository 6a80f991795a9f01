"""Small builders for core tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from core.db import unit_of_work
from core.models import Platform, Task
from core.services import mentorship, students
from core.services.common import Actor

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
ADMIN = Actor(name="alice", admin_id=None)
OTHER_ADMIN = Actor(name="bob", admin_id=None)
_ids = itertools.count(1000)


def key() -> str:
    return f"k-{next(_ids)}"


def student(session, telegram_id: int | None = None, name: str = "Student", now=NOW) -> int:
    return students.register(session, telegram_id or next(_ids), full_name=name, language="en", now=now).user.id


def platform(session, name="Flask", price="250.00", days=None, active=True, tasks=3) -> int:
    with unit_of_work(session):
        p = Platform(
            name=name,
            description=f"{name} course",
            price=Decimal(price) if price is not None else None,
            access_days=days,
            is_active=active,
        )
        p.tasks = [Task(title=f"{name} task {i}", body="do it", position=i) for i in range(1, tasks + 1)]
        session.add(p)
        session.flush()
        return p.id


def mentor(session, name="Ahmed", rate="300.00", telegram_id=None) -> int:
    return mentorship.create_mentor(session, name, actor=ADMIN, rate=Decimal(rate), telegram_id=telegram_id).id


def later(**kw) -> datetime:
    return NOW + timedelta(**kw)
