"""Platforms: prices and badges, enroll with and without funds, tasks gated, progress, deep link."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.models import Enrollment, User
from tests.bot.conftest import seed_catalog
from tests.bot.fake_api import TgUser

STUDENT = TgUser(7001, "Laila", "laila", "en")


async def test_enroll_then_tasks_then_progress(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    calls = await runner.send(STUDENT, "/platforms")
    listing = calls[-1]
    assert "Web <Flask> — 250.00 EGP" in listing.text and "Python Basics — Free" in listing.text
    assert "Balance: 500.00 EGP" in listing.text
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Web <Flask>")
    page = runner.api.last_message(STUDENT.id)
    assert "Tasks: 3" in page.plain_text and "access for 30 days" in page.plain_text
    assert "🛒 Enroll" in page.buttons
    await runner.press(STUDENT, page, "Enroll")
    confirm = runner.api.last_message(STUDENT.id)
    assert "Balance after: 250.00 EGP" in confirm.plain_text
    confirm_data = confirm.callback_data("Confirm")
    await runner.press(STUDENT, confirm, "Confirm")
    await runner.press_data(STUDENT, confirm, confirm_data)  # double tap: charged once
    done = runner.api.message_with(STUDENT.id, "You are enrolled")
    assert "Balance: 250.00 EGP" in done.plain_text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("250.00")

    await runner.press(STUDENT, done, "Tasks")
    tasks = runner.api.last_message(STUDENT.id)
    assert "0/3 done" in tasks.plain_text and "⬜ 1. Step 1" in tasks.buttons
    await runner.press(STUDENT, tasks, "Step 1")
    task = runner.api.last_message(STUDENT.id)
    assert "Do step 1" in task.plain_text
    await runner.press(STUDENT, task, "Mark done")
    assert "Progress: 1/3 tasks done" in runner.api.last_message(STUDENT.id).plain_text
    calls = await runner.send(STUDENT, "/my")
    assert "Web <Flask> — 1/3 tasks done · Expires on" in calls[-1].text
    calls = await runner.send(STUDENT, "/platforms")
    assert "✅ Enrolled · Expires on" in calls[-1].text


async def test_not_enough_balance_shows_shortfall_and_tasks_are_locked(runner, sync_db):
    ids = seed_catalog(sync_db)
    with sync_db.session() as s:
        from core.db import unit_of_work
        from core.models import Platform
        with unit_of_work(s):
            s.get(Platform, ids["paid"]).price = Decimal("700.00")
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/platforms")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Web <Flask>")
    page = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, page, "Enroll")
    short = runner.api.last_message(STUDENT.id)
    assert "you need 200.00 EGP more" in short.plain_text and "➕ Top up" in short.buttons
    assert "✅ Confirm" not in short.buttons
    # forged: jump to the tasks of a platform without access
    await runner.press_data(STUDENT, page, f"p:tasks:{ids['paid']}")
    locked = runner.api.last_message(STUDENT.id)
    assert "locked" in locked.plain_text and "🛒 Enroll" in locked.buttons
    # forged: confirm at the old price -> refused as a changed price, nothing charged
    await runner.press_data(STUDENT, page, f"pe:{ids['paid']}:250.00")
    assert any("price changed" in a for a in runner.api.answers())
    await runner.press_data(STUDENT, page, "t:open:999999")
    assert any("does not exist" in a for a in runner.api.answers())
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")
        assert s.scalar(select(Enrollment)) is None


async def test_free_platform_and_deep_link(runner, sync_db):
    ids = seed_catalog(sync_db)
    calls = await runner.send(STUDENT, f"/start platform_{ids['free']}")
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert "Welcome to CodeHub" in texts[0] and "Python Basics" in texts[1] and "Price: Free" in texts[1]
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Enroll")
    confirm = runner.api.last_message(STUDENT.id)
    assert "Balance after: 500.00 EGP" in confirm.plain_text
    await runner.press(STUDENT, confirm, "Confirm")
    assert "You are enrolled in Python Basics" in runner.api.last_message(STUDENT.id).plain_text
    calls = await runner.send(STUDENT, "/start topup")
    assert "Top up with Vodafone Cash" in calls[-1].text
    await runner.send(STUDENT, "/cancel")
    calls = await runner.send(TgUser(7002, "New"), "/start book")  # a new student, straight to booking
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert "Welcome to CodeHub, New" in texts[0] and "Book a session" in texts[1] and "Ahmed Mentor" in texts[1]
