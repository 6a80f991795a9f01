"""QA: the bot played like a real student and admin would, in English and Arabic, at the edges."""
from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import func, select

from core.models import MentorshipBooking, Platform, Transaction, TransactionType, User
from core.services import mentorship
from core.services.common import Actor
from core.timeutil import utcnow
from tests.bot.conftest import ADMIN1, seed_catalog
from tests.bot.fake_api import TgUser

STUDENT = TgUser(9101, "Mona", "mona", "en")
AR_STUDENT = TgUser(9102, "منى", "mona_ar", "ar")


def media_update(api, user: TgUser, kind: str) -> dict:
    """A photo, sticker or voice message where text was expected."""
    msg_id = api._next_message_id(user.id)
    message = {"message_id": msg_id, "date": int(time.time()),
               "chat": {"id": user.id, "type": "private", "first_name": user.first_name}, "from": user.as_dict()}
    if kind == "photo":
        message["photo"] = [{"file_id": "ph1", "file_unique_id": "u1", "width": 90, "height": 90}]
    elif kind == "sticker":
        message["sticker"] = {"file_id": "st1", "file_unique_id": "u2", "type": "regular", "width": 512,
                              "height": 512, "is_animated": False, "is_video": False, "emoji": "😂"}
    else:
        message["voice"] = {"file_id": "vo1", "file_unique_id": "u3", "duration": 3}
    return {"message": message}


def topup_count(sync_db) -> int:
    with sync_db.session() as s:
        return s.scalar(select(func.count()).select_from(Transaction).where(
            Transaction.type == TransactionType.TOP_UP)) or 0



async def open_platform_page(runner, sync_db) -> tuple[dict, object]:
    """The catalogue seeded, the student registered and looking at the paid platform's page."""
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, f"/start platform_{ids['paid']}")
    return ids, runner.api.last_message(STUDENT.id)


async def admin_starts_rejecting_a_topup(runner) -> None:
    """A student's 150.00 top-up request is pending and ADMIN1 has tapped Reject (asked for a reason)."""
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "150")
    await runner.send(STUDENT, "01012345678")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    await runner.deliver()
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, "New top-up request"), "Reject")

async def test_amounts_typed_like_egyptians_do(runner, sync_db):
    await runner.send(STUDENT, "/start")
    cases = [("١٥٠٫٥", "150.50 EGP"), ("1,500", "1,500.00 EGP"), ("150 جنيه", "150.00 EGP"),
             ("200 EGP", "200.00 EGP")]
    for typed, shown in cases:
        await runner.send(STUDENT, "/topup")
        calls = await runner.send(STUDENT, typed)
        assert f"Amount: {shown}" in calls[-1].text, (typed, calls[-1].text)
    await runner.send(STUDENT, "/topup")
    assert "more than zero" in (await runner.send(STUDENT, "0"))[-1].text
    assert "more than zero" in (await runner.send(STUDENT, "-5"))[-1].text
    assert "above the maximum" in (await runner.send(STUDENT, "99999999999999999999999"))[-1].text
    assert "Please send a number" in (await runner.send(STUDENT, "💸"))[-1].text
    assert "Please send a number" in (await runner.send(STUDENT, "1e5"))[-1].text
    assert "Please send a number" in (await runner.send(STUDENT, "NaN"))[-1].text
    assert topup_count(sync_db) == 0


async def test_sender_numbers_with_spaces_country_code_and_arabic_digits(runner, sync_db):
    await runner.send(STUDENT, "/start")
    for typed in ("+20 10 1234 5678", "٠١٠١٢٣٤٥٦٧٨", "0020-101-234-5678", "(010) 1234 5678"):
        await runner.send(STUDENT, "/topup")
        await runner.send(STUDENT, "150")
        calls = await runner.send(STUDENT, typed)
        assert "Sent from: 01012345678" in calls[-1].text, (typed, calls[-1].text)
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "150")
    for bad in ("0101234567", "01312345678", "٠١٠١٢٣٤٥٦٧٨٩", "my number is 01012345678"):
        assert "not an Egyptian mobile number" in (await runner.send(STUDENT, bad))[-1].text, bad
    assert topup_count(sync_db) == 0


async def test_arabic_student_gets_arabic_errors_in_the_topup_flow(runner):
    await runner.send(AR_STUDENT, "/start")
    intro = (await runner.send(AR_STUDENT, "/topup"))[-1].text
    assert "فودافون" in intro
    bad = (await runner.send(AR_STUDENT, "كتير"))[-1].text
    assert "Please" not in bad and any("\u0600" <= ch <= "\u06ff" for ch in bad)
    ok = (await runner.send(AR_STUDENT, "١٥٠"))[-1].text
    assert "١٥٠" in ok


