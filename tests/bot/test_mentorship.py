"""Mentors and booking, admin confirmation with a typed date, cancellation with refund, rating."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core.models import BookingStatus, MentorshipBooking, User
from core.services import mentorship
from core.services.common import Actor
from core.timeutil import utcnow
from tests.bot.conftest import ADMIN1, ADMIN2, seed_catalog
from tests.bot.fake_api import TgUser

STUDENT = TgUser(8001, "Sara", "sara", "en")
OTHER = TgUser(8002, "Tarek", None, "en")


async def book(runner, user=STUDENT, minutes="60 min", notes="Help with <graphs> & trees"):
    await runner.send(user, "/start")
    calls = await runner.send(user, "/book")
    assert "Ahmed Mentor" in calls[-1].text and "300.00 EGP per hour" in calls[-1].text
    await runner.press(user, runner.api.last_message(user.id), "Book Ahmed")
    durations = runner.api.last_message(user.id)
    assert "60 min — 300.00 EGP" in durations.buttons and "30 min — 150.00 EGP" in durations.buttons
    await runner.press(user, durations, minutes)
    if notes:
        await runner.send(user, notes)
    else:
        await runner.press(user, runner.api.last_message(user.id), "Skip")
    summary = runner.api.last_message(user.id)
    return summary


async def test_booking_confirmed_by_admin_with_date_then_cancelled_with_refund(runner, sync_db):
    seed_catalog(sync_db)
    summary = await book(runner)
    assert "Cost: 300.00 EGP" in summary.plain_text and "Balance after: 200.00 EGP" in summary.plain_text
    assert "Help with <graphs> & trees" in summary.plain_text
    await runner.press(STUDENT, summary, "Confirm")
    receipt = runner.api.last_message(STUDENT.id).plain_text
    assert "Booking #" in receipt and "Status: Pending" in receipt and "Balance: 200.00 EGP" in receipt

    await runner.deliver()
    card = runner.api.message_with(ADMIN1.id, "New booking")
    late = runner.api.message_with(ADMIN2.id, "New booking")
    late_confirm = late.callback_data("Confirm")
    assert "Sara" in card.plain_text and "Help with <graphs> & trees" in card.plain_text
    await runner.press(ADMIN1, card, "Confirm")
    assert "Cairo time" in runner.api.last_message(ADMIN1.id).plain_text
    calls = await runner.send(ADMIN1, "yesterday 10:00")
    assert "in the past" in calls[-1].text
    calls = await runner.send(ADMIN1, "not a date at all")
    assert "could not read" in calls[-1].text
    year = utcnow().year + 1
    await runner.send(ADMIN1, f"{year}-12-01 18:00")
    await runner.send(ADMIN1, "Meet link: https://meet.example/abc")
    assert "Confirmed by @amr_admin" in runner.api.messages[(ADMIN1.id, card.message_id)].plain_text
    mark = len(runner.api.calls)
    await runner.press_data(ADMIN2, late, late_confirm)  # the other admin taps late: told, nothing changes
    assert any("Already processed by @amr_admin" in a for a in runner.api.answers(mark))
    await runner.deliver()
    assert "Confirmed by @amr_admin" in runner.api.message_with(ADMIN2.id, "Booking #").plain_text
    note = runner.api.message_with(STUDENT.id, "is confirmed")
    assert f"Tue 1 Dec {year}, 18:00" in note.plain_text or f"1 Dec {year}, 18:00" in note.plain_text
    assert "meet.example" in note.plain_text
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        assert b.status == BookingStatus.CONFIRMED
        assert b.session_date.hour == 16  # 18:00 Cairo (UTC+2 in December)

    # a confirmed session cannot be cancelled by the student; the admin cancels it with a refund
    calls = await runner.send(STUDENT, "/sessions")
    assert "Confirmed" in calls[-1].text and "meet.example" in calls[-1].text
    assert not any("Cancel" in b for b in calls[-1].buttons)
    card2 = runner.api.message_with(ADMIN2.id, "Booking #")
    await runner.press_data(ADMIN2, card2, f"ab:cancel:{b.id}")
    await runner.press(ADMIN2, runner.api.last_message(ADMIN2.id), "Yes, cancel")
    await runner.deliver()
    refund = runner.api.message_with(STUDENT.id, "was cancelled")
    assert "Refunded: 300.00 EGP" in refund.plain_text and "New balance: 500.00 EGP" in refund.plain_text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")


async def test_student_cancels_pending_and_others_cannot(runner, sync_db):
    seed_catalog(sync_db)
    summary = await book(runner, minutes="30 min", notes=None)
    await runner.press(STUDENT, summary, "Confirm")
    with sync_db.session() as s:
        booking_id = s.scalar(select(MentorshipBooking.id))
    await runner.send(OTHER, "/start")
    other_msg = runner.api.last_message(OTHER.id)
    await runner.press_data(OTHER, other_msg, f"s:cancel_yes:{booking_id}")  # someone else's booking
    assert any("not yours" in a for a in runner.api.answers())
    await runner.press_data(OTHER, other_msg, "s:cancel_yes:424242")
    assert any("does not exist" in a for a in runner.api.answers())

    calls = await runner.send(STUDENT, "/sessions")
    assert "Pending" in calls[-1].text and f"✖️ Cancel #{booking_id}" in calls[-1].buttons
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Cancel")
    ask = runner.api.last_message(STUDENT.id)
    assert "You get 150.00 EGP back" in ask.plain_text
    await runner.press(STUDENT, ask, "Yes")
    done = runner.api.last_message(STUDENT.id).plain_text
    assert "Refunded: 150.00 EGP" in done and "Balance: 500.00 EGP" in done
    calls = await runner.send(STUDENT, "/sessions")
    assert "Cancelled — refunded 150.00 EGP" in calls[-1].text


async def test_completed_session_is_rated_with_feedback(runner, sync_db):
    seed_catalog(sync_db)
    summary = await book(runner, notes=None)
    await runner.press(STUDENT, summary, "Confirm")
    with sync_db.session() as s:
        booking_id = s.scalar(select(MentorshipBooking.id))
        mentorship.confirm(s, booking_id, utcnow() + timedelta(hours=1), actor=Actor("t"))
        mentorship.complete(s, booking_id, actor=Actor("t"), now=utcnow() + timedelta(hours=2))
    await runner.deliver(now=utcnow() + timedelta(hours=3))
    ask = runner.api.message_with(STUDENT.id, "How was your mentorship session")
    assert ask.buttons[:1] == ["⭐"] and "⭐⭐⭐⭐⭐" in ask.buttons
    await runner.press_data(STUDENT, ask, f"rate:{booking_id}:9")  # forged star count
    assert any("1 to 5" in a for a in runner.api.answers())
    await runner.press(STUDENT, ask, "⭐⭐⭐⭐⭐")
    await runner.send(STUDENT, "Great <session> & thanks")
    thanks = runner.api.last_message(STUDENT.id)
    assert "Great <session> & thanks" in thanks.plain_text and "&lt;session&gt;" in thanks.text
    with sync_db.session() as s:
        b = s.get(MentorshipBooking, booking_id)
        assert b.rating == 5 and b.feedback == "Great <session> & thanks"
    calls = await runner.send(STUDENT, "/mentors")
    assert "⭐ 5.0 (1 ratings)" in calls[-1].text


async def test_unavailable_mentor_and_short_balance(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    with sync_db.session() as s:
        uid = s.scalar(select(User.id).where(User.telegram_id == STUDENT.id))
        from core.services import wallet
        wallet.adjust_balance(s, uid, "-450.00", "test", actor=Actor("t"), idempotency_key="x")
    summary = await book(runner, minutes="60 min", notes=None)
    assert "you need 250.00 EGP more" in summary.plain_text and "➕ Top up" in summary.buttons
    with sync_db.session() as s:
        mentorship.update_mentor(s, ids["mentor"], actor=Actor("t"), available=False)
    msg = runner.api.last_message(STUDENT.id)
    await runner.press_data(STUDENT, msg, f"m:{ids['mentor']}")
    assert any("not taking bookings" in a for a in runner.api.answers())
    calls = await runner.send(STUDENT, "/mentors")
    assert "Not available now" in calls[-1].text and calls[-1].buttons == []


async def test_forged_duration_and_cost_change_nothing(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    msg = runner.api.last_message(STUDENT.id)
    await runner.press_data(STUDENT, msg, f"md:{ids['mentor']}:60:abc")
    assert any("not valid" in a for a in runner.api.answers())
    await runner.press_data(STUDENT, msg, f"md:{ids['mentor']}:60:1.00")  # a price the student made up
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    assert any("price changed from 1.00 EGP to 300.00 EGP" in a for a in runner.api.answers())
    await runner.press_data(STUDENT, msg, f"md:{ids['mentor']}:45:375.00")  # a duration not offered
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    assert any("offered durations" in a for a in runner.api.answers())
    await runner.press_data(STUDENT, msg, f"pe:{ids['paid']}:NaN")
    assert any("price changed" in a for a in runner.api.answers())
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)) is None
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")


async def test_cancel_tapped_on_an_old_list_after_the_admin_confirmed_is_refused_at_once(runner, sync_db):
    """Bug: the student was asked "You get 300.00 EGP back?" for a booking that could no longer be cancelled."""
    seed_catalog(sync_db)
    await runner.press(STUDENT, await book(runner, notes=None), "Confirm")
    await runner.send(STUDENT, "/sessions")
    listing = runner.api.last_message(STUDENT.id)
    with sync_db.session() as s:
        booking_id = s.scalar(select(MentorshipBooking.id))
        mentorship.confirm(s, booking_id, utcnow() + timedelta(days=1), actor=Actor("@amr_admin"))
    mark = len(runner.api.calls)
    await runner.press(STUDENT, listing, "Cancel #")
    assert any("Already processed by @amr_admin (status: Confirmed)" in a for a in runner.api.answers(mark))
    assert not any("You get" in c.text for c in runner.api.sent_to(STUDENT.id, mark))
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking.status)) == BookingStatus.CONFIRMED
