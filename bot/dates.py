"""Reading the session date an admin types: `2026-12-01 18:00`, `tomorrow 18:00`, `today 9pm`, Arabic too."""

from __future__ import annotations

import re
from datetime import datetime

from core.money import normalize_digits
from core.text import has_control
from core.timeutil import CAIRO, as_utc

_ARABIC_WORDS = {"بكرة": "غدا", "بكره": "غدا", "النهارده": "اليوم", "النهاردة": "اليوم"}


def _read(text: str, now: datetime | None) -> tuple[datetime | None, bool]:
    """(aware UTC or None, whether a time of day was given)."""
    cleaned = normalize_digits(text or "").strip()
    if not cleaned or len(cleaned) > 100 or has_control(cleaned, multiline=False):
        return None, False
    for word, standard in _ARABIC_WORDS.items():
        cleaned = cleaned.replace(word, standard)
    base = as_utc(now).astimezone(CAIRO).replace(tzinfo=None)
    iso_like = re.match(r"^\d{4}-(\d{1,2})-(\d{1,2})", cleaned)
    if iso_like and not (1 <= int(iso_like[1]) <= 12 and 1 <= int(iso_like[2]) <= 31):
        return None, False  # 2026-13-01 is a typo, not the 13th of January
    from dateparser.date import DateDataParser  # here: only an admin typing a date needs it (~3 MB at start)

    try:
        data = DateDataParser(
            languages=["en", "ar"],
            settings={
                "TIMEZONE": "Africa/Cairo",
                "TO_TIMEZONE": "UTC",
                "RETURN_AS_TIMEZONE_AWARE": True,
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": base,
                "DATE_ORDER": "YMD" if iso_like else "DMY",
                "RETURN_TIME_AS_PERIOD": True,
            },
        ).get_date_data(cleaned)
    except (OverflowError, ValueError):  # 0001-01-01 00:30 in Cairo is before year 1 in UTC
        return None, False
    if data.date_obj is None:
        return None, False
    return as_utc(data.date_obj).replace(second=0, microsecond=0), data.period == "time"


def parse_session_date(text: str, *, now: datetime | None = None) -> datetime | None:
    """Aware UTC, reading the text as Cairo time; None when it is not a date with a time of day."""
    value, has_time = _read(text, now)
    return value if has_time else None


def lacks_time(text: str, *, now: datetime | None = None) -> bool:
    """A day named without the time of day ("tomorrow", "2026-12-01"): ask for the time."""
    value, has_time = _read(text, now)
    return value is not None and not has_time
