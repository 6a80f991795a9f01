"""Mentors and booking, admin confirmation with a typed date, cancellation with refund, rating."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from babel.dates import format_datetime
from sqlalchemy import func, select

from core.models import BookingStatus, MentorshipBooking, User
from core.services import mentorship
from core.services.common import Actor
from core.timeutil import CAIRO, as_utc, utcnow
from tests.bot.fake_api import TgUser
from tests.bot.helpers import (
    ADMIN1,
    ADMIN2,
    MONA,
    MONA_AR,
    book_session,
    booking_summary,
    choose_session,
    complete_booking,
    media_update,
)
from tests.factories import seed_catalog

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
    day = (utcnow() + timedelta(days=30)).astimezone(CAIRO)  # within max_session_days_ahead
    at = datetime(day.year, day.month, day.day, 18, 0, tzinfo=CAIRO)
    await runner.send(ADMIN1, f"{at:%Y-%m-%d} 18:00")
    await runner.send(ADMIN1, "Meet link: https://meet.example/abc")
    assert "Confirmed by @amr_admin" in runner.api.messages[(ADMIN1.id, card.message_id)].plain_text
    mark = len(runner.api.calls)
    await runner.press_data(ADMIN2, late, late_confirm)  # the other admin taps late: told, nothing changes
    assert any("Already processed by @amr_admin" in a for a in runner.api.answers(mark))
    await runner.deliver()
    assert "Confirmed by @amr_admin" in runner.api.message_with(ADMIN2.id, "Booking #").plain_text
    note = runner.api.message_with(STUDENT.id, "is confirmed")
    assert format_datetime(at, "d MMM y, HH:mm", tzinfo=CAIRO, locale="en_GB") in note.plain_text
    assert "meet.example" in note.plain_text
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        assert b.status == BookingStatus.CONFIRMED
        assert as_utc(b.session_date) == as_utc(at)  # 18:00 Cairo, summer time or not

    # the student may cancel a confirmed session before it starts, under the policy (30 days ahead: all back)
    calls = await runner.send(STUDENT, "/sessions")
    assert "Confirmed" in calls[-1].text and "meet.example" in calls[-1].text
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Cancel #")
    ask = runner.api.last_message(STUDENT.id).plain_text
    assert "You get 300.00 EGP back" in ask and "Cancel at least 24 hours before the start" in ask
    # the admin cancels it instead, with a refund
    card2 = runner.api.message_with(ADMIN2.id, "Booking #")
    await runner.press_data(ADMIN2, card2, f"ab:cancel:{b.id}")
    calls = await runner.press(ADMIN2, runner.api.last_message(ADMIN2.id), "Yes, cancel")
    assert "reason for cancelling booking" in calls[-1].text  # a cancellation needs a reason the student reads
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("200.00")
    await runner.send(ADMIN2, "Mentor is ill <b>today</b>")
    await runner.deliver()
    refund = runner.api.message_with(STUDENT.id, "was cancelled")
    assert "Refunded: 300.00 EGP" in refund.plain_text and "New balance: 500.00 EGP" in refund.plain_text
    assert "Reason: Mentor is ill <b>today</b>" in refund.plain_text  # shown as typed, not as markup
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


async def test_cancel_tapped_on_an_old_list_after_the_admin_confirmed_says_what_the_policy_gives_now(runner, sync_db):
    """Bug: the student was asked "You get 300.00 EGP back?" for a booking whose refund had changed. Dated less
    than 24 hours ahead meanwhile, cancelling gives half: the question says so, and the cancel gives exactly it."""
    seed_catalog(sync_db)
    await runner.press(STUDENT, await book(runner, notes=None), "Confirm")
    await runner.send(STUDENT, "/sessions")
    listing = runner.api.last_message(STUDENT.id)
    with sync_db.session() as s:
        booking_id = s.scalar(select(MentorshipBooking.id))
        mentorship.confirm(s, booking_id, utcnow() + timedelta(hours=20), actor=Actor("@amr_admin"))
    await runner.press(STUDENT, listing, "Cancel #")
    ask = runner.api.last_message(STUDENT.id)
    assert "You get 150.00 EGP back" in ask.plain_text
    await runner.press(STUDENT, ask, "Yes, cancel")
    assert "Refunded: 150.00 EGP" in runner.api.last_message(STUDENT.id).plain_text
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking.status)) == BookingStatus.CANCELLED
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("350.00")


async def test_media_while_writing_booking_notes_is_explained(runner, sync_db):
    seed_catalog(sync_db)
    await choose_session(runner)
    calls = await runner.feed(media_update(runner.api, MONA, "photo"))
    assert "answer the question above" in calls[-1].text
    calls = await runner.send(MONA, "Recursion please")
    assert "Please check your booking" in calls[-1].text


async def test_menu_button_tapped_while_writing_booking_notes_is_not_saved_as_notes(runner, sync_db):
    seed_catalog(sync_db)
    await choose_session(runner)
    calls = await runner.send(MONA, "📅 My sessions")
    assert "Please check your booking" not in calls[-1].text
    assert "My sessions" in calls[-1].text  # the menu does what it says
    calls = await runner.send(MONA, "Recursion please")
    assert "Please check your booking" not in calls[-1].text  # the booking was left


async def test_arabic_menu_button_tapped_while_writing_feedback_is_not_saved(runner, sync_db):
    booking_id = await complete_booking(runner, sync_db)
    await runner.send(MONA, "/sessions")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Rate #")
    await runner.press(MONA, runner.api.last_message(MONA.id), "⭐⭐⭐⭐")
    calls = await runner.send(MONA, "📜 السجل")  # the Arabic keyboard, still on the phone
    assert "History" in calls[-1].text
    with sync_db.session() as s:
        b = s.get(MentorshipBooking, booking_id)
        assert b.rating == 4 and b.feedback is None


async def test_long_and_html_notes_in_a_booking(runner, sync_db):
    seed_catalog(sync_db)
    await choose_session(runner)
    calls = await runner.send(MONA, "x" * 1001)
    assert "too long" in calls[-1].text
    notes = "<script>alert(1)</script> *bold* _it_ `code` & <b>"
    calls = await runner.send(MONA, notes)
    assert notes in calls[-1].text
    await runner.press(MONA, runner.api.last_message(MONA.id), "Confirm")
    assert "Booking #" in runner.api.last_message(MONA.id).plain_text
    await runner.deliver()
    assert notes in runner.api.message_with(ADMIN1.id, "New booking").plain_text


async def test_mentor_made_unavailable_before_confirm(runner, sync_db):
    ids = seed_catalog(sync_db)
    summary = await booking_summary(runner)
    with sync_db.session() as s:
        mentorship.update_mentor(s, ids["mentor"], actor=Actor("qa"), available=False)
    mark = len(runner.api.calls)
    await runner.press(MONA, summary, "Confirm")
    assert any("not taking bookings" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MentorshipBooking)) == 0
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("500.00")


async def test_cancel_on_a_booking_an_admin_already_confirmed(runner, sync_db):
    from datetime import timedelta

    from core.timeutil import utcnow

    seed_catalog(sync_db)
    await book_session(runner)
    sessions = await runner.send(MONA, "/sessions")
    listing = runner.api.last_message(MONA.id)
    assert any("Cancel #" in b for b in sessions[-1].buttons)
    await runner.press(MONA, listing, "Cancel #")
    ask = runner.api.last_message(MONA.id)
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        mentorship.confirm(s, b.id, utcnow() + timedelta(days=1), actor=Actor("@amr_admin"))
    mark = len(runner.api.calls)
    await runner.press(MONA, ask, "Yes, cancel")  # shown a full refund; dated a day ahead now, it gives half
    answers = runner.api.answers(mark)
    assert any("gives back 75.00 EGP, not 150.00 EGP" in a for a in answers), answers
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)).status.value == "CONFIRMED"
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("350.00")


async def test_rate_twice_and_long_html_feedback(runner, sync_db):
    booking_id = await complete_booking(runner, sync_db)
    await runner.send(MONA, "/sessions")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Rate #")
    ask = runner.api.message_with(MONA.id, "How was")
    await runner.press(MONA, ask, "⭐⭐⭐⭐⭐")
    calls = await runner.send(MONA, "y" * 1200)
    assert "too long" in calls[-1].text
    calls = await runner.send(MONA, "Great <3 & *thanks*")
    assert "Great <3 & *thanks*" in calls[-1].text
    mark = len(runner.api.calls)
    await runner.press_data(MONA, ask, f"rate:{booking_id}:1")
    assert any("already rated" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        b = s.get(MentorshipBooking, booking_id)
        assert b.rating == 5 and b.feedback == "Great <3 & *thanks*"


async def test_confirm_on_an_older_booking_summary_never_charges_the_newer_cost(runner, sync_db):
    seed_catalog(sync_db)
    old = await booking_summary(runner)
    assert "Cost: 150.00 EGP" in old.plain_text
    new = await booking_summary(runner, minutes="60 min", start=False)
    assert "Cost: 300.00 EGP" in new.plain_text
    mark = len(runner.api.calls)
    await runner.press(MONA, old, "Confirm")  # the student saw 150.00 on this one
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MentorshipBooking)) == 0
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("500.00")
    await runner.press(MONA, new, "Confirm")
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)).total_cost == Decimal("300.00")


async def test_cancel_on_an_older_booking_summary_keeps_the_newer_one(runner, sync_db):
    seed_catalog(sync_db)
    old = await booking_summary(runner)
    new = await booking_summary(runner, minutes="60 min", start=False)
    await runner.press(MONA, old, "Cancel")
    assert "Nothing was charged" in runner.api.messages[(MONA.id, old.message_id)].plain_text
    await runner.press(MONA, new, "Confirm")
    assert "Booking #" in runner.api.messages[(MONA.id, new.message_id)].plain_text


async def test_arabic_student_books_with_arabic_notes(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(MONA_AR, "/start")
    calls = await runner.send(MONA_AR, "/book")
    assert "٣٠٠" in calls[-1].text
    await runner.press(MONA_AR, runner.api.last_message(MONA_AR.id), "Ahmed")
    durations = runner.api.last_message(MONA_AR.id)
    await runner.press(MONA_AR, durations, "٣٠")
    calls = await runner.send(MONA_AR, "عايز أراجع الـ recursion <مهم>")
    assert "عايز أراجع الـ recursion <مهم>" in calls[-1].text and "١٥٠" in calls[-1].text
    await runner.press(MONA_AR, runner.api.last_message(MONA_AR.id), "✅")
    receipt = runner.api.last_message(MONA_AR.id).plain_text
    assert "٣٥٠" in receipt  # the balance after, in Arabic digits


async def test_text_typed_long_after_skipping_the_feedback_prompt_is_not_feedback(runner, sync_db):
    booking_id = await complete_booking(runner, sync_db)
    await runner.send(MONA, "/sessions")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Rate #")
    await runner.press(MONA, runner.api.last_message(MONA.id), "⭐⭐⭐")
    await runner.send(MONA, "/balance")  # the student moves on without writing anything
    await runner.send(MONA, "/platforms")
    calls = await runner.send(MONA, "hi, is anyone there?")
    assert "feedback was saved" not in calls[-1].text
    with sync_db.session() as s:
        assert s.get(MentorshipBooking, booking_id).feedback is None


async def test_a_long_booking_record_and_long_bios_still_fit_in_a_message(runner, sync_db):
    from datetime import timedelta

    from core.services import wallet

    ids = seed_catalog(sync_db)
    await runner.send(MONA, "/start")
    with sync_db.session() as s:
        uid = s.scalar(select(User.id).where(User.telegram_id == MONA.id))
        wallet.adjust_balance(s, uid, Decimal("1000.00"), "qa", actor=Actor("qa"), idempotency_key="qa-credit")
        for i in range(60):
            b = mentorship.book(s, uid, ids["mentor"], 30, "n" * 1000, idempotency_key=f"qa-book-{i}").booking
            if i < 3:
                mentorship.confirm(s, b.id, utcnow() + timedelta(days=i + 1), "a" * 1000, actor=Actor("qa"))
            else:
                mentorship.cancel(s, b.id, student_id=uid)
        for name in ("Second Mentor", "Third Mentor"):
            mentorship.create_mentor(s, name, actor=Actor("qa"), bio="b" * 2000, rate=Decimal("200.00"))
        mentorship.update_mentor(s, ids["mentor"], actor=Actor("qa"), bio="c" * 2000)
    for command in ("/sessions", "/mentors", "/book"):
        calls = await runner.send(MONA, command)
        sent = [c for c in calls if c.method == "sendMessage"]
        assert sent and all(c.error is None for c in sent), command
        assert not any("went wrong" in c.text for c in sent), command
    calls = await runner.send(MONA, "/sessions")
    assert "aaaa" in calls[-1].text  # the confirmed sessions' notes are still there, shortened
    assert "and 42 older sessions." in calls[-1].text


async def test_mentor_made_unavailable_before_the_duration_is_chosen(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(MONA, "/start")
    await runner.send(MONA, "/book")
    await runner.press(MONA, runner.api.last_message(MONA.id), "Book Ahmed")
    durations = runner.api.last_message(MONA.id)
    with sync_db.session() as s:
        mentorship.update_mentor(s, ids["mentor"], actor=Actor("qa"), available=False)
    mark = len(runner.api.calls)
    await runner.press(MONA, durations, "30 min")
    assert any("not taking bookings" in a for a in runner.api.answers(mark))  # before writing any notes
    calls = await runner.send(MONA, "Recursion please")
    assert "Please check your booking" not in calls[-1].text


async def test_forged_huge_or_negative_duration_costs_are_refused_cleanly(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(MONA, "/start")
    msg = runner.api.last_message(MONA.id)
    for cost in ("1e400", "-5", "0", "99999999999999999999.99"):
        mark = len(runner.api.calls)
        await runner.press_data(MONA, msg, f"md:{ids['mentor']}:30:{cost}")
        said = runner.api.answers(mark) + [c.text for c in runner.api.sent_to(MONA.id, mark)]
        if runner.api.last_message(MONA.id).buttons == ["Skip"]:
            await runner.press(MONA, runner.api.last_message(MONA.id), "Skip")
            said += [runner.api.last_message(MONA.id).plain_text]
            if "✅ Confirm" in runner.api.last_message(MONA.id).buttons:
                m2 = len(runner.api.calls)
                await runner.press(MONA, runner.api.last_message(MONA.id), "Confirm")
                said += runner.api.answers(m2) + [c.text for c in runner.api.sent_to(MONA.id, m2)]
        assert not any("went wrong" in t for t in said), (cost, said)
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MentorshipBooking)) == 0
        assert s.scalar(select(User.balance).where(User.telegram_id == MONA.id)) == Decimal("500.00")


def give_hours(sync_db) -> int:
    from core.services import availability

    with sync_db.session() as s:
        mentor = s.scalar(select(User.id).where(User.full_name == "Ahmed Mentor"))
        availability.set_week(s, mentor, {d: [(600, 720)] for d in range(7)}, actor=Actor("owner"))  # 10-12 daily
    return mentor


async def choose_a_free_time(runner, user, minutes="60 min", day=1, time="11:00"):
    await runner.send(user, "/start")
    await runner.send(user, "/book")
    await runner.press(user, runner.api.last_message(user.id), "Book Ahmed")
    await runner.press(user, runner.api.last_message(user.id), minutes)
    days = runner.api.last_message(user.id)
    assert "choose a day (Cairo time)" in days.plain_text and "Later days" in " ".join(days.buttons)
    day_buttons = [b for b in days.buttons if "free" in b]
    assert day_buttons and all("·" in b for b in day_buttons)
    await runner.press(user, days, day_buttons[day] if len(day_buttons) > day else day_buttons[-1])
    times = runner.api.last_message(user.id)
    assert "choose a time (Cairo time)" in times.plain_text
    await runner.press(user, times, time)
    return times


async def test_a_student_books_a_free_time_with_the_policy_before_paying(runner, sync_db):
    seed_catalog(sync_db)
    give_hours(sync_db)
    times = await choose_a_free_time(runner, STUDENT)
    assert times.buttons[:3] == ["10:00", "10:30", "11:00"]
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    summary = runner.api.last_message(STUDENT.id)
    text = summary.plain_text
    assert "When:" in text and "11:00 (Cairo time)" in text and "Cost: 300.00 EGP" in text
    assert "Cancel at least 24 hours before the start for a full refund." in text
    await runner.press(STUDENT, summary, "Confirm")
    receipt = runner.api.last_message(STUDENT.id).plain_text
    assert "Status: Pending" in receipt and "11:00 (Cairo time)" in receipt and "The mentor will confirm" in receipt
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        assert as_utc(b.session_date).astimezone(CAIRO).strftime("%H:%M") == "11:00" and b.ends_at is not None
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("200.00")


async def test_a_time_taken_while_confirming_charges_nothing_and_offers_another(runner, sync_db):
    seed_catalog(sync_db)
    mentor = give_hours(sync_db)
    await choose_a_free_time(runner, STUDENT, time="10:00")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    summary = runner.api.last_message(STUDENT.id)
    with sync_db.session() as s:  # the hold ends and another student books that very time
        from core.models import SlotHold
        from tests.factories import add_student

        start = as_utc(s.scalar(select(SlotHold.starts_at)))
        s.query(SlotHold).delete()
        s.commit()
        other = add_student(s, 8003, "Nour")
        mentorship.book(s, other, mentor, 60, idempotency_key="nour-1", slot_start=start)
    await runner.press(STUDENT, summary, "Confirm")
    said = runner.api.last_message(STUDENT.id)
    assert "Someone just took this time. Nothing was charged" in said.plain_text
    assert "Choose another time" in " ".join(said.buttons)
    await runner.press(STUDENT, said, "Choose another time")
    assert "choose a day (Cairo time)" in runner.api.last_message(STUDENT.id).plain_text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")
