"""Flood control per user: in this process, or in Redis when several replicas serve the bot."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update
from aiogram.utils.i18n import gettext as _


class ThrottlingMiddleware(BaseMiddleware):
    """More than `limit` updates in `window` seconds from one user: one polite warning, then silence."""

    def __init__(self, limit: int = 20, window: float = 10.0, redis=None):
        self.limit, self.window = limit, window
        self.redis = redis  # shared counters when several replicas serve the bot
        self.hits: dict[int, deque[float]] = {}
        self.warned: set[int] = set()

    async def _over_limit_shared(self, user_id: int) -> tuple[bool, bool]:
        """(over the limit, warn now) from a fixed window counter in Redis."""
        window = max(1, int(self.window))
        key = f"codehub:throttle:{user_id}:{int(time.time()) // window}"
        count = await self.redis.incr(key)
        if count == 1:
            await self.redis.expire(key, window * 2)
        if count <= self.limit:
            return False, False
        first = await self.redis.set(f"codehub:throttle-warned:{user_id}", "1", nx=True, ex=window)
        return True, bool(first)

    async def _warn(self, event: Update, data: dict[str, Any], user_id: int) -> None:
        if event.callback_query:
            await event.callback_query.answer(_("Too many requests: please slow down a little."))
        else:
            await data["bot"].send_message(user_id, _("Too many requests: please slow down a little."))

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        if self.redis is not None:
            over, warn = await self._over_limit_shared(user.id)
            if over:
                if warn:
                    await self._warn(event, data, user.id)
                return None
            return await handler(event, data)
        now = time.monotonic()
        hits = self.hits.setdefault(user.id, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            if user.id not in self.warned:
                self.warned.add(user.id)
                await self._warn(event, data, user.id)
            return None
        self.warned.discard(user.id)
        hits.append(now)
        if len(self.hits) > 10000:  # forget idle users
            self.hits = {k: v for k, v in self.hits.items() if v and v[-1] > now - self.window}
        return await handler(event, data)
