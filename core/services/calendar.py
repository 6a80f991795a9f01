"""A booked session in people's calendars: an iCalendar file (RFC 5545, with the Africa/Cairo time zone, so the
session stays at its Cairo time in any calendar) and an "add to Google Calendar" link. Built by icalendar; the
bot, the students' API and the Mini App only hand them out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from core.timeutil import CAIRO, as_utc

if TYPE_CHECKING:
    from core.services.mentorship import BookingInfo

PRODID = "-//CodeHub//Mentorship//EN"


def _title(mentor: str) -> str:
    return f"CodeHub mentorship with {mentor}"


def _details(booking_id: int, duration: int, meeting_link: str | None, notes: str | None) -> str:
    lines = [f"Booking #{booking_id}, {duration} min."]
    if meeting_link:
        lines.append(f"Meeting link: {meeting_link}")
    if notes:
        lines.append(notes)
    return "\n".join(lines)


def has_time(booking: BookingInfo) -> bool:
    return booking.session_date is not None


def session_ics(booking: BookingInfo, *, now: datetime) -> bytes:
    """One VEVENT at the session's Cairo time (TZID=Africa/Cairo with its VTIMEZONE); SEQUENCE follows moves."""
    from icalendar import Calendar, Event  # here: the bot never builds a file, and starts without it

    start = as_utc(booking.session_date).astimezone(CAIRO)
    end = (
        as_utc(booking.ends_at)
        if booking.ends_at
        else as_utc(booking.session_date) + timedelta(minutes=booking.duration)
    ).astimezone(CAIRO)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.id}@codehub")
    event.add("dtstamp", as_utc(now))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", booking.reschedules)
    event.add("summary", _title(booking.mentor_name))
    event.add("description", _details(booking.id, booking.duration, booking.meeting_link, booking.admin_notes))
    if booking.meeting_link:
        event.add("location", booking.meeting_link)
        event.add("url", booking.meeting_link)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def google_calendar_url(booking: BookingInfo) -> str:
    """Google Calendar's "create event" link (its documented TEMPLATE action), in UTC with the Cairo zone named."""
    end = as_utc(booking.ends_at) if booking.ends_at else None
    return google_calendar_link(
        booking.id,
        booking.mentor_name,
        as_utc(booking.session_date),
        booking.duration,
        meeting_link=booking.meeting_link,
        notes=booking.admin_notes,
        end=end,
    )


def google_calendar_link(
    booking_id: int,
    mentor: str,
    start: datetime,
    duration: int,
    *,
    meeting_link: str | None = None,
    notes: str | None = None,
    end: datetime | None = None,
) -> str:
    """The same link from a notification's payload (the bot has no BookingInfo there)."""
    start = as_utc(start)
    end = end or start + timedelta(minutes=duration)
    query = {
        "action": "TEMPLATE",
        "text": _title(mentor),
        "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
        "details": _details(booking_id, duration, meeting_link, notes),
        "ctz": "Africa/Cairo",
    }
    if meeting_link:
        query["location"] = meeting_link
    return "https://calendar.google.com/calendar/render?" + urlencode(query)