async def test_media_in_the_topup_flow_gets_a_polite_explanation(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    for kind in ("photo", "sticker", "voice"):
        calls = await runner.feed(media_update(runner.api, STUDENT, kind))
        assert "answer the question above" in calls[-1].text, kind
    calls = await runner.send(STUDENT, "150")
    assert "Amount: 150.00 EGP" in calls[-1].text  # still in the flow


async def test_media_outside_any_flow_is_answered(runner):
    await runner.send(STUDENT, "/start")
    for kind in ("photo", "sticker", "voice"):
        calls = await runner.feed(media_update(runner.api, STUDENT, kind))
        assert calls and "did not understand" in calls[-1].text, kind



async def test_media_while_writing_booking_notes_is_explained(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    calls = await runner.feed(media_update(runner.api, STUDENT, "photo"))
    assert "answer the question above" in calls[-1].text
    calls = await runner.send(STUDENT, "Recursion please")
    assert "Please check your booking" in calls[-1].text


async def test_sticker_while_admin_types_a_session_date_is_explained(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    await runner.deliver()
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, "New booking"), "Confirm")
    calls = await runner.feed(media_update(runner.api, ADMIN1, "sticker"))
    assert "answer the question above" in calls[-1].text
    calls = await runner.send(ADMIN1, "tomorrow 18:00")
    assert "Session on" in calls[-1].text


async def test_confirm_on_an_old_topup_summary_after_cancel_changes_nothing(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "150")
    await runner.send(STUDENT, "01012345678")
    summary = runner.api.last_message(STUDENT.id)
    assert "Cancelled" in (await runner.send(STUDENT, "/cancel"))[-1].text
    mark = len(runner.api.calls)
    await runner.press(STUDENT, summary, "Confirm")
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    assert topup_count(sync_db) == 0


async def test_cancel_outside_any_flow(runner):
    await runner.send(STUDENT, "/start")
    calls = await runner.send(STUDENT, "/cancel")
    assert "nothing to cancel" in calls[-1].text
    await runner.send(AR_STUDENT, "/start")
    calls = await runner.send(AR_STUDENT, "/cancel")
    assert "nothing" not in calls[-1].text and any("\u0600" <= ch <= "\u06ff" for ch in calls[-1].text)


async def test_menu_button_tapped_while_writing_booking_notes_is_not_saved_as_notes(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    calls = await runner.send(STUDENT, "📅 My sessions")
    assert "Please check your booking" not in calls[-1].text
    assert "My sessions" in calls[-1].text  # the menu does what it says
    calls = await runner.send(STUDENT, "Recursion please")
    assert "Please check your booking" not in calls[-1].text  # the booking was left


async def test_arabic_menu_button_tapped_while_writing_feedback_is_not_saved(runner, sync_db):
    booking_id = await complete_booking(runner, sync_db)
    await runner.send(STUDENT, "/sessions")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Rate #")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "⭐⭐⭐⭐")
    calls = await runner.send(STUDENT, "📜 السجل")  # the Arabic keyboard, still on the phone
    assert "History" in calls[-1].text
    with sync_db.session() as s:
        b = s.get(MentorshipBooking, booking_id)
        assert b.rating == 4 and b.feedback is None


async def test_menu_button_tapped_mid_topup_opens_that_menu(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    calls = await runner.send(STUDENT, "📚 Platforms")
    assert "CodeHub platforms" in calls[-1].text
    calls = await runner.send(STUDENT, "150")
    assert "Amount" not in calls[-1].text  # the top-up was left
    assert topup_count(sync_db) == 0


async def test_switching_language_mid_flow(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "150")
    calls = await runner.send(STUDENT, "🌐 Language")
    assert "Choose your language" in calls[-1].text
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "العربية")
    calls = await runner.send(STUDENT, "/balance")
    assert "الرصيد" in calls[-1].text or "رصيد" in calls[-1].text
    # the Arabic menu button works for a student who was English before
    calls = await runner.send(STUDENT, "/language")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "English")
    assert "Language set to English" in runner.api.last_message(STUDENT.id).plain_text


async def test_long_and_html_notes_in_a_booking(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    calls = await runner.send(STUDENT, "x" * 1001)
    assert "too long" in calls[-1].text
    notes = "<script>alert(1)</script> *bold* _it_ `code` & <b>"
    calls = await runner.send(STUDENT, notes)
    assert notes in calls[-1].text
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    assert "Booking #" in runner.api.last_message(STUDENT.id).plain_text
    await runner.deliver()
    assert notes in runner.api.message_with(ADMIN1.id, "New booking").plain_text


async def test_history_edges_empty_filter_last_page_and_forged_page(runner, sync_db):
    await runner.send(STUDENT, "/start")
    calls = await runner.send(STUDENT, "/history")
    assert "Page 1 of 1" in calls[-1].text and "Welcome credit" in calls[-1].text
    assert not any("Next" in b or "Prev" in b for b in calls[-1].buttons)
    history = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, history, "Refund")
    page = runner.api.last_message(STUDENT.id).plain_text
    assert "No transactions yet." in page and "Page 1 of 1" in page
    await runner.press_data(STUDENT, history, "h:999:ALL")
    page = runner.api.last_message(STUDENT.id).plain_text
    assert "Page 1 of 1" in page and "Welcome credit" in page
    mark = len(runner.api.calls)
    await runner.press_data(STUDENT, history, "h:-3:BOGUS")
    assert "Page 1 of 1" in runner.api.last_message(STUDENT.id).plain_text
    assert not any("went wrong" in c.text for c in runner.api.calls[mark:])


async def test_history_with_many_entries_pages_to_the_last_page(runner, sync_db):
    from core.services import wallet
    await runner.send(STUDENT, "/start")
    with sync_db.session() as s:
        uid = s.scalar(select(User.id).where(User.telegram_id == STUDENT.id))
        for i in range(11):
            wallet.adjust_balance(s, uid, Decimal("1.00"), f"gift {i}", actor=Actor("qa"), idempotency_key=f"qa{i}")
    calls = await runner.send(STUDENT, "/history")
    assert "Page 1 of 2" in calls[-1].text and "Next ➡️" in calls[-1].buttons
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Next")
    last = runner.api.last_message(STUDENT.id)
    assert "Page 2 of 2" in last.plain_text and "Welcome credit" in last.plain_text
    assert "⬅️ Prev" in last.buttons and "Next ➡️" not in last.buttons


async def test_deep_links_with_garbage(runner, sync_db):
    ids = seed_catalog(sync_db)
    calls = await runner.send(STUDENT, "/start platform_abc")
    assert "Welcome" in calls[-1].text
    calls = await runner.send(STUDENT, "/start platform_99999")
    assert "does not exist" in calls[-1].text
    assert not any("went wrong" in c.text for c in calls)
    calls = await runner.send(STUDENT, f"/start platform_{ids['paid']}")
    assert "Web <Flask>" in calls[-1].text
    calls = await runner.send(STUDENT, "/start " + "x" * 60)
    assert "Welcome back" in calls[-1].text



async def test_blocked_student_is_told_on_every_command(runner, sync_db):
    ids, page = await open_platform_page(runner, sync_db)
    with sync_db.session() as s:
        s.query(User).filter(User.telegram_id == STUDENT.id).update({"is_blocked": True})
        s.commit()
    for command in ("/start", "/topup", "/balance", "/history", "/platforms", "/my", "/mentors", "/book",
                    "/sessions", "/help", "/language", "hello"):
        calls = await runner.send(STUDENT, command)
        assert calls, command
        assert "blocked" in calls[-1].text, (command, calls[-1].text)
    mark = len(runner.api.calls)
    await runner.press(STUDENT, page, "Enroll")  # an old button: refused too
    assert any("blocked" in a for a in runner.api.answers(mark))
    assert topup_count(sync_db) == 0
    # an admin who is also blocked as a student keeps working
    await runner.send(ADMIN1, "/start")
    with sync_db.session() as s:
        s.query(User).filter(User.telegram_id == ADMIN1.id).update({"is_blocked": True})
        s.commit()
    assert "Nothing is waiting" in (await runner.send(ADMIN1, "/pending"))[-1].text


async def test_admin_dates_past_garbage_and_arabic(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    await runner.deliver()
    card = runner.api.message_with(ADMIN1.id, "New booking")
    await runner.press(ADMIN1, card, "Confirm")
    assert "in the past" in (await runner.send(ADMIN1, "2020-01-01 10:00"))[-1].text
    for garbage in ("32/13/2026 25:99", "🙂", "asap", "x" * 300):
        calls = await runner.send(ADMIN1, garbage)
        assert "could not read" in calls[-1].text, garbage
    calls = await runner.send(ADMIN1, "بكرة ٦ مساء")
    assert "Session on" in calls[-1].text
    await runner.press(ADMIN1, runner.api.last_message(ADMIN1.id), "Skip")
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)).status.value == "CONFIRMED"


