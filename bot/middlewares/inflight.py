"""Updates being handled right now, so a stopping bot can let them finish."""
from __future__ import annotations

import asyncio
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update


class InFlightMiddleware(BaseMiddleware):
    """Counts updates being handled, so a stopping bot can let them finish."""

    def __init__(self):
        self.active = 0
        self._idle: asyncio.Event | None = None

    @property
    def idle(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            self._idle.set()
        return self._idle

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        self.active += 1
        self.idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.active -= 1
            if self.active == 0:
                self.idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.idle.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
