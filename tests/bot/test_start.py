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
