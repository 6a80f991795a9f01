"""The daily housekeeping job: the student API's stored responses older than 30 days are purged, at `now`."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.outbox.scheduler import build_scheduler, run_daily_jobs
from core.models import IdempotencyRecord
from core.services import idempotency, jobs
from tests.bot.conftest import sync_db  # noqa: F401  (fixture)
from tests.scheduler.helpers import NOW, later, student


def _stored(session, user_id: int, key: str, at) -> None:
    assert idempotency.claim(session, user_id, key, "f" * 64, operation="post_topup", now=at) is None
    idempotency.complete(session, user_id, key, 201, {"id": 1}, operation="post_topup", now=at)


def _keys(session) -> list[str]:
    """The students' keys still stored (each is kept within its operation: "post_topup:<key>")."""
    keys = sorted(k.removeprefix("post_topup:") for k in session.scalars(select(IdempotencyRecord.key)).all())
    session.rollback()
    return keys


def test_responses_past_retention_are_purged_and_newer_ones_kept(session):
    sid = student(session, telegram_id=9501)
    _stored(session, sid, "old-key-1", NOW - timedelta(days=31))
    _stored(session, sid, "edge-key-1", NOW - idempotency.RETENTION)  # exactly 30 days: still kept
    _stored(session, sid, "new-key-1", NOW - timedelta(days=1))
    assert jobs.purge_idempotency_records(session, now=NOW) == 1
    assert _keys(session) == ["edge-key-1", "new-key-1"]
    assert jobs.purge_idempotency_records(session, now=NOW) == 0  # a second run the same day: nothing
    assert jobs.run_daily(session, now=later(days=29)) == {"idempotency_purge": 1, "errors": []}
    assert _keys(session) == ["new-key-1"]


def test_a_purged_key_runs_again_as_a_fresh_request(session):
    sid = student(session, telegram_id=9502)
    _stored(session, sid, "retry-key-1", NOW)
    assert (
        idempotency.claim(session, sid, "retry-key-1", "f" * 64, operation="post_topup", now=later(days=1)).status_code
        == 201
    )
    jobs.run_daily(session, now=later(days=31))
    # the stored response is gone: the retry holds the key again (the money service replays by its ledger key)
    assert idempotency.claim(session, sid, "retry-key-1", "f" * 64, operation="post_topup", now=later(days=31)) is None


async def test_the_bot_scheduler_runs_the_purge_daily(runner, sync_db):
    scheduler = build_scheduler(runner.bot, runner.db, runner.i18n, runner.settings)
    job = scheduler.get_job("daily_jobs")
    assert isinstance(job.trigger, CronTrigger) and job.max_instances == 1 and job.coalesce
    assert str(job.trigger.fields[job.trigger.FIELD_NAMES.index("hour")]) == "3"
    with sync_db.session() as s:
        sid = student(s, telegram_id=9503)
        _stored(s, sid, "bot-old-key", NOW - timedelta(days=40))
        _stored(s, sid, "bot-new-key", NOW)
    result = await run_daily_jobs(runner.db, now=NOW)
    assert result == {"idempotency_purge": 1, "errors": []}
    with sync_db.session() as s:
        assert _keys(s) == ["bot-new-key"]


def test_codehub_jobs_daily_runs_the_purge_without_the_bot(sqlite_url, tmp_path):
    """For a deployment without the bot's scheduler: `codehub jobs --daily` from cron (the wall clock's now)."""
    import json

    from core.db import Database
    from core.timeutil import utcnow
    from tests.core.test_cli import codehub
    from tests.helpers import context

    db = Database(sqlite_url, context())
    with db.session() as s:
        sid = student(s, telegram_id=9504)
        _stored(s, sid, "cli-old-key", utcnow() - timedelta(days=45))
        _stored(s, sid, "cli-new-key", utcnow() - timedelta(days=2))
    result = codehub("jobs", "--daily", url=sqlite_url, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"errors": [], "idempotency_purge": 1}
    with db.session() as s:
        assert _keys(s) == ["cli-new-key"]
    db.dispose()
