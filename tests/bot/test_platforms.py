"""Platforms: prices and badges, enroll with and without funds, tasks gated, progress, deep link."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from core.models import Enrollment, Platform, User
from core.timeutil import utcnow
from tests.bot.fake_api import TgUser
from tests.bot.helpers import MONA, open_platform_page, topup_count
from tests.factories import seed_catalog

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


async def test_platform_repriced_or_deactivated_before_the_tap(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(MONA, "/start")
    await runner.send(MONA, f"/start platform_{ids['paid']}")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Enroll")
    confirm = runner.api.last_message(MONA.id)
    with sync_db.session() as s:
        s.get(Platform, ids["paid"]).price = Decimal("300.00")
        s.commit()
    mark = len(runner.api.calls)
    await runner.press(MONA, confirm, "Confirm")
    assert any("price changed" in a for a in runner.api.answers(mark))
    await runner.press(MONA, runner.api.message_with(MONA.id, "Tasks: 3"), "Enroll")
    confirm = runner.api.last_message(MONA.id)
    assert "300.00 EGP" in confirm.plain_text
    with sync_db.session() as s:
        s.get(Platform, ids["paid"]).is_active = False
        s.commit()
    mark = len(runner.api.calls)
    await runner.press(MONA, confirm, "Confirm")
    assert any("not available" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("500.00")


async def test_enroll_again_from_an_old_button(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(MONA, "/start")
    await runner.send(MONA, f"/start platform_{ids['free']}")
    page = runner.api.last_message(MONA.id)
    await runner.press(MONA, page, "Enroll")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Confirm")
    assert "You are enrolled" in runner.api.last_message(MONA.id).plain_text
    await runner.press(MONA, page, "Enroll")  # the old page still shows Enroll
    confirm = runner.api.last_message(MONA.id)
    mark = len(runner.api.calls)
    await runner.press(MONA, confirm, "Confirm")
    texts = runner.api.answers(mark) + [c.text for c in runner.api.calls[mark:]]
    assert any("already enrolled" in t for t in texts), texts
    assert not any("went wrong" in t for t in texts)


async def test_double_taps_on_enroll_confirm_and_cancel_buttons(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(MONA, "/start")
    await runner.send(MONA, f"/start platform_{ids['paid']}")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Enroll")
    confirm = runner.api.last_message(MONA.id)
    data = confirm.callback_data("Confirm")
    await runner.press(MONA, confirm, "Confirm")
    mark = len(runner.api.calls)
    await runner.press_data(MONA, confirm, data)  # the second tap of a double tap
    assert not any("went wrong" in c.text for c in runner.api.sent_to(MONA.id, mark))
    assert not any("went wrong" in (a or "") for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("250.00")

    await runner.send(MONA, "/topup")
    await runner.send(MONA, "150")
    await runner.send(MONA, "01012345678")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Skip")
    summary = runner.api.last_message(MONA.id)
    cancel = summary.callback_data("Cancel")
    await runner.press(MONA, summary, "Cancel")
    mark = len(runner.api.calls)
    await runner.press_data(MONA, summary, cancel)
    assert not any("went wrong" in c.text for c in runner.api.sent_to(MONA.id, mark))
    assert topup_count(sync_db) == 0


async def test_enroll_on_a_stale_page_of_a_deactivated_platform_says_so_at_once(runner, sync_db):
    ids, page = await open_platform_page(runner, sync_db)
    with sync_db.session() as s:
        s.get(Platform, ids["paid"]).is_active = False
        s.commit()
    mark = len(runner.api.calls)
    await runner.press(MONA, page, "Enroll")
    said = runner.api.answers(mark) + [c.text for c in runner.api.sent_to(MONA.id, mark)]
    assert any("not available" in t for t in said), said
    assert not any("Balance after" in t for t in said)  # no confirmation screen for what cannot be bought


async def test_a_long_task_body_and_description_are_shown_whole_or_shortened_not_failed(runner, sync_db):
    from core.models import Task

    ids = seed_catalog(sync_db)
    body = "\n".join(f"Line {i}: read <chapter {i}> & write notes" for i in range(300))  # ~13,000 characters
    with sync_db.session() as s:
        p = s.get(Platform, ids["free"])
        p.description = "d" * 6000
        task = s.scalar(select(Task).where(Task.platform_id == ids["free"]).order_by(Task.position))
        task.body = body
        s.commit()
    await runner.send(MONA, "/start")
    calls = await runner.send(MONA, f"/start platform_{ids['free']}")
    assert "Python Basics" in calls[-1].text and calls[-1].error is None and "went wrong" not in calls[-1].text
    await runner.press(MONA, runner.api.last_message(MONA.id), "Enroll")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Confirm")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Tasks")
    mark = len(runner.api.calls)
    await runner.press(MONA, runner.api.last_message(MONA.id), "Basics 1")
    sent = [c for c in runner.api.calls[mark:] if c.method == "sendMessage"]
    assert sent and all(c.error is None for c in sent)
    shown = "\n".join(c.text for c in sent)
    assert "Line 0: read <chapter 0> & write notes" in shown and "Line 299: read <chapter 299>" in shown
    assert "Mark done" in sent[-1].buttons[0]  # the buttons come after the whole text


async def test_two_enroll_screens_confirmed_charge_once(runner, sync_db):
    ids, page = await open_platform_page(runner, sync_db)
    await runner.press(MONA, page, "Enroll")
    first = runner.api.last_message(MONA.id)
    await runner.press(MONA, page, "Enroll")  # tapped twice: two "Enroll in ...?" screens
    second = runner.api.last_message(MONA.id)
    await runner.press(MONA, first, "Confirm")
    mark = len(runner.api.calls)
    await runner.press(MONA, second, "Confirm")
    assert any("already enrolled" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("250.00")
    # right after buying, Renew is not offered; from two weeks before the end it is, and a renewal works
    await runner.send(MONA, f"/start platform_{ids['paid']}")
    assert not any("Renew" in b for b in runner.api.last_message(MONA.id).buttons)
    with sync_db.session() as s, s.begin():
        s.execute(update(Enrollment).values(expires_at=utcnow() + timedelta(days=5)))
    await runner.send(MONA, f"/start platform_{ids['paid']}")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Renew")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Confirm")
    assert "You are enrolled" in runner.api.last_message(MONA.id).plain_text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("0.00")
