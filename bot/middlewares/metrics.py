"""Every update counted and timed, for /metrics (the counters live in bot.metrics)."""

from __future__ import annotations

import time
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update

from bot.metrics import HANDLER_SECONDS, UPDATES_FAILED, UPDATES_HANDLED


class MetricsMiddleware(BaseMiddleware):
    """Outermost update middleware: counts every update and times it (failures are counted by
    ErrorsMiddleware, which answers them, and here when one escapes it)."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return await handler(event, data)
        except BaseException:
            UPDATES_FAILED.inc()
            raise
        finally:
            HANDLER_SECONDS.observe(time.perf_counter() - started)
            UPDATES_HANDLED.inc()