async def test_mentor_made_unavailable_before_confirm(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    summary = runner.api.last_message(STUDENT.id)
    with sync_db.session() as s:
        mentorship.update_mentor(s, ids["mentor"], actor=Actor("qa"), available=False)
    mark = len(runner.api.calls)
    await runner.press(STUDENT, summary, "Confirm")
    assert any("not taking bookings" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MentorshipBooking)) == 0
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")


async def test_platform_repriced_or_deactivated_before_the_tap(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, f"/start platform_{ids['paid']}")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Enroll")
    confirm = runner.api.last_message(STUDENT.id)
    with sync_db.session() as s:
        s.get(Platform, ids["paid"]).price = Decimal("300.00")
        s.commit()
    mark = len(runner.api.calls)
    await runner.press(STUDENT, confirm, "Confirm")
    assert any("price changed" in a for a in runner.api.answers(mark))
    await runner.press(STUDENT, runner.api.message_with(STUDENT.id, "Tasks: 3"), "Enroll")
    confirm = runner.api.last_message(STUDENT.id)
    assert "300.00 EGP" in confirm.plain_text
    with sync_db.session() as s:
        s.get(Platform, ids["paid"]).is_active = False
        s.commit()
    mark = len(runner.api.calls)
    await runner.press(STUDENT, confirm, "Confirm")
    assert any("not available" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")


async def test_enroll_again_from_an_old_button(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, f"/start platform_{ids['free']}")
    page = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, page, "Enroll")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    assert "You are enrolled" in runner.api.last_message(STUDENT.id).plain_text
    await runner.press(STUDENT, page, "Enroll")  # the old page still shows Enroll
    confirm = runner.api.last_message(STUDENT.id)
    mark = len(runner.api.calls)
    await runner.press(STUDENT, confirm, "Confirm")
    texts = runner.api.answers(mark) + [c.text for c in runner.api.calls[mark:]]
    assert any("already enrolled" in t for t in texts), texts
    assert not any("went wrong" in t for t in texts)


