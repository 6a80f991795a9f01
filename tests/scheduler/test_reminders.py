"""Session reminders 24 h and 1 h before, completion reminders after: once each, on time, late if need be."""

from datetime import timedelta

from core.services import jobs, mentorship
from tests.scheduler.helpers import ADMIN, confirmed_booking, later, outbox

SESSION = later(days=3)
H = timedelta(hours=1)


def reminders(session):
    return [(m["hours_before"], m["role"], m["_chat"]) for m in outbox(session, "reminder.session")]


def test_each_reminder_goes_once_at_its_time_and_not_before(session):
    bid, _, _ = confirmed_booking(session, SESSION, student_tg=7001)
    assert jobs.queue_session_reminders(session, now=later(days=1)) == 0
    assert jobs.queue_session_reminders(session, now=SESSION - 24 * H - timedelta(minutes=1)) == 0
    assert reminders(session) == []

    assert jobs.queue_session_reminders(session, now=SESSION - 24 * H) == 1
    assert jobs.queue_session_reminders(session, now=SESSION - 23 * H) == 0
    assert jobs.queue_session_reminders(session, now=SESSION - 61 * timedelta(minutes=1)) == 0
    assert reminders(session) == [(24, "student", 7001)]

    assert jobs.queue_session_reminders(session, now=SESSION - H) == 1
    assert jobs.queue_session_reminders(session, now=SESSION - timedelta(minutes=30)) == 0
    assert jobs.queue_session_reminders(session, now=SESSION + timedelta(minutes=5)) == 0
    assert reminders(session) == [(24, "student", 7001), (1, "student", 7001)]

    first = outbox(session, "reminder.session")[0]
    assert first["booking_id"] == bid
    assert first["session_date"] == SESSION.isoformat()
    assert (first["mentor"], first["student"], first["duration"]) == ("Ahmed", "Mona", 60)


def test_mentor_is_reminded_only_when_on_telegram(session):
    confirmed_booking(session, SESSION, student_tg=7002, mentor_tg=8002)
    assert jobs.queue_session_reminders(session, now=SESSION - 24 * H) == 2
    assert jobs.queue_session_reminders(session, now=SESSION - H) == 2
    assert sorted(reminders(session)) == [
        (1, "mentor", 8002),
        (1, "student", 7002),
        (24, "mentor", 8002),
        (24, "student", 7002),
    ]


def test_mentor_without_telegram_gets_nothing(session):
    confirmed_booking(session, SESSION, student_tg=7003, mentor_tg=None)
    jobs.queue_session_reminders(session, now=SESSION - 24 * H)
    jobs.queue_session_reminders(session, now=SESSION - H)
    assert {role for _, role, _ in reminders(session)} == {"student"}


def test_late_reminder_after_downtime_goes_once(session):
    confirmed_booking(session, SESSION, student_tg=7004)
    # the bot was down from 25 h before until 5 h before the session
    assert jobs.queue_session_reminders(session, now=SESSION - 5 * H) == 1
    assert jobs.queue_session_reminders(session, now=SESSION - 4 * H) == 0
    assert jobs.queue_session_reminders(session, now=SESSION - H + timedelta(minutes=10)) == 1
    assert reminders(session) == [(24, "student", 7004), (1, "student", 7004)]


def test_when_both_are_due_only_the_one_hour_reminder_goes(session):
    confirmed_booking(session, SESSION, student_tg=7005)
    assert jobs.queue_session_reminders(session, now=SESSION - timedelta(minutes=20)) == 1
    assert jobs.queue_session_reminders(session, now=SESSION - timedelta(minutes=10)) == 0
    assert reminders(session) == [(1, "student", 7005)]


def test_a_session_that_already_started_gets_no_reminder(session):
    confirmed_booking(session, SESSION, student_tg=7006)
    # the bot was down through the whole reminder window
    assert jobs.queue_session_reminders(session, now=SESSION + timedelta(minutes=1)) == 0
    assert jobs.queue_session_reminders(session, now=SESSION + 3 * H) == 0
    assert reminders(session) == []


def test_a_cancelled_session_gets_no_reminder(session):
    bid, _, _ = confirmed_booking(session, SESSION, student_tg=7007, mentor_tg=8007)
    mentorship.cancel(session, bid, "mentor ill", actor=ADMIN, now=later(hours=1))
    for at in (SESSION - 24 * H, SESSION - H, SESSION + 2 * H):
        assert jobs.queue_session_reminders(session, now=at) == 0
        assert jobs.queue_completion_reminders(session, now=at) == 0
    assert reminders(session) == []
    assert outbox(session, "admin.session_ended") == []


def test_a_rescheduled_session_is_reminded_again_for_the_new_time(session):
    bid, _, _ = confirmed_booking(session, SESSION, student_tg=7008)
    assert jobs.queue_session_reminders(session, now=SESSION - 24 * H) == 1
    new_time = SESSION + timedelta(days=2)
    mentorship.confirm(session, bid, new_time, "moved", actor=ADMIN, reschedule=True, now=SESSION - 20 * H)
    assert jobs.queue_session_reminders(session, now=SESSION - H) == 0  # the old time means nothing now
    assert jobs.queue_session_reminders(session, now=new_time - 24 * H) == 1
    assert jobs.queue_session_reminders(session, now=new_time - H) == 1
    assert jobs.queue_session_reminders(session, now=new_time - timedelta(minutes=5)) == 0
    dates = [(m["hours_before"], m["session_date"]) for m in outbox(session, "reminder.session")]
    assert dates == [(24, SESSION.isoformat()), (24, new_time.isoformat()), (1, new_time.isoformat())]


def test_admins_are_asked_once_to_complete_an_ended_session(session):
    bid, sid, _ = confirmed_booking(session, SESSION, student_tg=7009, duration=90)
    assert jobs.queue_completion_reminders(session, now=SESSION + timedelta(minutes=89)) == 0
    assert jobs.queue_completion_reminders(session, now=SESSION + timedelta(minutes=90)) == 1
    assert jobs.queue_completion_reminders(session, now=SESSION + 5 * H) == 0
    [alert] = outbox(session, "admin.session_ended")
    assert alert == {
        "booking_id": bid,
        "student": "Mona",
        "mentor": "Ahmed",
        "session_date": SESSION.isoformat(),
        "_chat": None,
        "_user": None,
        "_audience": "admins",
        "_kind": "admin.session_ended",
    }
    mentorship.complete(session, bid, actor=ADMIN, now=SESSION + 6 * H)
    assert jobs.queue_completion_reminders(session, now=SESSION + 7 * H) == 0
    assert [m["booking_id"] for m in outbox(session, "booking.rate_request")] == [bid]


def test_completion_reminder_waits_for_the_session_end(session):
    confirmed_booking(session, SESSION, student_tg=7010, duration=60)
    assert jobs.queue_completion_reminders(session, now=SESSION + timedelta(minutes=30)) == 0
    assert outbox(session, "admin.session_ended") == []


def test_a_failing_job_does_not_stop_the_others(session, monkeypatch):
    confirmed_booking(session, SESSION, student_tg=7011)

    def broken(session, *, now=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(jobs, "JOBS", (("expired", broken),) + tuple(j for j in jobs.JOBS if j[0] != "expired"))
    result = jobs.run_all(session, now=SESSION - 24 * H)
    assert result["errors"] == ["expired"]
    assert result["session_reminders"] == 1
    assert reminders(session) == [(24, "student", 7011)]
