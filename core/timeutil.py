"""Time: aware UTC in Python, naive UTC in the database; Cairo for people."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
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


def cairo_midnight(day: date) -> datetime:
    """The instant a Cairo calendar day starts, as aware UTC (where summer time skips midnight, 01:00)."""
    return datetime(day.year, day.month, day.day, tzinfo=CAIRO).astimezone(timezone.utc)


def cairo_day_start(now: datetime, *, days: int = 0) -> datetime:
    """Midnight of `now`'s day in Cairo, moved by whole Cairo days, as aware UTC.

    Days are counted on the calendar, not as 24 hours: on a summer-time change a day lasts 23 or 25 hours.
    """
    return cairo_midnight(as_utc(now).astimezone(CAIRO).date() + timedelta(days=days))


def cairo_month_start(now: datetime) -> datetime:
    return cairo_midnight(as_utc(now).astimezone(CAIRO).date().replace(day=1))


def cairo_month(year: int, month: int) -> tuple[datetime, datetime]:
    """The instants a Cairo calendar month starts and the next one starts, as aware UTC."""
    return cairo_midnight(date(year, month, 1)), cairo_midnight(date(year + (month == 12), month % 12 + 1, 1))


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


__all__ = [
    "CAIRO",
    "UTCDateTime",
    "as_utc",
    "cairo_day_start",
    "cairo_midnight",
    "cairo_month_start",
    "timedelta",
    "utcnow",
]
