"""Enrollment expiry notices and expiries, stale top-up alerts, the 09:00 Cairo daily summary."""

from datetime import datetime, timedelta, timezone

from core.services import enrollment, jobs, topups
from core.services.settings import update_settings
from tests.core.helpers import platform
from tests.scheduler.helpers import ADMIN, NOW, key, later, outbox, student


def test_expiry_notice_goes_once_three_days_before(session):
    sid = student(session, telegram_id=9001)
    pid = platform(session, name="Django", price="250.00", days=30)
    expires = enrollment.enroll(session, sid, pid, idempotency_key=key(), now=NOW).expires_at
    assert jobs.queue_expiry_notices(session, now=expires - timedelta(days=3, minutes=1)) == 0
    assert jobs.queue_expiry_notices(session, now=expires - timedelta(days=3)) == 1
    assert jobs.queue_expiry_notices(session, now=expires - timedelta(days=2)) == 0
    assert jobs.queue_expiry_notices(session, now=expires - timedelta(hours=1)) == 0
    [notice] = outbox(session, "enrollment.expiring")
    assert (notice["platform_id"], notice["platform"], notice["expires_at"], notice["_chat"]) == (
        pid,
        "Django",
        expires.isoformat(),
        9001,
    )


def test_renewal_moves_the_expiry_and_the_notice_goes_again(session):
    sid = student(session, telegram_id=9002)
    pid = platform(session, name="React", price="100.00", days=30)
    first = enrollment.enroll(session, sid, pid, idempotency_key=key(), now=NOW).expires_at
    assert jobs.queue_expiry_notices(session, now=first - timedelta(days=2)) == 1
    renewed = enrollment.enroll(session, sid, pid, idempotency_key=key(), renew=True, now=first - timedelta(days=1))
    assert renewed.renewed and renewed.expires_at == first + timedelta(days=30)
    assert jobs.queue_expiry_notices(session, now=first - timedelta(hours=1)) == 0  # no longer expiring
    assert jobs.expire_enrollments(session, now=first + timedelta(minutes=1)) == 0  # renewed: still active
    assert jobs.queue_expiry_notices(session, now=renewed.expires_at - timedelta(days=3)) == 1
    assert jobs.queue_expiry_notices(session, now=renewed.expires_at - timedelta(days=1)) == 0
    assert [m["expires_at"] for m in outbox(session, "enrollment.expiring")] == [
        first.isoformat(),
        renewed.expires_at.isoformat(),
    ]


def test_expiry_deactivates_and_tells_the_student_once(session):
    sid = student(session, telegram_id=9003)
    pid = platform(session, name="Vue", price="100.00", days=7)
    expires = enrollment.enroll(session, sid, pid, idempotency_key=key(), now=NOW).expires_at
    assert jobs.expire_enrollments(session, now=expires - timedelta(minutes=1)) == 0
    assert enrollment.check_access(session, sid, pid, now=expires - timedelta(minutes=1))
    assert jobs.expire_enrollments(session, now=expires) == 1
    assert jobs.expire_enrollments(session, now=expires + timedelta(hours=1)) == 0
    assert [(m["platform_id"], m["platform"], m["_chat"]) for m in outbox(session, "enrollment.expired")] == [
        (pid, "Vue", 9003)
    ]
    assert not enrollment.my_enrollments(session, sid, now=expires)[0].active
    # an expired access gets no "expiring" notice afterwards
    assert jobs.queue_expiry_notices(session, now=expires + timedelta(hours=2)) == 0


def test_stale_topup_is_alerted_once(session):
    sid = student(session, telegram_id=9004, name="Omar")
    t = topups.request_topup(session, sid, "150", "01012345678", idempotency_key=key(), now=NOW)
    assert jobs.queue_stale_topup_alerts(session, now=later(hours=11, minutes=59)) == 0
    assert jobs.queue_stale_topup_alerts(session, now=later(hours=12, minutes=30)) == 1
    assert jobs.queue_stale_topup_alerts(session, now=later(hours=13)) == 0
    assert jobs.queue_stale_topup_alerts(session, now=later(days=3)) == 0
    [alert] = outbox(session, "admin.stale_topup")
    assert (alert["transaction_id"], alert["student"], alert["amount"], alert["age_hours"]) == (
        t.transaction_id,
        "Omar",
        "150.00",
        12,
    )
    assert alert["_audience"] == "admins"


def test_stale_threshold_is_a_setting_and_decided_requests_are_not_alerted(session):
    update_settings(session, {"stale_topup_hours": "2"}, actor=ADMIN, now=NOW)
    sid = student(session, telegram_id=9005)
    decided = topups.request_topup(session, sid, "100", "01012345678", idempotency_key=key(), now=NOW)
    waiting = topups.request_topup(session, sid, "200", "01012345678", idempotency_key=key(), now=NOW)
    topups.reject(session, decided.transaction_id, "no such transfer", actor=ADMIN, now=later(hours=1))
    assert jobs.queue_stale_topup_alerts(session, now=later(hours=2)) == 1
    assert [a["transaction_id"] for a in outbox(session, "admin.stale_topup")] == [waiting.transaction_id]


# Cairo is UTC+2 in November: 09:00 Cairo is 07:00 UTC.
NOV26_0900_CAIRO = datetime(2026, 11, 26, 7, 0, tzinfo=timezone.utc)


def test_daily_summary_goes_once_a_day_from_nine_cairo(session, db):
    sid = student(session, telegram_id=9006, now=NOW)  # 25 Nov: a new student and a purchase
    pid = platform(session, name="Go", price="250.00")
    enrollment.enroll(session, sid, pid, idempotency_key=key(), now=NOW)
    topups.request_topup(session, sid, "80", "01012345678", idempotency_key=key(), now=NOW)

    def summaries():
        return outbox(session, "admin.daily_summary")

    assert jobs.queue_daily_summary(session, now=NOV26_0900_CAIRO - timedelta(minutes=1)) == 0
    assert summaries() == []
    assert jobs.queue_daily_summary(session, now=NOV26_0900_CAIRO) == 1
    assert jobs.queue_daily_summary(session, now=NOV26_0900_CAIRO + timedelta(hours=3)) == 0
    with db.session() as restarted:  # a restart later that day
        assert jobs.queue_daily_summary(restarted, now=NOV26_0900_CAIRO + timedelta(hours=8)) == 0
    # 00:30 Cairo on 27 Nov: a new day, but before 09:00
    assert jobs.queue_daily_summary(session, now=NOV26_0900_CAIRO + timedelta(hours=15, minutes=30)) == 0
    assert jobs.queue_daily_summary(session, now=NOV26_0900_CAIRO + timedelta(days=1)) == 1

    first, second = summaries()
    assert first["date"] == "2026-11-25" and second["date"] == "2026-11-26"
    assert first["revenue"]["PLATFORM_PURCHASE"] == "250.00"
    assert first["new_students"] == 1
    assert first["topups_pending"] == {"count": 1, "amount": "80.00"}
    assert second["revenue"]["PLATFORM_PURCHASE"] == "0.00" and second["new_students"] == 0


def test_daily_summary_not_before_nine_even_on_the_first_day(session):
    early = datetime(2026, 11, 25, 6, 59, tzinfo=timezone.utc)  # 08:59 Cairo
    assert jobs.queue_daily_summary(session, now=early) == 0
    assert jobs.queue_daily_summary(session, now=early + timedelta(minutes=1)) == 1
    assert outbox(session, "admin.daily_summary")[0]["date"] == "2026-11-24"
