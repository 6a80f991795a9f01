"""Admins in Telegram: deciding top-ups and confirming bookings, with typed reasons and dates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core.models import MentorshipBooking, Transaction, TransactionType, User
from core.timeutil import utcnow
from tests.bot.fake_api import TgUser
from tests.bot.helpers import (
    ADMIN1,
    MONA,
    admin_starts_rejecting_a_topup,
    book_session,
    booking_waiting_for_a_date,
    media_update,
    speaks_arabic,
)
from tests.factories import seed_catalog


async def test_sticker_while_admin_types_a_session_date_is_explained(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    calls = await runner.feed(media_update(runner.api, ADMIN1, "sticker"))
    assert "answer the question above" in calls[-1].text
    calls = await runner.send(ADMIN1, "tomorrow 18:00")
    assert "Session on" in calls[-1].text


async def test_admin_dates_past_garbage_and_arabic(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    assert "in the past" in (await runner.send(ADMIN1, "2020-01-01 10:00"))[-1].text
    for garbage in ("32/13/2026 25:99", "🙂", "asap", "x" * 300):
        calls = await runner.send(ADMIN1, garbage)
        assert "could not read" in calls[-1].text, garbage
    calls = await runner.send(ADMIN1, "بكرة ٦ مساء")
    assert "Session on" in calls[-1].text
    await runner.press(ADMIN1, runner.api.last_message(ADMIN1.id), "Skip")
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)).status.value == "CONFIRMED"


async def test_admin_menu_tap_while_writing_reject_reason_is_not_the_reason(runner, sync_db):
    await admin_starts_rejecting_a_topup(runner)
    calls = await runner.send(ADMIN1, "💰 Balance")
    assert "Last transactions" in calls[-1].text
    with sync_db.session() as s:
        assert s.scalar(select(Transaction).where(Transaction.type == TransactionType.TOP_UP)).status.value == "PENDING"


async def test_admin_date_without_a_time_asks_for_the_time(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    year = utcnow().year + 1
    for typed in ("tomorrow", "بكرة", f"{year}-12-01", str(year)):
        calls = await runner.send(ADMIN1, typed)
        assert "Session on" not in calls[-1].text, typed  # not a session at a made-up hour
        assert "time" in calls[-1].text, typed
    calls = await runner.send(ADMIN1, f"{year}-13-01 10:00")  # no 13th month: not read as 13 January
    assert "could not read" in calls[-1].text
    soon = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%d")  # within max_session_days_ahead
    calls = await runner.send(ADMIN1, f"{soon} 18:00")
    assert "Session on" in calls[-1].text and "18:00" in calls[-1].text


async def test_arabic_admin_date_without_a_time_is_asked_in_arabic(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    speaks_arabic(sync_db, ADMIN1)
    calls = await runner.send(ADMIN1, "بكرة")
    assert any("\u0600" <= ch <= "\u06ff" for ch in calls[-1].text) and "time" not in calls[-1].text
    calls = await runner.send(ADMIN1, "بكرة ٦ مساء")
    assert "١٨:٠٠" in calls[-1].text


async def test_admin_reject_reason_too_long_then_fine(runner, sync_db):
    await admin_starts_rejecting_a_topup(runner)
    calls = await runner.send(ADMIN1, "r" * 2000)
    assert "too long" in calls[-1].text
    calls = await runner.send(ADMIN1, "Transfer <not> found & no SMS")
    assert "Rejected" in calls[-1].text and "Transfer <not> found & no SMS" in calls[-1].text
    await runner.deliver()
    assert "Transfer <not> found & no SMS" in runner.api.message_with(MONA.id, "rejected").plain_text


async def test_admin_skip_on_an_older_notes_prompt_does_not_confirm_another_booking(runner, sync_db):
    seed_catalog(sync_db)
    other = TgUser(9103, "Omar", "omar", "en")
    for user in (MONA, other):
        await book_session(runner, user)
    await runner.deliver()
    with sync_db.session() as s:
        first, second = [b.id for b in s.scalars(select(MentorshipBooking).order_by(MentorshipBooking.id))]
    day = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%d")  # within max_session_days_ahead
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, f"New booking #{first}"), "Confirm")
    await runner.send(ADMIN1, f"{day} 18:00")
    old_prompt = runner.api.last_message(ADMIN1.id)  # "Any notes? ... Skip" for the first booking
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, f"New booking #{second}"), "Confirm")
    await runner.send(ADMIN1, f"{day} 10:00")
    mark = len(runner.api.calls)
    await runner.press(ADMIN1, old_prompt, "Skip")
    with sync_db.session() as s:
        statuses = {b.id: b.status.value for b in s.scalars(select(MentorshipBooking))}
    assert statuses[second] == "PENDING", statuses  # not confirmed from the first booking's prompt
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    await runner.press(ADMIN1, runner.api.last_message(ADMIN1.id), "Skip")
    with sync_db.session() as s:
        assert s.get(MentorshipBooking, second).status.value == "CONFIRMED"


async def test_admin_types_a_date_after_the_student_cancelled(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    await runner.send(MONA, "/sessions")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Cancel #")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Yes, cancel")
    day = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%d")
    await runner.send(ADMIN1, f"{day} 18:00")
    calls = await runner.send(ADMIN1, "https://meet.example/x")
    assert "Cancelled" in calls[-1].text and "went wrong" not in calls[-1].text
    calls = await runner.send(ADMIN1, "hello")  # the confirmation flow is over
    assert "did not understand" in calls[-1].text
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)).status.value == "CANCELLED"


async def test_admin_reason_after_the_other_admin_approved(runner, sync_db):
    await admin_starts_rejecting_a_topup(runner)
    from tests.bot.helpers import ADMIN2

    await runner.press(ADMIN2, runner.api.message_with(ADMIN2.id, "New top-up request"), "Approve")
    await runner.send(ADMIN2, "paid in cash at the office")  # no transfer matches: approved with a reason
    calls = await runner.send(ADMIN1, "no transfer found")
    assert "Already processed by @hoda_admin" in calls[-1].text
    calls = await runner.send(ADMIN1, "hello")
    assert "did not understand" in calls[-1].text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("650.00")


async def test_admin_command_mid_reason_then_chat_text_does_not_reject(runner, sync_db):
    await admin_starts_rejecting_a_topup(runner)
    calls = await runner.send(ADMIN1, "/pending")
    assert any("Waiting: 1 top-ups" in c.text for c in calls)
    await runner.send(ADMIN1, "ok")
    with sync_db.session() as s:
        assert s.scalar(select(Transaction).where(Transaction.type == TransactionType.TOP_UP)).status.value == "PENDING"
    # /cancel in a flow still says what it left
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, "New top-up request"), "Reject")
    assert "Cancelled" in (await runner.send(ADMIN1, "/cancel"))[-1].text
