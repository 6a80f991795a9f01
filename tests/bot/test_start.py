"""Registration: /start once credits the welcome bonus, a second /start never does."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Transaction, TransactionType, User
from tests.bot.fake_api import TgUser
from tests.bot.helpers import ADMIN1, MONA, MONA_AR, group_update, media_update, open_platform_page, topup_count
from tests.factories import seed_catalog


async def test_start_registers_once_with_welcome_credit(runner, sync_db):
    student = TgUser(5001, "Mona", "mona", "en")
    calls = await runner.send(student, "/start")
    welcome = [c for c in calls if c.method == "sendMessage"][0]
    assert "Welcome to CodeHub, Mona" in welcome.text
    assert "500.00 EGP" in welcome.text
    assert "💰 Balance" in welcome.buttons  # the reply-keyboard main menu

    again = await runner.send(student, "/start")
    text = [c for c in again if c.method == "sendMessage"][0].text
    assert "Welcome back" in text and "500.00 EGP" in text
    with sync_db.session() as s:
        user = s.scalar(select(User).where(User.telegram_id == 5001))
        assert user.balance == 500
        bonuses = s.scalar(
            select(func.count())
            .select_from(Transaction)
            .where(Transaction.user_id == user.id, Transaction.type == TransactionType.SIGNUP_BONUS)
        )
        assert bonuses == 1


async def test_any_message_counts_the_student_as_active(runner, sync_db):
    """The panel's 'active students in 30 days' sees students who use the bot, not only /start."""
    from datetime import timedelta

    from sqlalchemy import update

    from core.db import unit_of_work
    from core.models import User
    from core.timeutil import utcnow
    from tests.bot.fake_api import TgUser

    user = TgUser(70707, "Yara", "yara", "en")
    await runner.send(user, "/start")
    with sync_db.session() as s, unit_of_work(s):
        s.execute(update(User).where(User.telegram_id == 70707).values(last_seen_at=utcnow() - timedelta(days=40)))
    for mw in runner.dp.update.outer_middleware:
        if hasattr(mw, "marked"):
            mw.marked.clear()  # a new process, or an hour later
    await runner.send(user, "/balance")
    with sync_db.session() as s:
        seen = s.query(User).filter(User.telegram_id == 70707).one().last_seen_at
    assert utcnow() - seen < timedelta(minutes=1)


async def test_media_outside_any_flow_is_answered(runner):
    await runner.send(MONA, "/start")
    for kind in ("photo", "sticker", "voice"):
        calls = await runner.feed(media_update(runner.api, MONA, kind))
        assert calls and "did not understand" in calls[-1].text, kind


async def test_cancel_outside_any_flow(runner):
    await runner.send(MONA, "/start")
    calls = await runner.send(MONA, "/cancel")
    assert "nothing to cancel" in calls[-1].text
    await runner.send(MONA_AR, "/start")
    calls = await runner.send(MONA_AR, "/cancel")
    assert "nothing" not in calls[-1].text and any("\u0600" <= ch <= "\u06ff" for ch in calls[-1].text)


async def test_switching_language_mid_flow(runner, sync_db):
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/topup")
    await runner.send(MONA, "150")
    calls = await runner.send(MONA, "🌐 Language")
    assert "Choose your language" in calls[-1].text
    await runner.press(MONA, runner.api.last_message(MONA.id), "العربية")
    calls = await runner.send(MONA, "/balance")
    assert "الرصيد" in calls[-1].text or "رصيد" in calls[-1].text
    # the Arabic menu button works for a student who was English before
    calls = await runner.send(MONA, "/language")
    await runner.press(MONA, runner.api.last_message(MONA.id), "English")
    assert "Language set to English" in runner.api.last_message(MONA.id).plain_text


