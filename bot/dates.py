"""Reading the session date an admin types: `2026-12-01 18:00`, `tomorrow 18:00`, `today 9pm`, Arabic too."""
from __future__ import annotations

import re
from datetime import datetime

import dateparser

from core.money import normalize_digits
from core.timeutil import CAIRO, as_utc

_ARABIC_WORDS = {"بكرة": "غدا", "بكره": "غدا", "النهارده": "اليوم", "النهاردة": "اليوم"}


def parse_session_date(text: str, *, now: datetime | None = None) -> datetime | None:
    """Aware UTC, reading the text as Cairo time; None when it is not a date."""
    cleaned = normalize_digits(text or "").strip()
    if not cleaned or len(cleaned) > 100:
        return None
    for word, standard in _ARABIC_WORDS.items():
        cleaned = cleaned.replace(word, standard)
    base = as_utc(now).astimezone(CAIRO).replace(tzinfo=None)
    iso_like = re.match(r"^\d{4}-\d{1,2}-\d{1,2}", cleaned)
    value = dateparser.parse(cleaned, languages=["en", "ar"], settings={
        "TIMEZONE": "Africa/Cairo", "TO_TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "DATE_ORDER": "YMD" if iso_like else "DMY"})
    return as_utc(value) if value else None
