"""Outbox delivery bookkeeping, business settings, audit trail and panel accounts."""

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import AuthFailed, InvalidInput, InvalidSetting
from core.models import Notification, User
from core.services import admins, audit, notifications, students, topups, wallet
from core.services.settings import get_settings, setting_items, update_settings
from tests.core.helpers import ADMIN, NOW, key, later, student
from tests.helpers import ADMIN_CHAT_IDS


def _enqueue_user(session, uid, kind="test.kind", **kw):
    from core.db import unit_of_work

    with unit_of_work(session):
        return notifications.enqueue(session, kind=kind, user_id=uid, payload={"x": 1}, now=NOW, **kw)


def test_admin_rows_fan_out_to_every_admin_chat(session):
    uid = student(session, telegram_id=6001)
    t = topups.request_topup(session, uid, "100", "01012345678", idempotency_key=key(), now=NOW)
    claimed = notifications.claim_due(session, "w1", now=NOW)
    assert sorted(m.chat_id for m in claimed) == sorted(ADMIN_CHAT_IDS)
    assert {m.kind for m in claimed} == {"admin.topup_new"}
    assert claimed[0].payload["transaction_id"] == t.transaction_id
    for m in claimed:
        notifications.mark_sent(session, m.id, message_id=500 + m.chat_id % 7, now=NOW)
    assert sorted(c for c, _ in notifications.sent_messages(session, f"topup:{t.transaction_id}")) == sorted(
        ADMIN_CHAT_IDS
    )
    assert notifications.claim_due(session, "w1", now=later(minutes=5)) == []


def test_claim_mark_retry_and_fail(session):
    uid = student(session, telegram_id=6002)
    nid = _enqueue_user(session, uid)
    [m] = notifications.claim_due(session, "w1", now=NOW)
    assert (m.id, m.chat_id, m.language, m.attempts) == (nid, 6002, "en", 1)
    assert notifications.claim_due(session, "w2", now=NOW) == []  # leased to w1
    assert notifications.mark_retry(session, nid, "429", retry_at=later(seconds=30), count_attempt=False) == "PENDING"
    assert notifications.claim_due(session, "w2", now=later(seconds=10)) == []
    [again] = notifications.claim_due(session, "w2", now=later(seconds=31))
    assert again.attempts == 1  # a RetryAfter is not a failed attempt
    assert notifications.mark_sent(session, nid, message_id=9, now=later(seconds=31))
    assert not notifications.mark_sent(session, nid, message_id=9)  # already sent


def test_a_crashed_worker_lease_expires(session):
    uid = student(session, telegram_id=6003)
    nid = _enqueue_user(session, uid)
    notifications.claim_due(session, "dead", now=NOW)
    [m] = notifications.claim_due(session, "alive", now=later(minutes=2))
    assert m.id == nid


def test_gives_up_after_max_attempts(session):
    uid = student(session, telegram_id=6004)
    nid = _enqueue_user(session, uid)
    t = NOW
    status = None
    for _ in range(notifications.MAX_ATTEMPTS):
        [m] = notifications.claim_due(session, "w", now=t)
        status = notifications.mark_retry(session, m.id, "network", retry_at=t)
        t += timedelta(seconds=1)
    assert status == "FAILED"
    assert session.get(Notification, nid).last_error == "network"


def test_blocked_chat_marks_user_and_fails_its_queue(session):
    uid = student(session, telegram_id=6005)
    _enqueue_user(session, uid)
    _enqueue_user(session, uid)
    assert notifications.mark_chat_blocked(session, 6005, now=NOW) == 2
    assert session.get(User, uid).bot_blocked_at is not None
    assert notifications.claim_due(session, "w", now=later(minutes=1)) == []
    students.touch(session, uid, now=later(days=1))
    session.expire_all()
    assert session.get(User, uid).bot_blocked_at is None


def test_dedupe_key_and_missing_recipient(session):
    uid = student(session, telegram_id=6006)
    assert _enqueue_user(session, uid, dedupe_key="once") is not None
    assert _enqueue_user(session, uid, dedupe_key="once") is None
    from core.services import mentorship

    ghost = mentorship.create_mentor(session, "No Telegram", actor=ADMIN).id
    assert _enqueue_user(session, ghost) is None


def test_two_workers_never_claim_the_same_row(db):
    with db.session() as s:
        uid = student(s, telegram_id=6007)
        for _ in range(60):
            _enqueue_user(s, uid)
    claimed: list[list[int]] = [[], []]

    def work(i):
        with db.session() as s:
            while batch := notifications.claim_due(s, f"w{i}", now=NOW, limit=5):
                claimed[i].extend(m.id for m in batch)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed[0]) + len(claimed[1]) == 60
    assert not set(claimed[0]) & set(claimed[1])


def test_settings_validated_all_or_nothing_and_audited(session):
    assert get_settings(session).vodafone_cash_number == "01099998888"  # from config
    updated = update_settings(
        session, {"vodafone_cash_number": "01155556666", "durations": "60, 30, 90"}, actor=ADMIN, now=NOW
    )
    assert updated.vodafone_cash_number == "01155556666" and updated.durations == (30, 60, 90)
    for bad in (
        {"durations": "abc"},
        {"min_topup": "-1"},
        {"max_pending_topups": "0"},
        {"vodafone_cash_number": "123"},
        {"nope": "1"},
        {"min_topup": "60000"},
        {"mentorship_available": "maybe"},
        {"signup_bonus": "1.234"},
    ):
        with pytest.raises(InvalidSetting):
            update_settings(session, {"max_topup": "999", **bad}, actor=ADMIN)
    assert get_settings(session).max_topup == Decimal("50000.00")  # the valid part was not saved either
    [entry] = audit.recent(session, action="settings.update")
    assert entry.actor == "alice" and entry.after["vodafone_cash_number"] == "01155556666"
    assert entry.before["durations"] == "30,60,90,120"
    assert ("durations", "Session durations offered (minutes)", "30,60,90") in setting_items(updated)


