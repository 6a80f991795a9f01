"""The shifted clocks CI runs under are the days they claim to be."""

from datetime import date, datetime, timedelta, timezone

from core.timeutil import CAIRO
from tests.clock.shifts import next_clock_change_day, shifts


def test_finds_the_days_cairo_changes_its_clocks():
    assert next_clock_change_day(date(2026, 1, 1)) == date(2026, 4, 24)  # spring forward: 23 hours
    assert next_clock_change_day(date(2026, 5, 1)) == date(2026, 10, 29)  # fall back: 25 hours


def test_three_shifts_a_year_ahead_a_month_end_and_a_clock_change():
    now = datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc)
    (_, year), (_, month_end), (_, change) = shifts(now)
    assert year - now == timedelta(days=365)
    assert month_end.astimezone(CAIRO).replace(tzinfo=None) == datetime(2026, 11, 30, 23, 30)
    assert change.astimezone(CAIRO).date() == date(2027, 4, 30)


def test_month_end_already_past_moves_to_the_next_month():
    now = datetime(2026, 11, 30, 21, 45, tzinfo=timezone.utc)  # 23:45 Cairo on the 30th
    assert shifts(now)[1][1].astimezone(CAIRO).date() == date(2026, 12, 31)
