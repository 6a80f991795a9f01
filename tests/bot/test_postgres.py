"""The same bot on PostgreSQL (asyncpg): registration, top-up approved in Telegram, FSM state in the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db import Database
from core.models import User
from tests.bot.fake_api import TgUser
from tests.bot.helpers import ADMIN1, BotRunner
from tests.helpers import context, make_settings


@pytest.mark.slow
async def test_topup_approval_and_restart_on_postgres(fake_api, pg_url, tmp_path):
    settings = make_settings(pg_url, tmp_path, bot_token=fake_api.token, telegram_api_url=fake_api.base_url)
    student = TgUser(9501, "Pg Student", "pg")
    first = await BotRunner(fake_api, settings, throttle_limit=1000).start()
    await first.send(student, "/start")
    await first.send(student, "/topup")
    await first.send(student, "300")
    await first.stop()
    runner = await BotRunner(fake_api, settings, throttle_limit=1000).start()
    try:
        await runner.send(student, "01012345678")
        await runner.press(student, fake_api.last_message(student.id), "Skip")
        await runner.press(student, fake_api.last_message(student.id), "Confirm")
        await runner.deliver()
        await runner.press(ADMIN1, fake_api.message_with(ADMIN1.id, "New top-up request"), "Approve")
        await runner.send(ADMIN1, "Seen in the statement")  # no received transfer matches: a reason
        await runner.deliver()
        assert "New balance: 800.00 EGP" in fake_api.message_with(student.id, "approved").plain_text
    finally:
        await runner.stop()
    db = Database(pg_url, context())
    try:
        with db.session() as s:
            assert s.scalar(select(User.balance).where(User.telegram_id == student.id)) == Decimal("800.00")
    finally:
        db.dispose()