async def complete_booking(runner, sync_db):
    from datetime import timedelta

    from core.timeutil import utcnow
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        mentorship.confirm(s, b.id, utcnow() + timedelta(hours=2), actor=Actor("qa"))
        mentorship.complete(s, b.id, actor=Actor("qa"), now=utcnow() + timedelta(hours=3))
        return b.id


async def test_cancel_on_a_booking_an_admin_already_confirmed(runner, sync_db):
    from datetime import timedelta

    from core.timeutil import utcnow
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    sessions = (await runner.send(STUDENT, "/sessions"))
    listing = runner.api.last_message(STUDENT.id)
    assert any("Cancel #" in b for b in sessions[-1].buttons)
    await runner.press(STUDENT, listing, "Cancel #")
    ask = runner.api.last_message(STUDENT.id)
    with sync_db.session() as s:
        b = s.scalar(select(MentorshipBooking))
        mentorship.confirm(s, b.id, utcnow() + timedelta(days=1), actor=Actor("@amr_admin"))
    mark = len(runner.api.calls)
    await runner.press(STUDENT, ask, "Yes, cancel")
    answers = runner.api.answers(mark)
    assert any("Confirmed" in a for a in answers), answers
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)).status.value == "CONFIRMED"
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("350.00")


async def test_rate_twice_and_long_html_feedback(runner, sync_db):
    booking_id = await complete_booking(runner, sync_db)
    await runner.send(STUDENT, "/sessions")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Rate #")
    ask = runner.api.message_with(STUDENT.id, "How was")
    await runner.press(STUDENT, ask, "⭐⭐⭐⭐⭐")
    calls = await runner.send(STUDENT, "y" * 1200)
    assert "too long" in calls[-1].text
    calls = await runner.send(STUDENT, "Great <3 & *thanks*")
    assert "Great <3 & *thanks*" in calls[-1].text
    mark = len(runner.api.calls)
    await runner.press_data(STUDENT, ask, f"rate:{booking_id}:1")
    assert any("already rated" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        b = s.get(MentorshipBooking, booking_id)
        assert b.rating == 5 and b.feedback == "Great <3 & *thanks*"


async def test_admin_menu_tap_while_writing_reject_reason_is_not_the_reason(runner, sync_db):
    await admin_starts_rejecting_a_topup(runner)
    calls = await runner.send(ADMIN1, "💰 Balance")
    assert "Last transactions" in calls[-1].text
    with sync_db.session() as s:
        assert s.scalar(select(Transaction).where(Transaction.type == TransactionType.TOP_UP)).status.value == "PENDING"


async def test_tapping_the_filter_already_shown_is_quiet(runner):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/history")
    history = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, history, "Top-up")
    mark = len(runner.api.calls)
    await runner.press(STUDENT, history, "• Top-up")  # the same filter again
    assert not any("went wrong" in c.text for c in runner.api.sent_to(STUDENT.id, mark))
    assert not any("went wrong" in (a or "") for a in runner.api.answers(mark))
    assert any(c.method == "answerCallbackQuery" for c in runner.api.calls[mark:])


