"""Two job runners (webhook replicas) over one database: every message is queued, and claimed, once."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.db import unit_of_work
from core.models import Enrollment, Notification
from core.services import enrollment, jobs, notifications, reconciliation, topups
from tests.core.helpers import platform
from tests.scheduler.helpers import NOW, confirmed_booking, key, later, student

TICKS = [NOW + timedelta(minutes=90) * i for i in range(20)]  # 12:00 UTC 25 Nov .. 16:30 UTC 26 Nov


def run_concurrently(db, work, n: int = 2):
    """Run work(session, runner_no) in n threads, each with its own Session; re-raise the first error."""
    errors = []

    def target(no):
        try:
            with db.session() as session:
                work(session, no)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(no,)) for no in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a runner hung"
    if errors:
        raise errors[0]


def build_a_busy_day(session):
    """8 sessions over the next day (4 mentors on Telegram), 6 expiring accesses, 3 top-ups waiting,
    2 transfers unmatched."""
    for k in range(8):
        confirmed_booking(
            session, NOW + timedelta(hours=2 + 3 * k), student_tg=40_000 + k, mentor_tg=41_000 + k if k % 2 else None
        )
    pid = platform(session, name="Rust", price="50.00", days=30)
    for k in range(6):
        sid = student(session, telegram_id=42_000 + k)
        enrollment.enroll(session, sid, pid, idempotency_key=key(), now=NOW - timedelta(days=20))
        with unit_of_work(session):  # three end in 10 h, three in 3 days and 5 h
            session.execute(
                update(Enrollment)
                .where(Enrollment.user_id == sid)
                .values(expires_at=later(hours=10) if k < 3 else later(days=3, hours=5))
            )
    for k in range(3):
        sid = student(session, telegram_id=43_000 + k)
        topups.request_topup(session, sid, "100", "01012345678", idempotency_key=key(), now=later(hours=-6))
    for k in range(2):  # two Vodafone Cash transfers that no request claims
        reconciliation.receive_sms(
            session,
            f"تم استلام مبلغ 7{k}.00 جنيه من رقم 01112345678 المسجل باسم X على رقم "
            f"محفظتك 01099998888.\nرقم العملية: 02270000990{k}",
            now=NOW,
        )


EXPECTED = {
    "session_reminders": 8 * 2 + 4 * 2,  # 24 h and 1 h to each student, and to the 4 mentors on Telegram
    "completion_reminders": 8,
    "expired": 3,
    "expiry_notices": 6,
    "stale_topups": 3,
    "daily_summary": 2,  # 25 Nov (first tick is 14:00 Cairo) and 26 Nov from 09:00 Cairo
    "unmatched_transfers": 2,
}
KINDS = {
    "session_reminders": "reminder.session",
    "completion_reminders": "admin.session_ended",
    "expired": "enrollment.expired",
    "expiry_notices": "enrollment.expiring",
    "stale_topups": "admin.stale_topup",
    "daily_summary": "admin.daily_summary",
    "unmatched_transfers": "admin.transfer_unmatched",
}


@pytest.mark.slow
def test_two_runners_queue_each_message_exactly_once(db, session):
    build_a_busy_day(session)
    start = session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    session.rollback()
    barrier = threading.Barrier(2)
    totals = [Counter(), Counter()]

    def runner(s, no):
        for now in TICKS:
            barrier.wait(timeout=60)  # both runners on the same tick at the same moment
            result = jobs.run_all(s, now=now)
            assert result.pop("errors") == [], result
            totals[no].update(result)

    run_concurrently(db, runner)
    assert dict(totals[0] + totals[1]) == EXPECTED
    kinds = Counter(
        session.scalars(select(Notification.kind).where(Notification.id > start, Notification.audience != "admin"))
    )
    assert {name: kinds[kind] for name, kind in KINDS.items()} == EXPECTED
    # and a third runner started afterwards (a restart) finds nothing left to do
    again = jobs.run_all(session, now=TICKS[-1])
    assert again == {"errors": [], **{name: 0 for name in EXPECTED}}


@pytest.mark.slow
def test_two_outbox_workers_never_claim_the_same_message(db, session):
    users = [student(session, telegram_id=44_000 + i) for i in range(30)]
    with unit_of_work(session):
        for i in range(300):
            notifications.enqueue(session, kind="test.kind", user_id=users[i % 30], payload={"i": i}, now=NOW)
        for i in range(10):  # admin rows fan out to both admin chats while the workers race
            notifications.notify_admins(session, kind="admin.test", payload={"i": i}, now=NOW)
    claimed = [[], []]
    barrier = threading.Barrier(2)

    def worker(s, no):
        for _ in range(20):  # 320 messages, 25 a claim: both workers race for the same rows each round
            barrier.wait(timeout=60)
            claimed[no].extend(m.id for m in notifications.claim_due(s, f"w{no}", now=NOW, limit=25))

    run_concurrently(db, worker)
    first, second = set(claimed[0]), set(claimed[1])
    assert len(claimed[0]) == len(first) and len(claimed[1]) == len(second)
    assert not first & second
    assert len(first | second) == 300 + 10 * 2
    assert first and second  # both really worked
    assert notifications.claim_due(session, "w3", now=NOW) == []
