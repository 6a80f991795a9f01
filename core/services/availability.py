"""A mentor's free slots: weekly hours in Cairo wall-clock time and date overrides, less live bookings and other
students' holds (with the mentor's buffer), less what is nearer than the notice or beyond the horizon, cut at the
slot interval. The one rule the slot list, a hold and a booking all use (check_slot), so what a student is shown is
what booking accepts.

Hours are wall-clock minutes of a date: 10:00 Cairo is 10:00 on both sides of a summer-time change, whatever the
UTC offset that day (Egypt: from the last Friday of April to the last Thursday of October)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.business_settings import AppSettings
from core.db import unit_of_work
from core.errors import InvalidDuration, InvalidInput, NotFound, SlotTaken, SlotUnavailable
from core.models import BookingStatus, MentorDay, MentorHours, MentorRules, MentorshipBooking, SlotHold, User
from core.money import normalize_digits
from core.services import audit
from core.services.common import Actor
from core.services.settings import get_settings
from core.timeutil import CAIRO, as_utc

LIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
MAX_DAYS = 31  # one slot list covers at most a month


@dataclass(frozen=True)
class Rules:
    """A mentor's booking rules, each the mentor's own or the business setting."""

    buffer: timedelta
    notice: timedelta
    horizon: timedelta
    daily_limit: int | None
    interval: int  # minutes; 0: the session's duration
    hold: timedelta
    auto_confirm: bool
    meeting_link: str | None


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware UTC
    end: datetime


def rules_of(session: Session, mentor_id: int, settings: AppSettings | None = None) -> Rules:
    settings = settings or get_settings(session)
    own = session.get(MentorRules, mentor_id)

    def pick(name: str, default):
        value = getattr(own, name, None) if own is not None else None
        return default if value is None else value

    return Rules(
        buffer=timedelta(minutes=pick("buffer_minutes", settings.booking_buffer_minutes)),
        notice=timedelta(minutes=pick("notice_minutes", settings.booking_notice_minutes)),
        horizon=timedelta(days=pick("horizon_days", settings.booking_horizon_days)),
        daily_limit=pick("daily_limit", None),
        interval=settings.slot_interval_minutes,
        hold=timedelta(minutes=settings.slot_hold_minutes),
        auto_confirm=bool(own.auto_confirm) if own is not None else False,
        meeting_link=own.meeting_link if own is not None else None,
    )


def offered(duration: int, settings: AppSettings) -> None:
    if duration not in settings.durations:
        raise InvalidDuration("not an offered duration", duration=duration)


def has_hours(session: Session, mentor_id: int) -> bool:
    """Whether the mentor is booked by slot (weekly hours set); without hours an admin sets each date."""
    return session.scalar(select(MentorHours.id).where(MentorHours.mentor_id == mentor_id).limit(1)) is not None


def wall_clock(day: date, minutes: int) -> datetime:
    """`minutes` after Cairo midnight of `day`, on the wall clock, as aware UTC (1440 is the next midnight)."""
    local = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return local.replace(tzinfo=CAIRO).astimezone(timezone.utc)


def day_ranges(session: Session, mentor_id: int, days: list[date]) -> dict[date, list[tuple[datetime, datetime]]]:
    """Each day's open ranges (aware UTC): the date's overrides when it has any (none open: a day off), else the
    weekly hours of its weekday."""
    weekly: dict[int, list[tuple[int, int]]] = {}
    for weekday, starts, ends in session.execute(
        select(MentorHours.weekday, MentorHours.starts, MentorHours.ends).where(MentorHours.mentor_id == mentor_id)
    ):
        weekly.setdefault(weekday, []).append((starts, ends))
    overrides: dict[date, list[tuple[int, int]]] = {}
    for day, starts, ends in session.execute(
        select(MentorDay.day, MentorDay.starts, MentorDay.ends).where(
            MentorDay.mentor_id == mentor_id, MentorDay.day.between(min(days), max(days))
        )
    ):
        opened = overrides.setdefault(day, [])
        if starts is not None:
            opened.append((starts, ends))
    found = {}
    for day in days:
        minutes = overrides[day] if day in overrides else weekly.get(day.weekday(), [])
        found[day] = sorted((wall_clock(day, a), wall_clock(day, b)) for a, b in minutes)
    return found


def live_sessions(mentor_id: int, since: datetime, until: datetime):
    """(id, start, end) of the mentor's live bookings with a time whose session touches [since, until)."""
    return select(MentorshipBooking.id, MentorshipBooking.session_date, MentorshipBooking.ends_at).where(
        MentorshipBooking.mentor_id == mentor_id,
        MentorshipBooking.status.in_(LIVE),
        MentorshipBooking.ends_at.is_not(None),
        MentorshipBooking.session_date < until,
        MentorshipBooking.ends_at > since,
    )