async def test_deep_links_with_garbage(runner, sync_db):
    ids = seed_catalog(sync_db)
    calls = await runner.send(MONA, "/start platform_abc")
    assert "Welcome" in calls[-1].text
    calls = await runner.send(MONA, "/start platform_99999")
    assert "does not exist" in calls[-1].text
    assert not any("went wrong" in c.text for c in calls)
    calls = await runner.send(MONA, f"/start platform_{ids['paid']}")
    assert "Web <Flask>" in calls[-1].text
    calls = await runner.send(MONA, "/start " + "x" * 60)
    assert "Welcome back" in calls[-1].text


async def test_blocked_student_is_told_on_every_command(runner, sync_db):
    ids, page = await open_platform_page(runner, sync_db)
    with sync_db.session() as s:
        s.query(User).filter(User.telegram_id == MONA.id).update({"is_blocked": True})
        s.commit()
    for command in (
        "/start",
        "/topup",
        "/balance",
        "/history",
        "/platforms",
        "/my",
        "/mentors",
        "/book",
        "/sessions",
        "/help",
        "/language",
        "hello",
    ):
        calls = await runner.send(MONA, command)
        assert calls, command
        assert "blocked" in calls[-1].text, (command, calls[-1].text)
    mark = len(runner.api.calls)
    await runner.press(MONA, page, "Enroll")  # an old button: refused too
    assert any("blocked" in a for a in runner.api.answers(mark))
    assert topup_count(sync_db) == 0
    # an admin who is also blocked as a student keeps working
    await runner.send(ADMIN1, "/start")
    with sync_db.session() as s:
        s.query(User).filter(User.telegram_id == ADMIN1.id).update({"is_blocked": True})
        s.commit()
    assert "Nothing is waiting" in (await runner.send(ADMIN1, "/pending"))[-1].text


async def test_forged_and_garbage_buttons_never_apologise_for_an_error(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(MONA, "/start")
    msg = runner.api.last_message(MONA.id)
    for data in (
        "xyz",
        "h:abc:ALL",
        "h:1",
        "rate:abc:1",
        "rate:1:9",
        "lang:fr",
        "p:open:999999",
        "t:open:999999",
        "t:done:-1",
        "s:cancel:999999",
        "m:999999",
        "md:1:30:abc",
        "pe:1:NaN",
        "pe:1:1e400",
        "pr:1:1e400",
        "at:approve:1",
        "ab:confirm:1",
        "w:nothing",
        "s:rate:1",
        "renew:abc",
        "tu:confirm",
        "bk:confirm",
    ):
        mark = len(runner.api.calls)
        await runner.press_data(MONA, msg, data)
        said = runner.api.answers(mark) + [c.text for c in runner.api.sent_to(MONA.id, mark)]
        assert said and not any("went wrong" in t for t in said), (data, said)


async def test_in_a_group_the_bot_never_shows_a_wallet_and_does_not_chat_back(runner, sync_db):
    await runner.send(MONA, "/start")
    for text in ("/balance", "/topup", "/history", "/balance@codehub_test_bot"):
        calls = await runner.feed(group_update(runner.api, MONA, text))
        texts = [c.text for c in calls if c.method == "sendMessage"]
        assert texts and not any("Balance" in t or "01099998888" in t for t in texts), (text, texts)
        assert "private" in texts[-1]
    calls = await runner.feed(group_update(runner.api, MONA, "anyone did task 3?"))
    assert not [c for c in calls if c.method == "sendMessage"]  # group chatter is not answered
    calls = await runner.send(MONA, "150")  # the group /topup did not start a flow in private either
    assert "Amount" not in calls[-1].text
    stranger = TgUser(9104, "Group member", None, "ar")
    calls = await runner.feed(group_update(runner.api, stranger, "/start"))
    assert any("\u0600" <= ch <= "\u06ff" for ch in calls[-1].text)  # in their Telegram language
    with sync_db.session() as s:  # nobody gets a wallet (and a welcome credit) by chatting in a group
        assert s.scalar(select(User).where(User.telegram_id == stranger.id)) is None
    calls = await runner.feed(group_update(runner.api, ADMIN1, "/pending"))  # admins may work from a staff group
    assert "Nothing is waiting" in calls[-1].text
