"""How things read to a person: money, numbers and dates in their locale, escaping, status and type names."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date, format_datetime

from core.errors import InvalidAmount
from core.money import ZERO, format_money, format_signed, parse_amount
from core.timeutil import CAIRO, as_utc
from core.words import digits, labels

BUTTON_MAX = Decimal("999999999.99")


def locale() -> str:
    return get_i18n().current_locale


def money_value(text: str) -> Decimal | None:
    """A price carried in a button, if core's parser reads it as an amount (buttons can be forged); zero is a
    free platform's price."""
    try:
        return parse_amount(text, maximum=BUTTON_MAX)
    except InvalidAmount as exc:
        if exc.reason == "NOT_POSITIVE" and not text.strip().startswith("-"):
            return ZERO
        return None


def money(amount: Decimal | str, currency: str | None = None) -> str:
    return format_money(Decimal(str(amount)), currency, locale())


def signed(amount: Decimal | str, currency: str | None = None) -> str:
    return format_signed(Decimal(str(amount)), currency, locale())


def number(value) -> str:
    return digits(str(value), locale())


def when(value: datetime | str | None, *, time: bool = True) -> str:
    """A date (and time) in Cairo, in the reader's language."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    loc = locale()
    if loc == "ar":
        pattern = "EEEE d MMMM y، HH:mm" if time else "d MMMM y"
    else:
        pattern = "EEE d MMM y, HH:mm" if time else "d MMM y"
    text = format_datetime(as_utc(value), pattern, tzinfo=CAIRO, locale="ar_EG" if loc == "ar" else "en_GB")
    return digits(text, loc)


def day_label(day) -> str:
    """A Cairo calendar day, short, in the reader's language ("Thu 10 Dec")."""
    loc = locale()
    text = format_date(day, "EEE d MMM", locale="ar_EG" if loc == "ar" else "en_GB")
    return digits(text, loc)


def clock(value: datetime) -> str:
    """The Cairo wall-clock time of an instant ("18:30")."""
    loc = locale()
    return digits(format_datetime(as_utc(value), "HH:mm", tzinfo=CAIRO, locale="en_GB"), loc)


def esc(text: str | None) -> str:
    return escape(text or "", quote=False)


def pieces(text: str | None, size: int = 3500) -> list[str]:
    """Long plain text cut at line ends (or hard) into parts that each fit in one message once escaped."""
    rest, out = text or "", []
    while len(rest) > size:
        cut = rest.rfind("\n", 0, size)
        cut = cut if cut > 0 else size
        out.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    return out + [rest]


def clip(text: str | None, limit: int) -> str:
    """At most `limit` characters (a list must fit in one Telegram message of 4096)."""
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def balance_line(balance: Decimal) -> str:
    return _("💰 Balance: <b>{balance}</b>").format(balance=money(balance))


def with_balance(text: str, balance: Decimal) -> str:
    return f"{text}\n\n{balance_line(balance)}"


def status_name(status) -> str:
    return labels.status_name(status, _)


def type_name(kind) -> str:
    return labels.type_name(kind, _)
