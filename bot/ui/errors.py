"""Domain errors in the student's words: the one place that maps an error's code and details to a sentence."""
from __future__ import annotations

from collections.abc import Callable

from aiogram.utils.i18n import gettext as _

from bot.ui.format import esc, money, number, status_name
from core.errors import (AccessDenied, AlreadyEnrolled, AlreadyProcessed, AlreadyRated, BalanceLimit,
                         DailyTopupLimit, DateInPast, DateTooFar, DomainError, InsufficientFunds, InvalidAmount,
                         InvalidDuration, InvalidInput, InvalidRating, InvalidState, InvalidTransferReference,
                         InvalidWalletNumber, MentorUnavailable, NotFound, NotOwner, PlatformInactive, PriceChanged,
                         ReasonRequired, TooManyPendingBookings, TooManyPendingTopups, UserBlocked)


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