def test_one_setting_reads_as_all_settings_do(session):
    """get_setting (the registration's one read) agrees with get_settings: the default, the config's value, what
    an admin saved, and a bad stored value falling back."""
    from core.models import Setting
    from core.services.settings import get_setting

    def agree(key):
        assert get_setting(session, key) == getattr(get_settings(session), key)
        return get_setting(session, key)

    assert agree("signup_bonus") == Decimal("500.00")  # the default
    assert agree("vodafone_cash_number") == "01099998888"  # from config
    update_settings(session, {"signup_bonus": "250", "vodafone_cash_number": "01155556666"}, actor=ADMIN, now=NOW)
    assert agree("signup_bonus") == Decimal("250.00") and agree("vodafone_cash_number") == "01155556666"
    session.get(Setting, "signup_bonus").value = "lots"
    session.commit()
    assert agree("signup_bonus") == Decimal("500.00")
    assert students.register(session, 4242, full_name="Mona").user.balance == Decimal("500.00")


def test_admin_accounts_and_login_throttling(session):
    admins.create_admin(session, "owner1", "plum-orbit-canyon-7", "owner")
    with pytest.raises(InvalidInput):
        admins.create_admin(session, "owner1", "plum-orbit-canyon-7")
    with pytest.raises(InvalidInput):
        admins.create_admin(session, "x", "short")
    with pytest.raises(InvalidInput):
        admins.create_admin(session, "y", "plum-orbit-canyon-8", "god")
    assert admins.authenticate(session, "owner1", "plum-orbit-canyon-7", "1.2.3.4", now=NOW).username == "owner1"
    for _ in range(5):
        with pytest.raises(AuthFailed):
            admins.authenticate(session, "owner1", "wrong", "1.2.3.4", now=NOW)
    with pytest.raises(AuthFailed) as info:
        admins.authenticate(session, "owner1", "plum-orbit-canyon-7", "1.2.3.4", now=later(minutes=1))
    assert info.value.details.get("throttled")
    # another address is not locked, and the lock lifts after 15 minutes
    assert admins.authenticate(session, "owner1", "plum-orbit-canyon-7", "5.6.7.8", now=NOW)
    assert admins.authenticate(session, "owner1", "plum-orbit-canyon-7", "1.2.3.4", now=later(minutes=16))
    stored = session.scalar(select(admins.Admin.password_hash))
    assert "plum-orbit-canyon-7" not in stored


def test_audit_entries_keep_before_and_after(session):
    uid = student(session)
    wallet.adjust_balance(session, uid, "10", "goodwill", actor=ADMIN, idempotency_key=key(), now=NOW)
    [entry] = audit.recent(session)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("balance.adjust", "user", str(uid))
    assert entry.before == {"balance": "500.00"} and entry.after["balance"] == "510.00"
    assert json.loads(json.dumps(entry.after))["reason"] == "goodwill"


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaa",
        "12345678",
        "newadmin",
        "newadmin-2024-x",
        " " * 12,
        "\x00" * 12,
        "x" * 100_000,
        "password1234",
        "qwertyuiop12",
    ],
)
def test_weak_admin_passwords_are_refused(session, password):
    from core.errors import WeakPassword

    with pytest.raises(WeakPassword):
        admins.create_admin(session, "newadmin", password, "finance")
    assert admins.admin_count(session) == 0


def test_settings_have_bounds_and_read_amounts_like_the_bot(session):
    from core.errors import InvalidSetting
    from core.services.settings import validate_setting

    for name, value in [
        ("signup_bonus", "99999999999999999999999999"),
        ("signup_bonus", "90000000000000000"),
        ("mentor_default_rate", "5000000"),
        ("max_topup", "100000.01"),
        ("min_topup", "0"),
        ("max_pending_topups", "9" * 5000),
        ("durations", "30,60\x00"),
    ]:
        with pytest.raises(InvalidSetting):
            validate_setting(name, value)
    assert validate_setting("signup_bonus", "١٥٠") == Decimal("150.00")
    assert validate_setting("signup_bonus", "0") == Decimal("0.00")
    assert validate_setting("vodafone_cash_number", "0020 101 234 5678") == "01012345678"


def test_names_from_telegram_lose_control_characters_and_free_text_refuses_them(session):
    from core.errors import InvalidInput

    uid = students.register(session, 4242, full_name="Sa\x00ra\u2028 \x1bX", username="s\x07ara").user.id
    info = students.get_user(session, uid)
    assert (info.full_name, info.username) == ("Sara X", "sara")
    for reason in ("a\x00b", "bad\ud800", "esc\x1b[31m"):
        with pytest.raises(InvalidInput):
            wallet.adjust_balance(session, uid, "10", reason, actor=ADMIN, idempotency_key=key(), now=NOW)
    assert wallet.balance(session, uid) == Decimal("500.00")
