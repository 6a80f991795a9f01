"""A session is confirmed or moved only to a date after `now` and at most max_session_days_ahead days after it."""

from datetime import datetime, timedelta, timezone

import pytest

from core.errors import DateInPast, DateTooFar, InvalidInput, InvalidSetting
from core.models import BookingStatus
from core.services import mentorship
from core.services.settings import get_settings, update_settings, validate_setting
from core.timeutil import CAIRO
from tests.core.helpers import ADMIN, NOW, key, later, mentor, student


def _pending(session):
    return mentorship.book(session, student(session), mentor(session), 60, idempotency_key=key(), now=NOW).booking


def test_default_is_180_days_and_the_bound_is_inclusive(session):
    assert get_settings(session).max_session_days_ahead == 180
    b = _pending(session)
    with pytest.raises(DateTooFar) as info:
        mentorship.confirm(session, b.id, later(days=181), actor=ADMIN, now=NOW)
    assert info.value.details == {"days": 180} and isinstance(info.value, InvalidInput)
    with pytest.raises(DateTooFar):
        mentorship.confirm(session, b.id, later(days=180, minutes=1), actor=ADMIN, now=NOW)
    with pytest.raises(DateInPast):
        mentorship.confirm(session, b.id, later(minutes=-1), actor=ADMIN, now=NOW)
    with pytest.raises(DateInPast):
        mentorship.confirm(session, b.id, NOW, actor=ADMIN, now=NOW)
    assert mentorship.get_booking(session, b.id).status == BookingStatus.PENDING  # refusals changed nothing
    ok = mentorship.confirm(session, b.id, later(days=180), actor=ADMIN, now=NOW)
    assert ok.status == BookingStatus.CONFIRMED and ok.session_date == later(days=180)


def test_reschedule_obeys_the_same_bound(session):
    b = _pending(session)
    mentorship.confirm(session, b.id, later(days=2), actor=ADMIN, now=NOW)
    with pytest.raises(DateTooFar):
        mentorship.confirm(session, b.id, later(days=181), actor=ADMIN, reschedule=True, now=NOW)
    assert mentorship.get_booking(session, b.id).session_date == later(days=2)
    # the window moves with `now`: 181 days after today is 180 days after tomorrow
    moved = mentorship.confirm(session, b.id, later(days=181), actor=ADMIN, reschedule=True, now=later(days=1))
    assert moved.session_date == later(days=181)


def test_year_9999_and_year_1_are_refused_not_crashing(session):
    b = _pending(session)
    with pytest.raises(DateTooFar):
        mentorship.confirm(session, b.id, datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc), actor=ADMIN, now=NOW)
    with pytest.raises(DateTooFar):  # would overflow when turned into UTC
        mentorship.confirm(
            session, b.id, datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))), actor=ADMIN, now=NOW
        )
    with pytest.raises(DateInPast):
        mentorship.confirm(session, b.id, datetime(1, 1, 1, 0, 30, tzinfo=CAIRO), actor=ADMIN, now=NOW)
    assert mentorship.get_booking(session, b.id).status == BookingStatus.PENDING


def test_the_bound_is_a_validated_setting(session):
    update_settings(session, {"max_session_days_ahead": "30"}, actor=ADMIN, now=NOW)
    b = _pending(session)
    with pytest.raises(DateTooFar) as info:
        mentorship.confirm(session, b.id, later(days=31), actor=ADMIN, now=NOW)
    assert info.value.details == {"days": 30}
    assert mentorship.confirm(session, b.id, later(days=30), actor=ADMIN, now=NOW).session_date == later(days=30)
    for bad in ("0", "3651", "-1", "1e3", "ten", "30\x00"):
        with pytest.raises(InvalidSetting):
            validate_setting("max_session_days_ahead", bad)
    assert validate_setting("max_session_days_ahead", "٣٦٥") == 365
