"""The cancellation policy in a student's words, for the bot, the API and the Mini App alike (the numbers come
from core.services.policy; this module only says them)."""

from __future__ import annotations

from typing import Protocol

from core.words.errors import Voice


class Terms(Protocol):
    full_hours: int
    partial_hours: int
    partial_percent: int


def policy_text(terms: Terms, v: Voice) -> str:
    full = v._("Cancel at least {hours} hours before the start for a full refund.").format(
        hours=v.number(terms.full_hours)
    )
    if terms.partial_percent and terms.partial_hours < terms.full_hours:
        part = v._("At least {hours} hours before, {percent} percent of the cost comes back; later, nothing.").format(
            hours=v.number(terms.partial_hours), percent=v.number(terms.partial_percent)
        )
    else:
        part = v._("Later, nothing comes back.")
    always = v._("A session the mentor or CodeHub cancels is always refunded in full.")
    return " ".join((full, part, always))