async def test_double_taps_on_enroll_confirm_and_cancel_buttons(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, f"/start platform_{ids['paid']}")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Enroll")
    confirm = runner.api.last_message(STUDENT.id)
    data = confirm.callback_data("Confirm")
    await runner.press(STUDENT, confirm, "Confirm")
    mark = len(runner.api.calls)
    await runner.press_data(STUDENT, confirm, data)  # the second tap of a double tap
    assert not any("went wrong" in c.text for c in runner.api.sent_to(STUDENT.id, mark))
    assert not any("went wrong" in (a or "") for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("250.00")

    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "150")
    await runner.send(STUDENT, "01012345678")
    summary = runner.api.last_message(STUDENT.id)
    cancel = summary.callback_data("Cancel")
    await runner.press(STUDENT, summary, "Cancel")
    mark = len(runner.api.calls)
    await runner.press_data(STUDENT, summary, cancel)
    assert not any("went wrong" in c.text for c in runner.api.sent_to(STUDENT.id, mark))
    assert topup_count(sync_db) == 0


async def test_confirm_on_an_older_topup_summary_never_sends_the_newer_amount(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "150")
    await runner.send(STUDENT, "01012345678")
    old = runner.api.last_message(STUDENT.id)
    assert "150.00 EGP" in old.plain_text
    await runner.send(STUDENT, "/topup")  # changed their mind: a new request for 1,000
    await runner.send(STUDENT, "1000")
    await runner.send(STUDENT, "01112345678")
    new = runner.api.last_message(STUDENT.id)
    mark = len(runner.api.calls)
    await runner.press(STUDENT, old, "Confirm")
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    assert topup_count(sync_db) == 0
    await runner.press(STUDENT, new, "Confirm")  # the newer summary still works
    with sync_db.session() as s:
        rows = s.scalars(select(Transaction).where(Transaction.type == TransactionType.TOP_UP)).all()
        assert [r.amount for r in rows] == [Decimal("1000.00")]


async def test_cancel_on_an_older_topup_summary_keeps_the_newer_one(runner, sync_db):
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "150")
    await runner.send(STUDENT, "01012345678")
    old = runner.api.last_message(STUDENT.id)
    await runner.send(STUDENT, "/topup")
    await runner.send(STUDENT, "200")
    await runner.send(STUDENT, "01012345678")
    new = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, old, "Cancel")
    await runner.press(STUDENT, new, "Confirm")
    assert "Top-up request #" in runner.api.messages[(STUDENT.id, new.message_id)].plain_text
    assert topup_count(sync_db) == 1


async def test_confirm_on_an_older_booking_summary_never_charges_the_newer_cost(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    old = runner.api.last_message(STUDENT.id)
    assert "Cost: 150.00 EGP" in old.plain_text
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "60 min")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    new = runner.api.last_message(STUDENT.id)
    assert "Cost: 300.00 EGP" in new.plain_text
    mark = len(runner.api.calls)
    await runner.press(STUDENT, old, "Confirm")  # the student saw 150.00 on this one
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MentorshipBooking)) == 0
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")
    await runner.press(STUDENT, new, "Confirm")
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)).total_cost == Decimal("300.00")


async def test_cancel_on_an_older_booking_summary_keeps_the_newer_one(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    for minutes in ("30 min", "60 min"):
        await runner.send(STUDENT, "/book")
        await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
        await runner.press(STUDENT, runner.api.last_message(STUDENT.id), minutes)
        await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
        if minutes == "30 min":
            old = runner.api.last_message(STUDENT.id)
    new = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, old, "Cancel")
    assert "Nothing was charged" in runner.api.messages[(STUDENT.id, old.message_id)].plain_text
    await runner.press(STUDENT, new, "Confirm")
    assert "Booking #" in runner.api.messages[(STUDENT.id, new.message_id)].plain_text


async def booking_waiting_for_a_date(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "30 min")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    await runner.deliver()
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, "New booking"), "Confirm")


