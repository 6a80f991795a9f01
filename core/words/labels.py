"""The names a student reads for statuses and transaction types (never the raw enum name)."""

from __future__ import annotations

from collections.abc import Callable

from core.words import N_

STATUS_NAMES = {
    "PENDING": N_("Pending"),
    "APPROVED": N_("Approved"),
    "REJECTED": N_("Rejected"),
    "CONFIRMED": N_("Confirmed"),
    "COMPLETED": N_("Completed"),
    "CANCELLED": N_("Cancelled"),
}
TYPE_NAMES = {
    "TOP_UP": N_("Top-up"),
    "PLATFORM_PURCHASE": N_("Platform purchase"),
    "MENTORSHIP_PAYMENT": N_("Mentorship payment"),
    "SIGNUP_BONUS": N_("Welcome credit"),
    "REFUND": N_("Refund"),
    "ADJUSTMENT": N_("Adjustment"),
}


def status_name(status, _: Callable[[str], str]) -> str:
    value = getattr(status, "value", status)
    return _(STATUS_NAMES[value]) if value in STATUS_NAMES else str(value)


def type_name(kind, _: Callable[[str], str]) -> str:
    value = getattr(kind, "value", kind)
    return _(TYPE_NAMES[value]) if value in TYPE_NAMES else str(value)
