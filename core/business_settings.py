"""The business settings an owner may change (receiving number, welcome credit, limits, ...): their types,
defaults, labels and the one validator of each. Pure: config reads SIGNUP_BONUS/VODAFONE_CASH_NUMBER through
these validators without touching the database; core.services.settings stores and reads them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.errors import InvalidAmount, InvalidSetting, InvalidWalletNumber
from core.money import CENT, DEFAULT_MAX_AMOUNT, MAX_MENTOR_RATE, MIN_MENTOR_RATE, ZERO, normalize_digits, parse_amount
from core.phone import normalize_wallet
from core.text import has_control


@dataclass(frozen=True)
class AppSettings:
    vodafone_cash_number: str = "01000000000"
    signup_bonus: Decimal = Decimal("500.00")
    durations: tuple[int, ...] = (30, 60, 90, 120)
    min_topup: Decimal = Decimal("10.00")
    max_topup: Decimal = Decimal("50000.00")
    max_pending_topups: int = 3
    max_topups_per_day: int = 5
    mentor_default_rate: Decimal = Decimal("300.00")
    mentorship_available: bool = True
    max_pending_bookings: int = 3
    stale_topup_hours: int = 12
    auto_approve_transfers: bool = False
    auto_approve_max: Decimal = Decimal("1000.00")
    auto_approve_new_sender_max: Decimal = Decimal("100.00")
    match_window_minutes: int = 120
    max_session_days_ahead: int = 180


MAX_SIGNUP_BONUS = Decimal("10000.00")
MAX_TOPUP_LIMIT = DEFAULT_MAX_AMOUNT
MAX_SETTING_TEXT = 200

_AMOUNT_REASONS = {
    "EMPTY": "enter an amount",
    "NOT_A_NUMBER": "must be an amount like 150.00",
    "TOO_MANY_DECIMALS": "at most 2 decimal places",
}


def _amount(low: Decimal, high: Decimal) -> Callable[[str], Decimal]:
    """An amount read by core.money.parse_amount, between `low` and `high` (0 allowed when low is 0)."""

    def parse(text: str) -> Decimal:
        try:
            value = parse_amount(text, maximum=high)
        except InvalidAmount as exc:
            if (
                exc.reason == "NOT_POSITIVE"
                and low == 0
                and re.fullmatch(r"0+(\.0{1,2})?", normalize_digits(text.strip()))
            ):
                return ZERO
            if exc.reason in ("NOT_POSITIVE", "TOO_LARGE"):
                raise ValueError(f"must be between {low} and {high}") from None
            raise ValueError(_AMOUNT_REASONS.get(exc.reason, "must be an amount like 150.00")) from None
        if value < low:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        digits = normalize_digits(text.strip())
        if not re.fullmatch(r"\d{1,9}", digits):
            raise ValueError(f"must be a whole number between {low} and {high}")
        value = int(digits)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _durations(text: str) -> tuple[int, ...]:
    parts = [p for p in re.split(r"[,\s]+", normalize_digits(text.strip())) if p]
    if not parts or len(parts) > 12 or not all(re.fullmatch(r"\d{1,4}", p) for p in parts):
        raise ValueError("must be minutes separated by commas, e.g. 30,60,90")
    values = tuple(sorted({int(p) for p in parts}))
    if any(not 15 <= v <= 480 for v in values):
        raise ValueError("each duration must be between 15 and 480 minutes")
    return values


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _wallet(text: str) -> str:
    try:
        return normalize_wallet(text)
    except InvalidWalletNumber:
        raise ValueError("must be an Egyptian mobile number like 01012345678") from None


# One validator per setting: the panel form, the JSON API, the CLI and the environment defaults all use it.
PARSERS: dict[str, Callable[[str], object]] = {
    "vodafone_cash_number": _wallet,
    "signup_bonus": _amount(ZERO, MAX_SIGNUP_BONUS),
    "durations": _durations,
    "min_topup": _amount(CENT, MAX_TOPUP_LIMIT),
    "max_topup": _amount(CENT, MAX_TOPUP_LIMIT),
    "max_pending_topups": _int(1, 100),
    "max_topups_per_day": _int(1, 1000),
    "mentor_default_rate": _amount(MIN_MENTOR_RATE, MAX_MENTOR_RATE),
    "mentorship_available": _bool,
    "max_pending_bookings": _int(1, 100),
    "stale_topup_hours": _int(1, 24 * 30),
    "auto_approve_transfers": _bool,
    "auto_approve_max": _amount(CENT, MAX_TOPUP_LIMIT),
    "auto_approve_new_sender_max": _amount(ZERO, MAX_TOPUP_LIMIT),
    "match_window_minutes": _int(5, 24 * 60),
    "max_session_days_ahead": _int(1, 3650),
}


def validate_setting(key: str, raw: str) -> object:
    """The typed value of one setting, or InvalidSetting naming it."""
    parser = PARSERS.get(key)
    if parser is None:
        raise InvalidSetting(f"unknown setting {key}", key=key)
    text = str(raw)
    try:
        if len(text) > MAX_SETTING_TEXT:
            raise ValueError(f"too long ({MAX_SETTING_TEXT} characters at most)")
        if has_control(text, multiline=False):
            raise ValueError("contains a control character")
        return parser(text)
    except ValueError as exc:
        raise setting_refused(key, str(exc)) from None


def setting_refused(key: str, problem: str) -> InvalidSetting:
    """The refusal of one setting: the sentence names it; `problem` alone is what the form shows on its field."""
    return InvalidSetting(f"{LABELS[key]}: {problem}", key=key, problem=problem)


LABELS = {
    "vodafone_cash_number": "Receiving Vodafone Cash number",
    "signup_bonus": "Welcome credit (EGP)",
    "durations": "Session durations offered (minutes)",
    "min_topup": "Minimum top-up (EGP)",
    "max_topup": "Maximum top-up (EGP)",
    "max_pending_topups": "Pending top-ups allowed per student",
    "max_topups_per_day": "Top-up requests per student per day",
    "mentor_default_rate": "Default mentorship hourly rate (EGP)",
    "mentorship_available": "Mentorship bookings open",
    "max_pending_bookings": "Pending bookings allowed per student",
    "stale_topup_hours": "Alert admins about top-ups pending longer than (hours)",
    "auto_approve_transfers": "Approve top-ups automatically when one Vodafone Cash transfer matches for certain",
    "auto_approve_max": "Largest top-up approved automatically (EGP)",
    "auto_approve_new_sender_max": "Largest automatic approval from a sender number new on the student's account (EGP)",
    "match_window_minutes": "Match transfers received within this many minutes of the request",
    "max_session_days_ahead": "Furthest ahead a mentorship session may be scheduled (days)",
}


def to_text(value) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
