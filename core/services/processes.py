"""What the bot says of itself (starting, running, unreachable, stopped), for the panel's dashboard and /readyz."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.models import ProcessStatus
from core.text import strip_controls
from core.timeutil import as_utc

STARTING, RUNNING, UNREACHABLE, STOPPED = "starting", "running", "unreachable", "stopped"
STATES = (STARTING, RUNNING, UNREACHABLE, STOPPED)
HEARTBEAT = timedelta(minutes=1)  # a running process reports this often
STALE_AFTER = 3 * HEARTBEAT  # not heard of for this long: it may be down


@dataclass(frozen=True)
class ProcessState:
    name: str
    state: str
    detail: str | None
    since: datetime
    seen_at: datetime
    stale: bool  # said it was starting or running, but has not reported for STALE_AFTER


def report(session: Session, name: str, state: str, detail: str | None = None, *, now: datetime | None = None) -> None:
    """The process's state now (its own words in `detail`, one line); `since` moves only when the state changes."""
    if state not in STATES:
        raise ValueError(f"unknown process state {state!r}")
    now = as_utc(now)
    detail = strip_controls(detail)[:500] or None if detail else None
    with unit_of_work(session):
        row = session.get(ProcessStatus, name, with_for_update=True)
        if row is None:
            session.add(ProcessStatus(name=name, state=state, detail=detail, since=now, seen_at=now))
            return
        if row.state != state:
            row.state, row.since = state, now
        row.detail, row.seen_at = detail, now


def status(session: Session, name: str, *, now: datetime | None = None) -> ProcessState | None:
    """What `name` last reported, or None when it never ran against this database."""
    row = session.get(ProcessStatus, name, populate_existing=True)
    if row is None:
        return None
    seen = as_utc(row.seen_at)
    stale = row.state in (STARTING, RUNNING) and as_utc(now) - seen > STALE_AFTER
    return ProcessState(row.name, row.state, row.detail, as_utc(row.since), seen, stale)
