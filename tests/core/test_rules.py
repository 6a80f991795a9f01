"""Rules that every interface relies on, enforced once in core (issue 11): each fails the same way
whether the bot, the panel or the JSON API asks."""

from decimal import Decimal

import pytest

from core import errors
from core.db import build_context
from core.errors import InvalidAmount, InvalidInput, InvalidWalletNumber, NotAMentor, NotFound, ReasonRequired
from core.models import AdminRole, BookingStatus
from core.money import MAX_MENTOR_RATE, MIN_MENTOR_RATE, format_money, parse_amount, parse_signed_amount
from core.phone import normalize_wallet
from core.services import admins, mentorship, topups, wallet
from core.services.settings import get_settings
from tests.core.helpers import ADMIN, NOW, key, later, mentor, student
from tests.helpers import make_settings

D = Decimal


def _booking(session, sid=None):
    sid = sid or student(session)
    return mentorship.book(session, sid, mentor(session), 60, idempotency_key=key(), now=NOW).booking


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_an_admin_cancel_needs_a_reason_and_changes_nothing_without_one(session, reason):
    b = _booking(session)
    with pytest.raises(ReasonRequired) as caught:
        mentorship.cancel(session, b.id, reason, actor=ADMIN, now=NOW)
    assert caught.value.code == "REASON_REQUIRED"
    assert mentorship.get_booking(session, b.id).status == BookingStatus.PENDING
    assert wallet.balance(session, b.student_id) == D("200.00")  # 500 - 300, nothing refunded


def test_a_student_cancels_a_pending_booking_without_a_reason(session):
    b = _booking(session)
    result = mentorship.cancel(session, b.id, student_id=b.student_id, now=NOW)
    assert result.booking.status == BookingStatus.CANCELLED and result.balance == D("500.00")


def test_a_mentor_account_needs_a_mentor_profile(session):
    plain = student(session)
    for bad in (plain, 424242):
        with pytest.raises(NotAMentor) as caught:
            admins.create_admin(session, f"m{bad}", "quiet-harbor-lantern-42", AdminRole.MENTOR, mentor_user_id=bad)
        assert "is not a mentor" in str(caught.value)
    m = mentor(session)
    info = admins.create_admin(session, "mentor1", "quiet-harbor-lantern-42", AdminRole.MENTOR, mentor_user_id=m)
    assert info.role == AdminRole.MENTOR and info.mentor_user_id == m
    assert admins.admin_count(session) == 1


def test_only_the_bookings_mentor_may_act_on_it(session):
    b = _booking(session)
    other = mentor(session, name="Salma")
    assert mentorship.get_booking_for_admin(session, b.id, AdminRole.MENTOR, b.mentor_id).id == b.id
    assert mentorship.get_booking_for_admin(session, b.id, AdminRole.OWNER, None).id == b.id
    for mentor_user_id in (other, None):
        with pytest.raises(NotFound):
            mentorship.get_booking_for_admin(session, b.id, AdminRole.MENTOR, mentor_user_id)


@pytest.mark.parametrize("rate", ["0", "-5", "100000.01", "5000000", "abc", "1.999", "NaN", "1e400"])
def test_hourly_rate_bounds_hold_for_a_mentor_and_for_the_default(session, rate):
    m = mentor(session, rate="300.00")
    with pytest.raises(InvalidInput):
        mentorship.update_mentor(session, m, actor=ADMIN, rate=rate)
    with pytest.raises(InvalidInput):
        mentorship.set_mentorship_settings(session, actor=ADMIN, hourly_rate=rate)
    assert mentorship.get_mentor(session, m).rate == D("300.00")
    assert get_settings(session).mentor_default_rate == D("300.00")


def test_hourly_rate_bounds_are_inclusive(session):
    m = mentor(session)
    assert mentorship.update_mentor(session, m, actor=ADMIN, rate=str(MAX_MENTOR_RATE)).rate == MAX_MENTOR_RATE
    assert mentorship.update_mentor(session, m, actor=ADMIN, rate="١٥٠").rate == D("150.00")
    settings = mentorship.set_mentorship_settings(session, actor=ADMIN, hourly_rate=str(MIN_MENTOR_RATE))
    assert settings.mentor_default_rate == MIN_MENTOR_RATE


def test_pending_topups_name_the_student(session):
    sid = student(session, name="Mona")
    topups.request_topup(session, sid, "150", "010 1234 5678", idempotency_key=key(), now=NOW)
    [t] = topups.pending_topups(session)
    assert (t.student, t.user_id, t.amount, t.wallet_masked) == ("Mona", sid, D("150.00"), "010****5678")
    assert topups.get_topup(session, t.id).student == "Mona"
    assert [x.id for x in topups.list_topups(session, status=None)] == [t.id]
    with pytest.raises(NotFound):
        topups.get_topup(session, 999999)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("-50", D("-50.00")),
        ("−1,500.5", D("-1500.50")),
        ("+20", D("20.00")),
        ("٧٥", D("75.00")),
        (D("-12.30"), D("-12.30")),
    ],
)
def test_signed_amounts_read_like_any_amount(text, expected):
    assert parse_signed_amount(text) == expected


