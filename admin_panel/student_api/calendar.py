"""A booked session's calendar file at a link that needs no header (a calendar app, Telegram's downloadFile and a
plain browser fetch it as it is): /api/mentorship/calendar/<token>.ics, the token signing (booking, student) with
the app's secret key. It shows that one session (time, mentor, meeting link) and nothing else; a link of a
cancelled booking answers 404."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app
from itsdangerous import BadSignature, URLSafeSerializer

from admin_panel.web.context import service_session
from core.errors import DomainError
from core.models import BookingStatus
from core.services import calendar, mentorship
from core.services.mentorship import BookingInfo
from core.timeutil import utcnow

SALT = "codehub-calendar-file"
calendar_files = Blueprint("calendar_files", __name__, url_prefix="/api/mentorship/calendar")


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def calendar_path(booking: BookingInfo) -> str | None:
    """The booking's calendar file, for its student (None while it has no time)."""
    if not calendar.has_time(booking) or booking.status == BookingStatus.CANCELLED:
        return None
    return f"/api/mentorship/calendar/{_signer().dumps([booking.id, booking.student_id])}.ics"


@calendar_files.get("/<token>.ics")
def calendar_file(token: str):
    try:
        booking_id, student_id = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        abort(404)
    with service_session() as s:
        try:
            booking = mentorship.student_booking(s, int(booking_id), int(student_id))
        except DomainError:
            abort(404)
    if calendar_path(booking) is None:
        abort(404)
    body = calendar.session_ics(booking, now=utcnow())
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="codehub-session-{booking.id}.ics"'},
    )