def _busy(
    session: Session,
    mentor_id: int,
    since: datetime,
    until: datetime,
    *,
    now: datetime,
    student_id: int | None,
    booking: int | None = None,
) -> list[tuple[datetime, datetime]]:
    """Live bookings (but `booking`, being moved) and other students' unexpired holds of the mentor that touch
    [since, until)."""
    rows = session.execute(live_sessions(mentor_id, since, until))
    found = [(as_utc(a), as_utc(b)) for i, a, b in rows if i != booking]
    # a move a student asked for keeps its new time too until the mentor or an admin decides
    asked = session.execute(
        select(MentorshipBooking.id, MentorshipBooking.requested_start, MentorshipBooking.duration).where(
            MentorshipBooking.mentor_id == mentor_id,
            MentorshipBooking.status.in_(LIVE),
            MentorshipBooking.requested_start.is_not(None),
            MentorshipBooking.requested_start < until,
            MentorshipBooking.requested_start > since - timedelta(hours=8),
        )
    )
    found += [(as_utc(a), as_utc(a) + timedelta(minutes=d)) for i, a, d in asked if i != booking]
    holds = select(SlotHold.starts_at, SlotHold.ends_at).where(
        SlotHold.mentor_id == mentor_id, SlotHold.expires_at > now, SlotHold.starts_at < until, SlotHold.ends_at > since
    )
    if student_id is not None:
        holds = holds.where(SlotHold.student_id != student_id)
    return found + [(as_utc(a), as_utc(b)) for a, b in session.execute(holds)]


def _full_days(
    session: Session, mentor_id: int, dates: list[date], rules: Rules, booking: int | None = None
) -> set[date]:
    """The Cairo days that already hold the mentor's daily limit of live sessions (`booking` not counted)."""
    if rules.daily_limit is None:
        return set()
    counts: dict[date, int] = {}
    for i, start in session.execute(
        select(MentorshipBooking.id, MentorshipBooking.session_date).where(
            MentorshipBooking.mentor_id == mentor_id,
            MentorshipBooking.status.in_(LIVE),
            MentorshipBooking.session_date >= wall_clock(min(dates), 0),
            MentorshipBooking.session_date < wall_clock(max(dates), 1440),
        )
    ):
        if i != booking:
            day = as_utc(start).astimezone(CAIRO).date()
            counts[day] = counts.get(day, 0) + 1
    return {d for d, n in counts.items() if n >= rules.daily_limit}


def _cut(ranges: Iterable[tuple[datetime, datetime]], duration: timedelta, step: timedelta) -> list[Slot]:
    slots = []
    for a, b in ranges:
        t = a
        while t + duration <= b:
            slots.append(Slot(t, t + duration))
            t += step
    return slots


def _candidates(
    session: Session, mentor_id: int, duration: int, days: list[date], rules: Rules, now: datetime
) -> dict[date, list[Slot]]:
    """Every slot of the mentor's hours on these days within notice and horizon, booked or not."""
    length = timedelta(minutes=duration)
    step = timedelta(minutes=rules.interval or duration)
    earliest, latest = now + rules.notice, now + rules.horizon
    return {
        day: [s for s in _cut(ranges, length, step) if s.start >= earliest and s.end <= latest]
        for day, ranges in day_ranges(session, mentor_id, days).items()
    }


def _clear(slot: Slot, busy: list[tuple[datetime, datetime]], buffer: timedelta) -> bool:
    """No busy range within `buffer` of the slot (the buffer follows each session: neither may start inside the
    other's session or its buffer)."""
    return all(slot.end + buffer <= a or slot.start >= b + buffer for a, b in busy)


