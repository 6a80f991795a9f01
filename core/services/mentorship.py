"""Mentorship: mentors and rates, paid bookings, confirmation, completion, cancellation with refund, ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import false, func, select, true, update
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import (
    AlreadyRated,
    DateInPast,
    DateTooFar,
    InvalidAmount,
    InvalidDuration,
    InvalidInput,
    InvalidRating,
    InvalidState,
    MentorUnavailable,
    NotFound,
    NotOwner,
    PriceChanged,
    RefundChanged,
    RescheduleRefused,
    SessionOverlap,
    SlotUnavailable,
    TooManyPendingBookings,
)
from core.models import (
    AdminRole,
    BookingStatus,
    MentorshipBooking,
    NotificationKind,
    Transaction,
    TransactionStatus,
    TransactionType,
    User,
)
from core.money import MAX_MENTOR_RATE, MIN_MENTOR_RATE, ZERO, parse_amount, round_money
from core.services import audit, availability, notifications, policy
from core.services.common import Actor, active_user, clean_text, ledger_key, require_reason, run_idempotent
from core.services.settings import AppSettings, get_settings, update_settings
from core.services.students import UserInfo, user_info
from core.services.wallet import balance as wallet_balance
from core.services.wallet import credit, debit
from core.timeutil import as_utc

MAX_NOTES = 1000


@dataclass(frozen=True)
class MentorInfo:
    id: int
    name: str
    username: str | None
    bio: str
    rate: Decimal
    available: bool
    average_rating: Decimal | None
    ratings: int
    telegram_id: int | None


@dataclass(frozen=True)
class BookingInfo:
    id: int
    student_id: int
    student_name: str
    mentor_id: int
    mentor_name: str
    duration: int
    total_cost: Decimal
    status: BookingStatus
    session_date: datetime | None
    student_notes: str | None
    admin_notes: str | None
    rating: int | None
    feedback: str | None
    cancel_reason: str | None
    processed_by: str | None
    created_at: datetime
    student_username: str | None = None
    ends_at: datetime | None = None
    meeting_link: str | None = None
    reschedules: int = 0
    refunded: Decimal | None = None
    requested_start: datetime | None = None


@dataclass(frozen=True)
class BookingResult:
    booking: BookingInfo
    balance: Decimal
    replayed: bool = False


@dataclass(frozen=True)
class CancelResult:
    booking: BookingInfo
    refund: Decimal
    balance: Decimal
    rule: str = "full"  # which part of the cancellation policy gave the refund (core.services.policy)


def _booking_info(session: Session, b: MentorshipBooking) -> BookingInfo:
    student = session.get(User, b.student_id)
    mentor = session.get(User, b.mentor_id)
    return BookingInfo(
        b.id,
        b.student_id,
        student.full_name,
        b.mentor_id,
        mentor.full_name,
        b.duration,
        b.total_cost,
        b.status,
        b.session_date,
        b.student_notes,
        b.admin_notes,
        b.rating,
        b.feedback,
        b.cancel_reason,
        b.processed_by,
        b.created_at,
        student.username,
        b.ends_at,
        b.meeting_link,
        b.reschedules or 0,
        b.refunded,
        b.requested_start,
    )


def get_booking(session: Session, booking_id: int) -> BookingInfo:
    b = session.get(MentorshipBooking, booking_id)
    if b is None:
        raise NotFound("booking not found", entity="booking", id=booking_id)
    return _booking_info(session, b)


def admin_booking_scope(role: AdminRole, mentor_user_id: int | None):
    """The bookings a panel account may see and act on: all of them, or a mentor account's own.

    A SQL condition, so the panel's booking list filters with the same rule as every action.
    """
    if role == AdminRole.MENTOR:
        return MentorshipBooking.mentor_id == mentor_user_id if mentor_user_id else false()
    return true()


def get_booking_for_admin(
    session: Session, booking_id: int, role: AdminRole, mentor_user_id: int | None
) -> BookingInfo:
    """One booking, if this account may act on it; otherwise NotFound (a mentor learns nothing of others')."""
    b = session.scalar(
        select(MentorshipBooking).where(MentorshipBooking.id == booking_id, admin_booking_scope(role, mentor_user_id))
    )
    if b is None:
        raise NotFound("booking not found", entity="booking", id=booking_id)
    return _booking_info(session, b)


def upcoming_sessions(
    session: Session, role: AdminRole, mentor_user_id: int | None, *, now: datetime | None = None, limit: int = 10
) -> list[BookingInfo]:
    """Confirmed sessions from now on, soonest first, that this account may see."""
    rows = session.scalars(
        select(MentorshipBooking)
        .where(
            MentorshipBooking.status == BookingStatus.CONFIRMED,
            MentorshipBooking.session_date >= as_utc(now),
            admin_booking_scope(role, mentor_user_id),
        )
        .order_by(MentorshipBooking.session_date)
        .limit(limit)
    ).all()
    return [_booking_info(session, b) for b in rows]


def parse_rate(value: Decimal | str | int, *, field: str = "rate") -> Decimal:
    """An hourly rate within MIN_MENTOR_RATE..MAX_MENTOR_RATE, read like any amount."""
    try:
        rate = parse_amount(value, maximum=MAX_MENTOR_RATE)
    except InvalidAmount:
        rate = None
    if rate is None or rate < MIN_MENTOR_RATE:
        raise InvalidInput(
            f"hourly rate must be above 0 and at most {MAX_MENTOR_RATE:,.0f}", field=field, maximum=MAX_MENTOR_RATE
        )
    return rate


def list_mentors(
    session: Session,
    *,
    include_unavailable: bool = True,
    mentor_id: int | None = None,
    settings: AppSettings | None = None,
) -> list[MentorInfo]:
    """Mentors with their rate (own or the default), availability and average rating (or just one)."""
    settings = settings or get_settings(session)
    ratings = (
        select(
            MentorshipBooking.mentor_id,
            func.avg(MentorshipBooking.rating).label("avg"),
            func.count(MentorshipBooking.rating).label("n"),
        )
        .where(MentorshipBooking.rating.is_not(None))
        .group_by(MentorshipBooking.mentor_id)
        .subquery()
    )
    query = (
        select(User, ratings.c.avg, ratings.c.n)
        .outerjoin(ratings, ratings.c.mentor_id == User.id)
        .where(User.is_mentor.is_(True))
        .order_by(User.full_name)
    )
    if mentor_id is not None:
        query = query.where(User.id == mentor_id)
    rows = session.execute(query).all()
    mentors = []
    for user, avg, n in rows:
        available = bool(user.mentor_available and settings.mentorship_available)
        if not include_unavailable and not available:
            continue
        mentors.append(
            MentorInfo(
                user.id,
                user.full_name,
                user.username,
                user.mentor_bio or "",
                user.mentor_rate if user.mentor_rate is not None else settings.mentor_default_rate,
                available,
                Decimal(str(avg)).quantize(Decimal("0.1")) if avg is not None else None,
                n or 0,
                user.telegram_id,
            )
        )
    return mentors


def get_mentor(session: Session, mentor_id: int, *, settings: AppSettings | None = None) -> MentorInfo:
    found = list_mentors(session, mentor_id=mentor_id, settings=settings)
    if not found:
        raise NotFound("mentor not found", entity="mentor", id=mentor_id)
    return found[0]


def _price(mentor: MentorInfo, duration: int, settings: AppSettings) -> Decimal:
    """hourly rate x minutes / 60, rounded to the piastre, for an offered duration only."""
    if duration not in settings.durations:
        raise InvalidDuration("choose one of the offered durations", offered=",".join(map(str, settings.durations)))
    return round_money(mentor.rate * duration / 60)


def quote(session: Session, mentor_id: int, duration: int) -> Decimal:
    settings = get_settings(session)
    return _price(get_mentor(session, mentor_id, settings=settings), duration, settings)


def bookable_mentor(session: Session, mentor_id: int, *, settings: AppSettings | None = None) -> MentorInfo:
    """The mentor, if taking bookings now; else MentorUnavailable (book() checks again in its transaction)."""
    mentor = get_mentor(session, mentor_id, settings=settings)
    if not mentor.available:
        raise MentorUnavailable("this mentor is not taking bookings now", mentor=mentor.name)
    return mentor


def price_list(session: Session, mentor_id: int) -> tuple[MentorInfo, list[tuple[int, Decimal]]]:
    """A bookable mentor and the price of each offered duration, in the offered order."""
    settings = get_settings(session)
    mentor = bookable_mentor(session, mentor_id, settings=settings)
    return mentor, [(d, _price(mentor, d, settings)) for d in settings.durations]


def book(
    session: Session,
    student_id: int,
    mentor_id: int,
    duration: int,
    notes: str | None = None,
    *,
    idempotency_key: str,
    expected_cost: Decimal | None = None,
    slot_start: datetime | None = None,
    now: datetime | None = None,
) -> BookingResult:
    """Pay at once and create a booking: for a mentor with weekly hours, of the free slot starting at
    `slot_start` (PENDING for the mentor or an admin to confirm, or CONFIRMED at once when the mentor's rules say
    so); for a mentor without hours, PENDING with no time, for an admin to date. The debit and the booking are
    one transaction: a slot taken meanwhile (SlotTaken) takes no money."""
    now = as_utc(now)
    notes = clean_text(notes, limit=MAX_NOTES, field="notes")
    key = ledger_key(TransactionType.MENTORSHIP_PAYMENT, idempotency_key)

    def do() -> BookingResult:
        student = active_user(session, student_id)
        settings = get_settings(session)
        mentor = get_mentor(session, mentor_id, settings=settings)
        if not mentor.available:
            raise MentorUnavailable("this mentor is not taking bookings now", mentor=mentor.name)
        if mentor_id == student_id:
            raise InvalidInput("you cannot book yourself")
        cost = _price(mentor, duration, settings)
        if expected_cost is not None and expected_cost != cost:
            raise PriceChanged("the price changed", old=expected_cost, new=cost)
        pending = (
            session.scalar(
                select(func.count())
                .select_from(MentorshipBooking)
                .where(MentorshipBooking.student_id == student_id, MentorshipBooking.status == BookingStatus.PENDING)
            )
            or 0
        )
        if pending >= settings.max_pending_bookings:
            raise TooManyPendingBookings("too many pending bookings", limit=settings.max_pending_bookings)
        slot, rules = None, None
        if availability.has_hours(session, mentor_id):
            if slot_start is None:
                raise SlotUnavailable("choose one of the mentor's free slots")
            availability.lock_mentor(session, mentor_id)
            rules = availability.rules_of(session, mentor_id, settings)
            slot = availability.check_slot(
                session, mentor_id, duration, slot_start, now=now, student_id=student_id, settings=settings
            )
        elif slot_start is not None:
            raise SlotUnavailable("this mentor has no hours set: an admin sets the time after booking")
        new_balance = debit(session, student_id, cost)
        confirmed = rules is not None and rules.auto_confirm
        booking = MentorshipBooking(
            student_id=student_id,
            mentor_id=mentor_id,
            duration=duration,
            total_cost=cost,
            status=BookingStatus.CONFIRMED if confirmed else BookingStatus.PENDING,
            student_notes=notes,
            session_date=slot.start if slot else None,
            ends_at=slot.end if slot else None,
            meeting_link=rules.meeting_link if rules else None,
            confirmed_at=now if confirmed else None,
            processed_by="auto" if confirmed else None,
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        session.flush()
        if slot is not None:
            availability.release_holds(session, student_id)
        if confirmed:
            _tell_confirmed(session, booking, now=now)
        session.add(
            Transaction(
                user_id=student_id,
                type=TransactionType.MENTORSHIP_PAYMENT,
                amount=-cost,
                status=TransactionStatus.APPROVED,
                description=f"Mentorship with {mentor.name} ({duration} min)",
                idempotency_key=key,
                reference=f"booking:{booking.id}",
                balance_after=new_balance,
                created_at=now,
                decided_at=now,
                updated_at=now,
            )
        )
        notifications.notify_admins(
            session,
            kind=NotificationKind.ADMIN_BOOKING_NEW,
            subject=f"booking:{booking.id}",
            now=now,
            payload={
                "booking_id": booking.id,
                "student": student.full_name,
                "username": student.username,
                "mentor": mentor.name,
                "duration": duration,
                "cost": str(cost),
                "notes": notes or "",
                "session_date": slot.start.isoformat() if slot else "",
                "confirmed": confirmed,
            },
        )
        return BookingResult(_booking_info(session, booking), new_balance)

    def replay(prior: Transaction) -> BookingResult:
        booking = session.get(MentorshipBooking, int(prior.reference.split(":")[1]))
        return BookingResult(_booking_info(session, booking), prior.balance_after or ZERO, replayed=True)

    return run_idempotent(session, student_id, key, TransactionType.MENTORSHIP_PAYMENT, do, replay)


def _transition(
    session: Session,
    booking_id: int,
    allowed: tuple[BookingStatus, ...],
    values: dict,
    *,
    student_id: int | None = None,
) -> MentorshipBooking:
    """Move a booking with one conditional UPDATE; explain precisely when it may not move."""
    conditions = [MentorshipBooking.id == booking_id, MentorshipBooking.status.in_(allowed)]
    if student_id is not None:
        conditions.append(MentorshipBooking.student_id == student_id)
    won = session.execute(
        update(MentorshipBooking).where(*conditions).values(**values).execution_options(synchronize_session=False)
    ).rowcount
    booking = session.get(MentorshipBooking, booking_id)
    if booking is not None:
        session.refresh(booking)
    if not won:
        if booking is None:
            raise NotFound("booking not found", entity="booking", id=booking_id)
        if student_id is not None and booking.student_id != student_id:
            raise NotOwner("this booking is not yours")
        raise InvalidState(
            "the booking cannot change from its current status",
            status=booking.status.value,
            by=booking.processed_by or "",
        )
    return booking


def check_confirmable(session: Session, booking_id: int) -> BookingInfo:
    """The booking, if an admin may confirm it now (PENDING); else InvalidState saying who decided it.

    Lets an edge ask before collecting a date; confirm() checks again in its own transaction.
    """
    booking = get_booking(session, booking_id)
    if booking.status != BookingStatus.PENDING:
        raise InvalidState("the booking is not pending", status=booking.status.value, by=booking.processed_by or "")
    return booking


def check_cancellable(
    session: Session, booking_id: int, *, student_id: int | None = None, now: datetime | None = None
) -> BookingInfo:
    """The booking, if it may be cancelled now: PENDING or CONFIRMED, and by its own student (student_id) only
    before it starts. Raises NotOwner or InvalidState; cancel() checks again in its transaction."""
    booking = get_booking(session, booking_id)
    if student_id is not None and booking.student_id != student_id:
        raise NotOwner("this booking is not yours")
    started = booking.session_date is not None and as_utc(booking.session_date) <= as_utc(now)
    if booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED) or (student_id is not None and started):
        raise InvalidState(
            "the booking cannot be cancelled now", status=booking.status.value, by=booking.processed_by or ""
        )
    return booking


def refund_if_cancelled(session: Session, booking: BookingInfo, *, now: datetime | None = None) -> policy.Refund:
    """What the student would get back by cancelling now (shown before they confirm the cancellation)."""
    terms = policy.policy_for(session, booking.mentor_id)
    return policy.refund_for(terms, booking.total_cost, booking.session_date, now=as_utc(now), by_student=True)


def student_booking(session: Session, booking_id: int, student_id: int) -> BookingInfo:
    """One of this student's bookings; NotOwner for anyone else's."""
    booking = get_booking(session, booking_id)
    if booking.student_id != student_id:
        raise NotOwner("this booking is not yours")
    return booking


def check_session_date(
    session: Session, session_date: datetime, *, now: datetime | None = None, settings: AppSettings | None = None
) -> datetime:
    """The one rule for a session's date: after `now` and at most max_session_days_ahead days after it.

    Aware UTC, or DateInPast / DateTooFar (details: days) for the bot, the panel and the API to explain.
    """
    now = as_utc(now)
    try:
        value = as_utc(session_date)
    except OverflowError:  # year 1 or 9999 with an offset: off the calendar, so not a bookable date either way
        value = None
    if value is None and session_date.year <= now.year or value is not None and value <= now:
        raise DateInPast("the session date must be in the future")
    days = (settings or get_settings(session)).max_session_days_ahead
    if value is None or value > latest_session_date(session, now=now, days=days):
        raise DateTooFar(f"the session date must be at most {days} days ahead", days=days)
    return value


def latest_session_date(session: Session, *, now: datetime | None = None, days: int | None = None) -> datetime:
    """The furthest instant a session may be set to (aware UTC): `now` plus max_session_days_ahead days."""
    if days is None:
        days = get_settings(session).max_session_days_ahead
    return as_utc(now) + timedelta(days=days)


def confirm(
    session: Session,
    booking_id: int,
    session_date: datetime,
    admin_notes: str | None = None,
    *,
    actor: Actor,
    reschedule: bool = False,
    now: datetime | None = None,
) -> BookingInfo:
    """PENDING -> CONFIRMED with a date check_session_date accepts (or move a CONFIRMED session when
    rescheduling)."""
    now = as_utc(now)
    session_date = check_session_date(session, session_date, now=now)
    notes = clean_text(admin_notes, limit=MAX_NOTES, field="notes")
    allowed = (BookingStatus.CONFIRMED,) if reschedule else (BookingStatus.PENDING,)
    with unit_of_work(session):
        before = session.get(MentorshipBooking, booking_id)
        old_date = before.session_date if before else None
        if before is not None:
            availability.lock_mentor(session, before.mentor_id)
            if reschedule:
                notifications.withdraw(session, f"booking:{booking_id}", NotificationKind.REMINDER_SESSION)
            refuse_overlap(session, before.mentor_id, session_date, before.duration, booking_id=booking_id)
        booking = _transition(
            session,
            booking_id,
            allowed,
            dict(
                status=BookingStatus.CONFIRMED,
                session_date=session_date,
                ends_at=session_date + timedelta(minutes=before.duration if before else 0),
                # moving a session keeps its notes (the meeting link) unless new ones are given
                admin_notes=before.admin_notes if reschedule and notes is None and before else notes,
                processed_by=actor.name,
                confirmed_at=now,
                updated_at=now,
            ),
        )
        notes = booking.admin_notes
        _tell_confirmed(session, booking, notes=notes, reschedule=reschedule, now=now)
        if not reschedule:
            notifications.notify_admins(
                session,
                kind=NotificationKind.ADMIN_BOOKING_DECIDED,
                subject=f"booking:{booking_id}",
                now=now,
                payload={"booking_id": booking_id, "status": "CONFIRMED", "by": actor.name},
            )
        audit.record(
            session,
            actor,
            "booking.reschedule" if reschedule else "booking.confirm",
            "booking",
            booking_id,
            before={"status": "CONFIRMED" if reschedule else "PENDING", "session_date": old_date},
            after={"status": "CONFIRMED", "session_date": session_date, "notes": notes},
            now=now,
        )
        return _booking_info(session, booking)


def refuse_overlap(
    session: Session, mentor_id: int, start: datetime, duration: int, *, booking_id: int | None = None
) -> None:
    """SessionOverlap naming the live booking of the mentor whose session overlaps [start, start + duration)."""
    start = as_utc(start)
    other = session.scalar(
        availability.live_sessions(mentor_id, start, start + timedelta(minutes=duration))
        .where(MentorshipBooking.id != (booking_id or 0))
        .limit(1)
    )
    if other is not None:
        raise SessionOverlap(f"the mentor already has booking #{other} at that time", booking=other)


def _tell_confirmed(
    session: Session, booking: MentorshipBooking, *, notes: str | None = None, reschedule: bool = False, now: datetime
) -> None:
    """The student and the mentor are told of the (new) time."""
    payload = {
        "booking_id": booking.id,
        "session_date": as_utc(booking.session_date).isoformat(),
        "notes": notes or "",
        "duration": booking.duration,
        "meeting_link": booking.meeting_link or "",
        "mentor": session.get(User, booking.mentor_id).full_name,
    }
    kind = NotificationKind.BOOKING_RESCHEDULED if reschedule else NotificationKind.BOOKING_CONFIRMED
    mentor_kind = NotificationKind.MENTOR_RESCHEDULED if reschedule else NotificationKind.MENTOR_CONFIRMED
    subject = f"booking:{booking.id}"
    notifications.enqueue(session, kind=kind, user_id=booking.student_id, payload=payload, subject=subject, now=now)
    if booking.mentor_id != booking.student_id:
        notifications.enqueue(
            session, kind=mentor_kind, user_id=booking.mentor_id, payload=payload, subject=subject, now=now
        )


def complete(session: Session, booking_id: int, *, actor: Actor, now: datetime | None = None) -> BookingInfo:
    """CONFIRMED -> COMPLETED once the session has started; the student is asked for a rating."""
    now = as_utc(now)
    with unit_of_work(session):
        current = session.get(MentorshipBooking, booking_id)
        if current is not None and current.status == BookingStatus.CONFIRMED and current.session_date > now:
            raise InvalidState("the session has not started yet", status="CONFIRMED")
        booking = _transition(
            session,
            booking_id,
            (BookingStatus.CONFIRMED,),
            dict(status=BookingStatus.COMPLETED, completed_at=now, updated_at=now, processed_by=actor.name),
        )
        notifications.enqueue(
            session,
            kind=NotificationKind.BOOKING_RATE_REQUEST,
            user_id=booking.student_id,
            now=now,
            subject=f"booking:{booking_id}",
            dedupe_key=f"rate-request:{booking_id}",
            payload={"booking_id": booking_id},
        )
        audit.record(
            session,
            actor,
            "booking.complete",
            "booking",
            booking_id,
            before={"status": "CONFIRMED"},
            after={"status": "COMPLETED"},
            now=now,
        )
        return _booking_info(session, booking)


def cancel(
    session: Session,
    booking_id: int,
    reason: str | None = None,
    *,
    actor: Actor | None = None,
    student_id: int | None = None,
    expected_refund: Decimal | None = None,
    now: datetime | None = None,
) -> CancelResult:
    """Cancel and refund under the cancellation policy (core.services.policy), once; with `expected_refund`
    (what the student was shown), RefundChanged instead when the policy now gives another amount.

    An admin (actor) may cancel PENDING or CONFIRMED bookings, must give the student a reason (ReasonRequired
    otherwise) and always refunds in full; a student (student_id) may cancel their own PENDING or CONFIRMED
    booking before it starts, with or without a reason, and gets what the policy gives at `now`. The refund row's
    idempotency key is per booking, so a race cannot refund twice; a refund of nothing writes no ledger row.
    """
    now = as_utc(now)
    if (actor is None) == (student_id is None):
        raise ValueError("cancel needs exactly one of actor or student_id")
    by_student = student_id is not None
    reason = clean_text(reason, limit=500, field="reason") if by_student else require_reason(reason)
    allowed = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
    who = actor.name if actor else "student"
    with unit_of_work(session):
        before = session.get(MentorshipBooking, booking_id)
        before_status = before.status.value if before else None
        if by_student and before is not None and before.session_date is not None and as_utc(before.session_date) <= now:
            raise InvalidState("the session has already started", status=before_status, by=before.processed_by or "")
        booking = _transition(
            session,
            booking_id,
            allowed,
            dict(
                status=BookingStatus.CANCELLED, cancelled_at=now, updated_at=now, cancel_reason=reason, processed_by=who
            ),
            student_id=student_id,
        )
        notifications.withdraw(session, f"booking:{booking_id}", NotificationKind.REMINDER_SESSION)
        terms = policy.policy_for(session, booking.mentor_id)
        refund = policy.refund_for(terms, booking.total_cost, booking.session_date, now=now, by_student=by_student)
        if expected_refund is not None and refund.amount != expected_refund:
            raise RefundChanged("the refund changed", old=expected_refund, new=refund.amount)
        booking.refunded = refund.amount
        new_balance = wallet_balance(session, booking.student_id)
        if refund.amount > 0:
            new_balance = credit(session, booking.student_id, refund.amount)
            part = "" if refund.rule == "full" else f" ({terms.partial_percent}% under the cancellation policy)"
            session.add(
                Transaction(
                    user_id=booking.student_id,
                    type=TransactionType.REFUND,
                    amount=refund.amount,
                    status=TransactionStatus.APPROVED,
                    description=f"Refund for cancelled mentorship booking #{booking_id}{part}",
                    idempotency_key=f"refund:booking:{booking_id}",
                    reference=f"booking:{booking_id}",
                    admin_id=actor.admin_id if actor else None,
                    processed_by=who,
                    balance_after=new_balance,
                    created_at=now,
                    decided_at=now,
                    updated_at=now,
                )
            )
        session.flush()
        payload = {
            "booking_id": booking_id,
            "refund": str(refund.amount),
            "rule": refund.rule,
            "balance": str(new_balance),
            "reason": reason or "",
            "by_student": by_student,
        }
        notifications.enqueue(
            session,
            kind=NotificationKind.BOOKING_CANCELLED,
            user_id=booking.student_id,
            payload=payload,
            subject=f"booking:{booking_id}",
            now=now,
        )
        notifications.notify_admins(
            session,
            kind=NotificationKind.ADMIN_BOOKING_DECIDED,
            subject=f"booking:{booking_id}",
            now=now,
            payload={"booking_id": booking_id, "status": "CANCELLED", "by": who},
        )
        if actor is not None:
            audit.record(
                session,
                actor,
                "booking.cancel",
                "booking",
                booking_id,
                before={"status": before_status},
                after={"status": "CANCELLED", "refund": refund.amount, "reason": reason},
                now=now,
            )
        return CancelResult(_booking_info(session, booking), refund.amount, new_balance, refund.rule)


def leave_feedback(
    session: Session,
    booking_id: int,
    student_id: int,
    rating: int,
    feedback: str | None = None,
    *,
    now: datetime | None = None,
) -> BookingInfo:
    """One rating (1-5) with optional text per COMPLETED booking, by its student."""
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidRating("rating must be 1 to 5")
    feedback = clean_text(feedback, limit=MAX_NOTES, field="feedback")
    now = as_utc(now)
    with unit_of_work(session):
        won = session.execute(
            update(MentorshipBooking)
            .where(
                MentorshipBooking.id == booking_id,
                MentorshipBooking.student_id == student_id,
                MentorshipBooking.status == BookingStatus.COMPLETED,
                MentorshipBooking.rating.is_(None),
            )
            .values(rating=rating, feedback=feedback, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        booking = session.get(MentorshipBooking, booking_id)
        if not won:
            if booking is None:
                raise NotFound("booking not found", entity="booking", id=booking_id)
            if booking.student_id != student_id:
                raise NotOwner("this booking is not yours")
            if booking.status != BookingStatus.COMPLETED:
                raise InvalidState("only completed sessions can be rated", status=booking.status.value)
            raise AlreadyRated("you already rated this session")
        session.refresh(booking)
        return _booking_info(session, booking)


def add_feedback_text(
    session: Session, booking_id: int, student_id: int, feedback: str, *, now: datetime | None = None
) -> BookingInfo:
    """Text sent after the star rating (the bot asks for it in a second step)."""
    feedback = clean_text(feedback, limit=MAX_NOTES, field="feedback")
    with unit_of_work(session):
        won = session.execute(
            update(MentorshipBooking)
            .where(
                MentorshipBooking.id == booking_id,
                MentorshipBooking.student_id == student_id,
                MentorshipBooking.rating.is_not(None),
                MentorshipBooking.feedback.is_(None),
            )
            .values(feedback=feedback, updated_at=as_utc(now))
            .execution_options(synchronize_session=False)
        ).rowcount
        booking = session.get(MentorshipBooking, booking_id)
        if booking is None or booking.student_id != student_id:
            raise NotFound("booking not found", entity="booking", id=booking_id)
        if not won:
            raise AlreadyRated("feedback already saved")
        session.refresh(booking)
        return _booking_info(session, booking)


def student_bookings(session: Session, student_id: int) -> list[BookingInfo]:
    """Upcoming first (by date), then the rest newest first."""
    rows = session.scalars(
        select(MentorshipBooking)
        .where(MentorshipBooking.student_id == student_id)
        .order_by(MentorshipBooking.created_at.desc(), MentorshipBooking.id.desc())
    ).all()
    infos = [_booking_info(session, b) for b in rows]
    active = [b for b in infos if b.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)]
    active.sort(key=lambda b: (b.session_date is None, b.session_date or b.created_at))
    return active + [b for b in infos if b not in active]


def pending_bookings(session: Session, *, limit: int = 50) -> list[BookingInfo]:
    rows = session.scalars(
        select(MentorshipBooking)
        .where(MentorshipBooking.status == BookingStatus.PENDING)
        .order_by(MentorshipBooking.created_at, MentorshipBooking.id)
        .limit(limit)
    ).all()
    return [_booking_info(session, b) for b in rows]


def mentor_candidates(session: Session) -> list[UserInfo]:
    """Students in the bot who are not mentors yet, by name: whom the owner may make a mentor."""
    rows = session.scalars(
        select(User).where(User.is_mentor.is_(False), User.telegram_id.is_not(None)).order_by(User.full_name)
    ).all()
    return [user_info(u) for u in rows]


def update_mentor(
    session: Session,
    user_id: int,
    *,
    actor: Actor,
    is_mentor: bool | None = None,
    bio: str | None = None,
    rate: Decimal | str | None = None,
    available: bool | None = None,
    now: datetime | None = None,
) -> MentorInfo:
    """Make a user a mentor or edit a mentor's bio, hourly rate and availability; audited."""
    if rate is not None:
        rate = parse_rate(rate)
    bio = clean_text(bio, limit=2000, field="bio") if bio is not None else None
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user not found", entity="user", id=user_id)
        before = {
            "is_mentor": user.is_mentor,
            "bio": user.mentor_bio,
            "rate": user.mentor_rate,
            "available": user.mentor_available,
        }
        if is_mentor is not None:
            user.is_mentor = is_mentor
        if bio is not None:
            user.mentor_bio = bio
        if rate is not None:
            user.mentor_rate = rate
        if available is not None:
            user.mentor_available = available
        after = {
            "is_mentor": user.is_mentor,
            "bio": user.mentor_bio,
            "rate": user.mentor_rate,
            "available": user.mentor_available,
        }
        audit.record(session, actor, "mentor.update", "user", user_id, before=before, after=after, now=now)
    return get_mentor(session, user_id) if user.is_mentor else None


def set_mentorship_settings(
    session: Session,
    *,
    actor: Actor,
    hourly_rate: Decimal | str | None = None,
    is_available: bool | None = None,
    durations: str | None = None,
    now: datetime | None = None,
):
    """The seed's PUT /api/admin/mentorship/settings: default hourly rate, open/closed, durations."""
    changes = {}
    if hourly_rate is not None:
        changes["mentor_default_rate"] = str(hourly_rate)  # bounded by the setting's own validator
    if is_available is not None:
        changes["mentorship_available"] = "true" if is_available else "false"
    if durations is not None:
        changes["durations"] = durations
    return update_settings(session, changes, actor=actor, now=now)


def create_mentor(
    session: Session,
    full_name: str,
    *,
    actor: Actor,
    bio: str = "",
    rate: Decimal | str | None = None,
    telegram_id: int | None = None,
    now: datetime | None = None,
) -> MentorInfo:
    """A mentor who is not (yet) a student in the bot, e.g. the owner."""
    name = clean_text(full_name, limit=200, field="name")
    if not name:
        raise InvalidInput("a name is required")
    now = as_utc(now)
    with unit_of_work(session):
        user = User(
            full_name=name,
            telegram_id=telegram_id,
            is_mentor=True,
            mentor_bio=bio or None,
            balance=ZERO,
            language="en",
            created_at=now,
        )
        session.add(user)
        session.flush()
        user_id = user.id
    return (
        update_mentor(session, user_id, actor=actor, rate=rate, now=now)
        if rate is not None
        else get_mentor(session, user_id)
    )


# -- moving a session: the student asks for another free slot, the mentor or an admin decides -------------------


def request_reschedule(
    session: Session, booking_id: int, student_id: int, new_start: datetime, *, now: datetime | None = None
) -> BookingInfo:
    """Ask to move one's booking to another free slot of the mentor. Allowed while cancelling would still
    refund in full (the policy's first bound) and at most max_reschedules times per booking; the new time is kept
    from others until decided. A mentor who confirms at once takes the move at once."""
    now = as_utc(now)
    with unit_of_work(session):
        booking = session.get(MentorshipBooking, booking_id)
        if booking is None:
            raise NotFound("booking not found", entity="booking", id=booking_id)
        if booking.student_id != student_id:
            raise NotOwner("this booking is not yours")
        if booking.status not in availability.LIVE or booking.session_date is None:
            raise InvalidState("only a booked time can be moved", status=booking.status.value, by="")
        settings = get_settings(session)
        if booking.reschedules >= settings.max_reschedules:
            raise RescheduleRefused("this booking was moved as often as allowed", limit=settings.max_reschedules)
        terms = policy.policy_for(session, booking.mentor_id, settings)
        if as_utc(booking.session_date) - now < timedelta(hours=terms.full_hours):
            raise RescheduleRefused("too late to move this session", hours=terms.full_hours)
        availability.lock_mentor(session, booking.mentor_id)
        slot = availability.check_slot(
            session, booking.mentor_id, booking.duration, new_start, now=now, student_id=student_id, booking=booking_id
        )
        rules = availability.rules_of(session, booking.mentor_id, settings)
        old = as_utc(booking.session_date)
        if rules.auto_confirm:
            _move(session, booking, slot.start, now)
            session.flush()
            _tell_confirmed(session, booking, notes=booking.admin_notes, reschedule=True, now=now)
        else:
            booking.requested_start = slot.start
            booking.updated_at = now
            payload = {
                "booking_id": booking_id,
                "student": session.get(User, student_id).full_name,
                "from": old.isoformat(),
                "to": slot.start.isoformat(),
                "duration": booking.duration,
            }
            notifications.enqueue(
                session,
                kind=NotificationKind.RESCHEDULE_ASKED,
                user_id=booking.mentor_id,
                payload=payload,
                subject=f"booking:{booking_id}",
                now=now,
            )
            notifications.notify_admins(
                session,
                kind=NotificationKind.RESCHEDULE_ASKED,
                subject=f"booking:{booking_id}",
                now=now,
                payload=payload,
            )
        availability.release_holds(session, student_id)
        session.flush()
        return _booking_info(session, booking)


def _move(session: Session, booking: MentorshipBooking, start: datetime, now: datetime) -> None:
    """The session's new time; its notes and meeting link stay; reminders follow the new time (kept per session
    time, none is due for the old one any more) and one of the old time still waiting in the outbox is withdrawn."""
    notifications.withdraw(session, f"booking:{booking.id}", NotificationKind.REMINDER_SESSION)
    booking.session_date = start
    booking.ends_at = start + timedelta(minutes=booking.duration)
    booking.requested_start = None
    booking.reschedules = (booking.reschedules or 0) + 1
    booking.reminder_24h_for = booking.reminder_1h_for = booking.completion_reminder_for = None
    booking.updated_at = now


def decide_reschedule(
    session: Session, booking_id: int, accept: bool, *, actor: Actor, now: datetime | None = None
) -> BookingInfo:
    """The mentor or an admin takes or declines the move the student asked for; the student is told."""
    now = as_utc(now)
    with unit_of_work(session):
        booking = session.get(MentorshipBooking, booking_id)
        if booking is None:
            raise NotFound("booking not found", entity="booking", id=booking_id)
        if booking.requested_start is None or booking.status not in availability.LIVE:
            raise InvalidState("no move is waiting for this booking", status=booking.status.value, by="")
        asked, old = as_utc(booking.requested_start), as_utc(booking.session_date)
        if accept:
            availability.lock_mentor(session, booking.mentor_id)
            refuse_overlap(session, booking.mentor_id, asked, booking.duration, booking_id=booking_id)
            _move(session, booking, asked, now)
            session.flush()
            _tell_confirmed(session, booking, notes=booking.admin_notes, reschedule=True, now=now)
        else:
            booking.requested_start = None
            booking.updated_at = now
            notifications.enqueue(
                session,
                kind=NotificationKind.RESCHEDULE_DECLINED,
                user_id=booking.student_id,
                payload={"booking_id": booking_id, "session_date": old.isoformat(), "asked": asked.isoformat()},
                subject=f"booking:{booking_id}",
                now=now,
            )
        audit.record(
            session,
            actor,
            "booking.move" if accept else "booking.move_declined",
            "booking",
            booking_id,
            before={"session_date": old, "asked": asked},
            after={"session_date": as_utc(booking.session_date)},
            now=now,
        )
        session.flush()
        return _booking_info(session, booking)
