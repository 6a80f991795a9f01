"""The students' API, tag mentorship: mentors and prices, booking (paid from the balance), cancelling, feedback."""

from __future__ import annotations

from decimal import Decimal

from admin_panel.student_api import schemas as S
from admin_panel.student_api.routing import Call, Route
from core.errors import InvalidInput
from core.services import mentorship
from core.services.settings import get_settings
from core.timeutil import as_utc


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
            )
            for m in mentors
            if m.id != call.student_id
        ],
    )


def _booking(b) -> S.BookingOut:
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
    )


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
        now=call.now,
    )
    return S.BookOut(booking=_booking(result.booking), balance=S.money(result.balance))


def get_my_bookings(call: Call) -> S.BookingList:
    return S.BookingList(bookings=[_booking(b) for b in mentorship.student_bookings(call.session, call.student_id)])


def post_cancel(call: Call, booking_id: int) -> S.CancelOut:
    result = mentorship.cancel(call.session, booking_id, student_id=call.student_id, now=call.now)
    return S.CancelOut(booking=_booking(result.booking), refund=S.money(result.refund), balance=S.money(result.balance))


def post_feedback(call: Call, booking_id: int) -> S.BookingOut:
    b: S.FeedbackIn = call.body
    return _booking(
        mentorship.leave_feedback(call.session, booking_id, call.student_id, b.rating, b.feedback, now=call.now)
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
        "Cancel my pending booking (full refund)",
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
