"""How many things are under way (updates, scheduled runs), so a stopping bot can let them finish."""

from __future__ import annotations

import asyncio


class Busy:
    """A count of what is under way and an event set whenever nothing is."""

    def __init__(self):
        self.active = 0
        self._idle: asyncio.Event | None = None

    @property
    def idle(self) -> asyncio.Event:
        if self._idle is None:  # made on first use, inside the running loop
            self._idle = asyncio.Event()
            self._idle.set()
        return self._idle

    def enter(self) -> None:
        self.active += 1
        self.idle.clear()

    def leave(self) -> None:
        self.active = max(0, self.active - 1)
        if self.active == 0:
            self.idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.idle.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
