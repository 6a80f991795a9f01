"""A stopping bot lets the scheduled runs under way finish before the database closes (issue 20, #11).

APScheduler's AsyncIOExecutor cancels running job tasks on shutdown: each logged a traceback, and a database call
cancelled mid-way left its pool connection half closed (seen on PostgreSQL). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.outbox.scheduler import build_scheduler, stop_scheduler
from core.services import wallet
from core.timeutil import utcnow
from tests.bot.fake_api import TOKEN
from tests.bot.helpers import BotRunner
from tests.helpers import make_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def settings_both(request, tmp_path, fake_api):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    return make_settings(url, tmp_path, bot_token=TOKEN, telegram_api_url=fake_api.base_url)


async def test_a_run_under_way_finishes_and_nothing_is_logged_as_an_error(fake_api, settings_both, caplog):
    runner = await BotRunner(fake_api, settings_both, throttle_limit=1000).start()
    started, finished = asyncio.Event(), []

    async def slow_job():
        started.set()
        await asyncio.sleep(0.5)  # mid-run when the stop comes
        async with runner.db.sessions() as session:
            finished.append(await session.run_sync(wallet.check_ledger))

    def add_slow(scheduler, **_):
        scheduler.add_job(slow_job, "date", run_date=utcnow(), id="slow_job")

    scheduler = build_scheduler(runner.bot, runner.db, runner.i18n, runner.settings, extra_jobs=[add_slow])
    try:
        with caplog.at_level(logging.WARNING):
            scheduler.start()
            await asyncio.wait_for(started.wait(), 10)
            await stop_scheduler(scheduler, timeout=10)
        assert finished == [[]]  # the run finished (the ledger holds), it was not cancelled
        assert not scheduler.running
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await runner.stop()
