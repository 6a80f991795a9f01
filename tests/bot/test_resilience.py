"""State across restarts (database and Redis), throttling, unexpected errors, admin lists."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select

from core.models import FSMRecord, Transaction, TransactionType
from tests.bot.fake_api import TgUser
from tests.bot.helpers import ADMIN1, MONA, BotRunner
from tests.external import REDIS_URL, require_redis
from tests.factories import seed_catalog
from tests.helpers import make_settings

STUDENT = TgUser(9201, "Yara", "yara", "en")


async def test_restart_in_the_middle_of_topup_keeps_the_state(fake_api, bot_settings, sync_db):
    first = await BotRunner(fake_api, bot_settings, throttle_limit=1000).start()
    await first.send(STUDENT, "/start")
    await first.send(STUDENT, "/topup")
    await first.send(STUDENT, "250")
    await first.stop()
    with sync_db.session() as s:
        row = s.scalar(select(FSMRecord))
        assert row.state == "TopupStates:wallet" and "250.00" in row.data

    second = await BotRunner(fake_api, bot_settings, throttle_limit=1000).start()
    try:
        await second.send(STUDENT, "01012345678")
        calls = await second.press(STUDENT, fake_api.last_message(STUDENT.id), "Skip")
        assert "250.00 EGP" in calls[-1].text and calls[-1].buttons == ["✅ Confirm", "✖️ Cancel"]
        await second.press(STUDENT, fake_api.last_message(STUDENT.id), "Confirm")
        assert "Status: Pending" in fake_api.last_message(STUDENT.id).plain_text
    finally:
        await second.stop()
    with sync_db.session() as s:
        assert s.scalar(select(Transaction.amount).where(Transaction.type == TransactionType.TOP_UP)) == Decimal(
            "250.00"
        )
        assert s.scalar(select(func.count()).select_from(FSMRecord)) == 0  # a finished flow leaves nothing


async def test_redis_storage_keeps_state_across_restart(fake_api, sqlite_url, tmp_path):
    url = REDIS_URL
    await (await require_redis(url)).aclose()
    settings = make_settings(
        sqlite_url, tmp_path, bot_token=fake_api.token, telegram_api_url=fake_api.base_url, redis_url=url
    )
    user = TgUser(900_000_000 + uuid.uuid4().int % 99_999_999, "Redis")
    first = await BotRunner(fake_api, settings, throttle_limit=1000).start()
    assert type(first.dp.fsm.storage).__name__ == "RedisStorage"
    await first.send(user, "/start")
    await first.send(user, "/topup")
    await first.send(user, "120")
    await first.stop()
    second = await BotRunner(fake_api, settings, throttle_limit=1000).start()
    try:
        await second.send(user, "01112345678")
        calls = await second.press(user, fake_api.last_message(user.id), "Skip")
        assert "120.00 EGP" in calls[-1].text and "Confirm" in calls[-1].buttons[0]
        await second.send(user, "/cancel")
    finally:
        await second.stop()


async def test_a_burst_is_throttled_after_one_warning(fake_api, bot_settings):
    runner = await BotRunner(fake_api, bot_settings, throttle_limit=3, throttle_window=60).start()
    try:
        for _ in range(8):
            await runner.send(STUDENT, "/balance")
    finally:
        await runner.stop()
    texts = [c.text for c in fake_api.sent_to(STUDENT.id)]
    assert sum("Too many requests" in t for t in texts) == 1
    assert sum("Last transactions" in t for t in texts) == 3


async def test_unexpected_error_gets_an_apology_with_reference_and_the_bot_keeps_running(runner, monkeypatch, caplog):
    from core.services import wallet

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    await runner.send(STUDENT, "/start")
    monkeypatch.setattr(wallet, "entries_of", broken)  # what /balance reads its entries with
    calls = await runner.send(STUDENT, "/balance")
    assert "Sorry, something went wrong" in calls[-1].text and "Error reference" in calls[-1].text
    ref = calls[-1].text.rsplit(" ", 1)[-1]
    assert any(ref in r.getMessage() for r in caplog.records)
    assert "database on fire" in caplog.text  # the traceback is in the log, not shown to the user
    assert "database on fire" not in calls[-1].text
    monkeypatch.undo()
    calls = await runner.send(STUDENT, "/balance")
    assert "Last transactions" in calls[-1].text


async def test_admin_pending_and_stats(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "100")
    await runner.send(STUDENT, "01012345678")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    calls = await runner.send(ADMIN1, "/pending")
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert "1 top-ups, 0 bookings" in texts[0]
    assert "Yara (@yara)" in texts[1] and "100.00 EGP" in texts[1]
    card = runner.api.last_message(ADMIN1.id)
    await runner.press(ADMIN1, card, "Approve")
    await runner.send(ADMIN1, "Seen in the statement")  # no received transfer matches: a reason
    assert "Approved by @amr_admin" in runner.api.messages[(ADMIN1.id, card.message_id)].plain_text
    calls = await runner.send(ADMIN1, "/pending")
    assert "Nothing is waiting" in calls[-1].text
    calls = await runner.send(ADMIN1, "/stats")
    assert "Revenue today" in calls[-1].text and "Pending top-ups: 0" in calls[-1].text
    calls = await runner.send(ADMIN1, "/help")
    assert "/pending" in calls[-1].text
    calls = await runner.send(STUDENT, "/help")
    assert "/pending" not in calls[-1].text


async def test_throttling_is_shared_through_redis(fake_api, sqlite_url, tmp_path):
    url = REDIS_URL
    await (await require_redis(url)).aclose()
    settings = make_settings(
        sqlite_url, tmp_path, bot_token=fake_api.token, telegram_api_url=fake_api.base_url, redis_url=url
    )
    user = TgUser(800_000_000 + uuid.uuid4().int % 99_999_999, "Flood")
    runner = await BotRunner(fake_api, settings, throttle_limit=3, throttle_window=60).start()
    try:
        for _ in range(10):  # even if a window boundary splits the burst, one half is over the limit
            await runner.send(user, "/balance")
    finally:
        await runner.stop()
    texts = [c.text for c in fake_api.sent_to(user.id)]
    assert sum("Too many requests" in t for t in texts) == 1
    assert 3 <= sum("Last transactions" in t for t in texts) <= 6


async def test_a_domain_error_with_odd_details_still_gets_an_answer(runner, monkeypatch):
    from core.errors import InsufficientFunds
    from core.services import wallet

    def broken(*args, **kwargs):
        raise InsufficientFunds("no details")  # required/balance/shortfall missing

    await runner.send(MONA, "/start")
    monkeypatch.setattr(wallet, "history", broken)
    calls = await runner.send(MONA, "/history")
    assert calls and "did not work" in calls[-1].text
