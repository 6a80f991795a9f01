"""Booking by slot: a mentor's weekly hours and date overrides, less live bookings and other students' holds
(with the buffer), within notice and horizon; a slot booked once, in Cairo wall-clock time across summer time;
overlaps refused on confirm; the cancellation policy exact at its bounds."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db import unit_of_work
from core.errors import InvalidInput, InvalidState, RescheduleRefused, SlotTaken, SlotUnavailable
from core.models import BookingStatus, Notification, NotificationKind, NotificationStatus, User
from core.services import availability, mentorship, notifications, policy, wallet
from core.services.settings import update_settings
from core.timeutil import CAIRO
from tests.core.helpers import ADMIN, NOW, key, mentor, student

D = Decimal
THURSDAY = date(2026, 11, 26)  # NOW is Wednesday 25 November, 14:00 in Cairo (UTC+2)


def cairo(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=CAIRO).astimezone(timezone.utc)


def starts(slots) -> list[str]:
    return [s.start.astimezone(CAIRO).strftime("%a %H:%M") for s in slots]


@pytest.fixture
def ahmed(session) -> int:
    m = mentor(session, "Ahmed", rate="300.00")
    availability.set_week(
        session,
        m,
        {2: availability.parse_ranges("13:00-18:00"), 3: availability.parse_ranges("10:00-12:00, 14:00-16:00")},
        actor=ADMIN,
        now=NOW,
    )
    return m


def test_free_slots_follow_the_hours_the_interval_the_notice_and_the_horizon(session, ahmed):
    slots = availability.free_slots(session, ahmed, 60, NOW.date(), 2, now=NOW)
    # Wednesday: 14:00 now plus 120 minutes' notice; Thursday: both ranges, every 30 minutes
    assert starts(slots) == [
        "Wed 16:00", "Wed 16:30", "Wed 17:00",
        "Thu 10:00", "Thu 10:30", "Thu 11:00", "Thu 14:00", "Thu 14:30", "Thu 15:00",
    ]  # fmt: skip
    assert all(s.end - s.start == timedelta(minutes=60) for s in slots)
    assert availability.free_slots(session, ahmed, 60, NOW.date() + timedelta(days=31), 7, now=NOW) == []  # horizon
    with pytest.raises(InvalidInput):
        availability.free_slots(session, ahmed, 60, NOW.date(), 40, now=NOW)


def test_a_booked_slot_and_its_buffer_are_no_longer_free_and_money_moves_once(session, ahmed):
    sid = student(session)
    booked = mentorship.book(session, sid, ahmed, 60, idempotency_key="k1", slot_start=cairo(THURSDAY, 10, 30), now=NOW)
    assert booked.balance == D("200.00") and booked.booking.status == BookingStatus.PENDING
    assert booked.booking.session_date == cairo(THURSDAY, 10, 30)
    assert booked.booking.ends_at == cairo(THURSDAY, 11, 30)
    # 10:00 would end at 11:00, inside the session; 11:00 starts inside it (and within its 10-minute break)
    assert starts(availability.free_slots(session, ahmed, 60, THURSDAY, 1, now=NOW)) == [
        "Thu 14:00", "Thu 14:30", "Thu 15:00"
    ]  # fmt: skip
    again = mentorship.book(session, sid, ahmed, 60, idempotency_key="k1", slot_start=cairo(THURSDAY, 10, 30), now=NOW)
    assert again.replayed and again.booking.id == booked.booking.id and wallet.balance(session, sid) == D("200.00")
    other = student(session, name="Mona")
    with pytest.raises(SlotTaken):
        mentorship.book(session, other, ahmed, 60, idempotency_key="k2", slot_start=cairo(THURSDAY, 11), now=NOW)
    with pytest.raises(SlotUnavailable):  # not on the half hour of a range
        mentorship.book(session, other, ahmed, 60, idempotency_key="k3", slot_start=cairo(THURSDAY, 14, 10), now=NOW)
    with pytest.raises(SlotUnavailable):  # within the notice
        mentorship.book(session, other, ahmed, 60, idempotency_key="k4", slot_start=cairo(NOW.date(), 15), now=NOW)
    with pytest.raises(SlotUnavailable):  # a mentor with hours is booked by slot
        mentorship.book(session, other, ahmed, 60, idempotency_key="k5", now=NOW)
    assert wallet.balance(session, other) == D("500.00")  # no refusal took money
    assert wallet.check_ledger(session) == []


def test_a_held_slot_is_kept_from_others_until_the_hold_ends(session, ahmed):
    mona, omar = student(session, name="Mona"), student(session, name="Omar")
    availability.hold(session, mona, ahmed, 60, cairo(THURSDAY, 14), now=NOW)
    assert "Thu 14:00" in starts(availability.free_slots(session, ahmed, 60, THURSDAY, 1, now=NOW, student_id=mona))
    assert "Thu 14:00" not in starts(availability.free_slots(session, ahmed, 60, THURSDAY, 1, now=NOW, student_id=omar))
    with pytest.raises(SlotTaken):
        mentorship.book(session, omar, ahmed, 60, idempotency_key="o1", slot_start=cairo(THURSDAY, 14), now=NOW)
    after = NOW + timedelta(minutes=5)  # the hold lasts slot_hold_minutes (5)
    booked = mentorship.book(session, omar, ahmed, 60, idempotency_key="o2", slot_start=cairo(THURSDAY, 14), now=after)
    assert booked.booking.session_date == cairo(THURSDAY, 14)


def test_date_overrides_replace_the_weekday_and_the_daily_limit_fills_a_day(session, ahmed):
    availability.set_day(session, ahmed, THURSDAY, None, actor=ADMIN, now=NOW)  # a day off
    friday = THURSDAY + timedelta(days=1)
    availability.set_day(session, ahmed, friday, availability.parse_ranges("09:00-10:00"), actor=ADMIN, now=NOW)
    assert starts(availability.free_slots(session, ahmed, 60, THURSDAY, 2, now=NOW)) == ["Fri 09:00"]
    availability.set_day(session, ahmed, THURSDAY, [], actor=ADMIN, now=NOW)  # the weekly hours again
    availability.set_rules(session, ahmed, daily_limit=1, actor=ADMIN, now=NOW)
    mentorship.book(session, student(session), ahmed, 60, idempotency_key="d1", slot_start=cairo(THURSDAY, 14), now=NOW)
    assert starts(availability.free_slots(session, ahmed, 60, THURSDAY, 2, now=NOW)) == ["Fri 09:00"]


def test_a_mentor_who_confirms_at_once_gets_a_confirmed_booking_with_their_meeting_link(session, ahmed):
    availability.set_rules(
        session, ahmed, auto_confirm=True, meeting_link="https://meet.example/ahmed", actor=ADMIN, now=NOW
    )
    booked = mentorship.book(
        session, student(session), ahmed, 30, idempotency_key="a1", slot_start=cairo(THURSDAY, 10), now=NOW
    )
    assert booked.booking.status == BookingStatus.CONFIRMED
    assert booked.booking.meeting_link == "https://meet.example/ahmed"


def test_slots_are_cairo_wall_clock_on_both_sides_of_the_april_summer_time_change(session, ahmed):
    availability.set_week(
        session, ahmed, {3: [(600, 660)], 5: [(600, 660)]}, actor=ADMIN, now=NOW
    )  # Thursday and Saturday, 10:00-11:00
    now = datetime(2027, 4, 25, 12, tzinfo=timezone.utc)
    slots = availability.free_slots(session, ahmed, 60, date(2027, 4, 29), 3, now=now)
    assert starts(slots) == ["Thu 10:00", "Sat 10:00"]
    assert [s.start.strftime("%H:%M") for s in slots] == ["08:00", "07:00"]  # UTC+2, then UTC+3


def test_hours_are_read_as_people_write_them_and_nonsense_is_refused(session):
    assert availability.parse_ranges("٠٩:٠٠-١٢:٠٠، 14:00 - 24:00".replace("،", ",")) == [(540, 720), (840, 1440)]
    assert availability.parse_ranges("") == []
    for bad in ("9-12", "12:00-09:00", "09:00-12:00, 11:00-13:00", "25:00-26:00", "09:00-24:30"):
        with pytest.raises(InvalidInput):
            availability.parse_ranges(bad)


def test_confirming_or_redating_into_another_session_of_the_mentor_is_refused_and_notes_are_kept(session):
    m = mentor(session, "Sara")  # no hours: an admin dates each booking
    a = mentorship.book(session, student(session), m, 60, idempotency_key=key(), now=NOW).booking
    b = mentorship.book(session, student(session), m, 60, idempotency_key=key(), now=NOW).booking
    at = NOW + timedelta(days=2)
    mentorship.confirm(session, a.id, at, "https://meet.example/a", actor=ADMIN, now=NOW)
    with pytest.raises(SlotTaken) as refused:
        mentorship.confirm(session, b.id, at + timedelta(minutes=30), actor=ADMIN, now=NOW)
    assert refused.value.details["booking"] == a.id
    assert mentorship.get_booking(session, b.id).status == BookingStatus.PENDING
    mentorship.confirm(session, b.id, at + timedelta(hours=1), actor=ADMIN, now=NOW)  # back to back is fine
    moved = mentorship.confirm(session, a.id, at + timedelta(hours=3), actor=ADMIN, reschedule=True, now=NOW)
    assert moved.admin_notes == "https://meet.example/a"  # re-dating kept the meeting link


@pytest.mark.parametrize(
    "hours_before,refund,rule",
    [
        (timedelta(hours=24), "150.00", "full"),
        (timedelta(hours=24) - timedelta(minutes=1), "75.00", "partial"),
        (timedelta(hours=6), "75.00", "partial"),
        (timedelta(hours=6) - timedelta(minutes=1), "0.00", "none"),
    ],
)
def test_the_policy_is_exact_at_its_bounds_also_across_the_april_change(session, hours_before, refund, rule):
    # the first summer-time day; 24 real hours before is 09:00 on the 29th by the clock (arithmetic in UTC: on an
    # aware Cairo datetime Python would subtract wall-clock hours, 23 real ones across the change)
    start = datetime(2027, 4, 30, 10, tzinfo=CAIRO).astimezone(timezone.utc)
    assert (start - timedelta(hours=24)).astimezone(CAIRO).hour == 9
    terms = policy.policy_for(session)
    got = policy.refund_for(terms, D("150.00"), start, now=start - hours_before, by_student=True)
    assert (got.amount, got.rule) == (D(refund), rule)
    assert policy.refund_for(terms, D("150.00"), start, now=start, by_student=False).amount == D("150.00")


def test_a_partial_refund_is_rounded_half_up_to_the_piastre(session):
    update_settings(session, {"refund_partial_percent": "33"}, actor=ADMIN)
    terms = policy.policy_for(session)
    got = policy.refund_for(terms, D("100.05"), NOW + timedelta(hours=7), now=NOW, by_student=True)
    assert got.amount == D("33.02")  # 33.0165


def test_the_partial_refund_hours_may_not_exceed_the_full_refund_hours(session):
    with pytest.raises(InvalidInput):
        update_settings(session, {"refund_partial_hours": "30"}, actor=ADMIN)


def test_a_student_asks_to_move_a_session_and_the_mentor_decides_notes_kept_reminders_withdrawn(session, ahmed):
    sid, other = student(session), student(session, name="Mona")
    booked = mentorship.book(
        session, sid, ahmed, 60, idempotency_key="m1", slot_start=cairo(THURSDAY, 10), now=NOW
    ).booking
    mentorship.confirm(session, booked.id, cairo(THURSDAY, 10), "https://meet.example/x", actor=ADMIN, now=NOW)
    # Thursday 10:00 is 20 h ahead: inside the 24 h of the full refund, too late to move it
    with pytest.raises(RescheduleRefused) as late:
        mentorship.request_reschedule(session, booked.id, sid, cairo(THURSDAY, 14), now=NOW)
    assert late.value.details == {"hours": 24}
    earlier = NOW - timedelta(hours=6)  # six hours before, it was still early enough
    asked = mentorship.request_reschedule(session, booked.id, sid, cairo(THURSDAY, 14), now=earlier)
    assert asked.session_date == cairo(THURSDAY, 10)  # nothing moves before the mentor or an admin says so
    with pytest.raises(SlotTaken):  # the asked time is kept from others meanwhile
        mentorship.book(session, other, ahmed, 60, idempotency_key="m2", slot_start=cairo(THURSDAY, 14), now=earlier)
    told = session.scalars(select(Notification.kind).where(Notification.subject == f"booking:{booked.id}")).all()
    assert "reschedule.asked" in told
    with unit_of_work(session):  # a reminder of the old time waiting in the outbox
        notifications.enqueue(
            session, kind=NotificationKind.REMINDER_SESSION, user_id=sid, subject=f"booking:{booked.id}", now=earlier
        )
    moved = mentorship.decide_reschedule(session, booked.id, True, actor=ADMIN, now=earlier)
    assert moved.session_date == cairo(THURSDAY, 14) and moved.ends_at == cairo(THURSDAY, 15)
    assert moved.admin_notes == "https://meet.example/x" and moved.reschedules == 1
    reminder = session.scalars(select(Notification).where(Notification.kind == NotificationKind.REMINDER_SESSION)).one()
    assert reminder.status == NotificationStatus.FAILED and "withdrawn" in reminder.last_error
    assert "Thu 10:00" in starts(availability.free_slots(session, ahmed, 60, THURSDAY, 1, now=earlier))  # freed
    update_settings(session, {"max_reschedules": "1"}, actor=ADMIN)
    with pytest.raises(RescheduleRefused) as limit:
        mentorship.request_reschedule(session, booked.id, sid, cairo(THURSDAY, 10), now=earlier)
    assert limit.value.details == {"limit": 1}


def test_a_declined_move_keeps_the_time_and_tells_the_student(session, ahmed):
    sid = student(session)
    early = NOW - timedelta(days=1)
    booked = mentorship.book(session, sid, ahmed, 60, idempotency_key="d1", slot_start=cairo(THURSDAY, 10), now=early)
    mentorship.request_reschedule(session, booked.booking.id, sid, cairo(THURSDAY, 15), now=early)
    kept = mentorship.decide_reschedule(session, booked.booking.id, False, actor=ADMIN, now=early)
    assert kept.session_date == cairo(THURSDAY, 10) and kept.reschedules == 0
    declined = session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.RESCHEDULE_DECLINED)
    ).one()
    assert declined.user_id == sid
    with pytest.raises(InvalidState):  # nothing waits any more
        mentorship.decide_reschedule(session, booked.booking.id, True, actor=ADMIN, now=early)


def test_a_mentor_who_confirms_at_once_takes_a_move_at_once(session, ahmed):
    availability.set_rules(session, ahmed, auto_confirm=True, actor=ADMIN, now=NOW)
    sid = student(session)
    early = NOW - timedelta(days=1)
    booked = mentorship.book(session, sid, ahmed, 60, idempotency_key="a1", slot_start=cairo(THURSDAY, 10), now=early)
    moved = mentorship.request_reschedule(session, booked.booking.id, sid, cairo(THURSDAY, 15), now=early)
    assert moved.session_date == cairo(THURSDAY, 15) and moved.status == BookingStatus.CONFIRMED


def test_the_demo_school_has_a_mentor_with_free_slots_at_once(session):
    from core import demo

    demo.seed_demo(session)
    salma = session.scalar(select(User.id).where(User.full_name == "Salma Farouk"))
    slots = availability.free_slots(session, salma, 60, NOW.date(), 7, now=NOW)
    assert slots and {s.start.astimezone(CAIRO).strftime("%H:%M") for s in slots} >= {"16:00", "20:00"}
    assert availability.rules_of(session, salma).meeting_link.startswith("https://")


def test_a_session_in_a_calendar_keeps_its_cairo_time_and_its_meeting_link(session, ahmed):
    from icalendar import Calendar

    from core.services import calendar

    availability.set_rules(session, ahmed, meeting_link="https://meet.example/a", actor=ADMIN, now=NOW)
    booked = mentorship.book(
        session, student(session), ahmed, 60, idempotency_key="c1", slot_start=cairo(THURSDAY, 14), now=NOW
    ).booking
    parsed = Calendar.from_ical(calendar.session_ics(booked, now=NOW))
    [event] = parsed.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Africa/Cairo" and event.decoded("DTSTART").hour == 14
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=60)
    assert str(event["LOCATION"]) == "https://meet.example/a" and "Ahmed" in str(event["SUMMARY"])
    assert parsed.walk("VTIMEZONE") and parsed.walk("VTIMEZONE")[0]["TZID"] == "Africa/Cairo"
    link = calendar.google_calendar_url(booked)
    assert "dates=20261126T120000Z%2F20261126T130000Z" in link and "ctz=Africa%2FCairo" in link
