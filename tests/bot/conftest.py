"""Fixtures: the fake Bot API server, and the real dispatcher polling it, played as students and admins."""

from __future__ import annotations

import pytest
import pytest_asyncio

from core.db import Database
from tests.bot.fake_api import TOKEN, FakeTelegramAPI
from tests.bot.helpers import BotRunner
from tests.helpers import context, make_settings


@pytest_asyncio.fixture
async def fake_api():
    api = FakeTelegramAPI()
    await api.start()
    yield api
    await api.stop()


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
