"""The bot runs the same jobs on its async engine (aiosqlite / asyncpg) with session.run_sync."""

from datetime import timedelta

from core.db import AsyncDatabase
from core.services import broadcasts, jobs
from tests.helpers import context
from tests.scheduler.helpers import ADMIN, NOW, confirmed_booking, outbox, student


async def test_run_all_and_a_broadcast_on_the_async_engine(db_url, session):
    confirmed_booking(session, NOW + timedelta(hours=5), student_tg=46_001, mentor_tg=46_002)
    student(session, telegram_id=46_003)
    adb = AsyncDatabase(db_url, context())
    try:
        async with adb.sessions() as s:
            first = await s.run_sync(jobs.run_all, now=NOW + timedelta(hours=1))
            again = await s.run_sync(jobs.run_all, now=NOW + timedelta(hours=1, minutes=1))
            info = await s.run_sync(broadcasts.create_broadcast, "Hello from the bot", "all", actor=ADMIN, now=NOW)
            progress = await s.run_sync(broadcasts.broadcast_progress, info.id)
    finally:
        await adb.dispose()
    assert first["errors"] == [] and first["session_reminders"] == 2 and first["daily_summary"] == 1
    assert again == {"errors": [], **{name: 0 for name, _ in jobs.JOBS}}
    assert sorted(m["role"] for m in outbox(session, "reminder.session")) == ["mentor", "student"]
    assert info.recipients == 3 and progress["pending"] == 3
