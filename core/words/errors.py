"""The sentence a student reads for each domain error, in their language: the one place that maps an error's
class and details to words, for the bot and the web alike. Each interface speaks through a Voice: its
gettext for the reader's language, how it writes amounts and numbers there, and how it escapes text it
interpolates (HTML for the bot; nothing for JSON)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.errors import (
    AccessDenied,
    AlreadyEnrolled,
    AlreadyProcessed,
    AlreadyRated,
    BalanceLimit,
    DailyTopupLimit,
    DateInPast,
    DateTooFar,
    DomainError,
    InsufficientFunds,
    InvalidAmount,
    InvalidDuration,
    InvalidInput,
    InvalidRating,
    InvalidState,
    InvalidTransferReference,
    InvalidWalletNumber,
    MentorUnavailable,
    NotFound,
    NotOwner,
    PlatformInactive,
    PriceChanged,
    ReasonRequired,
    RefundChanged,
    RescheduleRefused,
    SessionOverlap,
    SlotTaken,
    SlotUnavailable,
    TooManyPendingBookings,
    TooManyPendingTopups,
    UserBlocked,
)
from core.words import N_
from core.words.labels import status_name


@dataclass(frozen=True)
class Voice:
    """How an interface speaks to one reader."""

    _: Callable[[str], str]
    money: Callable[[Decimal | str], str]
    number: Callable[[object], str]
    escape: Callable[[str], str] = str


def _invalid_amount(d: dict, v: Voice) -> str:
    reason = d.get("reason", "NOT_A_NUMBER")
    if reason == "TOO_MANY_DECIMALS":
        return v._("Use at most 2 decimals, like 150.50.")
    if reason == "NOT_POSITIVE":
        return v._("The amount must be more than zero.")
    if reason == "TOO_LARGE":
        return v._("That is above the maximum of {maximum}.").format(maximum=v.money(d["maximum"]))
    if reason == "TOO_SMALL":
        return v._("That is below the minimum of {minimum}.").format(minimum=v.money(d["minimum"]))
    return v._("Please send a number, like 150 or 150.50.")


# What is wrong with a named field (the students' API and the Mini App mark that field), when a request has it
# missing, empty or out of range; a text over its length says its limit; anything else the general sentence.
FIELD_WORDS = {
    "amount": N_("Enter the amount you sent, like 150 or 150.50."),
    "walletNumber": N_("Enter the Vodafone Cash number you sent from: 11 digits, like 01012345678."),
    "duration": N_("Choose how long the session is."),
    "platformId": N_("Choose a platform."),
}


def _rating(d: dict, v: Voice) -> str:
    return v._("Please choose 1 to 5 stars.")


def _invalid_input(d: dict, v: Voice) -> str:
    if d.get("field") == "rating":  # a request without stars: the words of a rating out of range
        return _rating(d, v)
    if d.get("limit"):  # a text over its length (notes, feedback, a reason)
        return v._("That is too long: {limit} characters at most.").format(limit=v.number(d["limit"]))
    words = FIELD_WORDS.get(str(d.get("field", "")))
    return v._(words) if words else v._("That input is not valid or too long. Please try again.")


def _invalid_state(d: dict, v: Voice) -> str:
    if d.get("by"):
        return v._("Already processed by {by} (status: {status}).").format(
            by=v.escape(str(d["by"])), status=status_name(d.get("status", ""), v._)
        )
    return v._("This can no longer be changed (status: {status}).").format(status=status_name(d.get("status", ""), v._))


# Each domain error class, worded from its details; a subclass without its own words uses its parent's.
ERROR_WORDS: dict[type[DomainError], Callable[[dict, Voice], str]] = {
    InvalidAmount: _invalid_amount,
    InsufficientFunds: lambda d, v: v._(
        "Not enough balance: you need {required} and have {balance} (short by {shortfall})."
    ).format(required=v.money(d["required"]), balance=v.money(d["balance"]), shortfall=v.money(d["shortfall"])),
    AlreadyProcessed: lambda d, v: v._("Already processed by {by}.").format(by=v.escape(str(d.get("by", "?")))),
    InvalidState: _invalid_state,
    PriceChanged: lambda d, v: v._(
        "The price changed from {old} to {new}. Nothing was charged; please look again."
    ).format(old=v.money(d["old"]), new=v.money(d["new"])),
    BalanceLimit: lambda d, v: v._("This would take the wallet past the most it may hold ({maximum}).").format(
        maximum=v.money(d.get("maximum", "0"))
    ),
    TooManyPendingTopups: lambda d, v: v._(
        "You already have {limit} top-up requests waiting. Please wait for an admin to review them."
    ).format(limit=v.number(d.get("limit", ""))),
    DailyTopupLimit: lambda d, v: v._(
        "You reached today's limit of {limit} top-up requests. Please try again tomorrow."
    ).format(limit=v.number(d.get("limit", ""))),
    TooManyPendingBookings: lambda d, v: v._("You already have {limit} bookings waiting for confirmation.").format(
        limit=v.number(d.get("limit", ""))
    ),
    NotFound: lambda d, v: v._("That item does not exist (any more)."),
    InvalidWalletNumber: lambda d, v: v._(
        "That is not an Egyptian mobile number. Send the 11 digits, like 01012345678."
    ),
    InvalidInput: lambda d, v: _invalid_input(d, v),
    InvalidTransferReference: lambda d, v: v._(
        'That is not a transaction number: it has 6 to 20 digits, as in the SMS ("رقم العملية").'
    ),
    ReasonRequired: lambda d, v: v._("Please write a reason."),
    UserBlocked: lambda d, v: v._("Your account is blocked. Please contact CodeHub support."),
    PlatformInactive: lambda d, v: v._("This platform is not available right now."),
    AlreadyEnrolled: lambda d, v: v._("You are already enrolled in this platform."),
    AccessDenied: lambda d, v: v._("🔒 This content is locked. Enroll to unlock the tasks."),
    MentorUnavailable: lambda d, v: v._("This mentor is not taking bookings right now."),
    RefundChanged: lambda d, v: v._(
        "Cancelling now gives back {new}, not {old}: the session's time or the policy's bound changed. "
        "Nothing was cancelled; please look again."
    ).format(old=v.money(d["old"]), new=v.money(d["new"])),
    SessionOverlap: lambda d, v: v._(
        "The mentor already has session #{booking} at that time. Please choose another time."
    ).format(booking=v.number(d.get("booking", ""))),
    SlotTaken: lambda d, v: v._("Someone just took this time. Nothing was charged: please pick another free slot."),
    SlotUnavailable: lambda d, v: v._(
        "That time is not one of the mentor's free slots (too soon, too far ahead or outside their hours). "
        "Nothing was charged: please pick a slot from the list."
    ),
    RescheduleRefused: lambda d, v: (
        v._("A session can be moved up to {hours} hours before it starts; cancel it instead.").format(
            hours=v.number(d["hours"])
        )
        if "hours" in d
        else v._("This booking was already moved {limit} times, the most allowed.").format(
            limit=v.number(d.get("limit", ""))
        )
    ),
    InvalidDuration: lambda d, v: v._("Please choose one of the offered durations."),
    DateInPast: lambda d, v: v._("That time is in the past. Please send a future date and time."),
    DateTooFar: lambda d, v: v._(
        "That is too far ahead: a session can be at most {days} days from now. Please send an earlier date and time."
    ).format(days=v.number(d.get("days", ""))),
    NotOwner: lambda d, v: v._("That is not yours: nothing was changed."),
    InvalidRating: _rating,
    AlreadyRated: lambda d, v: v._("You already rated this session."),
}


def error_text(exc: DomainError, voice: Voice) -> str:
    """Every domain error, in the reader's words; a class without its own words uses its parent's."""
    for cls in type(exc).__mro__:
        words = ERROR_WORDS.get(cls)
        if words is not None:
            return words(exc.details, voice)
    return voice._("That did not work. Please try again.")


def _classes(cls: type[DomainError]):
    yield cls
    for sub in cls.__subclasses__():
        yield from _classes(sub)


# A code to the class that defines it (a subclass that keeps its parent's code is not a different error)
_BY_CODE = {c.code: c for c in _classes(DomainError) if "code" in c.__dict__}


def text_for_code(code: str, details: dict, voice: Voice) -> str | None:
    """The words of the domain error with this code, from its details alone (an API refusing before any
    service ran); None for a code no domain error of core's has."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return None
    for c in cls.__mro__:
        words = ERROR_WORDS.get(c)
        if words is not None:
            try:
                return words(details, voice)
            except (KeyError, ValueError, ArithmeticError):  # details missing for this error's sentence
                return None
    return None
