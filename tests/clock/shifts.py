"""The far-away clocks the core and scheduler suites also run under (libfaketime; see dev.py).

Each is worked out from today, so the runs stay meaningful whatever day CI runs on:
a year ahead; the last day of this month at 23:30 Cairo; the next day Cairo's clocks change.
`python -m tests.clock.shifts` prints them as JSON: [{"name", "at", "offset_seconds"}].
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from core.timeutil import CAIRO, cairo_midnight


def _month_end_2330(today: date) -> datetime:
    first_of_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = first_of_next - timedelta(days=1)
    return datetime(last.year, last.month, last.day, 23, 30, tzinfo=CAIRO)


def next_clock_change_day(today: date, *, horizon_days: int = 800) -> date | None:
    """The next Cairo calendar day that lasts 23 or 25 hours (summer time starts or ends)."""
    for n in range(1, horizon_days):
        day = today + timedelta(days=n)
        if cairo_midnight(day + timedelta(days=1)) - cairo_midnight(day) != timedelta(hours=24):
            return day
    return None


def shifts(now: datetime) -> list[tuple[str, datetime]]:
    local_today = now.astimezone(CAIRO).date()
    month_end = _month_end_2330(local_today)
    if month_end <= now:
        month_end = _month_end_2330(local_today + timedelta(days=7))
    found = [("a year ahead", now + timedelta(days=365)), ("the last day of the month, 23:30 Cairo", month_end)]
    change = next_clock_change_day(local_today)
    if change is not None:
        found.append(
            ("a Cairo summer-time change day, 12:00", datetime(change.year, change.month, change.day, 12, tzinfo=CAIRO))
        )
    return found


def main() -> None:
    now = datetime.now(timezone.utc)
    print(
        json.dumps(
            [
                {"name": name, "at": at.isoformat(), "offset_seconds": int((at - now).total_seconds())}
                for name, at in shifts(now)
            ]
        )
    )


if __name__ == "__main__":
    main()
