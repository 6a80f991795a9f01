"""Each Telegram update once: a retried webhook or a replay is dropped (in Redis too, across replicas)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update

log = logging.getLogger("bot.middlewares")


class DuplicateUpdateMiddleware(BaseMiddleware):
    """The same update delivered twice (a retried webhook, a replay) is handled once.

    Remembered in this process, and with Redis (several replicas behind one webhook) in Redis too: a retry
    that the load balancer sends to another replica is recognised there (with each replica's memory only, an
    update posted to both would be read twice: the amount "150" a second time as the wallet number)."""

    TTL_SECONDS = 24 * 3600  # Telegram keeps an update it could not deliver for 24 hours

    def __init__(self, size: int = 5000, redis=None):
        self.seen: OrderedDict[int, None] = OrderedDict()
        self.size = size
        self.redis = redis

    async def __call__(
        self, handler: Callable[[Update, dict], Awaitable[Any]], event: Update, data: dict[str, Any]
    ) -> Any:
        if event.update_id in self.seen:
            return None
        self.seen[event.update_id] = None
        if len(self.seen) > self.size:
            self.seen.popitem(last=False)
        if self.redis is not None and not await self._first_in_redis(event.update_id, data):
            return None
        return await handler(event, data)

    async def _first_in_redis(self, update_id: int, data: dict[str, Any]) -> bool:
        bot = data.get("bot")
        key = f"codehub:update:{bot.id if bot is not None else 0}:{update_id}"
        try:
            return bool(await self.redis.set(key, "1", nx=True, ex=self.TTL_SECONDS))
        except Exception:  # noqa: BLE001 - Redis down: handle it (money steps are idempotent) rather than drop it
            log.warning("update %s: duplicate check in Redis failed; handling it", update_id, exc_info=True)
            return True
