"""Balance, history, the top-up flow, and admins approving or rejecting in Telegram."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from core.models import Transaction, TransactionStatus, TransactionType, Transfer, User
from core.services import reconciliation, topups
from core.services.common import Actor
from core.services.settings import update_settings
from core.services.wallet import check_ledger
from tests.bot.fake_api import TgUser
from tests.bot.helpers import ADMIN1, ADMIN2, MONA, MONA_AR, complete_booking, media_update, topup_count
from tests.factories import feed_a_transfer

STUDENT = TgUser(6001, "Karim <b>&", "karim", "en")


async def request_topup(runner, user=STUDENT, amount="150", wallet="010 1234 5678", reference=None):
    await runner.send(user, "/start")
    await runner.send(user, "/topup")
    await runner.send(user, amount)
    await runner.send(user, wallet)
    if reference is None:
        await runner.press(user, runner.api.last_message(user.id), "Skip")
    else:
        await runner.send(user, reference)
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
    prompt_call = (await runner.send(STUDENT, "010 1234 5678"))[-1]
    assert "01012345678" in prompt_call.text and "transaction number" in prompt_call.text
    assert prompt_call.buttons == ["⏭ Skip"]
    summary_call = (await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip"))[-1]
    assert "150.00 EGP" in summary_call.text and "01012345678" in summary_call.text
    assert "Transaction number: not given" in summary_call.text
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
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
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
        assert (
            s.scalar(select(func.count()).select_from(Transaction).where(Transaction.type == TransactionType.TOP_UP))
            == 1
        )


async def test_cancel_leaves_the_flow(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    calls = await runner.send(STUDENT, "/cancel")
    assert "Cancelled" in calls[-1].text
    calls = await runner.send(STUDENT, "150")
    assert "did not understand" in calls[-1].text  # not read as an amount any more
    with sync_db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(Transaction).where(Transaction.type == TransactionType.TOP_UP))
            == 0
        )


async def test_without_a_transfer_feed_one_tap_approves_in_telegram(runner, sync_db):
    """The default install (no SMS webhook, no transfer stored): the admin checked the phone; Approve credits at
    once, no reason is asked, and the student is told."""
    await request_topup(runner)
    await runner.deliver()
    card = runner.api.message_with(ADMIN1.id, "New top-up request")
    calls = await runner.press(ADMIN1, card, "Approve")
    assert "Approved: 150.00 EGP credited." in calls[-1].text
    assert not any("No received Vodafone Cash transfer" in c.text for c in calls)
    await runner.deliver()
    assert "Approved by @amr_admin" in runner.api.messages[(ADMIN1.id, card.message_id)].plain_text
    assert "New balance: 650.00 EGP" in runner.api.message_with(STUDENT.id, "was approved").plain_text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("650.00")


async def test_admins_approve_in_telegram_once_and_student_is_notified(runner, sync_db):
    with sync_db.session() as s:
        feed_a_transfer(s)  # transfers are fed in: "no transfer matches" now counts against a request
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

    # no received transfer matches: approving asks for a confirmation with a reason first
    calls = await runner.press(ADMIN1, card1, "Approve")
    assert "No received Vodafone Cash transfer matches" in calls[-1].text
    calls = await runner.press(ADMIN1, card1, "Approve")  # the same tap again: asked again, nothing moved
    assert "No received Vodafone Cash transfer matches" in calls[-1].text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")
    calls = await runner.send(ADMIN1, "Seen in the statement <by hand>")
    assert "Approved by @amr_admin" in calls[-1].text and "&lt;by hand&gt;" in calls[-1].params["text"]
    mark = len(runner.api.calls)
    await runner.press_data(ADMIN2, card2, approve2)  # a late tap by the other admin
    answers = runner.api.answers(mark)
    assert any("Already processed by @amr_admin" in a for a in answers)
    assert "did not understand" in (await runner.send(ADMIN1, "one more"))[-1].text  # the step is over
    await runner.deliver()
    assert "Approved by @amr_admin" in runner.api.messages[(ADMIN2.id, card2.message_id)].plain_text
    assert runner.api.messages[(ADMIN2.id, card2.message_id)].buttons == []
    note = runner.api.message_with(STUDENT.id, "was approved")
    assert "New balance: 650.00 EGP" in note.plain_text
    with sync_db.session() as s:
        user = s.scalar(select(User).where(User.telegram_id == STUDENT.id))
        assert user.balance == Decimal("650.00")
        assert (
            s.scalar(
                select(func.count())
                .select_from(Transaction)
                .where(Transaction.type == TransactionType.TOP_UP, Transaction.status == TransactionStatus.APPROVED)
            )
            == 1
        )
        assert (
            s.scalar(select(Transaction.admin_notes).where(Transaction.type == TransactionType.TOP_UP))
            == "Seen in the statement <by hand>"
        )


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
        assert (
            s.scalar(select(Transaction.status).where(Transaction.type == TransactionType.TOP_UP))
            == TransactionStatus.PENDING
        )


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
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    summary = runner.api.last_message(STUDENT.id)
    confirm = summary.callback_data("Confirm")
    taps = [runner.api.callback_update(STUDENT, summary, confirm) for _ in range(3)]
    await asyncio.gather(*(runner.dp.feed_raw_update(runner.bot, t) for t in taps))
    with sync_db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(Transaction).where(Transaction.type == TransactionType.TOP_UP))
            == 1
        )


async def test_inflight_counter_waits_for_running_updates():
    import asyncio

    from bot.middlewares.inflight import InFlightMiddleware

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


async def test_amounts_typed_like_egyptians_do(runner, sync_db):
    await runner.send(MONA, "/start")
    cases = [("١٥٠٫٥", "150.50 EGP"), ("1,500", "1,500.00 EGP"), ("150 جنيه", "150.00 EGP"), ("200 EGP", "200.00 EGP")]
    for typed, shown in cases:
        await runner.send(MONA, "/topup")
        calls = await runner.send(MONA, typed)
        assert f"Amount: {shown}" in calls[-1].text, (typed, calls[-1].text)
    await runner.send(MONA, "/topup")
    assert "more than zero" in (await runner.send(MONA, "0"))[-1].text
    assert "more than zero" in (await runner.send(MONA, "-5"))[-1].text
    assert "above the maximum" in (await runner.send(MONA, "99999999999999999999999"))[-1].text
    assert "Please send a number" in (await runner.send(MONA, "💸"))[-1].text
    assert "Please send a number" in (await runner.send(MONA, "1e5"))[-1].text
    assert "Please send a number" in (await runner.send(MONA, "NaN"))[-1].text
    assert topup_count(sync_db) == 0


async def test_sender_numbers_with_spaces_country_code_and_arabic_digits(runner, sync_db):
    await runner.send(MONA, "/start")
    for typed in ("+20 10 1234 5678", "٠١٠١٢٣٤٥٦٧٨", "0020-101-234-5678", "(010) 1234 5678"):
        await runner.send(MONA, "/topup")
        await runner.send(MONA, "150")
        calls = await runner.send(MONA, typed)
        assert "Sent from: 01012345678" in calls[-1].text, (typed, calls[-1].text)
    await runner.send(MONA, "/topup")
    await runner.send(MONA, "150")
    for bad in ("0101234567", "01312345678", "٠١٠١٢٣٤٥٦٧٨٩", "my number is 01012345678"):
        assert "not an Egyptian mobile number" in (await runner.send(MONA, bad))[-1].text, bad
    assert topup_count(sync_db) == 0


async def test_arabic_student_gets_arabic_errors_in_the_topup_flow(runner):
    await runner.send(MONA_AR, "/start")
    intro = (await runner.send(MONA_AR, "/topup"))[-1].text
    assert "فودافون" in intro
    bad = (await runner.send(MONA_AR, "كتير"))[-1].text
    assert "Please" not in bad and any("\u0600" <= ch <= "\u06ff" for ch in bad)
    ok = (await runner.send(MONA_AR, "١٥٠"))[-1].text
    assert "١٥٠" in ok


async def test_media_in_the_topup_flow_gets_a_polite_explanation(runner, sync_db):
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/topup")
    for kind in ("photo", "sticker", "voice"):
        calls = await runner.feed(media_update(runner.api, MONA, kind))
        assert "answer the question above" in calls[-1].text, kind
    calls = await runner.send(MONA, "150")
    assert "Amount: 150.00 EGP" in calls[-1].text  # still in the flow


async def test_confirm_on_an_old_topup_summary_after_cancel_changes_nothing(runner, sync_db):
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/topup")
    await runner.send(MONA, "150")
    await runner.send(MONA, "01012345678")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Skip")
    summary = runner.api.last_message(MONA.id)
    assert "Cancelled" in (await runner.send(MONA, "/cancel"))[-1].text
    mark = len(runner.api.calls)
    await runner.press(MONA, summary, "Confirm")
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    assert topup_count(sync_db) == 0


async def test_menu_button_tapped_mid_topup_opens_that_menu(runner, sync_db):
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/topup")
    calls = await runner.send(MONA, "📚 Platforms")
    assert "CodeHub platforms" in calls[-1].text
    calls = await runner.send(MONA, "150")
    assert "Amount" not in calls[-1].text  # the top-up was left
    assert topup_count(sync_db) == 0


async def test_history_edges_empty_filter_last_page_and_forged_page(runner, sync_db):
    await runner.send(MONA, "/start")
    calls = await runner.send(MONA, "/history")
    assert "Page 1 of 1" in calls[-1].text and "Welcome credit" in calls[-1].text
    assert not any("Next" in b or "Prev" in b for b in calls[-1].buttons)
    history = runner.api.last_message(MONA.id)
    await runner.press(MONA, history, "Refund")
    page = runner.api.last_message(MONA.id).plain_text
    assert "No transactions yet." in page and "Page 1 of 1" in page
    await runner.press_data(MONA, history, "h:999:ALL")
    page = runner.api.last_message(MONA.id).plain_text
    assert "Page 1 of 1" in page and "Welcome credit" in page
    mark = len(runner.api.calls)
    await runner.press_data(MONA, history, "h:-3:BOGUS")
    assert "Page 1 of 1" in runner.api.last_message(MONA.id).plain_text
    assert not any("went wrong" in c.text for c in runner.api.calls[mark:])


async def test_history_with_many_entries_pages_to_the_last_page(runner, sync_db):
    from core.services import wallet

    await runner.send(MONA, "/start")
    with sync_db.session() as s:
        uid = s.scalar(select(User.id).where(User.telegram_id == MONA.id))
        for i in range(11):
            wallet.adjust_balance(s, uid, Decimal("1.00"), f"gift {i}", actor=Actor("qa"), idempotency_key=f"qa{i}")
    calls = await runner.send(MONA, "/history")
    assert "Page 1 of 2" in calls[-1].text and "Next ➡️" in calls[-1].buttons
    await runner.press(MONA, runner.api.last_message(MONA.id), "Next")
    last = runner.api.last_message(MONA.id)
    assert "Page 2 of 2" in last.plain_text and "Welcome credit" in last.plain_text
    assert "⬅️ Prev" in last.buttons and "Next ➡️" not in last.buttons


async def test_tapping_the_filter_already_shown_is_quiet(runner):
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/history")
    history = runner.api.last_message(MONA.id)
    await runner.press(MONA, history, "Top-up")
    mark = len(runner.api.calls)
    await runner.press(MONA, history, "• Top-up")  # the same filter again
    assert not any("went wrong" in c.text for c in runner.api.sent_to(MONA.id, mark))
    assert not any("went wrong" in (a or "") for a in runner.api.answers(mark))
    assert any(c.method == "answerCallbackQuery" for c in runner.api.calls[mark:])


async def test_confirm_on_an_older_topup_summary_never_sends_the_newer_amount(runner, sync_db):
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/topup")
    await runner.send(MONA, "150")
    await runner.send(MONA, "01012345678")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Skip")
    old = runner.api.last_message(MONA.id)
    assert "150.00 EGP" in old.plain_text
    await runner.send(MONA, "/topup")  # changed their mind: a new request for 1,000
    await runner.send(MONA, "1000")
    await runner.send(MONA, "01112345678")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Skip")
    new = runner.api.last_message(MONA.id)
    mark = len(runner.api.calls)
    await runner.press(MONA, old, "Confirm")
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    assert topup_count(sync_db) == 0
    await runner.press(MONA, new, "Confirm")  # the newer summary still works
    with sync_db.session() as s:
        rows = s.scalars(select(Transaction).where(Transaction.type == TransactionType.TOP_UP)).all()
        assert [r.amount for r in rows] == [Decimal("1000.00")]


async def test_cancel_on_an_older_topup_summary_keeps_the_newer_one(runner, sync_db):
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/topup")
    await runner.send(MONA, "150")
    await runner.send(MONA, "01012345678")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Skip")
    old = runner.api.last_message(MONA.id)
    await runner.send(MONA, "/topup")
    await runner.send(MONA, "200")
    await runner.send(MONA, "01012345678")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Skip")
    new = runner.api.last_message(MONA.id)
    await runner.press(MONA, old, "Cancel")
    await runner.press(MONA, new, "Confirm")
    assert "Top-up request #" in runner.api.messages[(MONA.id, new.message_id)].plain_text
    assert topup_count(sync_db) == 1


async def test_topup_refused_before_sending_money_when_too_many_are_waiting(runner, sync_db):
    await runner.send(MONA, "/start")
    with sync_db.session() as s:
        uid = s.scalar(select(User.id).where(User.telegram_id == MONA.id))
        for i in range(3):
            topups.request_topup(s, uid, Decimal("100"), "01012345678", idempotency_key=f"qa-pending-{i}")
    calls = await runner.send(MONA, "/topup")
    assert "already have 3 top-up requests waiting" in calls[-1].text
    assert "01099998888" not in calls[-1].text  # not told to send money that cannot be requested
    calls = await runner.send(MONA, "150")
    assert "Amount" not in calls[-1].text


async def test_old_feedback_skip_does_not_end_a_newer_topup(runner, sync_db):
    await complete_booking(runner, sync_db)
    await runner.send(MONA, "/sessions")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Rate #")
    await runner.press(MONA, runner.api.last_message(MONA.id), "⭐⭐⭐⭐⭐")
    rated = runner.api.last_message(MONA.id)
    await runner.send(MONA, "/topup")
    await runner.press(MONA, rated, "Skip")
    calls = await runner.send(MONA, "150")
    assert "Amount: 150.00 EGP" in calls[-1].text  # the top-up goes on


# --- the optional transaction number, and what reconciliation does with it -------------------------

REF = "022768543034"


def vf_sms(amount="150.00", sender="01012345678", ref=REF, name="Karim"):
    return (
        f"تم استلام مبلغ {amount} جنيه من رقم {sender} المسجل باسم {name} على رقم محفظتك 01099998888.\n"
        f"رصيدك الحالي: 906.82 جنيه.\nرقم العملية: {ref}"
    )


def receive(sync_db, text):
    with sync_db.session() as s:
        return reconciliation.receive_sms(s, text)


def switch_auto_approval_on(sync_db):
    with sync_db.session() as s:
        update_settings(s, {"auto_approve_transfers": "true"}, actor=Actor("qa"))


def topup_rows(sync_db) -> list[Transaction]:
    with sync_db.session() as s:
        return s.scalars(select(Transaction).where(Transaction.type == TransactionType.TOP_UP)).all()


def paid_by(sync_db, reference=REF) -> int | None:
    with sync_db.session() as s:
        return s.scalar(select(Transfer.transaction_id).where(Transfer.reference == reference))


async def test_transaction_number_is_checked_kept_out_when_bad_and_shown(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "150")
    await runner.send(STUDENT, "01012345678")
    for bad in ("12345", "abc", "0227-6854-30x4", "1" * 21, "022768543034 thanks"):
        calls = await runner.send(STUDENT, bad)
        assert "not a transaction number" in calls[-1].text and "tap Skip" in calls[-1].text, bad
    assert topup_count(sync_db) == 0
    calls = await runner.send(STUDENT, "٠٢٢٧ ٦٨٥٤ ٣٠٣٤")  # Arabic digits and spaces, as copied from the SMS
    assert "Transaction number: 022768543034" in calls[-1].text and calls[-1].buttons == ["✅ Confirm", "✖️ Cancel"]
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    receipt = runner.api.last_message(STUDENT.id).plain_text
    assert "Transaction number: 022768543034" in receipt and "Status: Pending" in receipt
    [row] = topup_rows(sync_db)
    assert row.transfer_reference == REF and row.status == TransactionStatus.PENDING
    await runner.deliver()
    assert f"Transaction number given: {REF}" in runner.api.message_with(ADMIN1.id, "New top-up request").plain_text
    calls = await runner.send(ADMIN1, "/pending")  # the waiting list shows it too
    [card] = [c.text for c in calls if "New top-up request" in c.text]
    assert f"Transaction number given: {REF}" in card


async def test_arabic_student_is_asked_for_the_transaction_number_in_arabic(runner, sync_db):
    await runner.send(MONA_AR, "/start")
    await runner.send(MONA_AR, "/topup")
    await runner.send(MONA_AR, "150")
    prompt = (await runner.send(MONA_AR, "01012345678"))[-1]
    assert "رقم العملية" in prompt.text and prompt.buttons == ["⏭ تخطي"]
    prompt_message = runner.api.last_message(MONA_AR.id)
    bad = (await runner.send(MONA_AR, "12"))[-1].text
    assert "ليس رقم عملية" in bad and "تخطي" in bad
    summary = (await runner.press(MONA_AR, prompt_message, "تخطي"))[-1].text
    assert "رقم العملية: لم يُذكر" in summary
    assert topup_count(sync_db) == 0


async def test_a_transfer_that_arrived_first_settles_the_request_at_confirm(runner, sync_db):
    switch_auto_approval_on(sync_db)
    assert receive(sync_db, vf_sms()).stored  # the SMS came before the request
    receipt = await request_topup(runner, reference=REF)
    assert "Status: Approved" in receipt.plain_text and "your wallet is credited" in receipt.plain_text
    assert "Balance: 650.00 EGP" in receipt.plain_text
    [row] = topup_rows(sync_db)
    assert row.status == TransactionStatus.APPROVED and paid_by(sync_db) == row.id
    # the same Confirm tap again: no second request, no second credit
    summary = runner.api.messages[(STUDENT.id, receipt.message_id)]
    await runner.press_data(STUDENT, summary, "tu:confirm")
    assert receive(sync_db, vf_sms()).duplicate  # and the forwarder's retry of the SMS
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("650.00")
        assert check_ledger(s) == []
    assert topup_count(sync_db) == 1


async def test_without_auto_approval_a_matching_transfer_makes_approve_one_tap(runner, sync_db):
    await request_topup(runner)  # no transaction number: matched by sender, amount and time
    result = receive(sync_db, vf_sms())
    assert result.stored and result.settled_request is None  # auto-approval is off by default
    [row] = topup_rows(sync_db)
    with sync_db.session() as s:
        assert [x.transfer.reference for x in reconciliation.suggestions(s)[row.id]] == [REF]
    await runner.deliver()
    card = runner.api.message_with(ADMIN1.id, "New top-up request")
    calls = await runner.press(ADMIN1, card, "Approve")  # no confirmation step: the transfer matches
    assert any("Approved: 150.00 EGP credited" in (c.params.get("text") or "") for c in calls)
    assert topup_rows(sync_db)[0].status == TransactionStatus.APPROVED and paid_by(sync_db) == row.id


async def test_rejecting_a_request_that_a_transfer_matches_asks_once_more(runner, sync_db):
    await request_topup(runner, reference=REF)
    receive(sync_db, vf_sms())
    await runner.deliver()
    card = runner.api.message_with(ADMIN1.id, "New top-up request")
    await runner.press(ADMIN1, card, "Reject")
    question = (await runner.send(ADMIN1, "Looks like a fake <screenshot>"))[-1]
    assert f"Received transfer {REF} matches top-up" in question.text and question.buttons == ["Yes, reject it"]
    assert topup_rows(sync_db)[0].status == TransactionStatus.PENDING  # nothing decided yet
    question_msg = runner.api.last_message(ADMIN1.id)
    yes = question_msg.callback_data("Yes, reject it")
    await runner.press_data(ADMIN1, question_msg, yes)
    assert "Rejected by @amr_admin" in runner.api.messages[(ADMIN1.id, card.message_id)].plain_text
    mark = len(runner.api.calls)
    await runner.press_data(ADMIN1, question_msg, yes)  # a double tap: one rejection
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    [row] = topup_rows(sync_db)
    assert row.status == TransactionStatus.REJECTED and row.admin_notes == "Looks like a fake <screenshot>"
    assert paid_by(sync_db) is None  # the transfer stays unmatched, for another request
    await runner.deliver()
    assert "was rejected" in runner.api.message_with(STUDENT.id, "was rejected").plain_text


async def test_rejecting_a_request_that_no_transfer_matches_needs_no_extra_step(runner, sync_db):
    await request_topup(runner)
    await runner.deliver()
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, "New top-up request"), "Reject")
    calls = await runner.send(ADMIN1, "no transfer")
    assert "Rejected by @amr_admin" in calls[-1].text
    assert topup_rows(sync_db)[0].status == TransactionStatus.REJECTED


async def test_two_admins_approving_a_matched_request_at_once_credit_it_once(runner, sync_db):
    import asyncio

    await request_topup(runner)
    receive(sync_db, vf_sms())
    await runner.deliver()
    cards = [(admin, runner.api.message_with(admin.id, "New top-up request")) for admin in (ADMIN1, ADMIN2)]
    taps = [runner.api.callback_update(admin, card, card.callback_data("Approve")) for admin, card in cards] * 2
    await asyncio.gather(*(runner.dp.feed_raw_update(runner.bot, t) for t in taps))
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("650.00")
        assert check_ledger(s) == []
    [row] = topup_rows(sync_db)
    assert row.status == TransactionStatus.APPROVED and paid_by(sync_db) == row.id
