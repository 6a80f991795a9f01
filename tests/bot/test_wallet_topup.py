"""Balance, history, the top-up flow, and admins approving or rejecting in Telegram."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from core.models import Transaction, TransactionStatus, TransactionType, User
from tests.bot.conftest import ADMIN1, ADMIN2
from tests.bot.fake_api import TgUser

STUDENT = TgUser(6001, "Karim <b>&", "karim", "en")


async def request_topup(runner, user=STUDENT, amount="150", wallet="010 1234 5678"):
    await runner.send(user, "/start")
    await runner.send(user, "/topup")
    await runner.send(user, amount)
    await runner.send(user, wallet)
    summary = runner.api.last_message(user.id)
    await runner.press(user, summary, "Confirm")
    return runner.api.last_message(user.id)


async def test_topup_flow_explains_bad_input_and_ends_with_pending_receipt(runner, sync_db):
    await runner.send(STUDENT, "/start")
    calls = await runner.send(STUDENT, "/topup")
    intro = calls[-1]
    assert "<code>01099998888</code>" in intro.params["text"]  # the receiving number, copyable
    assert "Balance: 500.00 EGP" in intro.text
    bad = await runner.send(STUDENT, "abc")
    assert "Please send a number" in bad[-1].text and "again" in bad[-1].text
    assert "below the minimum" in (await runner.send(STUDENT, "5"))[-1].text
    assert "at most 2 decimals" in (await runner.send(STUDENT, "150.555"))[-1].text
    ok = await runner.send(STUDENT, "١٥٠")  # Arabic digits are read
    assert "150.00 EGP" in ok[-1].text and "number you sent it from" in ok[-1].text
    assert "not an Egyptian mobile number" in (await runner.send(STUDENT, "12345"))[-1].text
    summary_call = (await runner.send(STUDENT, "010 1234 5678"))[-1]
    assert "150.00 EGP" in summary_call.text and "01012345678" in summary_call.text
    assert summary_call.buttons == ["✅ Confirm", "✖️ Cancel"]
    summary = runner.api.last_message(STUDENT.id)
    confirm = summary.callback_data("Confirm")
    await runner.press(STUDENT, summary, "Confirm")
    receipt = runner.api.last_message(STUDENT.id).plain_text
    assert "Top-up request #" in receipt and "Status: Pending" in receipt and "010****5678" in receipt
    # a double tap on Confirm: one request only
    answers = await runner.press_data(STUDENT, summary, confirm)
    assert any(c.method == "answerCallbackQuery" for c in answers)
    with sync_db.session() as s:
        rows = s.scalars(select(Transaction).where(Transaction.type == TransactionType.TOP_UP)).all()
        assert len(rows) == 1 and rows[0].status == TransactionStatus.PENDING and rows[0].amount == Decimal("150.00")


async def test_same_update_delivered_twice_has_one_effect(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "200")
    await runner.send(STUDENT, "01012345678")
    summary = runner.api.last_message(STUDENT.id)
    confirm = summary.callback_data("Confirm")
    update = runner.api.callback_update(STUDENT, summary, confirm)
    await runner.feed(update)
    # the same update again (a retried webhook delivery): handled once
    mark = len(runner.api.calls)
    await runner.dp.feed_raw_update(runner.bot, dict(update))
    assert runner.api.calls[mark:] == []
    # and the same tap as a new update (a retried callback), after the state is gone
    await runner.press_data(STUDENT, summary, confirm)
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Transaction).where(
            Transaction.type == TransactionType.TOP_UP)) == 1


async def test_cancel_leaves_the_flow(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    calls = await runner.send(STUDENT, "/cancel")
    assert "Cancelled" in calls[-1].text
    calls = await runner.send(STUDENT, "150")
    assert "did not understand" in calls[-1].text  # not read as an amount any more
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Transaction).where(
            Transaction.type == TransactionType.TOP_UP)) == 0


async def test_admins_approve_in_telegram_once_and_student_is_notified(runner, sync_db):
    receipt = await request_topup(runner)
    assert "Pending" in receipt.plain_text
    await runner.deliver()
    card1 = runner.api.message_with(ADMIN1.id, "New top-up request")
    card2 = runner.api.message_with(ADMIN2.id, "New top-up request")
    approve2 = card2.callback_data("Approve")
    assert "Karim <b>&" in card1.plain_text  # the name is escaped, shown as typed
    # the admin's card is the review screen: the full sender number, to check against the statement
    assert "150.00 EGP" in card1.plain_text and "01012345678" in card1.plain_text
    assert card1.buttons == ["✅ Approve", "❌ Reject"]

    mark = len(runner.api.calls)
    await runner.press(ADMIN1, card1, "Approve")
    await runner.press_data(ADMIN2, card2, approve2)  # a late tap by the other admin
    answers = runner.api.answers(mark)
    assert any("Already processed by @amr_admin" in a for a in answers)
    await runner.deliver()
    assert "Approved by @amr_admin" in runner.api.messages[(ADMIN2.id, card2.message_id)].plain_text
    assert runner.api.messages[(ADMIN2.id, card2.message_id)].buttons == []
    note = runner.api.message_with(STUDENT.id, "was approved")
    assert "New balance: 650.00 EGP" in note.plain_text
    with sync_db.session() as s:
        user = s.scalar(select(User).where(User.telegram_id == STUDENT.id))
        assert user.balance == Decimal("650.00")
        assert s.scalar(select(func.count()).select_from(Transaction).where(
            Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.APPROVED)) == 1


async def test_admin_rejects_with_reason_and_student_sees_it(runner, sync_db):
    await request_topup(runner)
    await runner.deliver()
    card = runner.api.message_with(ADMIN1.id, "New top-up request")
    await runner.press(ADMIN1, card, "Reject")
    assert "reason" in runner.api.last_message(ADMIN1.id).plain_text
    await runner.send(ADMIN1, "No transfer <found> & checked")
    assert "Rejected by @amr_admin" in runner.api.messages[(ADMIN1.id, card.message_id)].plain_text
    await runner.deliver()
    note = runner.api.message_with(STUDENT.id, "was rejected")
    assert "No transfer <found> & checked" in note.plain_text
    assert "&lt;found&gt;" in note.text  # escaped in the HTML sent
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")


async def test_non_admin_cannot_use_admin_buttons_or_commands(runner, sync_db):
    await request_topup(runner)
    await runner.deliver()
    card = runner.api.message_with(ADMIN1.id, "New top-up request")
    tx_id = card.callback_data("Approve").split(":")[-1]
    mark = len(runner.api.calls)
    await runner.press_data(STUDENT, card, f"at:approve:{tx_id}")  # forged admin callback
    assert any("admins only" in a for a in runner.api.answers(mark))
    calls = await runner.send(STUDENT, "/pending")
    assert "Unknown command" in calls[-1].text
    await runner.press_data(STUDENT, card, "garbage:data")
    with sync_db.session() as s:
        assert s.scalar(select(Transaction.status).where(Transaction.type == TransactionType.TOP_UP)) \
            == TransactionStatus.PENDING


async def test_balance_and_history_pages(runner, sync_db):
    await runner.send(STUDENT, "/start")
    with sync_db.session() as s:
        from core.services import wallet
        from core.services.common import Actor
        uid = s.scalar(select(User.id).where(User.telegram_id == STUDENT.id))
        for i in range(12):
            wallet.adjust_balance(s, uid, "1.00", f"gift {i}", actor=Actor("t"), idempotency_key=f"g{i}")
    calls = await runner.send(STUDENT, "/balance")
    text = calls[-1].text
    assert "Balance: 512.00 EGP" in text and text.count("+1.00 EGP") == 5
    assert calls[-1].buttons == ["➕ Top up", "📜 History"]
    calls = await runner.send(STUDENT, "📜 History")  # the menu button
    assert "Page 1 of 2" in calls[-1].text and calls[-1].text.count("Adjustment") == 10
    page = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, page, "Next")
    page = runner.api.last_message(STUDENT.id)
    assert "Page 2 of 2" in page.plain_text and "Welcome credit" in page.plain_text
    await runner.press(STUDENT, page, "Welcome credit")  # filter by type
    page = runner.api.last_message(STUDENT.id)
    assert "+500.00 EGP" in page.plain_text and "Adjustment" not in page.plain_text.split("Page")[1]


async def test_concurrent_double_tap_on_enroll_and_topup_has_one_effect(runner, sync_db):
    import asyncio

    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "300")
    await runner.send(STUDENT, "01012345678")
    summary = runner.api.last_message(STUDENT.id)
    confirm = summary.callback_data("Confirm")
    taps = [runner.api.callback_update(STUDENT, summary, confirm) for _ in range(3)]
    await asyncio.gather(*(runner.dp.feed_raw_update(runner.bot, t) for t in taps))
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Transaction).where(
            Transaction.type == TransactionType.TOP_UP)) == 1


async def test_inflight_counter_waits_for_running_updates():
    import asyncio

    from bot.middlewares import InFlightMiddleware

    inflight = InFlightMiddleware()
    release = asyncio.Event()

    async def slow(event, data):
        await release.wait()

    task = asyncio.create_task(inflight(slow, None, {}))
    await asyncio.sleep(0.05)
    assert inflight.active == 1 and not await inflight.wait_idle(0.1)
    release.set()
    assert await inflight.wait_idle(1.0)
    await task
