"""Fixtures: the fake Bot API server, and the real dispatcher polling it, played as students and admins."""
from __future__ import annotations

import asyncio
from contextlib import suppress

import pytest
import pytest_asyncio

from bot.app import create_bot, create_dispatcher
from bot.delivery import deliver_due
from bot.i18n import build_i18n
from core.db import AsyncDatabase, Database
from tests.bot.fake_api import TOKEN, ApiCall, FakeTelegramAPI, StoredMessage, TgUser
from tests.conftest import ADMIN_CHAT_IDS, context, make_settings

ADMIN1 = TgUser(ADMIN_CHAT_IDS[0], "Amr", "amr_admin", "en")
ADMIN2 = TgUser(ADMIN_CHAT_IDS[1], "Hoda", "hoda_admin", "en")


@pytest_asyncio.fixture
async def fake_api():
    api = FakeTelegramAPI()
    await api.start()
    yield api
    await api.stop()


class BotRunner:
    """The real dispatcher in polling mode against the fake server; one update handled at a time
    (as_tasks=True: updates handled concurrently, as run_bot.py does; db_kw: engine options, e.g. the pool)."""

    def __init__(self, api: FakeTelegramAPI, settings, *, db_kw: dict | None = None, as_tasks: bool = False,
                 **dispatcher_kw):
        self.api, self.settings, self.dispatcher_kw = api, settings, dispatcher_kw
        self.db_kw, self.as_tasks = db_kw or {}, as_tasks
        self.i18n = build_i18n()
        self.task: asyncio.Task | None = None

    async def start(self) -> BotRunner:
        self.db = AsyncDatabase.from_settings(self.settings, **self.db_kw)
        self.bot = create_bot(self.settings)
        self.dp = create_dispatcher(self.settings, self.db, i18n=self.i18n, **self.dispatcher_kw)
        self.task = asyncio.create_task(self.dp.start_polling(
            self.bot, handle_signals=False, handle_as_tasks=self.as_tasks, polling_timeout=1,
            close_bot_session=True))
        await self.api.wait_for_call(lambda c: c.method == "getMe")
        return self

    async def stop(self) -> None:
        if self.task is not None:
            with suppress(RuntimeError):
                await self.dp.stop_polling()
            with suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, 10)
            self.task = None
        storage = self.dp.fsm.storage
        await storage.close()
        await self.db.dispose()

    async def feed(self, update: dict) -> list[ApiCall]:
        mark = len(self.api.calls)
        update_id = self.api.push(update)
        await self.api.wait_processed(update_id)
        return self.api.calls[mark:]

    async def send(self, user: TgUser, text: str) -> list[ApiCall]:
        return await self.feed(self.api.message_update(user, text))

    async def press(self, user: TgUser, message: StoredMessage, label: str) -> list[ApiCall]:
        return await self.feed(self.api.callback_update(user, message, message.callback_data(label)))

    async def press_data(self, user: TgUser, message: StoredMessage, data: str) -> list[ApiCall]:
        return await self.feed(self.api.callback_update(user, message, data))

    async def deliver(self, now=None) -> int:
        total = 0
        for _ in range(5):  # admin rows fan out on the first pass
            n = await deliver_due(self.bot, self.db, self.i18n, "test-worker", now=now)
            total += n
            if not n:
                break
        return total

    def texts(self, chat_id: int, since: int = 0) -> list[str]:
        return [c.text for c in self.api.sent_to(chat_id, since)]


@pytest.fixture
def bot_settings(sqlite_url, tmp_path, fake_api):
    return make_settings(sqlite_url, tmp_path, bot_token=TOKEN, telegram_api_url=fake_api.base_url)


@pytest_asyncio.fixture
async def runner(fake_api, bot_settings):
    r = await BotRunner(fake_api, bot_settings, throttle_limit=1000).start()
    yield r
    await r.stop()


@pytest.fixture
def sync_db(bot_settings):
    db = Database(bot_settings.effective_database_url, context())
    yield db
    db.dispose()


__all__ = ["ADMIN1", "ADMIN2", "BotRunner", "TgUser"]


def seed_catalog(db: Database) -> dict:
    """Two platforms (paid 250.00 with 3 tasks for 30 days, free with 2 tasks) and one mentor at 300.00/h."""
    from decimal import Decimal

    from core.db import unit_of_work
    from core.models import Platform, Task
    from core.services import mentorship
    from core.services.common import Actor
    with db.session() as s:
        with unit_of_work(s):
            paid = Platform(name="Web <Flask>", description="Build & deploy", price=Decimal("250.00"), access_days=30)
            paid.tasks = [Task(title=f"Step {i}", body=f"Do step {i}", position=i) for i in (1, 2, 3)]
            free = Platform(name="Python Basics", description="Start here", price=None)
            free.tasks = [Task(title=f"Basics {i}", body="Read", position=i) for i in (1, 2)]
            s.add_all([paid, free])
        ids = {"paid": paid.id, "free": free.id}
        mentor = mentorship.create_mentor(s, "Ahmed Mentor", actor=Actor("seed"), bio="Python <expert>",
                                          rate=Decimal("300.00"))
        ids["mentor"] = mentor.id
    return ids