@pytest.mark.parametrize(
    "text,reason",
    [
        ("0", "NOT_POSITIVE"),
        ("-0", "NOT_POSITIVE"),
        ("abc", "NOT_A_NUMBER"),
        ("-1.999", "TOO_MANY_DECIMALS"),
        ("", "EMPTY"),
        ("--5", "NOT_A_NUMBER"),
    ],
)
def test_signed_amounts_refused_with_a_reason(text, reason):
    with pytest.raises(InvalidAmount) as caught:
        parse_signed_amount(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "text", ["+20 10 1234 5678", "0020 10 1234 5678", "201012345678", "010-1234-5678", "٠١٠١٢٣٤٥٦٧٨"]
)
def test_one_wallet_number_normaliser(text):
    assert normalize_wallet(text) == "01012345678"
    assert topups.normalize_wallet is normalize_wallet  # the service reads numbers with the same normaliser


def test_a_bad_wallet_number_is_refused():
    with pytest.raises(InvalidWalletNumber):
        normalize_wallet("01312345678")


def test_upcoming_sessions_respect_the_mentor_scope(session):
    b = _booking(session)
    mentorship.confirm(session, b.id, later(days=1), actor=ADMIN, now=NOW)
    assert [x.id for x in mentorship.upcoming_sessions(session, AdminRole.OWNER, None, now=NOW)] == [b.id]
    assert [x.id for x in mentorship.upcoming_sessions(session, AdminRole.MENTOR, b.mentor_id, now=NOW)] == [b.id]
    assert mentorship.upcoming_sessions(session, AdminRole.MENTOR, None, now=NOW) == []
    assert mentorship.upcoming_sessions(session, AdminRole.OWNER, None, now=later(days=2)) == []


def test_currency_setting_is_the_default_of_formatted_amounts(tmp_path):
    try:
        build_context(make_settings("sqlite://", tmp_path, currency="USD"))
        assert format_money(D("1250")) == "1,250.00 USD"
        assert format_money(D("5"), locale="ar") == "٥٫٠٠ USD"
    finally:
        build_context(make_settings("sqlite://", tmp_path))
    assert format_money(D("5")) == "5.00 EGP"


def test_every_error_code_is_unique_and_registered():
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.DomainError)]
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes)) and set(codes) == errors.ERROR_CODES
    assert {"REASON_REQUIRED", "NOT_A_MENTOR", "NOT_FOUND"} <= errors.ERROR_CODES


@pytest.mark.parametrize(
    "value, reason",
    [
        ("1e999999999999999999", "NOT_A_NUMBER"),
        ("1e100000000", "NOT_A_NUMBER"),
        ("9" * 400, "TOO_LARGE"),
        (Decimal("1e100000000"), "TOO_LARGE"),
        (Decimal("1e999999999999999999"), "TOO_LARGE"),
        pytest.param(10**5000, "TOO_LARGE", id="int-of-5001-digits"),
        (Decimal("1e-100000000"), "TOO_MANY_DECIMALS"),
        pytest.param("x" * 100_000, "NOT_A_NUMBER", id="100k-letters"),
        (Decimal("NaN"), "NOT_A_NUMBER"),
    ],
)
def test_amounts_are_refused_by_size_before_any_arithmetic(value, reason):
    """Each of these cost seconds and a gigabyte, or raised, when turned into digits first (issue 20, #8)."""
    for parse in (parse_amount, parse_signed_amount):
        with pytest.raises(InvalidAmount) as caught:
            parse(value)
        assert caught.value.reason == reason


@pytest.mark.parametrize(
    "sender, ok",
    [
        ("VF-Cash", True),
        (" vf-cash ", True),
        ("VFCash", False),
        ("V-F-C-A-S-H", False),
        ("VF-Caſh", False),
        ("VF-\tCash", False),
        ("VF-Cash\n", False),
        ("", False),
        (None, False),
        pytest.param("VF-Cash" * 10, False, id="70-characters"),
    ],
)
def test_the_sender_id_rule(sender, ok):
    from core.sms import is_wallet_sender

    assert is_wallet_sender(sender, ["VF-Cash"]) is ok


def test_sms_sender_ids_refuse_a_control_character_at_start_up(tmp_path, monkeypatch):
    from core.config import ConfigError, load_settings

    monkeypatch.setenv("SMS_SENDER_IDS", "VF-Cash,VF\tCash")
    with pytest.raises(ConfigError, match="SMS_SENDER_IDS"):
        load_settings(data_dir=tmp_path, _env_file=None)
