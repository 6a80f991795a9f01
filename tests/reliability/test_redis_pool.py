"""Redis shared by bot replicas. Regression (found by the two-process load on PostgreSQL with Redis): 200 students
at once exhausted redis-py's
default pool of 100 connections, which raises "Too many connections" instead of waiting, so updates failed
(the student got the apology, or, failing in the per-student lock, no answer at all). The bot's Redis pool
now waits for a free connection."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.app import REDIS_CONNECTIONS, create_storage
from tests.external import REDIS_URL, require_redis
from tests.helpers import make_settings

pytestmark = pytest.mark.reliability


async def test_many_students_at_once_wait_for_a_redis_connection_instead_of_failing(tmp_path):
    client = await require_redis()
    await client.aclose()
    settings = make_settings("sqlite:///unused.db", tmp_path, redis_url=REDIS_URL)
    storage, isolation = create_storage(settings, None)
    run = uuid.uuid4().int % 10**9
    try:

        async def student(i: int) -> None:
            key = StorageKey(bot_id=1, chat_id=run + i, user_id=run + i)
            async with isolation.lock(key):  # the per-student lock every update takes
                await storage.set_state(key, "TopUp:amount")
                await asyncio.sleep(0.05)  # the handler's work, holding nothing in Redis
                assert await storage.get_state(key) == "TopUp:amount"
                await storage.set_state(key, None)

        await asyncio.wait_for(asyncio.gather(*(student(i) for i in range(REDIS_CONNECTIONS * 5))), 60)
    finally:
        await storage.close()


async def test_an_update_posted_to_two_replicas_is_handled_by_one(tmp_path):
    """Regression (found by the two-replica test): each replica remembered the updates it saw in its own memory
    only, so a webhook retry that reached the other replica was handled again."""
    from types import SimpleNamespace

    from aiogram.types import Update

    from bot.middlewares.updates import DuplicateUpdateMiddleware

    client = await require_redis()
    try:
        replicas = [DuplicateUpdateMiddleware(redis=client), DuplicateUpdateMiddleware(redis=client)]
        handled = []

        async def handler(event, data):
            handled.append(event.update_id)

        update_id = uuid.uuid4().int % 10**9
        bot = SimpleNamespace(id=uuid.uuid4().int % 10**9)
        update = Update(update_id=update_id)
        for replica in replicas + replicas:  # each replica gets it twice
            await replica(handler, update, {"bot": bot})
        await replicas[1](handler, Update(update_id=update_id + 1), {"bot": bot})
        assert handled == [update_id, update_id + 1]
    finally:
        await client.aclose()
