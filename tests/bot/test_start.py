"""Registration: /start once credits the welcome bonus, a second /start never does."""
from __future__ import annotations

from sqlalchemy import func, select

from core.models import Transaction, TransactionType, User
from tests.bot.fake_api import TgUser


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
        bonuses = s.scalar(select(func.count()).select_from(Transaction).where(
            Transaction.user_id == user.id, Transaction.type == TransactionType.SIGNUP_BONUS))
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