def free_slots(
    session: Session,
    mentor_id: int,
    duration: int,
    first_day: date,
    days: int = 7,
    *,
    now: datetime,
    student_id: int | None = None,
    settings: AppSettings | None = None,
) -> list[Slot]:
    """The slots a student may book, for `days` Cairo days from `first_day` (their own hold stays offered)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}", field="days")
    settings = settings or get_settings(session)
    offered(duration, settings)
    now = as_utc(now)
    rules = rules_of(session, mentor_id, settings)
    dates = [first_day + timedelta(days=i) for i in range(days)]
    candidates = _candidates(session, mentor_id, duration, dates, rules, now)
    every = [s for day in dates for s in candidates[day]]
    if not every:
        return []
    since, until = every[0].start - rules.buffer, every[-1].end + rules.buffer
    busy = _busy(session, mentor_id, since, until, now=now, student_id=student_id)
    full = _full_days(session, mentor_id, dates, rules)
    return [s for day in dates if day not in full for s in candidates[day] if _clear(s, busy, rules.buffer)]


def check_slot(
    session: Session,
    mentor_id: int,
    duration: int,
    start: datetime,
    *,
    now: datetime,
    student_id: int | None = None,
    booking: int | None = None,
    settings: AppSettings | None = None,
) -> Slot:
    """The slot starting at `start` if it may be booked now: SlotUnavailable when it is not one of the mentor's
    slots (hours, notice, horizon), SlotTaken when a live booking (but `booking`, being moved) or another
    student's hold is in the way, or the day is full. Call it inside the write transaction, after lock_mentor."""
    now, start = as_utc(now), as_utc(start)
    rules = rules_of(session, mentor_id, settings)
    day = start.astimezone(CAIRO).date()
    slot = Slot(start, start + timedelta(minutes=duration))
    if slot not in _candidates(session, mentor_id, duration, [day], rules, now)[day]:
        raise SlotUnavailable("this time is not one of the mentor's free slots", start=start.isoformat())
    busy = _busy(
        session,
        mentor_id,
        slot.start - rules.buffer,
        slot.end + rules.buffer,
        now=now,
        student_id=student_id,
        booking=booking,
    )
    if not _clear(slot, busy, rules.buffer) or day in _full_days(session, mentor_id, [day], rules, booking):
        raise SlotTaken("this slot was just taken", start=start.isoformat())
    return slot


def lock_mentor(session: Session, mentor_id: int) -> None:
    """Serialise the mentor's bookings: on PostgreSQL the mentor's row is locked until the transaction ends (the
    check and the insert cannot interleave with another's); on SQLite BEGIN IMMEDIATE already does it."""
    session.execute(select(User.id).where(User.id == mentor_id).with_for_update())


def hold(
    session: Session, student_id: int, mentor_id: int, duration: int, start: datetime, *, now: datetime
) -> SlotHold:
    """Keep a free slot from other students for slot_hold_minutes while this one confirms (one hold per student:
    a new pick releases the previous one)."""
    now = as_utc(now)
    with unit_of_work(session):
        lock_mentor(session, mentor_id)
        settings = get_settings(session)
        offered(duration, settings)
        rules = rules_of(session, mentor_id, settings)
        slot = check_slot(session, mentor_id, duration, start, now=now, student_id=student_id)
        session.execute(delete(SlotHold).where(SlotHold.student_id == student_id))
        session.execute(delete(SlotHold).where(SlotHold.expires_at <= now))
        held = SlotHold(
            mentor_id=mentor_id,
            student_id=student_id,
            starts_at=slot.start,
            ends_at=slot.end,
            expires_at=now + rules.hold,
        )
        session.add(held)
    return held


def release_holds(session: Session, student_id: int) -> None:
    """The student's holds end (they booked, or left)."""
    session.execute(delete(SlotHold).where(SlotHold.student_id == student_id))


# -- setting a mentor's hours and rules (the panel, the mentor's bot menu, seed-demo) ----------------------------

RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")
RULE_LIMITS = {  # MentorRules column: (lowest, highest)
    "buffer_minutes": (0, 240),
    "notice_minutes": (0, 14 * 24 * 60),
    "horizon_days": (1, 365),
    "daily_limit": (1, 48),
    "refund_full_hours": (0, 24 * 30),
    "refund_partial_hours": (0, 24 * 30),
    "refund_partial_percent": (0, 100),
}


def parse_ranges(text: str, *, field: str = "hours") -> list[tuple[int, int]]:
    """ "09:00-12:00, 14:00-18:30" -> [(540, 720), (840, 1110)] (24:00 allowed as an end); an empty text: none.
    Overlapping or unordered ranges are refused with InvalidInput naming `field`."""
    ranges = []
    for part in filter(None, (p.strip() for p in normalize_digits(text or "").replace("؛", ",").split(","))):
        found = RANGE_RE.match(part)
        if not found:
            raise InvalidInput(f"write hours like 09:00-12:00, 14:00-18:00 (not {part[:20]!r})", field=field)
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise InvalidInput(f"{part} is not a time of day", field=field)
        ranges.append((h1 * 60 + m1, h2 * 60 + m2))
    return _checked(ranges, field)


