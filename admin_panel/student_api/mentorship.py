"""The students' API, tag mentorship: mentors and prices, booking (paid from the balance), cancelling, feedback."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from admin_panel.student_api import schemas as S
from admin_panel.student_api.calendar import calendar_path
from admin_panel.student_api.routing import Call, Route
from admin_panel.student_api.texts import voice
from core.errors import InvalidInput
from core.services import availability, calendar, mentorship, policy
from core.services.settings import get_settings
from core.timeutil import CAIRO, as_utc
from core.words.booking import policy_text


def get_mentorship_info(call: Call) -> S.MentorshipInfo:
    settings = get_settings(call.session)
    mentors = mentorship.list_mentors(call.session, settings=settings)
    return S.MentorshipInfo(
        is_available=settings.mentorship_available,
        hourly_rate=S.money(settings.mentor_default_rate),
        durations=list(settings.durations),
        currency=call.currency,
        mentors=[
            S.MentorOut(
                id=m.id,
                name=m.name,
                bio=m.bio,
                hourly_rate=S.money(m.rate),
                is_available=m.available,
                average_rating=str(m.average_rating) if m.average_rating is not None else None,
                ratings=m.ratings,
                prices=[
                    S.Price(duration=d, price=S.money(mentorship.quote(call.session, m.id, d)))
                    for d in settings.durations
                ],
                booked_by_slot=availability.has_hours(call.session, m.id),
            )
            for m in mentors
            if m.id != call.student_id
        ],
    )


def _booking(call: Call, b) -> S.BookingOut:
    live = b.status in availability.LIVE
    ics = calendar_path(b)
    return S.BookingOut(
        id=b.id,
        student_id=b.student_id,
        mentor_id=b.mentor_id,
        mentor_name=b.mentor_name,
        session_date=b.session_date and as_utc(b.session_date),
        duration=b.duration,
        total_cost=S.money(b.total_cost),
        status=b.status.value,
        student_notes=b.student_notes,
        admin_notes=b.admin_notes,
        feedback=b.feedback,
        rating=b.rating,
        created_at=as_utc(b.created_at),
        ends_at=b.ends_at and as_utc(b.ends_at),
        meeting_link=b.meeting_link,
        requested_start=b.requested_start and as_utc(b.requested_start),
        reschedules=b.reschedules,
        refunded=S.money(b.refunded) if b.refunded is not None else None,
        refund_if_cancelled=S.money(mentorship.refund_if_cancelled(call.session, b, now=call.now).amount)
        if live
        else None,
        calendar_url=ics,
        google_calendar_url=calendar.google_calendar_url(b) if ics else None,
    )


def _cairo(value) -> datetime:
    return as_utc(value).astimezone(CAIRO)


def get_slots(call: Call, mentor_id: int) -> S.SlotList:
    q: S.SlotsQuery = call.query
    mentorship.get_mentor(call.session, mentor_id)  # 404 for a mentor that does not exist
    first = q.from_day or call.now.astimezone(CAIRO).date()
    slots = availability.free_slots(
        call.session, mentor_id, q.duration, first, q.days, now=call.now, student_id=call.student_id
    )
    return S.SlotList(
        mentor_id=mentor_id,
        duration=q.duration,
        slots=[S.SlotOut(start=_cairo(s.start), end=_cairo(s.end)) for s in slots],
    )


def post_hold(call: Call, mentor_id: int) -> S.HoldOut:
    b: S.HoldIn = call.body
    mentorship.bookable_mentor(call.session, mentor_id)  # 404 for no such mentor, 409 for one not taking bookings
    held = availability.hold(
        call.session, call.student_id, mentor_id, b.duration, S.parse_slot_start(b.slot_start), now=call.now
    )
    return S.HoldOut(start=_cairo(held.starts_at), end=_cairo(held.ends_at), held_until=_cairo(held.expires_at))


def get_policy(call: Call) -> S.PolicyOut:
    terms = policy.policy_for(call.session)
    settings = get_settings(call.session)
    return S.PolicyOut(
        full_refund_hours=terms.full_hours,
        partial_refund_hours=terms.partial_hours,
        partial_percent=terms.partial_percent,
        max_reschedules=settings.max_reschedules,
        text=policy_text(terms, voice(call.language)),
    )


def post_reschedule(call: Call, booking_id: int) -> S.BookingOut:
    b: S.SlotIn = call.body
    moved = mentorship.request_reschedule(
        call.session, booking_id, call.student_id, S.parse_slot_start(b.slot_start), now=call.now
    )
    return _booking(call, moved)


def post_book(call: Call) -> S.BookOut:
    b: S.BookIn = call.body
    mentor_id = b.mentor_id
    if mentor_id is None:  # the seed books "the" mentor; with several, the student must choose
        available = [
            m for m in mentorship.list_mentors(call.session, include_unavailable=False) if m.id != call.student_id
        ]
        if len(available) != 1:
            raise InvalidInput("choose a mentor (mentorId)", field="mentorId", reason="MENTOR_REQUIRED")
        mentor_id = available[0].id
    result = mentorship.book(
        call.session,
        call.student_id,
        mentor_id,
        b.duration,
        b.student_notes,
        idempotency_key=call.idempotency_key,
        expected_cost=Decimal(b.expected_cost) if b.expected_cost else None,
        slot_start=S.parse_slot_start(b.slot_start),
        now=call.now,
    )
    return S.BookOut(booking=_booking(call, result.booking), balance=S.money(result.balance))


def get_my_bookings(call: Call) -> S.BookingList:
    return S.BookingList(
        bookings=[_booking(call, b) for b in mentorship.student_bookings(call.session, call.student_id)]
    )


def post_cancel(call: Call, booking_id: int) -> S.CancelOut:
    result = mentorship.cancel(call.session, booking_id, student_id=call.student_id, now=call.now)
    return S.CancelOut(
        booking=_booking(call, result.booking),
        refund=S.money(result.refund),
        refund_rule=result.rule,
        balance=S.money(result.balance),
    )


def post_feedback(call: Call, booking_id: int) -> S.BookingOut:
    b: S.FeedbackIn = call.body
    return _booking(
        call, mentorship.leave_feedback(call.session, booking_id, call.student_id, b.rating, b.feedback, now=call.now)
    )


ROUTES = [
    # method, rule, handler, summary, query, body, response, idempotent (a money POST)
    Route(
        "GET",
        "/mentorship/info",
        get_mentorship_info,
        "Mentors, durations and prices",
        None,
        None,
        S.MentorshipInfo,
        False,
    ),
    Route("POST", "/mentorship/book", post_book, "Book and pay a session", None, S.BookIn, S.BookOut, True),
    Route(
        "GET",
        "/mentorship/mentors/<int:mentor_id>/slots",
        get_slots,
        "A mentor's free slots for a duration, day by day (Cairo time)",
        S.SlotsQuery,
        None,
        S.SlotList,
        False,
    ),
    Route(
        "POST",
        "/mentorship/mentors/<int:mentor_id>/hold",
        post_hold,
        "Hold a free slot for a few minutes while confirming",
        None,
        S.HoldIn,
        S.HoldOut,
        False,
    ),
    Route("GET", "/mentorship/policy", get_policy, "The cancellation policy", None, None, S.PolicyOut, False),
    Route(
        "POST",
        "/mentorship/bookings/<int:booking_id>/reschedule",
        post_reschedule,
        "Ask to move my booking to another free slot",
        None,
        S.SlotIn,
        S.BookingOut,
        False,
    ),
    Route(
        "GET",
        "/mentorship/my-bookings",
        get_my_bookings,
        "My bookings, upcoming first",
        None,
        None,
        S.BookingList,
        False,
    ),
    Route(
        "POST",
        "/mentorship/bookings/<int:booking_id>/cancel",
        post_cancel,
        "Cancel my booking; the refund follows the cancellation policy (GET /api/mentorship/policy)",
        None,
        None,
        S.CancelOut,
        True,
    ),
    Route(
        "POST",
        "/mentorship/feedback/<int:booking_id>",
        post_feedback,
        "Rate a completed session",
        None,
        S.FeedbackIn,
        S.BookingOut,
        False,
    ),
]
