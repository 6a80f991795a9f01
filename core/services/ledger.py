"""The ledger as a student reads it: history rows with what each was for, as data to word in any language.

The stored description is English and stays for the panel; a reader's line is built from the type and the
reference (the platform of an enrollment, the booking of a payment or refund, the reason of an adjustment).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import Session

from core.models import Enrollment, MentorshipBooking, Platform, Transaction, TransactionStatus, TransactionType, User
from core.services import wallet
from core.services.wallet import LedgerEntry, Page
from core.words.errors import Voice


@dataclass(frozen=True)
class EntryDetail:
    """What one ledger row was for. Only the fields of its type are set."""

    platform: str | None = None  # PLATFORM_PURCHASE
    renewed: bool = False  # PLATFORM_PURCHASE: a later purchase of the same enrollment
    booking_id: int | None = None  # MENTORSHIP_PAYMENT, REFUND
    mentor: str | None = None  # MENTORSHIP_PAYMENT
    minutes: int | None = None  # MENTORSHIP_PAYMENT
    reason: str | None = None  # ADJUSTMENT


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    detail: EntryDetail


def _ref_id(reference: str | None, prefix: str) -> int | None:
    kind, _, value = (reference or "").partition(":")
    return int(value) if kind == prefix and value.isdigit() else None


def _referenced(entries: list[LedgerEntry]) -> tuple[set[int], set[int]]:
    """The enrollments and the bookings these entries refer to (their names are read from the database)."""
    enrollment_ids = {
        i
        for e in entries
        if e.type == TransactionType.PLATFORM_PURCHASE
        if (i := _ref_id(e.reference, "enrollment")) is not None
    }
    booking_ids = {
        i
        for e in entries
        if e.type in (TransactionType.MENTORSHIP_PAYMENT, TransactionType.REFUND)
        if (i := _ref_id(e.reference, "booking")) is not None
    }
    return enrollment_ids, booking_ids


def entry_details(session: Session, entries: list[LedgerEntry]) -> dict[int, EntryDetail]:
    """EntryDetail per entry id, with at most three queries for a whole page."""
    enrollment_ids, booking_ids = _referenced(entries)
    platforms, first_purchase, bookings = {}, {}, {}
    if enrollment_ids:
        platforms = dict(
            session.execute(
                select(Enrollment.id, Platform.name)
                .join(Platform, Platform.id == Enrollment.platform_id)
                .where(Enrollment.id.in_(enrollment_ids))
            ).all()
        )
        first_purchase = dict(
            session.execute(
                select(Transaction.reference, func.min(Transaction.id))
                .where(
                    Transaction.type == TransactionType.PLATFORM_PURCHASE,
                    Transaction.reference.in_([f"enrollment:{i}" for i in enrollment_ids]),
                )
                .group_by(Transaction.reference)
            ).all()
        )
    if booking_ids:
        bookings = {
            r.id: (r.full_name, r.duration)
            for r in session.execute(
                select(MentorshipBooking.id, MentorshipBooking.duration, User.full_name)
                .join(User, User.id == MentorshipBooking.mentor_id)
                .where(MentorshipBooking.id.in_(booking_ids))
            )
        }
    details = {}
    for e in entries:
        if e.type == TransactionType.PLATFORM_PURCHASE:
            enrollment_id = _ref_id(e.reference, "enrollment")
            details[e.id] = EntryDetail(
                platform=platforms.get(enrollment_id), renewed=first_purchase.get(e.reference, e.id) < e.id
            )
        elif e.type in (TransactionType.MENTORSHIP_PAYMENT, TransactionType.REFUND):
            booking_id = _ref_id(e.reference, "booking")
            mentor, minutes = bookings.get(booking_id, (None, None))
            details[e.id] = EntryDetail(booking_id=booking_id, mentor=mentor, minutes=minutes)
        elif e.type == TransactionType.ADJUSTMENT:
            details[e.id] = EntryDetail(reason=e.description)
        else:
            details[e.id] = EntryDetail()
    return details


def statement(
    session: Session,
    user_id: int,
    *,
    page: int = 1,
    per_page: int = 10,
    type: TransactionType | None = None,
    status: TransactionStatus | None = None,
    month: tuple[int, int] | None = None,
) -> Page:
    """wallet.history's page (with its filters), each item a StatementLine (the row and what it was for)."""
    rows = wallet.history(session, user_id, page=page, per_page=per_page, type=type, status=status, month=month)
    details = entry_details(session, rows.items)
    return Page([StatementLine(e, details[e.id]) for e in rows.items], rows.page, rows.pages, rows.total)


def needs_reads(entries: list[LedgerEntry]) -> bool:
    """Whether entry_details reads the database for these entries (names of platforms and mentors)."""
    return any(_referenced(entries))


def lines(session: Session | None, entries: list[LedgerEntry]) -> list[StatementLine]:
    """StatementLines of entries already read (wallet.RECENT); `session` may be None when not needs_reads."""
    details = entry_details(session, entries)
    return [StatementLine(e, details[e.id]) for e in entries]


TOTALS_CAP = 10_000


def capped_totals(query, cap: int = TOTALS_CAP) -> dict[str, tuple[int, int]] | None:
    """Count and net piastres by status of the rows a (filtered) ledger query selects, or None when more than
    `cap` rows match: the cost stays bounded by `cap` at any ledger size, instead of aggregating a million
    rows on every page view."""
    rows = (
        query.with_entities(Transaction.id, Transaction.status, Transaction.amount)
        .order_by(None)
        .limit(cap + 1)
        .subquery()
    )
    session = query.session
    found = session.execute(
        select(rows.c.status, func.count(), func.sum(cast(rows.c.amount, BigInteger))).group_by(rows.c.status)
    ).all()
    if sum(n for _s, n, _t in found) > cap:
        return None
    return {getattr(status, "value", status): (n, int(total or 0)) for status, n, total in found}


def what_for(line: StatementLine, v: Voice, *, with_top_up: bool = True) -> str | None:
    """Worded from the row's type and what it refers to (the platform, the mentor, the session); None when its
    type says it all (the welcome credit). A top-up reads "#id · sender" unless `with_top_up` is False (a page
    that shows the sender number apart, left to right)."""
    e, d = line.entry, line.detail
    if e.type == TransactionType.TOP_UP:
        return f"#{v.number(e.id)} · {e.wallet_masked or ''}" if with_top_up else None
    if e.type == TransactionType.PLATFORM_PURCHASE:
        platform = v.escape(d.platform or "?")
        return (v._("Renewed {platform}") if d.renewed else v._("Enrolled in {platform}")).format(platform=platform)
    if e.type == TransactionType.MENTORSHIP_PAYMENT:
        return v._("Mentorship session #{id} with {mentor} ({minutes} min)").format(
            id=v.number(d.booking_id or "?"), mentor=v.escape(d.mentor or "?"), minutes=v.number(d.minutes or "?")
        )
    if e.type == TransactionType.REFUND:
        return v._("Refund for session #{id}").format(id=v.number(d.booking_id or "?"))
    if e.type == TransactionType.ADJUSTMENT:
        return v.escape(d.reason)
    return None
