"""Start the bot: settings, migration, bot, dispatcher, scheduler; polling or webhook; clean stop."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from contextlib import suppress
from urllib.parse import urlparse

from core.config import ConfigError, Settings, load_settings, require_bot_token
from core.services import processes

log = logging.getLogger("bot")


async def serve(settings: Settings) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    from bot.app import create_bot, create_dispatcher, set_commands, settle_heap
    from bot.i18n import build_i18n
    from bot.metrics import add_ops_routes
    from bot.outbox.scheduler import build_scheduler, stop_scheduler
    from core.startup import open_async_database

    db = open_async_database(settings)
    i18n = build_i18n()
    bot = create_bot(settings)
    dp = create_dispatcher(settings, db, i18n=i18n)
    scheduler = build_scheduler(bot, db, i18n, settings)
    log.info("start-up heap settled: %d objects frozen out of the garbage collector's passes", settle_heap())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    runner = None
    heartbeat = None
    try:
        await _report(db, processes.STARTING)
        me = await _reach_telegram(bot, settings, db, stop)
        if me is None:  # stopped while Telegram was out of reach
            return
        await _report(db, processes.RUNNING, f"@{me.username}")
        heartbeat = asyncio.create_task(_heartbeat(db, f"@{me.username}"))
        await set_commands(bot, settings)
        scheduler.start()
        if settings.webhook_url:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await bot.set_webhook(
                settings.webhook_url,
                secret_token=secret,
                drop_pending_updates=False,
                allowed_updates=dp.resolve_used_update_types(),
            )
            app = web.Application()
            path = urlparse(settings.webhook_url).path or "/webhook"
            SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, path=path)
            add_ops_routes(app, db)  # /healthz, /readyz, /metrics for the reverse proxy and Prometheus
            setup_application(app, dp, bot=bot)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
            log.info("@%s: webhook on %s:%s%s", me.username, settings.webhook_host, settings.webhook_port, path)
            await stop.wait()
            await dp["inflight"].wait_idle(30)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("@%s: long polling %s", me.username, settings.telegram_api_url)
            polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False))
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({polling, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if not polling.done():
                await dp.stop_polling()  # lets in-flight updates finish
            await polling
            waiter.cancel()
            await dp["inflight"].wait_idle(30)  # in-flight updates finish before the database closes
    finally:
        log.info("stopping")
        if heartbeat is not None:
            heartbeat.cancel()
        await stop_scheduler(scheduler)  # runs under way finish before the database closes
        await _report(db, processes.STOPPED)
        if runner is not None:
            await runner.cleanup()
        await dp.storage.close()
        await bot.session.close()
        await db.dispose()


RETRY_FIRST, RETRY_MAX = 1.0, 60.0  # seconds between attempts to reach Telegram at start-up, doubling


async def _reach_telegram(bot, settings: Settings, db, stop: asyncio.Event):
    """getMe until Telegram answers: one log line per failed attempt and the state on the panel's dashboard,
    waiting 1, 2, 4 ... up to 60 s between attempts (the panel runs on meanwhile). None when told to stop
    first. A token Telegram refuses is not retried: it stops the bot with one line."""
    from aiogram.exceptions import TelegramNetworkError, TelegramServerError, TelegramUnauthorizedError

    delay, attempt = RETRY_FIRST, 1
    while True:
        try:
            return await bot.get_me()
        except TelegramUnauthorizedError:
            await _report(db, processes.STOPPED, "Telegram refused BOT_TOKEN (401 Unauthorized)")
            raise ConfigError("BOT_TOKEN: Telegram refused it (401 Unauthorized); get a new one from @BotFather")
        except (TelegramNetworkError, TelegramServerError, OSError) as exc:
            why = " ".join(str(exc).split())[:200] or type(exc).__name__
            log.warning(
                "cannot reach Telegram at %s (attempt %d: %s): retrying in %gs",
                settings.telegram_api_url,
                attempt,
                why,
                delay,
            )
            await _report(db, processes.UNREACHABLE, f"{settings.telegram_api_url}: {why}")
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return None
        delay, attempt = min(delay * 2, RETRY_MAX), attempt + 1


async def _report(db, state: str, detail: str | None = None) -> None:
    """The bot's state for the panel; a database that is down must not stop the bot from starting or stopping."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        async with db.sessions() as session:
            await session.run_sync(processes.report, "bot", state, detail)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("could not record the bot's state %s (%s)", state, type(exc).__name__)


async def _heartbeat(db, detail: str) -> None:
    while True:
        await asyncio.sleep(processes.HEARTBEAT.total_seconds())
        await _report(db, processes.RUNNING, detail)


def main() -> int:
    try:
        settings = load_settings()
        require_bot_token(settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from core.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    from core.db import migrate_in_child

    try:
        migrate_in_child(settings.effective_database_url)  # alembic stays out of the bot's memory
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    except ConfigError as exc:  # e.g. a FIELD_ENCRYPTION_KEY that cannot read the stored numbers
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