async def test_admin_date_without_a_time_asks_for_the_time(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    year = utcnow().year + 1
    for typed in ("tomorrow", "بكرة", f"{year}-12-01", str(year)):
        calls = await runner.send(ADMIN1, typed)
        assert "Session on" not in calls[-1].text, typed  # not a session at a made-up hour
        assert "time" in calls[-1].text, typed
    calls = await runner.send(ADMIN1, f"{year}-13-01 10:00")  # no 13th month: not read as 13 January
    assert "could not read" in calls[-1].text
    calls = await runner.send(ADMIN1, f"{year}-12-01 18:00")
    assert "Session on" in calls[-1].text and "18:00" in calls[-1].text


async def test_arabic_admin_date_without_a_time_is_asked_in_arabic(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    with sync_db.session() as s:
        s.query(User).filter(User.telegram_id == ADMIN1.id).update({"language": "ar"})
        s.commit()
    calls = await runner.send(ADMIN1, "بكرة")
    assert any("\u0600" <= ch <= "\u06ff" for ch in calls[-1].text) and "time" not in calls[-1].text
    calls = await runner.send(ADMIN1, "بكرة ٦ مساء")
    assert "١٨:٠٠" in calls[-1].text


async def test_enroll_on_a_stale_page_of_a_deactivated_platform_says_so_at_once(runner, sync_db):
    ids, page = await open_platform_page(runner, sync_db)
    with sync_db.session() as s:
        s.get(Platform, ids["paid"]).is_active = False
        s.commit()
    mark = len(runner.api.calls)
    await runner.press(STUDENT, page, "Enroll")
    said = runner.api.answers(mark) + [c.text for c in runner.api.sent_to(STUDENT.id, mark)]
    assert any("not available" in t for t in said), said
    assert not any("Balance after" in t for t in said)  # no confirmation screen for what cannot be bought


async def test_admin_reject_reason_too_long_then_fine(runner, sync_db):
    await admin_starts_rejecting_a_topup(runner)
    calls = await runner.send(ADMIN1, "r" * 2000)
    assert "too long" in calls[-1].text
    calls = await runner.send(ADMIN1, "Transfer <not> found & no SMS")
    assert "Rejected" in calls[-1].text and "Transfer <not> found & no SMS" in calls[-1].text
    await runner.deliver()
    assert "Transfer <not> found & no SMS" in runner.api.message_with(STUDENT.id, "rejected").plain_text


async def test_arabic_student_books_with_arabic_notes(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(AR_STUDENT, "/start")
    calls = await runner.send(AR_STUDENT, "/book")
    assert "٣٠٠" in calls[-1].text
    await runner.press(AR_STUDENT, runner.api.last_message(AR_STUDENT.id), "Ahmed")
    durations = runner.api.last_message(AR_STUDENT.id)
    await runner.press(AR_STUDENT, durations, "٣٠")
    calls = await runner.send(AR_STUDENT, "عايز أراجع الـ recursion <مهم>")
    assert "عايز أراجع الـ recursion <مهم>" in calls[-1].text and "١٥٠" in calls[-1].text
    await runner.press(AR_STUDENT, runner.api.last_message(AR_STUDENT.id), "✅")
    receipt = runner.api.last_message(AR_STUDENT.id).plain_text
    assert "٣٥٠" in receipt  # the balance after, in Arabic digits



async def test_admin_skip_on_an_older_notes_prompt_does_not_confirm_another_booking(runner, sync_db):
    seed_catalog(sync_db)
    other = TgUser(9103, "Omar", "omar", "en")
    for user in (STUDENT, other):
        await runner.send(user, "/start")
        await runner.send(user, "/book")
        await runner.press(user, runner.api.last_message(user.id), "Book Ahmed")
        await runner.press(user, runner.api.last_message(user.id), "30 min")
        await runner.press(user, runner.api.last_message(user.id), "Skip")
        await runner.press(user, runner.api.last_message(user.id), "Confirm")
    await runner.deliver()
    with sync_db.session() as s:
        first, second = [b.id for b in s.scalars(select(MentorshipBooking).order_by(MentorshipBooking.id))]
    year = utcnow().year + 1
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, f"New booking #{first}"), "Confirm")
    await runner.send(ADMIN1, f"{year}-12-01 18:00")
    old_prompt = runner.api.last_message(ADMIN1.id)  # "Any notes? ... Skip" for the first booking
    await runner.press(ADMIN1, runner.api.message_with(ADMIN1.id, f"New booking #{second}"), "Confirm")
    await runner.send(ADMIN1, f"{year}-12-02 10:00")
    mark = len(runner.api.calls)
    await runner.press(ADMIN1, old_prompt, "Skip")
    with sync_db.session() as s:
        statuses = {b.id: b.status.value for b in s.scalars(select(MentorshipBooking))}
    assert statuses[second] == "PENDING", statuses  # not confirmed from the first booking's prompt
    assert any("no longer valid" in a for a in runner.api.answers(mark))
    await runner.press(ADMIN1, runner.api.last_message(ADMIN1.id), "Skip")
    with sync_db.session() as s:
        assert s.get(MentorshipBooking, second).status.value == "CONFIRMED"



async def test_topup_refused_before_sending_money_when_too_many_are_waiting(runner, sync_db):
    from core.services import wallet
    await runner.send(STUDENT, "/start")
    with sync_db.session() as s:
        uid = s.scalar(select(User.id).where(User.telegram_id == STUDENT.id))
        for i in range(3):
            wallet.request_topup(s, uid, Decimal("100"), "01012345678", idempotency_key=f"qa-pending-{i}")
    calls = await runner.send(STUDENT, "/topup")
    assert "already have 3 top-up requests waiting" in calls[-1].text
    assert "01099998888" not in calls[-1].text  # not told to send money that cannot be requested
    calls = await runner.send(STUDENT, "150")
    assert "Amount" not in calls[-1].text


async def test_forged_and_garbage_buttons_never_apologise_for_an_error(runner, sync_db):
    seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    msg = runner.api.last_message(STUDENT.id)
    for data in ("xyz", "h:abc:ALL", "h:1", "rate:abc:1", "rate:1:9", "lang:fr", "p:open:999999", "t:open:999999",
                 "t:done:-1", "s:cancel:999999", "m:999999", "md:1:30:abc", "pe:1:NaN", "pe:1:1e400", "pr:1:1e400", "at:approve:1",
                 "ab:confirm:1", "w:nothing", "s:rate:1", "renew:abc", "tu:confirm", "bk:confirm"):
        mark = len(runner.api.calls)
        await runner.press_data(STUDENT, msg, data)
        said = runner.api.answers(mark) + [c.text for c in runner.api.sent_to(STUDENT.id, mark)]
        assert said and not any("went wrong" in t for t in said), (data, said)


async def test_admin_types_a_date_after_the_student_cancelled(runner, sync_db):
    await booking_waiting_for_a_date(runner, sync_db)
    await runner.send(STUDENT, "/sessions")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Cancel #")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Yes, cancel")
    year = utcnow().year + 1
    await runner.send(ADMIN1, f"{year}-12-01 18:00")
    calls = await runner.send(ADMIN1, "https://meet.example/x")
    assert "Cancelled" in calls[-1].text and "went wrong" not in calls[-1].text
    calls = await runner.send(ADMIN1, "hello")  # the confirmation flow is over
    assert "did not understand" in calls[-1].text
    with sync_db.session() as s:
        assert s.scalar(select(MentorshipBooking)).status.value == "CANCELLED"


async def test_admin_reason_after_the_other_admin_approved(runner, sync_db):
    await admin_starts_rejecting_a_topup(runner)
    from tests.bot.conftest import ADMIN2
    await runner.press(ADMIN2, runner.api.message_with(ADMIN2.id, "New top-up request"), "Approve")
    calls = await runner.send(ADMIN1, "no transfer found")
    assert "Already processed by @hoda_admin" in calls[-1].text
    calls = await runner.send(ADMIN1, "hello")
    assert "did not understand" in calls[-1].text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("650.00")


async def test_text_typed_long_after_skipping_the_feedback_prompt_is_not_feedback(runner, sync_db):
    booking_id = await complete_booking(runner, sync_db)
    await runner.send(STUDENT, "/sessions")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Rate #")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "⭐⭐⭐")
    await runner.send(STUDENT, "/balance")  # the student moves on without writing anything
    await runner.send(STUDENT, "/platforms")
    calls = await runner.send(STUDENT, "hi, is anyone there?")
    assert "feedback was saved" not in calls[-1].text
    with sync_db.session() as s:
        assert s.get(MentorshipBooking, booking_id).feedback is None


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


def group_update(api, user: TgUser, text: str) -> dict:
    """A message in a group the bot was added to."""
    message = {"message_id": api._next_message_id(-100777), "date": int(time.time()), "text": text,
               "chat": {"id": -100777, "type": "supergroup", "title": "CS students"}, "from": user.as_dict()}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


async def test_in_a_group_the_bot_never_shows_a_wallet_and_does_not_chat_back(runner, sync_db):
    await runner.send(STUDENT, "/start")
    for text in ("/balance", "/topup", "/history", "/balance@codehub_test_bot"):
        calls = await runner.feed(group_update(runner.api, STUDENT, text))
        texts = [c.text for c in calls if c.method == "sendMessage"]
        assert texts and not any("Balance" in t or "01099998888" in t for t in texts), (text, texts)
        assert "private" in texts[-1]
    calls = await runner.feed(group_update(runner.api, STUDENT, "anyone did task 3?"))
    assert not [c for c in calls if c.method == "sendMessage"]  # group chatter is not answered
    calls = await runner.send(STUDENT, "150")  # the group /topup did not start a flow in private either
    assert "Amount" not in calls[-1].text
    stranger = TgUser(9104, "Group member", None, "ar")
    calls = await runner.feed(group_update(runner.api, stranger, "/start"))
    assert any("\u0600" <= ch <= "\u06ff" for ch in calls[-1].text)  # in their Telegram language
    with sync_db.session() as s:  # nobody gets a wallet (and a welcome credit) by chatting in a group
        assert s.scalar(select(User).where(User.telegram_id == stranger.id)) is None
    calls = await runner.feed(group_update(runner.api, ADMIN1, "/pending"))  # admins may work from a staff group
    assert "Nothing is waiting" in calls[-1].text


async def test_a_long_booking_record_and_long_bios_still_fit_in_a_message(runner, sync_db):
    from datetime import timedelta

    from core.services import wallet
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    with sync_db.session() as s:
        uid = s.scalar(select(User.id).where(User.telegram_id == STUDENT.id))
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
        calls = await runner.send(STUDENT, command)
        sent = [c for c in calls if c.method == "sendMessage"]
        assert sent and all(c.error is None for c in sent), command
        assert not any("went wrong" in c.text for c in sent), command
    calls = await runner.send(STUDENT, "/sessions")
    assert "aaaa" in calls[-1].text  # the confirmed sessions' notes are still there, shortened
    assert "and 42 older sessions." in calls[-1].text


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
    await runner.send(STUDENT, "/start")
    calls = await runner.send(STUDENT, f"/start platform_{ids['free']}")
    assert "Python Basics" in calls[-1].text and calls[-1].error is None and "went wrong" not in calls[-1].text
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Enroll")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Tasks")
    mark = len(runner.api.calls)
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Basics 1")
    sent = [c for c in runner.api.calls[mark:] if c.method == "sendMessage"]
    assert sent and all(c.error is None for c in sent)
    shown = "\n".join(c.text for c in sent)
    assert "Line 0: read <chapter 0> & write notes" in shown and "Line 299: read <chapter 299>" in shown
    assert "Mark done" in sent[-1].buttons[0]  # the buttons come after the whole text


