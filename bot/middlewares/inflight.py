"""Updates being handled right now, so a stopping bot can let them finish."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update

from bot.busy import Busy


class InFlightMiddleware(Busy, BaseMiddleware):
    """Counts updates being handled (see bot.busy.Busy)."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        self.enter()
        try:
            return await handler(event, data)
        finally:
            self.leave()
