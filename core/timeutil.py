"""Time: aware UTC in Python, naive UTC in the database; Cairo for people."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

CAIRO = ZoneInfo("Africa/Cairo")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime:
    """Aware UTC; a naive value is taken as UTC."""
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def cairo_day_start(now: datetime) -> datetime:
    """Midnight of `now`'s day in Cairo, as aware UTC."""
    local = as_utc(now).astimezone(CAIRO)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def cairo_month_start(now: datetime) -> datetime:
    local = as_utc(now).astimezone(CAIRO)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Naive UTC on disk (portable across SQLite and PostgreSQL), aware UTC in Python."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


__all__ = ["CAIRO", "UTCDateTime", "as_utc", "cairo_day_start", "cairo_month_start", "timedelta", "utcnow"]