async def test_two_enroll_screens_confirmed_charge_once(runner, sync_db):
    ids, page = await open_platform_page(runner, sync_db)
    await runner.press(STUDENT, page, "Enroll")
    first = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, page, "Enroll")  # tapped twice: two "Enroll in ...?" screens
    second = runner.api.last_message(STUDENT.id)
    await runner.press(STUDENT, first, "Confirm")
    mark = len(runner.api.calls)
    await runner.press(STUDENT, second, "Confirm")
    assert any("already enrolled" in a for a in runner.api.answers(mark))
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("250.00")
    # a renewal asked for on purpose still works
    await runner.send(STUDENT, f"/start platform_{ids['paid']}")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Renew")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
    assert "You are enrolled" in runner.api.last_message(STUDENT.id).plain_text
    with sync_db.session() as s:
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("0.00")


async def test_mentor_made_unavailable_before_the_duration_is_chosen(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    await runner.send(STUDENT, "/book")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Book Ahmed")
    durations = runner.api.last_message(STUDENT.id)
    with sync_db.session() as s:
        mentorship.update_mentor(s, ids["mentor"], actor=Actor("qa"), available=False)
    mark = len(runner.api.calls)
    await runner.press(STUDENT, durations, "30 min")
    assert any("not taking bookings" in a for a in runner.api.answers(mark))  # before writing any notes
    calls = await runner.send(STUDENT, "Recursion please")
    assert "Please check your booking" not in calls[-1].text


async def test_old_feedback_skip_does_not_end_a_newer_topup(runner, sync_db):
    await complete_booking(runner, sync_db)
    await runner.send(STUDENT, "/sessions")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Rate #")
    await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "⭐⭐⭐⭐⭐")
    rated = runner.api.last_message(STUDENT.id)
    await runner.send(STUDENT, "/topup")
    await runner.press(STUDENT, rated, "Skip")
    calls = await runner.send(STUDENT, "150")
    assert "Amount: 150.00 EGP" in calls[-1].text  # the top-up goes on


