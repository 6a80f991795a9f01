"""The bot's scheduler: outbox delivery every 2 seconds, the core jobs every 30 seconds (reminders,
expiries, stale top-up alerts, the 09:00 daily summary), daily housekeeping at 03:41 (stored API
responses past their retention), the panel's analytics rollups every 5 minutes, plus jobs that other
modules add.

Every job keeps its state in the database, so a restart neither loses nor repeats anything and several
bot replicas may run the same scheduler."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Iterable
from datetime import timedelta

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.busy import Busy
from bot.metrics import SCHEDULER_RUNS
from bot.outbox.delivery import DeliveryLoop
from core.config import Settings
from core.db import AsyncDatabase, optimize_database
from core.services import jobs
from core.timeutil import utcnow

log = logging.getLogger("bot.scheduler")

# An extra job adds itself: job(scheduler, bot=..., db=..., i18n=..., settings=...)
ExtraJob = Callable[..., None]
DELIVERY_SECONDS = 2
JOBS_SECONDS = 30
DAILY_HOUR, DAILY_MINUTE = 3, 41  # housekeeping in the quiet hours (the scheduler's TIMEZONE)
ROLLUP_MINUTES = 5


def _count_run(event) -> None:
    """codehub_scheduler_runs{job, outcome} on the bot's /metrics."""
    outcome = "missed" if event.code == EVENT_JOB_MISSED else "error" if event.exception else "ok"
    SCHEDULER_RUNS.labels(job=event.job_id, outcome=outcome).inc()


class RunningJobs(Busy):
    """Job runs submitted and not finished yet. APScheduler's AsyncIOExecutor cancels them on shutdown (each then
    logs a traceback, and a cancelled database call leaves its pool connection half closed), so a stopping bot
    waits for them first (stop_scheduler)."""

    def __call__(self, event) -> None:
        self.enter() if event.code == EVENT_JOB_SUBMITTED else self.leave()


async def stop_scheduler(scheduler: AsyncIOScheduler, timeout: float = 30.0) -> None:
    """No new runs, the delivery pass hands back what it has not sent, the runs under way finish, then shut down."""
    if not scheduler.running:
        return
    scheduler.pause()
    await scheduler.delivery.stop()
    if not await scheduler.running_jobs.wait_idle(timeout):
        log.warning("scheduled jobs still running after %ss: stopping anyway", timeout)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_scheduler(
    bot: Bot, db: AsyncDatabase, i18n: I18n, settings: Settings, extra_jobs: Iterable[ExtraJob] = ()
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.timezone)
    delivery = DeliveryLoop(bot, db, i18n, worker_id(), limiter=_shared_limiter(settings))
    scheduler.add_job(
        delivery.run_pass,
        "interval",
        seconds=DELIVERY_SECONDS,
        id="deliver_outbox",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=30,
    )
    scheduler.add_job(
        run_core_jobs,
        "interval",
        seconds=JOBS_SECONDS,
        id="core_jobs",
        args=[db],
        max_instances=1,
        coalesce=True,
        misfire_grace_time=120,
        next_run_time=_soon(),
    )
    scheduler.add_job(
        roll_up_analytics,
        "interval",
        minutes=ROLLUP_MINUTES,
        id="analytics_rollups",
        args=[db],
        max_instances=1,
        coalesce=True,
        misfire_grace_time=600,
        next_run_time=_soon(),
    )
    scheduler.add_job(
        refresh_statistics,
        "cron",
        hour=4,
        minute=17,
        id="refresh_statistics",
        args=[db.url],
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        run_daily_jobs,
        "cron",
        hour=DAILY_HOUR,
        minute=DAILY_MINUTE,
        id="daily_jobs",
        args=[db],
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.delivery = delivery  # the runner stops it cleanly before the loop ends (stop_scheduler)
    scheduler.running_jobs = RunningJobs()
    scheduler.add_listener(scheduler.running_jobs, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.add_listener(_count_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    for add_job in extra_jobs:
        add_job(scheduler, bot=bot, db=db, i18n=i18n, settings=settings)
    return scheduler


async def run_core_jobs(db: AsyncDatabase, now=None) -> dict:
    """One tick of core.services.jobs.run_all on the bot's async engine."""
    async with db.sessions() as session:
        result = await session.run_sync(jobs.run_all, now=now)
    queued = {k: v for k, v in result.items() if k != "errors" and v}
    if queued or result["errors"]:
        log.info("scheduled jobs: %s", result)
    return result


async def run_daily_jobs(db: AsyncDatabase, now=None) -> dict:
    """Once a day: core.services.jobs.run_daily (the idempotency purge) on the bot's async engine."""
    async with db.sessions() as session:
        result = await session.run_sync(jobs.run_daily, now=now)
    log.info("daily jobs: %s", result)
    return result


async def roll_up_analytics(db: AsyncDatabase, now=None) -> int:
    """Move the analytics rollups forward (core.services.jobs.roll_up_analytics)."""
    async with db.sessions() as session:
        return await session.run_sync(jobs.roll_up_analytics, now=now)


async def refresh_statistics(url: str) -> None:
    """Nightly: fresh planner statistics as the ledger grows (SQLite gathers none by itself)."""
    await asyncio.to_thread(optimize_database, url)


def _soon():
    return utcnow() + timedelta(seconds=3)


def _shared_limiter(settings: Settings):
    """With Redis, the broadcast rate is shared by every replica; alone, the in-process limiter does."""
    if not settings.redis_url:
        return None
    from redis.asyncio import Redis

    from bot.outbox.delivery import BROADCAST_RATE, RedisRateLimiter

    return RedisRateLimiter(Redis.from_url(settings.redis_url), BROADCAST_RATE)
