"""Rendering helpers shared by the handlers: money, dates, escaping, balance line, domain errors."""
from __future__ import annotations

from datetime import datetime
from collections.abc import Callable
from decimal import Decimal
from html import escape

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from core.errors import (AccessDenied, AlreadyEnrolled, AlreadyProcessed, AlreadyRated, BalanceLimit,
                         DailyTopupLimit, DateInPast, DateTooFar, DomainError, InsufficientFunds, InvalidAmount,
                         InvalidDuration, InvalidInput, InvalidRating, InvalidState, InvalidTransferReference,
                         InvalidWalletNumber, MentorUnavailable, NotFound, NotOwner, PlatformInactive, PriceChanged,
                         ReasonRequired, TooManyPendingBookings, TooManyPendingTopups, UserBlocked)
from core.money import ZERO, format_money, format_signed, parse_amount
from core.timeutil import CAIRO, as_utc

_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
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
    text = str(value)
    return text.translate(_ARABIC_DIGITS) if locale() == "ar" else text


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
    return text.translate(_ARABIC_DIGITS) if loc == "ar" else text


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
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def balance_line(balance: Decimal) -> str:
    return _("💰 Balance: <b>{balance}</b>").format(balance=money(balance))


def with_balance(text: str, balance: Decimal) -> str:
    return f"{text}\n\n{balance_line(balance)}"


def status_name(status) -> str:
    value = getattr(status, "value", status)
    names = {
        "PENDING": _("Pending"), "APPROVED": _("Approved"), "REJECTED": _("Rejected"),
        "CONFIRMED": _("Confirmed"), "COMPLETED": _("Completed"), "CANCELLED": _("Cancelled"),
    }
    return names.get(value, value)


def type_name(kind) -> str:
    value = getattr(kind, "value", kind)
    names = {
        "TOP_UP": _("Top-up"), "PLATFORM_PURCHASE": _("Platform purchase"),
        "MENTORSHIP_PAYMENT": _("Mentorship payment"), "SIGNUP_BONUS": _("Welcome credit"),
        "REFUND": _("Refund"), "ADJUSTMENT": _("Adjustment"),
    }
    return names.get(value, value)


def _invalid_amount(d: dict) -> str:
    reason = d.get("reason", "NOT_A_NUMBER")
    if reason == "TOO_MANY_DECIMALS":
        return _("Use at most 2 decimals, like 150.50.")
    if reason == "NOT_POSITIVE":
        return _("The amount must be more than zero.")
    if reason == "TOO_LARGE":
        return _("That is above the maximum of {maximum}.").format(maximum=money(d["maximum"]))
    if reason == "TOO_SMALL":
        return _("That is below the minimum of {minimum}.").format(minimum=money(d["minimum"]))
    return _("Please send a number, like 150 or 150.50.")


def _invalid_state(d: dict) -> str:
    if d.get("by"):
        return _("Already processed by {by} (status: {status}).").format(
            by=esc(str(d["by"])), status=status_name(d.get("status", "")))
    return _("This can no longer be changed (status: {status}).").format(status=status_name(d.get("status", "")))


# Each domain error class, worded from its details; a subclass without its own words uses its parent's.
ERROR_WORDS: dict[type[DomainError], Callable[[dict], str]] = {
    InvalidAmount: _invalid_amount,
    InsufficientFunds: lambda d: _(
        "Not enough balance: you need {required} and have {balance} (short by {shortfall}).").format(
        required=money(d["required"]), balance=money(d["balance"]), shortfall=money(d["shortfall"])),
    AlreadyProcessed: lambda d: _("Already processed by {by}.").format(by=esc(str(d.get("by", "?")))),
    InvalidState: _invalid_state,
    PriceChanged: lambda d: _("The price changed from {old} to {new}. Nothing was charged; please look again.").format(
        old=money(d["old"]), new=money(d["new"])),
    BalanceLimit: lambda d: _("This would take the wallet past the most it may hold ({maximum}).").format(
        maximum=money(d.get("maximum", "0"))),
    TooManyPendingTopups: lambda d: _(
        "You already have {limit} top-up requests waiting. Please wait for an admin to review them.").format(
        limit=number(d.get("limit", ""))),
    DailyTopupLimit: lambda d: _(
        "You reached today's limit of {limit} top-up requests. Please try again tomorrow.").format(
        limit=number(d.get("limit", ""))),
    TooManyPendingBookings: lambda d: _("You already have {limit} bookings waiting for confirmation.").format(
        limit=number(d.get("limit", ""))),
    NotFound: lambda d: _("That item does not exist (any more)."),
    InvalidWalletNumber: lambda d: _(
        "That is not an Egyptian mobile number. Send the 11 digits, like 01012345678."),
    InvalidInput: lambda d: _("That input is not valid or too long. Please try again."),
    InvalidTransferReference: lambda d: _(
        "That is not a transaction number: it has 6 to 20 digits, as in the SMS (\"رقم العملية\")."),
    ReasonRequired: lambda d: _("Please write a reason."),
    UserBlocked: lambda d: _("Your account is blocked. Please contact CodeHub support."),
    PlatformInactive: lambda d: _("This platform is not available right now."),
    AlreadyEnrolled: lambda d: _("You are already enrolled in this platform."),
    AccessDenied: lambda d: _("🔒 This content is locked. Enroll to unlock the tasks."),
    MentorUnavailable: lambda d: _("This mentor is not taking bookings right now."),
    InvalidDuration: lambda d: _("Please choose one of the offered durations."),
    DateInPast: lambda d: _("That time is in the past. Please send a future date and time."),
    DateTooFar: lambda d: _("That is too far ahead: a session can be at most {days} days from now. "
                            "Please send an earlier date and time.").format(days=number(d.get("days", ""))),
    NotOwner: lambda d: _("That is not yours: nothing was changed."),
    InvalidRating: lambda d: _("Please choose 1 to 5 stars."),
    AlreadyRated: lambda d: _("You already rated this session."),
}


def error_text(exc: DomainError) -> str:
    """Every domain error, translated: the one place that maps errors to words."""
    for cls in type(exc).__mro__:
        words = ERROR_WORDS.get(cls)
        if words is not None:
            return words(exc.details)
    return _("That did not work. Please try again.")
