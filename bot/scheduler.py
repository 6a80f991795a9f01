"""The bot's scheduler: outbox delivery every 2 seconds, plus jobs that other modules add."""
from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery import deliver_due
from core.config import Settings
from core.db import AsyncDatabase

# An extra job adds itself: job(scheduler, bot=..., db=..., i18n=..., settings=...)
ExtraJob = Callable[..., None]
DELIVERY_SECONDS = 2


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_scheduler(bot: Bot, db: AsyncDatabase, i18n: I18n, settings: Settings,
                    extra_jobs: Iterable[ExtraJob] = ()) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.timezone)
    scheduler.add_job(deliver_due, "interval", seconds=DELIVERY_SECONDS, id="deliver_outbox",
                      args=[bot, db, i18n, worker_id()], max_instances=1, coalesce=True,
                      misfire_grace_time=30)
    for add_job in extra_jobs:
        add_job(scheduler, bot=bot, db=db, i18n=i18n, settings=settings)
    return scheduler