async def test_forged_huge_or_negative_duration_costs_are_refused_cleanly(runner, sync_db):
    ids = seed_catalog(sync_db)
    await runner.send(STUDENT, "/start")
    msg = runner.api.last_message(STUDENT.id)
    for cost in ("1e400", "-5", "0", "99999999999999999999.99"):
        mark = len(runner.api.calls)
        await runner.press_data(STUDENT, msg, f"md:{ids['mentor']}:30:{cost}")
        said = runner.api.answers(mark) + [c.text for c in runner.api.sent_to(STUDENT.id, mark)]
        if runner.api.last_message(STUDENT.id).buttons == ["Skip"]:
            await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Skip")
            said += [runner.api.last_message(STUDENT.id).plain_text]
            if "✅ Confirm" in runner.api.last_message(STUDENT.id).buttons:
                m2 = len(runner.api.calls)
                await runner.press(STUDENT, runner.api.last_message(STUDENT.id), "Confirm")
                said += runner.api.answers(m2) + [c.text for c in runner.api.sent_to(STUDENT.id, m2)]
        assert not any("went wrong" in t for t in said), (cost, said)
    with sync_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MentorshipBooking)) == 0
        assert s.scalar(select(User.balance).where(User.telegram_id == STUDENT.id)) == Decimal("500.00")


async def test_a_domain_error_with_odd_details_still_gets_an_answer(runner, monkeypatch):
    from core.errors import InsufficientFunds
    from core.services import wallet

    def broken(*args, **kwargs):
        raise InsufficientFunds("no details")  # required/balance/shortfall missing
    await runner.send(STUDENT, "/start")
    monkeypatch.setattr(wallet, "history", broken)
    calls = await runner.send(STUDENT, "/history")
    assert calls and "did not work" in calls[-1].text
