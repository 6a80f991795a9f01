"""The cancellation policy: what a cancelled session gives back, decided once, here, for every face.

A student who cancels gets the full cost back up to `full_hours` before the start, `partial_percent` of it up to
`partial_hours` before, nothing after (inclusive bounds: exactly 24 h before is still "24 h before"). A mentor or
an admin who cancels always refunds in full, and so does a booking that has no time yet. The partial refund is
rounded half up to the piastre."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from core.business_settings import AppSettings
from core.models import MentorRules
from core.money import CENT, ZERO
from core.services.settings import get_settings
from core.timeutil import as_utc


@dataclass(frozen=True)
class Policy:
    full_hours: int
    partial_hours: int
    partial_percent: int


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    rule: str  # "full", "partial", "none": which part of the policy gave it


def policy_for(session: Session, mentor_id: int | None = None, settings: AppSettings | None = None) -> Policy:
    """The business policy, with the mentor's own numbers where they set any."""
    settings = settings or get_settings(session)
    own = session.get(MentorRules, mentor_id) if mentor_id is not None else None

    def pick(name: str) -> int:
        value = getattr(own, name, None) if own is not None else None
        return getattr(settings, name) if value is None else value

    return Policy(pick("refund_full_hours"), pick("refund_partial_hours"), pick("refund_partial_percent"))


def refund_for(policy: Policy, cost: Decimal, start: datetime | None, *, now: datetime, by_student: bool) -> Refund:
    if not by_student or start is None:
        return Refund(cost, "full")
    ahead = as_utc(start) - as_utc(now)
    if ahead >= timedelta(hours=policy.full_hours):
        return Refund(cost, "full")
    if ahead >= timedelta(hours=policy.partial_hours) and policy.partial_percent > 0:
        part = (cost * policy.partial_percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
        return Refund(part, "partial" if part < cost else "full")
    return Refund(ZERO, "none")