def _checked(ranges: list[tuple[int, int]], field: str) -> list[tuple[int, int]]:
    ranges = sorted(ranges)
    for a, b in ranges:
        if not 0 <= a < b <= 1440:
            raise InvalidInput("each range must end after it starts, within the day", field=field)
    for (_a, b), (c, _d) in zip(ranges, ranges[1:]):
        if c < b:
            raise InvalidInput("the ranges of a day must not overlap", field=field)
    return ranges


def format_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in ranges)


def weekly_hours(session: Session, mentor_id: int) -> dict[int, list[tuple[int, int]]]:
    """Weekday (0 Monday) -> its ranges, every weekday present."""
    week: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for weekday, a, b in session.execute(
        select(MentorHours.weekday, MentorHours.starts, MentorHours.ends)
        .where(MentorHours.mentor_id == mentor_id)
        .order_by(MentorHours.weekday, MentorHours.starts)
    ):
        week[weekday].append((a, b))
    return week


def set_week(
    session: Session,
    mentor_id: int,
    week: dict[int, list[tuple[int, int]]],
    *,
    actor: Actor,
    now: datetime | None = None,
) -> dict[int, list[tuple[int, int]]]:
    """Replace the mentor's weekly hours (weekday 0 Monday -> ranges in minutes); audited. Live bookings stay."""
    checked = {day: _checked(list(week.get(day, [])), f"hours_{day}") for day in range(7)}
    with unit_of_work(session):
        mentor = session.get(User, mentor_id)
        if mentor is None or not mentor.is_mentor:
            raise NotFound("mentor not found", entity="mentor", id=mentor_id)
        before = weekly_hours(session, mentor_id)
        session.execute(delete(MentorHours).where(MentorHours.mentor_id == mentor_id))
        for day, ranges in checked.items():
            session.add_all(MentorHours(mentor_id=mentor_id, weekday=day, starts=a, ends=b) for a, b in ranges)
        audit.record(
            session,
            actor,
            "mentor.hours",
            "mentor",
            mentor_id,
            before={WEEKDAYS[d]: format_ranges(r) for d, r in before.items() if r},
            after={WEEKDAYS[d]: format_ranges(r) for d, r in checked.items() if r},
            now=now,
        )
    return checked


def set_day(
    session: Session,
    mentor_id: int,
    day: date,
    ranges: list[tuple[int, int]] | None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    """This date's own hours instead of the weekday's: `ranges`, or None for a day off; [] removes the override
    (the weekly hours apply again). Audited."""
    checked = None if ranges is None else _checked(list(ranges), "day")
    with unit_of_work(session):
        session.execute(delete(MentorDay).where(MentorDay.mentor_id == mentor_id, MentorDay.day == day))
        if checked is None:
            session.add(MentorDay(mentor_id=mentor_id, day=day))
        else:
            session.add_all(MentorDay(mentor_id=mentor_id, day=day, starts=a, ends=b) for a, b in checked)
        after = "day off" if checked is None else format_ranges(checked) or "weekly hours"
        audit.record(session, actor, "mentor.day", "mentor", mentor_id, after={str(day): after}, now=now)


def set_rules(session: Session, mentor_id: int, *, actor: Actor, now: datetime | None = None, **values) -> MentorRules:
    """The mentor's own booking rules (None: the business setting); audited."""
    for name, value in values.items():
        if name in RULE_LIMITS:
            low, high = RULE_LIMITS[name]
            if value is not None and not (isinstance(value, int) and low <= value <= high):
                raise InvalidInput(f"must be a whole number between {low} and {high}", field=name)
        elif name == "meeting_link":
            if value is not None and not re.fullmatch(r"https://\S{1,490}", value):
                raise InvalidInput("a meeting link starts with https://", field=name)
        elif name != "auto_confirm":
            raise InvalidInput(f"unknown rule {name}", field=name)
    with unit_of_work(session):
        rules = session.get(MentorRules, mentor_id)
        if rules is None:
            rules = MentorRules(mentor_id=mentor_id, auto_confirm=False)
            session.add(rules)
        before = {name: getattr(rules, name) for name in values}
        for name, value in values.items():
            setattr(rules, name, bool(value) if name == "auto_confirm" else value)
        audit.record(session, actor, "mentor.rules", "mentor", mentor_id, before=before, after=values, now=now)
    return rules


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
